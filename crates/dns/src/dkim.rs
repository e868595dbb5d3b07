//! DKIM public keys (RFC 6376 §3.6.1, RFC 8463 §4): read from what operators have at hand (a
//! PEM public key, the record Mailu's admin shows, bare base64), turned into the `p=` value.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use mailu_k8s_config::dns::KeyType;

/// `rsaEncryption` (1.2.840.113549.1.1.1), DER.
const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `id-Ed25519` (1.3.101.112), DER, with its tag and length.
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// An Ed25519 SubjectPublicKeyInfo: 12 bytes of structure, then the 32-byte key.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A public key as DKIM publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_type: KeyType,
    /// The `p=` value: base64 of the SubjectPublicKeyInfo (RSA) or of the raw 32-byte key
    /// (Ed25519).
    pub p: String,
}

impl PublicKey {
    /// The DKIM key record: `v=DKIM1; k=rsa; p=...`.
    pub fn record(&self) -> String {
        format!("v=DKIM1; k={}; p={}", self.key_type.as_str(), self.p)
    }

    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki(der: &[u8]) -> Result<PublicKey, String> {
        if der.windows(RSA_OID.len()).any(|w| w == RSA_OID) {
            return Ok(PublicKey {
                key_type: KeyType::Rsa,
                p: STANDARD.encode(der),
            });
        }
        if der.len() == 44 && der[..12] == ED25519_SPKI_PREFIX {
            return Ok(PublicKey {
                key_type: KeyType::Ed25519,
                p: STANDARD.encode(&der[12..]),
            });
        }
        if der.windows(ED25519_OID.len()).any(|w| w == ED25519_OID) {
            return Err("an Ed25519 key of unexpected length".into());
        }
        Err("neither an RSA nor an Ed25519 public key".into())
    }

    /// Reads a public key file: PEM (`-----BEGIN PUBLIC KEY-----`), a DKIM record (`v=DKIM1;
    /// k=...; p=...`, quoted and split or not, as Mailu's admin shows it), or bare base64 of a
    /// SubjectPublicKeyInfo. `expected` is the key type of the selector, used for a bare
    /// Ed25519 key (32 bytes) and to refuse a key of the other type.
    pub fn parse(text: &str, expected: KeyType) -> Result<PublicKey, String> {
        let key = if text.contains("-----BEGIN PUBLIC KEY-----") {
            let body: String = text
                .lines()
                .skip_while(|l| !l.contains("-----BEGIN PUBLIC KEY-----"))
                .skip(1)
                .take_while(|l| !l.contains("-----END PUBLIC KEY-----"))
                .collect();
            let der = decode(&body)?;
            PublicKey::from_spki(&der)?
        } else if let Some(tags) = record_tags(text) {
            let p = tags
                .iter()
                .find(|(k, _)| k == "p")
                .map(|(_, v)| v.clone())
                .ok_or("the DKIM record has no `p=` tag")?;
            let k = tags.iter().find(|(k, _)| k == "k").map(|(_, v)| v.as_str());
            let key_type = match k {
                None | Some("rsa") => KeyType::Rsa,
                Some("ed25519") => KeyType::Ed25519,
                Some(other) => return Err(format!("unknown key type `k={other}`")),
            };
            decode(&p)?;
            PublicKey { key_type, p }
        } else {
            let der = decode(text)?;
            if der.len() == 32 && expected == KeyType::Ed25519 {
                PublicKey {
                    key_type: KeyType::Ed25519,
                    p: STANDARD.encode(&der),
                }
            } else {
                PublicKey::from_spki(&der)?
            }
        };
        if key.key_type != expected {
            return Err(format!(
                "a {} key where the selector expects {}",
                key.key_type.as_str(),
                expected.as_str()
            ));
        }
        Ok(key)
    }
}

fn decode(b64: &str) -> Result<Vec<u8>, String> {
    let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    if clean.is_empty() {
        return Err("the key is empty".into());
    }
    STANDARD
        .decode(clean.as_bytes())
        .map_err(|e| format!("not base64: {e}"))
}

/// The tags of a DKIM key record (RFC 6376 §3.2), lower-case names, whitespace removed from
/// values; `None` when `text` is not one. Accepts a zone-file line: quoted strings are joined.
pub fn record_tags(text: &str) -> Option<Vec<(String, String)>> {
    let joined: String = if text.contains('"') {
        text.split('"').skip(1).step_by(2).collect()
    } else {
        text.to_owned()
    };
    let start = joined.find("v=DKIM1").or_else(|| joined.find("p="))?;
    let tags: Vec<(String, String)> = joined[start..]
        .split(';')
        .filter_map(|t| {
            let (k, v) = t.split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                v.chars().filter(|c| !c.is_whitespace()).collect(),
            ))
        })
        .collect();
    tags.iter().any(|(k, _)| k == "p").then_some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl genpkey -algorithm ed25519 | openssl pkey -pubout`
    const ED_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn ed25519_publishes_the_raw_key() {
        let k = PublicKey::parse(ED_PEM, KeyType::Ed25519).expect("key");
        assert_eq!(k.p, "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=");
        assert_eq!(k.p.len(), 44);
        assert_eq!(
            k.record(),
            "v=DKIM1; k=ed25519; p=Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
        );
        assert!(PublicKey::parse(ED_PEM, KeyType::Rsa).is_err());
        let bare = PublicKey::parse(&k.p, KeyType::Ed25519).expect("bare");
        assert_eq!(bare, k);
    }

    #[test]
    fn records_as_mailu_shows_them() {
        let line = "dkim._domainkey.example.com. 600 IN TXT \"v=DKIM1; k=rsa; p=MIIBIjAN\" \"BgkqhkiG9w0BAQ==\"";
        let k = PublicKey::parse(line, KeyType::Rsa).expect("key");
        assert_eq!(k.p, "MIIBIjANBgkqhkiG9w0BAQ==");
        assert!(PublicKey::parse("v=DKIM1; k=rsa", KeyType::Rsa).is_err());
        assert!(PublicKey::parse("not base64 !", KeyType::Rsa).is_err());
    }
}
