//! Structural check: the parsed document against the JSON Schema that `mailu-k8s schema` prints.
//!
//! serde stops at the first mismatch; this walk reports every unknown key (with a did-you-mean),
//! wrong type, missing key and bad enum value in one pass. Because it reads the generated schema,
//! it knows exactly the keys the file types declare, and nothing can drift.

use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, index, join};

/// One step into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Item(usize),
}

/// What takes one structural finding out of the document ([`crate::repair`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Repair {
    /// Remove the key at these steps, which no type reads: nothing else changes meaning.
    Unknown(Vec<Step>),
    /// Remove the value at these steps: its field takes its default, which can change what the
    /// rest of its mapping means.
    Remove(Vec<Step>),
    /// The mapping at these steps lacks this required key.
    Missing(Vec<Step>, String),
}

/// Checks `doc` against `schema` (the root schema, holding `definitions`).
pub fn check(schema: &Value, doc: &Value) -> Vec<Diagnostic> {
    check_repairable(schema, doc).0
}

/// The findings, and for each what would take it out of the document ([`crate::repair`]).
pub(crate) fn check_repairable(schema: &Value, doc: &Value) -> (Vec<Diagnostic>, Vec<Repair>) {
    let mut walker = Walker::new(schema, Vec::new());
    walker.walk(schema, doc, "");
    (walker.out, walker.repairs)
}

/// Follows `$ref` (only local `#/definitions/...` refs are generated) within `root`.
pub(crate) fn resolve<'s>(root: &'s Value, mut schema: &'s Value) -> &'s Value {
    // Bounded: the generated schema has no ref cycles deeper than this.
    for _ in 0..16 {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            return schema;
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            return schema;
        };
        match root.pointer(pointer) {
            Some(target) => schema = target,
            None => return schema,
        }
    }
    schema
}

struct Walker<'s> {
    root: &'s Value,
    out: Vec<Diagnostic>,
    /// Where the walk is, as steps into the document (the paths in findings are for people,
    /// and a key may hold a `.`).
    at: Vec<Step>,
    repairs: Vec<Repair>,
}

impl<'s> Walker<'s> {
    fn new(root: &'s Value, at: Vec<Step>) -> Self {
        Walker {
            root,
            out: Vec::new(),
            at,
            repairs: Vec::new(),
        }
    }

    /// A finding about the value where the walk is, repaired by taking that value out.
    fn bad_value(&mut self, d: Diagnostic) {
        self.out.push(d);
        self.repairs.push(Repair::Remove(self.at.clone()));
    }

    /// Walks `value`, one step below where the walk is.
    fn walk_below(&mut self, step: Step, schema: &'s Value, value: &Value, path: &str) {
        self.at.push(step);
        self.walk(schema, value, path);
        self.at.pop();
    }
    fn resolve(&self, schema: &'s Value) -> &'s Value {
        resolve(self.root, schema)
    }

    fn walk(&mut self, schema: &'s Value, value: &Value, path: &str) {
        let schema = self.resolve(schema);

        // `allOf` wraps a `$ref` that has sibling keywords (draft-07 ignores siblings of `$ref`).
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.walk(branch, value, path);
            }
            return;
        }
        if let Some(choices) = enum_choices(self, schema) {
            self.check_enum(&choices, value, path);
            return;
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            self.walk_alternatives(branches, value, path);
            return;
        }

        if let Some(expected) = schema.get("type")
            && !type_matches(expected, value)
        {
            self.bad_value(wrong_type(expected, value, path));
            return;
        }

