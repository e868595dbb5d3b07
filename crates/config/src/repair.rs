//! One pass finds everything (issue 20): when the structural check finds problems, the value
//! rules still run on every part of the document that is sound.
//!
//! Each structural finding comes with a [`Repair`]: what takes it out of the document. An
//! unknown key, a value of the wrong type, a bad enum value or a number out of range is removed
//! (so the field's default applies); a mapping that lacks a required key is removed, or, at the
//! top level, where nothing can be removed, the key gets a placeholder that no rule accepts, so
//! every rule that builds on it stays silent. The repaired document is validated as usual, and
//! of its findings only those that no repair could have caused are kept: none at, above or below
//! a repaired mapping (a repair inside a mapping can change what its siblings mean, as a
//! removed `mode` changes which of its blocks is expected).

use serde_json::{Map, Value};

use crate::diagnostic::{index, join};
use crate::structure::{self, Repair, Step};

/// A document with its structural findings repaired, and the paths whose findings cannot be
/// trusted any more.
#[derive(Debug)]
pub(crate) struct Repaired {
    pub doc: Value,
    scopes: Vec<String>,
}

/// Rounds of repair: removing a required value makes its mapping incomplete, which is repaired
/// in the next round. The schema is five levels deep, so a handful of rounds always ends.
const MAX_ROUNDS: usize = 8;

/// `doc` with `repairs` (from [`structure::check_repairable`]) applied until the schema has no
/// more findings; `None` when that does not happen within [`MAX_ROUNDS`].
pub(crate) fn repair(schema: &Value, doc: &Value, mut repairs: Vec<Repair>) -> Option<Repaired> {
    let mut repaired = Repaired {
        doc: doc.clone(),
        scopes: Vec::new(),
    };
    for _ in 0..MAX_ROUNDS {
        if repairs.is_empty() {
            return Some(repaired);
        }
        for r in repairs {
            repaired.apply(schema, r);
        }
        repairs = structure::check_repairable(schema, &repaired.doc).1;
    }
    None
}

impl Repaired {
    /// Whether a finding of the repaired document at `path` is one the user's document has too.
    pub fn keeps(&self, path: &str) -> bool {
        !self
            .scopes
            .iter()
            .any(|scope| within(path, scope) || within(scope, path))
    }

    fn apply(&mut self, schema: &Value, repair: Repair) {
        match repair {
            Repair::Unknown(steps) => {
                self.remove(&steps);
                self.scopes.push(path_of(&steps));
            }
            Repair::Remove(steps) => self.remove_value(steps),
            Repair::Missing(steps, key) if steps.is_empty() => {
                let property = schema.pointer(&format!("/properties/{}", escape(&key)));
                let value = property.map_or(Value::Null, |p| placeholder(schema, p, 0));
                if let Value::Object(map) = &mut self.doc {
                    map.insert(key.clone(), value);
                }
                self.scopes.push(key);
            }
            Repair::Missing(steps, _) => self.remove_value(steps),
        }
    }

    /// Removes the value at `steps`; a list item takes its whole list with it (removing one item
    /// would move the ones after it to other paths). The enclosing mapping is in doubt, unless
    /// it is the whole document: a top-level key stands alone.
    fn remove_value(&mut self, mut steps: Vec<Step>) {
        while matches!(steps.last(), Some(Step::Item(_))) {
            steps.pop();
        }
        self.remove(&steps);
        let scope = match steps.split_last() {
            Some((_, parent)) if !parent.is_empty() => parent,
            _ => &steps[..],
        };
        self.scopes.push(path_of(scope));
    }

    fn remove(&mut self, steps: &[Step]) {
        let Some((Step::Key(key), parent)) = steps.split_last() else {
            return;
        };
        if let Some(Value::Object(map)) = lookup_mut(&mut self.doc, parent) {
            map.shift_remove(key);
        }
    }
}

fn lookup_mut<'v>(doc: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    steps.iter().try_fold(doc, |node, step| match (step, node) {
        (Step::Key(k), Value::Object(map)) => map.get_mut(k),
        (Step::Item(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

/// The path findings use for `steps` (`edge.realIpFrom[0]`).
fn path_of(steps: &[Step]) -> String {
    steps.iter().fold(String::new(), |path, step| match step {
        Step::Key(k) => join(&path, k),
        Step::Item(i) => index(&path, *i),
    })
}

/// Whether `path` is `scope` or lies below it.
fn within(path: &str, scope: &str) -> bool {
    scope.is_empty()
        || path
            .strip_prefix(scope)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// JSON Pointer escaping of one key (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A value of the schema's shape that the structural check accepts: the first choice of an
/// enumeration, empty text, the smallest number, and mappings with their required keys. Empty
/// text is no valid name, address or CIDR, so the value rules report it (at a path that is not
/// kept) and build nothing on it.
fn placeholder(root: &Value, schema: &Value, depth: usize) -> Value {
    let schema = structure::resolve(root, schema);
    if depth > MAX_ROUNDS {
        return Value::Null;
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    let branch = ["allOf", "anyOf", "oneOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|b| b.get(0)));
    if let Some(branch) = branch {
        return placeholder(root, branch, depth + 1);
    }
    let kind = match schema.get("type") {
        Some(Value::Array(types)) => types.first().and_then(Value::as_str),
        Some(t) => t.as_str(),
        None => None,
    };
    match kind {
        Some("object") => Value::Object(required_fields(root, schema, depth)),
        Some("array") => {
            let count = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = schema
                .get("items")
                .map_or(Value::Null, |items| placeholder(root, items, depth + 1));
            Value::Array((0..count).map(|_| item.clone()).collect())
        }
        Some("integer" | "number") => schema.get("minimum").cloned().unwrap_or(Value::from(0)),
        Some("boolean") => Value::Bool(false),
        _ => Value::String(String::new()),
    }
}

fn required_fields(root: &Value, schema: &Value, depth: usize) -> Map<String, Value> {
    let required = schema.get("required").and_then(Value::as_array);
    required
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|key| {
            let property = schema.get("properties").and_then(|p| p.get(key));
            let value = property.map_or(Value::Null, |p| placeholder(root, p, depth + 1));
            (key.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_table() {
        let rows = [
            ("egress.cilium", "egress", true),
            ("egress", "egress", true),
            ("egressX", "egress", false),
            ("hostnames[0]", "hostnames", true),
            ("anything", "", true),
            ("egress", "egress.cilium", false),
        ];
        for (path, scope, want) in rows {
            assert_eq!(within(path, scope), want, "{path} in {scope}");
        }
    }

    #[test]
    fn a_removed_list_item_takes_its_list_and_doubts_its_mapping() {
        let doc = serde_json::json!({"edge": {"realIpFrom": ["x", 5], "kind": "a"}});
        let mut repaired = Repaired {
            doc,
            scopes: Vec::new(),
        };
        let steps = vec![
            Step::Key("edge".into()),
            Step::Key("realIpFrom".into()),
            Step::Item(1),
        ];
        repaired.remove_value(steps);
        assert_eq!(repaired.doc, serde_json::json!({"edge": {"kind": "a"}}));
        assert!(!repaired.keeps("edge.kind"));
        assert!(!repaired.keeps(""));
        assert!(repaired.keeps("domain"));
    }
}
