//! Facts about the mail domains that both the manifests and the DNS plan need: the MTA-STS
//! policy front serves (and whose digest the `_mta-sts` record announces), and the names front's
//! certificate and routes must cover for it.

use mailu_k8s_config::Config;
use mailu_k8s_config::dns::MtaStsMode;
use sha2::{Digest, Sha256};

/// Where RFC 8461 §3.3 puts the policy, on `mta-sts.<domain>`.
pub const MTA_STS_PATH: &str = "/.well-known/mta-sts.txt";
/// The host name label RFC 8461 §3.3 fixes.
pub const MTA_STS_HOST_LABEL: &str = "mta-sts";

/// The MTA-STS policy: one for every mail domain (they share the MX host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtaStsPolicy {
    pub mode: MtaStsMode,
    pub max_age: u32,
    /// The MX hosts senders may deliver to.
    pub mx: Vec<String>,
}

impl MtaStsPolicy {
    /// The policy, when `dns.mtaSts` asks for one.
    pub fn from_config(config: &Config) -> Option<MtaStsPolicy> {
        let s = config.dns.mta_sts?;
        Some(MtaStsPolicy {
            mode: s.mode,
            max_age: s.max_age,
            mx: vec![config.hostnames.primary.as_str().to_owned()],
        })
    }

    /// The policy file (RFC 8461 §3.2): `key: value` lines, LF-terminated.
    pub fn text(&self) -> String {
        let mut out = format!("version: STSv1\nmode: {}\n", self.mode.as_str());
        for mx in &self.mx {
            out.push_str(&format!("mx: {mx}\n"));
        }
        out.push_str(&format!("max_age: {}\n", self.max_age));
        out
    }

    /// The `id` of the `_mta-sts` record: 32 hex digits of the policy's SHA-256, so it changes
    /// exactly when the policy text does.
    pub fn id(&self) -> String {
        Sha256::digest(self.text().as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// `mta-sts.<domain>` for every mail domain, when a policy is published.
pub fn mta_sts_hosts(config: &Config) -> Vec<String> {
    if config.dns.mta_sts.is_none() {
        return Vec::new();
    }
    config
        .dns
        .domains
        .iter()
        .map(|d| format!("{MTA_STS_HOST_LABEL}.{d}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use mailu_k8s_config::testing::config;

    #[test]
    fn the_id_follows_the_policy_text_and_nothing_else() {
        assert!(MtaStsPolicy::from_config(&config("")).is_none());
        let testing = MtaStsPolicy::from_config(&config("dns: {mtaSts: {}}\n")).expect("policy");
        assert_eq!(
            testing.text(),
            "version: STSv1\nmode: testing\nmx: mail.example.com\nmax_age: 604800\n"
        );
        let id = testing.id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        // Unrelated settings leave it alone; any change of the policy changes it.
        let same = MtaStsPolicy::from_config(&config("dns: {mtaSts: {}, ttl: 600}\n"));
        assert_eq!(same.map(|p| p.id()), Some(id.clone()));
        for other in [
            "dns: {mtaSts: {mode: enforce}}\n",
            "dns: {mtaSts: {maxAge: 86400}}\n",
        ] {
            let p = MtaStsPolicy::from_config(&config(other)).expect("policy");
            assert_ne!(p.id(), id, "{other}");
        }
    }

    #[test]
    fn one_host_per_mail_domain() {
        assert!(mta_sts_hosts(&config("dns: {domains: [example.org]}\n")).is_empty());
        assert_eq!(
            mta_sts_hosts(&config("dns: {domains: [example.org], mtaSts: {}}\n")),
            ["mta-sts.example.com", "mta-sts.example.org"]
        );
    }
}
