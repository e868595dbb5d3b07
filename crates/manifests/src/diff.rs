//! `mailu-k8s diff`: what applying one output over another changes, object by object — which
//! objects appear, which disappear (and so need pruning: `kubectl apply` alone leaves them), which
//! fields change, and which workloads will roll (their pod template changed).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// An object's identity: `kind`, namespace (empty when cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    fn of(object: &Value) -> ObjectKey {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        ObjectKey {
            kind: text(&object["kind"]),
            namespace: text(&object["metadata"]["namespace"]),
            name: text(&object["metadata"]["name"]),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.namespace.as_str() {
            "" => write!(f, "{} {}", self.kind, self.name),
            ns => write!(f, "{} {ns}/{}", self.kind, self.name),
        }
    }
}

/// One field that differs: absent on one side when added or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// `spec.template.spec.containers[admin].image`: list items with a `name` are named, others
    /// numbered.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// What happens to one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "change")]
pub enum Change {
    Added,
    /// Gone from the new output: a plain `kubectl apply` leaves it in the cluster.
    Removed,
    Changed {
        fields: Vec<FieldChange>,
        /// A workload whose pod template changed: Kubernetes replaces its pods.
        rolls: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDiff {
    #[serde(flatten)]
    pub key: ObjectKey,
    #[serde(flatten)]
    pub change: Change,
}

/// Every object that differs between `old` and `new`, in key order.
pub fn diff(old: &[Value], new: &[Value]) -> Vec<ObjectDiff> {
    let index = |objects: &[Value]| -> BTreeMap<ObjectKey, Value> {
        objects
            .iter()
            .map(|o| (ObjectKey::of(o), o.clone()))
            .collect()
    };
    let (old, new) = (index(old), index(new));
    let mut out = Vec::new();
    for (key, before) in &old {
        let change = match new.get(key) {
            None => Change::Removed,
            Some(after) if after == before => continue,
            Some(after) => changed(&key.kind, before, after),
        };
        out.push(ObjectDiff {
            key: key.clone(),
            change,
        });
    }
    for key in new.keys().filter(|k| !old.contains_key(*k)) {
        out.push(ObjectDiff {
            key: key.clone(),
            change: Change::Added,
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn changed(kind: &str, before: &Value, after: &Value) -> Change {
    let mut fields = Vec::new();
    walk(String::new(), Some(before), Some(after), &mut fields);
    let workload = matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet");
    let rolls = workload && before["spec"]["template"] != after["spec"]["template"];
    Change::Changed { fields, rolls }
}

/// Collects the differing leaves (or whole subtrees present on one side only) under `path`.
fn walk(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(x), Some(y)) if x == y => {}
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                walk(join(&path, k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if named(x) && named(y) => {
            let by_name = |items: &[Value]| -> BTreeMap<String, Value> {
                items
                    .iter()
                    .map(|i| (i["name"].as_str().unwrap_or_default().to_owned(), i.clone()))
                    .collect()
            };
            let (x, y) = (by_name(x), by_name(y));
            let names: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for n in names {
                walk(format!("{path}[{n}]"), x.get(n), y.get(n), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                walk(format!("{path}[{i}]"), x.get(i), y.get(i), out);
            }
        }
        _ => out.push(FieldChange {
            path,
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}

/// A list whose items all carry a distinct `name` (containers, ports, volumes, env).
fn named(items: &[Value]) -> bool {
    let names: std::collections::BTreeSet<&str> =
        items.iter().filter_map(|i| i["name"].as_str()).collect();
    !items.is_empty() && names.len() == items.len()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(image: &str, replicas: u32) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "mailu-admin", "namespace": "mailu"},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                   {"name": "admin", "image": image}, {"name": "sidecar", "image": "x"}]}}}})
    }

    #[test]
    fn identical_outputs_have_no_diff() {
        assert!(diff(&[deployment("a", 1)], &[deployment("a", 1)]).is_empty());
    }

    #[test]
    fn a_changed_image_rolls_and_names_the_container() {
        let d = diff(&[deployment("a", 1)], &[deployment("b", 1)]);
        let Change::Changed { fields, rolls } = &d[0].change else {
            panic!("{d:?}")
        };
        assert!(rolls);
        assert_eq!(fields[0].path, "spec.template.spec.containers[admin].image");
        assert_eq!(fields[0].old, Some(json!("a")));
    }

    #[test]
    fn replicas_alone_do_not_roll() {
        let d = diff(&[deployment("a", 1)], &[deployment("a", 2)]);
        assert_eq!(
            d[0].change,
            Change::Changed {
                fields: vec![FieldChange {
                    path: "spec.replicas".into(),
                    old: Some(json!(1)),
                    new: Some(json!(2))
                }],
                rolls: false,
            }
        );
    }

    #[test]
    fn objects_that_disappear_are_removed_and_new_ones_added() {
        let svc = json!({"kind": "Service", "metadata": {"name": "s", "namespace": "mailu"}});
        let ns = json!({"kind": "Namespace", "metadata": {"name": "mailu"}});
        let d = diff(&[svc], &[ns]);
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].key.kind.as_str(), &d[0].change),
            ("Namespace", &Change::Added)
        );
        assert_eq!(
            (d[1].key.kind.as_str(), &d[1].change),
            ("Service", &Change::Removed)
        );
        assert_eq!(d[1].key.to_string(), "Service mailu/s");
    }
}
