//! `mailu-k8s dkim keygen`: the only random thing mailu-k8s does, never run by `synth`. Keys
//! are made as Mailu makes them (RSA-2048, PKCS#8 PEM), plus an Ed25519 key for a second
//! selector when one is configured (RFC 8463).

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

use mailu_k8s_config::Config;
use mailu_k8s_config::dns::KeyType;

/// The Secret's name when `dns.dkim.secretName` is not set.
pub const DEFAULT_SECRET: &str = "mailu-dkim";
/// The RSA key size Mailu generates and RFC 8301 recommends.
pub const RSA_BITS: usize = 2048;

/// One generated key pair.
pub struct Generated {
    pub domain: String,
    pub selector: String,
    pub key_type: KeyType,
    /// PKCS#8 PEM, as Mailu reads `/dkim/<domain>.<selector>.key`.
    pub private_pem: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_pem: String,
}

impl Generated {
    /// The file name Mailu reads: `<domain>.<selector>.key`.
    pub fn file_name(&self) -> String {
        format!("{}.{}.key", self.domain, self.selector)
    }
}

fn rsa_pair() -> Result<(String, String), String> {
    let mut rng = getrandom::SysRng;
    let key = rsa::PrivateKey::new(&mut rng, RSA_BITS)
        .map_err(|e| format!("RSA key generation failed: {e}"))?;
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the RSA public key: {e}"))?;
    Ok((private.to_string(), public))
}

fn ed25519_pair() -> Result<(String, String), String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness from the system: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let private = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| format!("cannot encode the Ed25519 key: {e}"))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| format!("cannot encode the Ed25519 public key: {e}"))?;
    Ok((private.to_string(), public))
}

/// A key pair for every mail domain and selector.
pub fn generate(config: &Config) -> Result<Vec<Generated>, String> {
    let mut out = Vec::new();
    for domain in &config.dns.domains {
        for (selector, key_type) in config.dns.dkim.selectors() {
            let (private_pem, public_pem) = match key_type {
                KeyType::Rsa => rsa_pair()?,
                KeyType::Ed25519 => ed25519_pair()?,
            };
            out.push(Generated {
                domain: domain.as_str().to_owned(),
                selector: selector.to_owned(),
                key_type,
                private_pem,
                public_pem,
            });
        }
    }
    Ok(out)
}

/// The private keys as the files Mailu's admin reads, `<domain>.<selector>.key` to PEM; the
/// manifests layer wraps them in a Secret (`mailu_k8s_manifests::mail_dns::dkim_secret`).
pub fn private_files(keys: &[Generated]) -> BTreeMap<String, String> {
    keys.iter()
        .map(|k| (k.file_name(), k.private_pem.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::PublicKey;

    #[test]
    fn keys_are_pkcs8_and_their_public_halves_publishable() {
        let (private, public) = ed25519_pair().expect("ed25519");
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        let k = PublicKey::parse(&public, KeyType::Ed25519).expect("public");
        assert_eq!(k.p.len(), 44);
        let (private, public) = rsa_pair().expect("rsa");
        assert!(
            private.starts_with("-----BEGIN PRIVATE KEY-----"),
            "PKCS#8, as Mailu writes"
        );
        let k = PublicKey::parse(&public, KeyType::Rsa).expect("public");
        // A 2048-bit key's record is longer than one TXT string.
        assert!(k.record().len() > 255);
    }
}