        match value {
            Value::Object(map) => self.walk_object(schema, map, path),
            Value::Array(items) => {
                if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                    && (items.len() as u64) < min
                {
                    self.bad_value(
                        Diagnostic::error(
                            Code::EmptyList,
                            path,
                            format!("needs at least {min} item(s)"),
                        )
                        .with_hint("add an item"),
                    );
                }
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.walk_below(Step::Item(i), item_schema, item, &index(path, i));
                    }
                }
            }
            Value::Number(n) => self.check_range(schema, n, path),
            _ => {}
        }
    }

    fn walk_object(&mut self, schema: &'s Value, map: &Map<String, Value>, path: &str) {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        let additional = schema.get("additionalProperties");
        let closed = additional == Some(&Value::Bool(false));

        for (key, value) in map {
            match properties.get(key) {
                Some(property_schema) => {
                    let step = Step::Key(key.clone());
                    self.walk_below(step, property_schema, value, &join(path, key));
                }
                // A map's values (`additionalProperties: {type: string}`).
                None if additional.is_some_and(Value::is_object) => {
                    if let Some(value_schema) = additional {
                        let step = Step::Key(key.clone());
                        self.walk_below(step, value_schema, value, &join(path, key));
                    }
                }
                None if closed => {
                    let mut d = Diagnostic::error(
                        Code::UnknownKey,
                        join(path, key),
                        format!("unknown key `{key}`"),
                    );
                    d = match did_you_mean(key, properties.keys().map(String::as_str)) {
                        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                        None => d.with_hint(format!(
                            "known keys here: {}",
                            properties
                                .keys()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    self.out.push(d);
                    let mut unknown = self.at.clone();
                    unknown.push(Step::Key(key.clone()));
                    self.repairs.push(Repair::Unknown(unknown));
                }
                None => {}
            }
        }

        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for key in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(key) {
                    let description = properties
                        .get(key)
                        .map(|p| self.resolve(p))
                        .and_then(|p| p.get("description"))
                        .and_then(Value::as_str)
                        .map(first_sentence);
                    let mut d = Diagnostic::error(
                        Code::MissingKey,
                        join(path, key),
                        format!("required key `{key}` is missing"),
                    );
                    if let Some(description) = description {
                        d = d.with_hint(format!("add `{key}`: {description}"));
                    }
                    self.out.push(d);
                    self.repairs
                        .push(Repair::Missing(self.at.clone(), key.to_owned()));
                }
            }
        }
    }

    /// `anyOf`/`oneOf` of structural alternatives: accept the first branch that has no
    /// findings; otherwise report the findings of the branch whose type matches.
    fn walk_alternatives(&mut self, branches: &'s [Value], value: &Value, path: &str) {
        let mut best: Option<Walker<'s>> = None;
        for branch in branches {
            let mut sub = Walker::new(self.root, self.at.clone());
            sub.walk(branch, value, path);
            if sub.out.is_empty() {
                return;
            }
            let type_ok = !sub
                .out
                .iter()
                .any(|d| d.code == Code::WrongType && d.path == path);
            if best.is_none() || type_ok {
                best = Some(sub);
            }
        }
        if let Some(best) = best {
            self.out.extend(best.out);
            self.repairs.extend(best.repairs);
        }
    }

    fn check_enum(&mut self, choices: &[String], value: &Value, path: &str) {
        if let Some(s) = value.as_str()
            && choices.iter().any(|c| c == s)
        {
            return;
        }
        let shown = display_value(value);
        let list = choices
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = Diagnostic::error(
            Code::InvalidEnumValue,
            path,
            format!("`{shown}` is not one of {list}"),
        )
        .with_value(shown.clone());
        if let Some(best) = did_you_mean(&shown, choices.iter().map(String::as_str)) {
            d = d.with_hint(format!("did you mean `{best}`?"));
        } else {
            d = d.with_hint(format!("use one of {list}"));
        }
        self.bad_value(d);
    }

    fn check_range(&mut self, schema: &Value, n: &serde_json::Number, path: &str) {
        let Some(x) = n.as_f64() else { return };
        let min = schema.get("minimum").and_then(Value::as_f64);
        let max = schema.get("maximum").and_then(Value::as_f64);
        let below = min.is_some_and(|m| x < m);
        let above = max.is_some_and(|m| x > m);
        if below || above {
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("from {a} to {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => String::new(),
            };
            self.bad_value(
                Diagnostic::error(Code::OutOfRange, path, format!("{n} is out of range"))
                    .with_value(n.to_string())
                    .with_hint(format!("use a whole number {range}")),
            );
        }
    }
}

/// The allowed strings of an enum schema: `enum: [...]`, or `oneOf` whose branches are all
/// `const` (how documented unit enums are generated).
fn enum_choices(walker: &Walker<'_>, schema: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        );
    }
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))?
        .as_array()?;
    let mut choices = Vec::new();
    for branch in branches {
        let branch = walker.resolve(branch);
        if let Some(c) = branch.get("const").and_then(Value::as_str) {
            choices.push(c.to_owned());
        } else if let Some(values) = branch.get("enum").and_then(Value::as_array) {
            choices.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
        } else {
            return None;
        }
    }
    Some(choices)
}

fn type_matches(expected: &Value, value: &Value) -> bool {
    match expected {
        Value::String(t) => one_type_matches(t, value),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| one_type_matches(t, value)),
        _ => true,
    }
}

