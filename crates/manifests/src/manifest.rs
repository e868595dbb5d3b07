//! The synthesized objects, typed, in apply order, and their YAML and JSON forms.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use serde::Serialize;

use crate::crd;
use crate::field_order::MetadataFirst;
use crate::yaml_style::Styled;

/// Declares [`Object`] with one variant per kind, and everything that dispatches over it.
macro_rules! objects {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// One Kubernetes object of the manifest. Match on it to read or change a kind's fields.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Object {
            $($variant($ty),)*
        }

        impl Object {
            /// `apiVersion`, e.g. `apps/v1`.
            pub fn api_version(&self) -> &'static str {
                match self {
                    $(Object::$variant(_) => <$ty as k8s_openapi::Resource>::API_VERSION,)*
                }
            }

            /// `kind`, e.g. `Deployment`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Object::$variant(_) => <$ty as k8s_openapi::Resource>::KIND,)*
                }
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Object::$variant(o) => k8s_openapi::Metadata::metadata(o),)*
                }
            }

            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Object::$variant(o) => k8s_openapi::Metadata::metadata_mut(o),)*
                }
            }

            /// The object as JSON data: `apiVersion`, `kind`, `metadata`, then its other fields.
            pub fn to_value(&self) -> Value {
                // These types always serialize (string keys only, no failing `Serialize`); a
                // failure would be a bug, shown as `null` and caught by the schema tests.
                let value = match self {
                    $(Object::$variant(o) => serde_json::to_value(o),)*
                };
                value.map_or(Value::Null, metadata_first)
            }
        }

        /// The object as written: `apiVersion`, `kind`, `metadata`, then its other fields,
        /// straight from the typed object (what [`Object::to_value`] holds, with no copy).
        impl Serialize for Object {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Object::$variant(o) => MetadataFirst(o).serialize(s),)*
                }
            }
        }

        $(
            impl From<$ty> for Object {
                fn from(o: $ty) -> Object {
                    Object::$variant(o)
                }
            }

            impl Kind for $ty {
                fn of(object: &Object) -> Option<&Self> {
                    match object {
                        Object::$variant(o) => Some(o),
                        _ => None,
                    }
                }

                fn of_mut(object: &mut Object) -> Option<&mut Self> {
                    match object {
                        Object::$variant(o) => Some(o),
                        _ => None,
                    }
                }
            }
        )*
    };
}

objects! {
    Namespace(Namespace),
    ConfigMap(ConfigMap),
    Secret(Secret),
    Certificate(crd::Certificate),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Service(Service),
    Deployment(Deployment),
    DaemonSet(DaemonSet),
    StatefulSet(StatefulSet),
    NetworkPolicy(NetworkPolicy),
    CiliumEgressGatewayPolicy(crate::egress::CiliumEgressGatewayPolicyObject),
    AntreaExternalIpPool(crate::egress::AntreaExternalIpPoolObject),
    AntreaEgress(crate::egress::AntreaEgressObject),
    OvnEgressIp(crate::egress::OvnEgressIpObject),
    PodDisruptionBudget(PodDisruptionBudget),
    Ingress(Ingress),
    IngressRoute(crd::IngressRoute),
    IngressRouteTcp(crd::IngressRouteTcp),
    ServersTransportTcp(crd::ServersTransportTcp),
    MiddlewareTcp(crd::MiddlewareTcp),
    HttpRoute(crd::HttpRoute),
    TcpRoute(crd::TcpRoute),
    TlsRoute(crd::TlsRoute),
}

/// `apiVersion`, `kind` and `metadata` first, the way Kubernetes documents read; k8s-openapi
/// writes some kinds' fields (a ConfigMap's `data`) before `metadata`.
fn metadata_first(value: Value) -> Value {
    let Value::Object(mut fields) = value else {
        return value;
    };
    let mut ordered = serde_json::Map::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = fields.shift_remove(key) {
            ordered.insert(key.to_owned(), v);
        }
    }
    ordered.extend(fields);
    Value::Object(ordered)
}

/// A Rust type that is one variant of [`Object`], for typed lookups such as
/// [`Manifest::get_mut::<Deployment>`](Manifest::get_mut).
pub trait Kind: k8s_openapi::Resource + Sized {
    fn of(object: &Object) -> Option<&Self>;
    fn of_mut(object: &mut Object) -> Option<&mut Self>;
}

impl Object {
    /// `metadata.name` (every object mailu-k8s writes has one).
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }
}

/// The generated objects, in apply order: the Namespace, ConfigMaps, the Certificate, PVCs,
/// Services, workloads, PodDisruptionBudgets, edge routes. Change them freely before writing;
/// the writers keep the order of `objects`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub objects: Vec<Object>,
}

impl Manifest {
    /// The object of type `T` named `name`.
    pub fn get<T: Kind>(&self, name: &str) -> Option<&T> {
        self.objects
            .iter()
            .filter(|o| o.name() == name)
            .find_map(T::of)
    }

    /// The object of type `T` named `name`, to change.
    pub fn get_mut<T: Kind>(&mut self, name: &str) -> Option<&mut T> {
        self.objects
            .iter_mut()
            .filter(|o| o.name() == name)
            .find_map(T::of_mut)
    }

