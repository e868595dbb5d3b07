//! Typed leaves written in other systems' grammars: Kubernetes object names and keys, the parts
//! of an image reference, mailbox names and time zones. Each keeps the text as written (Kubernetes and the container
//! runtime read it as is) once its rule in [`crate::rules`] accepts it, and describes that rule in
//! the JSON Schema, so an editor flags a bad name before `mailu-k8s check` does.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::rules::{self, Problem};

/// A DNS-1123 label as Kubernetes matches it (`IsDNS1123Label`).
pub const DNS1123_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// A DNS-1123 subdomain as Kubernetes matches it (`IsDNS1123Subdomain`): labels joined by dots.
pub const DNS1123_SUBDOMAIN_PATTERN: &str =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A key of a Secret's or ConfigMap's data (`IsConfigMapKey`): `.` and `..` are refused because
/// the kubelet writes each key as a file name.
pub const DATA_KEY_PATTERN: &str = "^(?!\\.\\.?$)[-._a-zA-Z0-9]+$";

/// A text leaf: a newtype over the text as written, read through `$check` (a rule of
/// [`crate::rules`] that accepts or refuses it), with `$schema` as its JSON Schema.
macro_rules! text_leaf {
    ($(#[$doc:meta])* $name:ident, $check:path, $schema:tt) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Problem;

            fn try_from(raw: String) -> Result<Self, Problem> {
                $check(&raw).map(|()| $name(raw))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

text_leaf!(
    /// A Kubernetes name that must be a DNS-1123 label (a namespace): at most 63 lower-case
    /// letters, digits and `-`, starting and ending with a letter or digit.
    Dns1123Label,
    rules::check_dns1123_label,
    { "type": "string", "pattern": DNS1123_LABEL_PATTERN, "maxLength": 63 }
);

text_leaf!(
    /// A Kubernetes object name that is a DNS-1123 subdomain (Secrets, StorageClasses, claims,
    /// classes, Gateways, issuers): labels joined by dots, at most 253 characters.
    Dns1123Subdomain,
    rules::check_dns1123_subdomain,
    { "type": "string", "pattern": DNS1123_SUBDOMAIN_PATTERN, "maxLength": 253 }
);

text_leaf!(
    /// A key inside a Secret that Mailu's containers read (credentials).
    SecretKey,
    rules::check_secret_key,
    { "type": "string", "pattern": DATA_KEY_PATTERN, "maxLength": 253 }
);

text_leaf!(
    /// A key of a Secret's or ConfigMap's data that an `extraEnv` value references.
    DataKey,
    rules::check_data_key,
    { "type": "string", "pattern": DATA_KEY_PATTERN, "maxLength": 253 }
);

text_leaf!(
    /// A PostgreSQL database name Mailu can paste into its URIs and Roundcube's PHP.
    DatabaseName,
    rules::check_database_name,
    { "type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "maxLength": 63 }
);

text_leaf!(
    /// An image tag that is also the `app.kubernetes.io/version` label value.
    ImageTag,
    rules::check_image_tag,
    { "type": "string", "pattern": "^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$", "maxLength": 63 }
);

text_leaf!(
    /// An image digest: `sha256:` and 64 lower-case hex digits.
    ImageDigest,
    rules::check_image_digest,
    { "type": "string", "pattern": "^sha256:[0-9a-f]{64}$" }
);

text_leaf!(
    /// The registry path every default image name starts with (`ghcr.io/mailu`).
    ImageRegistry,
    rules::check_image_registry,
    { "type": "string", "pattern": rules::IMAGE_PATH_PATTERN }
);

text_leaf!(
    /// A full image repository without tag (`registry.example.com/mailu/postfix`).
    ImageRepository,
    rules::check_image_repository,
    { "type": "string", "pattern": rules::IMAGE_PATH_PATTERN }
);

/// A mailbox name (the part before `@`) as Mailu's admin accepts it: no leading, trailing or
/// doubled dot.
pub const LOCAL_PART_PATTERN: &str = "^(?!\\.)(?!.*\\.\\.)(?!.*\\.$)[A-Za-z0-9._+-]+$";

text_leaf!(
    /// The local part of an address in the mail domain (the initial admin, the postmaster).
    LocalPart,
    rules::check_local_part,
    { "type": "string", "pattern": LOCAL_PART_PATTERN, "maxLength": 64 }
);

text_leaf!(
    /// An IANA time zone, spelt as in the tz database compiled into the binary. No schema rule:
    /// the list is long and changes with the database.
    Timezone,
    rules::check_timezone,
    { "type": "string" }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern, the parser it describes, and samples on both sides of the rule.
    type Row = (&'static str, fn(&str) -> bool, &'static [&'static str]);

    /// Each pattern is the rule it describes: the regex and the parser agree on every row.
    #[test]
    fn patterns_agree_with_the_parsers() {
        let rows: [Row; 5] = [
            (
                DNS1123_LABEL_PATTERN,
                |s| rules::check_dns1123_label(s).is_ok(),
                &["mailu", "a", "a-1", "", "-a", "a-", "A", "a.b", "a_b"],
            ),
            (
                DNS1123_SUBDOMAIN_PATTERN,
                |s| rules::check_dns1123_subdomain(s).is_ok(),
                &["a.b-c", "a", "", ".a", "a.", "a..b", "A.b", "a.-b"],
            ),
            (
                DATA_KEY_PATTERN,
                |s| rules::check_data_key(s).is_ok(),
                &["password", "a.b_c-D", "...", ".", "..", "", "a/b", "a b"],
            ),
            (
                LOCAL_PART_PATTERN,
                |s| rules::check_local_part(s).is_ok(),
                &["admin", "a.b+c_d-e", "", ".a", "a.", "a..b", "a@b", "a b"],
            ),
            (
                rules::IMAGE_PATH_PATTERN,
                |s| rules::check_image_registry(s).is_ok(),
                &[
                    "ghcr.io/mailu",
                    "r:5000/m",
                    "",
                    "ghcr.io/",
                    "GHCR.io",
                    "a b",
                ],
            ),
        ];
        for (pattern, parser, samples) in rows {
            let schema = serde_json::json!({ "type": "string", "pattern": pattern });
            let validator = jsonschema::validator_for(&schema).expect("pattern compiles");
            for sample in samples {
                assert_eq!(
                    validator.is_valid(&serde_json::json!(sample)),
                    parser(sample),
                    "{pattern} on {sample:?}"
                );
            }
        }
    }
}
