//! The smallest valid config, for the tests of every crate (dev-dependency feature `testing`):
//! one domain, one host, the pod subnet, the secret key and the resolver's address. A test adds
//! the keys it is about after it, so each test says only what it needs.

use crate::Config;

/// [`MINIMAL`] followed by string literals (YAML keys), as one `&'static str`, for constants:
/// `const CONFIG: &str = minimal_yaml!("dns: {mtaSts: {}}\n");`.
#[macro_export]
macro_rules! minimal_yaml {
    ($($extra:expr),* $(,)?) => {
        concat!(
            "domain: example.com\n",
            "hostnames: [mail.example.com]\n",
            "subnet: 10.42.0.0/16\n",
            "secrets: {mailuSecretKey: k}\n",
            "resolver: {serviceIP: 10.43.0.53}\n",
            $($extra),*
        )
    };
}

/// The smallest valid config file; it ends in a newline, so more keys can follow.
pub const MINIMAL: &str = minimal_yaml!();

/// The path of every finding for [`MINIMAL`] plus `extra`, which must be refused.
pub fn finding_paths(extra: &str) -> Vec<String> {
    let findings = crate::load(yaml(extra).as_bytes()).expect_err("refused");
    findings.into_iter().map(|d| d.path).collect()
}

/// [`MINIMAL`] followed by `extra` (YAML keys, each line ending in a newline).
pub fn yaml(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

/// [`yaml`]`(extra)` loaded; panics with the findings if it is not valid.
pub fn config(extra: &str) -> Config {
    crate::load(yaml(extra).as_bytes())
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .config
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_minimal_config_is_valid_and_takes_more_keys() {
        let c = super::config("dns: {mtaSts: {}}\n");
        assert_eq!(c.hostnames.primary.to_string(), "mail.example.com");
        assert!(c.dns.mta_sts.is_some());
        assert_eq!(super::MINIMAL, minimal_yaml!(""));
    }
}