    /// Every object of type `T`, in order.
    pub fn of_kind<'a, T: Kind + 'a>(&'a self) -> impl Iterator<Item = &'a T> {
        self.objects.iter().filter_map(T::of)
    }

    /// Every object as JSON data, in order.
    pub fn values(&self) -> Vec<Value> {
        self.objects.iter().map(Object::to_value).collect()
    }

    /// Multi-document YAML, each document after `---`, under a comment naming the generator,
    /// written by serde-saphyr: block style, two-space indents, sequences indented under their
    /// key. A string is plain only when YAML 1.1 and 1.2 readers alike read it back as that
    /// string (`"2024.06"`, `"yes"`, `"0777"` are quoted); a multi-line string is a literal block
    /// (`|`) unless it holds a character a block cannot carry verbatim (CR, BOM,
    /// U+0085/U+2028/U+2029, other controls) or starts with a tab, and is then double-quoted
    /// with escapes. The same bytes as [`yaml_documents`] of [`Manifest::values`], without
    /// building the values.
    pub fn to_yaml(&self) -> String {
        yaml_documents_of(HEADER, &self.objects)
    }

    /// A `v1` `List` holding every object, pretty-printed.
    pub fn to_json(&self) -> String {
        // Field for field what `serde_json::json!` of the values would hold, in this order.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct List<'a> {
            api_version: &'static str,
            kind: &'static str,
            items: &'a [Object],
        }
        let list = List {
            api_version: "v1",
            kind: "List",
            items: &self.objects,
        };
        let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Objects as JSON data written the way [`Manifest::to_yaml`] writes them: the header, then each
/// document after `---`.
pub fn yaml_documents(values: &[Value]) -> String {
    yaml_documents_with_header(HEADER, values)
}

/// [`yaml_documents`] under another header (comment lines ending in a newline), for output
/// that `synth` does not make (`dkim keygen`'s Secret, `dns plan`'s `DNSEndpoint`).
pub fn yaml_documents_with_header(header: &str, values: &[Value]) -> String {
    yaml_documents_of(header, values)
}

/// Each document after `---`, under `header`: JSON data and typed objects alike.
fn yaml_documents_of<T: Serialize>(header: &str, documents: &[T]) -> String {
    let mut out = String::from(header);
    for document in documents {
        out.push_str("---\n");
        // Writing into a String cannot fail: every key is a string, every number finite, and
        // the options are constants.
        serde_saphyr::to_fmt_writer_with_options(&mut out, &Styled(document), yaml_options())
            .expect("an object always serializes to YAML");
    }
    out
}

/// How objects are written. serde-saphyr folds a single-line string longer than
/// `folded_wrap_chars` into a `>` block by default; no width disables that, so a long value (a
/// DKIM record, an annotation) stays on one line and nothing depends on how a reader unfolds it.
fn yaml_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        compact_list_indent: false,
        folded_wrap_chars: usize::MAX,
    }
}

/// The first line of every file `synth` writes.
pub const HEADER: &str = concat!(
    "# Generated by mailu-k8s ",
    env!("CARGO_PKG_VERSION"),
    " from a validated config. Do not edit: change the config and run `mailu-k8s synth` again.\n"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let loaded = mailu_k8s_config::load(
            mailu_k8s_config::minimal_yaml!(
                "tls: {certificate: {issuerName: le}}\ningress: {type: traefik}\n"
            )
            .as_bytes(),
        )
        .expect("valid config");
        crate::synthesize(&loaded.config)
    }

    #[test]
    fn accessors_agree_with_the_written_object() {
        for object in manifest().objects {
            let value = object.to_value();
            let keys: Vec<&str> = value
                .as_object()
                .expect("an object")
                .keys()
                .take(3)
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["apiVersion", "kind", "metadata"], "{object:?}");
            assert_eq!(value["apiVersion"], object.api_version());
            assert_eq!(value["kind"], object.kind());
            assert_eq!(value["metadata"]["name"], object.name());
        }
    }

    /// The writers serialize the typed objects directly; they must give exactly what writing
    /// the objects' JSON values gives, the string style and the field order included.
    #[test]
    fn typed_objects_are_written_as_their_values_are() {
        let mut m = manifest();
        // k8s-openapi writes a ConfigMap's `data` before `metadata`, and this value would be a
        // block libyaml cannot read (a tab where it detects the indentation).
        m.objects.push(
            ConfigMap {
                metadata: ObjectMeta {
                    name: Some("tabs".to_owned()),
                    ..ObjectMeta::default()
                },
                data: Some([("k".to_owned(), "\tx\ny".to_owned())].into()),
                ..ConfigMap::default()
            }
            .into(),
        );
        let yaml = m.to_yaml();
        assert_eq!(yaml, yaml_documents(&m.values()));
        assert!(
            yaml.ends_with("kind: ConfigMap\nmetadata:\n  name: tabs\ndata:\n  k: \"\\tx\\ny\"\n"),
            "{yaml}"
        );
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": m.values()});
        let json = serde_json::to_string_pretty(&list).expect("JSON values serialize");
        assert_eq!(m.to_json(), json + "\n");
    }

    #[test]
    fn typed_lookups_find_one_kind_by_name() {
        use k8s_openapi::api::apps::v1::Deployment;
        use k8s_openapi::api::core::v1::Service;

        let mut m = manifest();
        // A Service and a Deployment share the name; each lookup finds its own kind.
        assert!(m.get::<Service>("mailu-front").is_some());
        assert!(m.get::<Deployment>("mailu-front").is_some());
        assert!(m.get::<Deployment>("mailu-nothing").is_none());
        assert_eq!(m.of_kind::<crd::IngressRouteTcp>().count(), 5);

        let cert = m
            .get_mut::<crd::Certificate>("mailu-certificates")
            .expect("certificate");
        cert.spec.dns_names.push("extra.example.com".to_owned());
        let yaml = m.to_yaml();
        assert!(yaml.contains("    - extra.example.com\n"), "{yaml}");
    }
}