fn one_type_matches(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn expected_name(expected: &Value) -> String {
    let one = |t: &str| match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "boolean" => "`true` or `false`",
        "integer" => "a whole number",
        "number" => "a number",
        "null" => "null",
        _ => "another type",
    };
    match expected {
        Value::String(t) => one(t).to_owned(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "another type".to_owned(),
    }
}

fn wrong_type(expected: &Value, value: &Value, path: &str) -> Diagnostic {
    let want = expected_name(expected);
    let mut d = Diagnostic::error(
        Code::WrongType,
        path,
        format!("expected {want}, found {}", type_name(value)),
    );
    if !matches!(value, Value::Object(_) | Value::Array(_)) {
        d = d.with_value(display_value(value));
    }
    let hint = match (expected.as_str(), value) {
        (Some("string"), Value::Number(_) | Value::Bool(_)) => {
            format!("quote the value: \"{}\"", display_value(value))
        }
        (Some("boolean"), Value::String(_)) => "write `true` or `false` without quotes".into(),
        (_, Value::Null) => "give the key a value, or remove it to use the default".into(),
        _ => format!("write {want} here"),
    };
    d.with_hint(hint)
}

fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first sentence of a schema description, for a hint: its first paragraph up to the first
/// `. ` that ends a sentence, not an abbreviation (`e.g. `) or a dot inside backticks.
fn first_sentence(text: &str) -> String {
    let paragraph = text.split("\n\n").next().unwrap_or("");
    let paragraph = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    let ends_sentence = |i: usize| {
        let before = &paragraph[..i];
        let word = before.rsplit(' ').next().unwrap_or("");
        let in_code = before.matches('`').count() % 2 == 1;
        !in_code && !["e.g", "i.e", "etc", "cf", "vs"].contains(&word)
    };
    match paragraph
        .match_indices(". ")
        .map(|(i, _)| i)
        .find(|&i| ends_sentence(i))
    {
        Some(i) => paragraph[..=i].to_owned(),
        None => paragraph,
    }
}

/// The known name closest to `given`, if it is close enough to be a likely typo. Case, `_` and
/// `-` differences count as a match (`secret_name` → `secretName`).
pub fn did_you_mean<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let given_norm = norm(given);
    let mut best: Option<(&str, f64)> = None;
    for k in known {
        let k_norm = norm(k);
        let score = if k_norm == given_norm {
            1.0
        } else if k_norm.len() >= 4
            && given_norm.len() >= 4
            && (given_norm.ends_with(&k_norm) || k_norm.ends_with(&given_norm))
        {
            // A qualified spelling of the same word: `podAnnotations` for `annotations`.
            0.9
        } else {
            strsim::jaro_winkler(&given_norm, &k_norm)
        };
        if score >= 0.84 && best.is_none_or(|(_, s)| score > s) {
            best = Some((k, score));
        }
    }
    best.map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A missing key's hint quotes its description's first sentence whole (issue 20: it was cut
    /// at the `.` of "e.g.").
    #[test]
    fn first_sentence_table() {
        let rows = [
            (
                "The cluster's pod CIDR (IPv4), e.g. `10.42.0.0/16`. Mailu trusts\nthis network.",
                "The cluster's pod CIDR (IPv4), e.g. `10.42.0.0/16`.",
            ),
            ("Names of Secrets. More.", "Names of Secrets."),
            ("Host, i.e. the name. Rest", "Host, i.e. the name."),
            ("Set `a. b` here. Then", "Set `a. b` here."),
            ("No sentence end", "No sentence end"),
            ("First line\ngoes on. Second", "First line goes on."),
            ("Paragraph one\n\nParagraph two. x", "Paragraph one"),
        ];
        for (text, want) in rows {
            assert_eq!(first_sentence(text), want, "{text:?}");
        }
    }

    #[test]
    fn did_you_mean_table() {
        let keys = [
            "storageClass",
            "admin",
            "postfix",
            "dovecot",
            "rspamd",
            "redis",
        ];
        let cases: &[(&str, Option<&str>)] = &[
            ("storage_class", Some("storageClass")),
            ("storageclass", Some("storageClass")),
            ("dovcot", Some("dovecot")),
            ("postfx", Some("postfix")),
            ("webmail", None),
            ("x", None),
            ("redisStorage", Some("redis")),
        ];
        for (given, want) in cases {
            assert_eq!(did_you_mean(given, keys.iter().copied()), *want, "{given}");
        }
    }
}
