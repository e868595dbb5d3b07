//! Layered configs, as Helm values files and kustomize overlays: several files, later ones
//! winning, then `--set path=value` arguments.
//!
//! Each file is parsed on its own with the limits of a single file ([`crate::parse_document`]);
//! the parsed values are merged (maps merge key by key, anything else, lists included, is
//! replaced, `null` removes a key an earlier layer set); `--set` values are typed by the JSON
//! Schema and applied last. The merged document then goes through the one structural check and
//! validation. A provenance map (field path → the layer that set it, last writer wins) gives
//! every finding the file, line and column of the value it is about, or the `--set` argument.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, index, join};
use crate::locations::Locations;
use crate::{Loaded, committed_schema, parse_document, structure};

/// One config file of a layered config: its name in findings, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Loads `files` (later ones win) and then `sets` (`path=value`, applied in order). One file
/// and no `--set` is exactly [`crate::load`]: findings carry no file of their own.
pub fn load(files: &[File<'_>], sets: &[String]) -> Result<Loaded, Vec<Diagnostic>> {
    if let ([file], []) = (files, sets) {
        return crate::load(file.bytes);
    }
    let mut layers = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match parse_document(file.bytes) {
            Ok(doc) => layers.push((Layer::of_file(file, &doc), doc)),
            Err(d) => errors.push(in_file(d, file.name)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut provenance = Provenance::default();
    let mut merged = Value::Object(Map::new());
    for (i, (layer, doc)) in layers.into_iter().enumerate() {
        if i == 0 {
            merged = doc;
        } else {
            merge(&mut merged, doc);
        }
        provenance.layers.push(layer);
    }
    for arg in sets {
        match apply_set(&mut merged, arg) {
            Ok(layer) => provenance.layers.push(layer),
            Err(d) => errors.push(*d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    crate::load_document(merged, |findings| provenance.attach(findings))
}

fn in_file(mut d: Diagnostic, name: &str) -> Diagnostic {
    d.file = Some(name.to_owned());
    d
}

/// What one layer set: every field path it holds (whether the value there merges with earlier
/// layers, as a mapping does, or replaces what they had), and where.
struct Layer {
    name: String,
    kinds: BTreeMap<String, bool>,
    locations: Option<Locations>,
}

impl Layer {
    fn of_file(file: &File<'_>, doc: &Value) -> Layer {
        let mut kinds = BTreeMap::new();
        paths_of(doc, "", &mut kinds);
        // The document parsed, so it is UTF-8.
        let text = std::str::from_utf8(file.bytes).unwrap_or_default();
        Layer {
            name: file.name.to_owned(),
            kinds,
            locations: Some(Locations::of(text)),
        }
    }
}

/// Every path in `value` below `path`, with whether its value is a mapping.
fn paths_of(value: &Value, path: &str, out: &mut BTreeMap<String, bool>) {
    if !path.is_empty() {
        out.insert(path.to_owned(), value.is_object());
    }
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| paths_of(v, &join(path, k), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| paths_of(v, &index(path, i), out)),
        _ => {}
    }
}

/// The layers in order, each with what it set.
#[derive(Default)]
struct Provenance {
    layers: Vec<Layer>,
}

impl Provenance {
    /// Names the layer each finding's value comes from, and its line and column there.
    fn attach(&self, findings: &mut [Diagnostic]) {
        for d in findings
            .iter_mut()
            .filter(|d| d.location.is_none() && d.file.is_none() && !d.path.is_empty())
        {
            let Some(layer) = self.owner(&d.path) else {
                continue;
            };
            d.file = Some(layer.name.clone());
            if let Some(locations) = &layer.locations {
                locations.attach(std::slice::from_mut(d));
            }
        }
        let rank = |d: &Diagnostic| {
            let named = |layer: &Layer| Some(&layer.name) == d.file.as_ref();
            self.layers.iter().position(named).map_or(0, |i| i + 1)
        };
        crate::diagnostic::sort_in_file_order(findings, rank);
    }

    /// The last layer that set `path` itself, or replaced an enclosing field with something
    /// that does not merge (a list, a scalar, `null`, a list item from `--set`); for a path no
    /// layer holds (a missing key), the layer holding the deepest enclosing mapping, the later
    /// one on a tie.
    fn owner(&self, path: &str) -> Option<&Layer> {
        let prefixes = prefixes(path);
        let sets = |layer: &&Layer| {
            layer.kinds.contains_key(path)
                || prefixes.iter().any(|p| layer.kinds.get(*p) == Some(&false))
        };
        let deepest = |layer: &Layer| prefixes.iter().position(|p| layer.kinds.contains_key(*p));
        self.layers.iter().rev().find(sets).or_else(|| {
            self.layers
                .iter()
                .rev()
                .filter_map(|layer| deepest(layer).map(|depth| (depth, layer)))
                .min_by_key(|(depth, _)| *depth)
                .map(|(_, layer)| layer)
        })
    }
}

/// `a.b[0].c`, then `a.b[0]`, `a.b`, `a`.
fn prefixes(path: &str) -> Vec<&str> {
    let mut out = vec![path];
    let mut p = path;
    while let Some(cut) = p.rfind(['.', '[']) {
        p = &p[..cut];
        if p.is_empty() {
            break;
        }
        out.push(p);
    }
    out
}

/// Merges `overlay` into `base`: mappings key by key, `null` removing a key, anything else
/// replacing what was there (lists are replaced, not appended to).
pub fn merge(base: &mut Value, overlay: Value) {
    merge_at(base, overlay, &mut Vec::new());
}

/// [`merge`] at `at` in the document: a `null` removes the key, except where the schema gives
/// `null` a meaning of its own ([`crate::file::NULL_MEANS`], a removed limit), where it stays.
fn merge_at(base: &mut Value, overlay: Value, at: &mut Vec<Segment>) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                at.push(Segment::Key(key.clone()));
                if value.is_null() && !null_means_something(at) {
                    base.remove(&key);
                } else {
                    match base.get_mut(&key) {
                        Some(existing) if existing.is_object() && value.is_object() => {
                            merge_at(existing, value, at)
                        }
                        _ => {
                            base.insert(key, without_nulls(value, at));
                        }
                    }
                }
                at.pop();
            }
        }
        (base, overlay) => *base = without_nulls(overlay, at),
    }
}

/// A new mapping has nothing to remove: its `null` keys are dropped (but for those `null` means
/// something at).
fn without_nulls(value: Value, at: &mut Vec<Segment>) -> Value {
    match value {
        Value::Object(_) => {
            let mut out = Value::Object(Map::new());
            merge_at(&mut out, value, at);
            out
        }
        other => other,
    }
}

/// One step of a `--set` path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Applies `path=value` to `doc`; the layer records what it set, named after the argument.
fn apply_set(doc: &mut Value, arg: &str) -> Result<Layer, Box<Diagnostic>> {
    let name = format!("--set {arg}");
    let bad = |message: String| Box::new(set_error(&name, message));
    let (raw_path, raw_value) = arg.split_once('=').ok_or_else(|| {
        bad(format!(
            "`{arg}` has no `=`: write `--set path.to.key=value`"
        ))
    })?;
    let segments = parse_path(raw_path).map_err(|m| bad(format!("`{raw_path}`: {m}")))?;
    let path = path_string(&segments);
    let value = typed_value(&segments, raw_value).map_err(|m| bad(format!("`{path}`: {m}")))?;
    let mut kinds = BTreeMap::new();
    for cut in 1..segments.len() {
        kinds.insert(path_string(&segments[..cut]), true);
    }
    paths_of(&value, &path, &mut kinds);
    // `null` removes; a list item is replaced whole, a mapping too.
    if value.is_null() || matches!(segments.last(), Some(Segment::Index(_))) {
        kinds.insert(path.clone(), false);
    }
    set_at(doc, &segments, value).map_err(|m| bad(format!("`{path}`: {m}")))?;
    Ok(Layer {
        name,
        kinds,
        locations: None,
    })
}

fn set_error(name: &str, message: String) -> Diagnostic {
    Diagnostic::error(Code::InvalidSet, "", message)
        .with_hint(
            "write `--set path.to.key=value`: keys separated by `.` (`\\.` for a dot in a key), \
             `[N]` for the Nth list item, `null` to remove a key",
        )
        .with_file(name)
}

/// `a.b[0].c` as segments; `\.` is a dot inside a key.
fn parse_path(raw: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut key = String::new();
    let mut chars = raw.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => key.push(chars.next().unwrap_or('.')),
            '.' => {
                push_key(&mut segments, &mut key, after_index)?;
                after_index = false;
            }
            '[' => {
                push_key(&mut segments, &mut key, after_index)?;
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let n = digits
                    .parse()
                    .map_err(|_| format!("`[{digits}]` is not a list index (write `[0]`)"))?;
                segments.push(Segment::Index(n));
                after_index = true;
            }
            _ => key.push(c),
        }
    }
    if !key.is_empty() || !after_index {
        push_key(&mut segments, &mut key, false)?;
    }
    Ok(segments)
}

/// Ends a key: an empty one is an error unless it is the gap between `]` and `.`/`[`.
fn push_key(
    segments: &mut Vec<Segment>,
    key: &mut String,
    after_index: bool,
) -> Result<(), String> {
    if key.is_empty() {
        if after_index {
            return Ok(());
        }
        return Err("an empty key (two dots, or a dot at an end)".to_owned());
    }
    segments.push(Segment::Key(std::mem::take(key)));
    Ok(())
}

fn path_string(segments: &[Segment]) -> String {
    segments.iter().fold(String::new(), |path, s| match s {
        Segment::Key(k) => join(&path, k),
        Segment::Index(i) => index(&path, *i),
    })
}

/// The value as the schema types it at the path: `null` removes the key; a string field takes
/// the text as it is; integer, number and boolean fields parse it (text that does not parse
/// stays text, and the structural check reports the wrong type); lists and mappings are YAML
/// (`[a, b]`, `{k: v}`); a path the schema does not know reads the text as a YAML scalar (and
/// the structural check reports the unknown key with the nearest valid one).
fn typed_value(segments: &[Segment], raw: &str) -> Result<Value, String> {
    if raw == "null" {
        return Ok(Value::Null);
    }
    let types = schema_types(segments);
    let text = || Value::String(raw.to_owned());
    let has = |t: &str| types.iter().any(|x| x == t);
    let structured = raw.trim_start().starts_with(['[', '{']);
    if (has("array") || has("object")) && (structured || !has("string")) {
        return parse_yaml(raw);
    }
    if has("string") {
        return Ok(text());
    }
    if has("integer") {
        return Ok(raw.parse::<i64>().map_or_else(|_| text(), Value::from));
    }
    if has("number") {
        let n = raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64);
        return Ok(n.map_or_else(text, Value::Number));
    }
    if has("boolean") {
        return Ok(match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => text(),
        });
    }
    parse_yaml(raw)
}

/// A `--set` value as YAML, within the config file's limits.
fn parse_yaml(raw: &str) -> Result<Value, String> {
    if raw.len() > crate::MAX_CONFIG_BYTES {
        return Err("the value is larger than a config file may be".to_owned());
    }
    serde_saphyr::from_str_with_options::<Value>(raw, crate::yaml_options()).map_err(|e| {
        format!(
            "the value is not valid YAML: {}",
            crate::first_line(&e.to_string())
        )
    })
}

/// Whether `null` at `segments` means something ([`crate::file::NULL_MEANS`]).
fn null_means_something(segments: &[Segment]) -> bool {
    schema_nodes(segments)
        .iter()
        .any(|n| n.get(crate::file::NULL_MEANS).is_some())
}

/// The schemas of the field at `segments`, with their alternatives opened; empty when the schema
/// has no such field.
fn schema_nodes(segments: &[Segment]) -> Vec<&'static Value> {
    let root = committed_schema();
    let mut nodes = vec![root];
    for segment in segments {
        nodes = nodes
            .into_iter()
            .flat_map(|n| alternatives(root, n, 0))
            .filter_map(|n| child(n, segment))
            .collect();
    }
    nodes
        .into_iter()
        .flat_map(|n| alternatives(root, n, 0))
        .collect()
}

/// The JSON types the schema allows at `segments`; empty when the schema has no such field.
fn schema_types(segments: &[Segment]) -> Vec<String> {
    let mut types = Vec::new();
    for node in schema_nodes(segments) {
        match node.get("type") {
            Some(Value::String(t)) => types.push(t.clone()),
            Some(Value::Array(ts)) => {
                types.extend(ts.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    types
}

/// A schema node as the plain schemas it stands for: `$ref` followed, `allOf`, `anyOf` and
/// `oneOf` opened.
fn alternatives<'s>(root: &'s Value, node: &'s Value, depth: usize) -> Vec<&'s Value> {
    let node = structure::resolve(root, node);
    let branches = ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten();
    let mut out = vec![node];
    if depth < 8 {
        out.extend(branches.flat_map(|b| alternatives(root, b, depth + 1)));
    }
    out
}

/// The schema of a field or list item under `node`.
fn child<'s>(node: &'s Value, segment: &Segment) -> Option<&'s Value> {
    match segment {
        Segment::Key(key) => node
            .get("properties")
            .and_then(|p| p.get(key))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object())),
        Segment::Index(_) => node.get("items"),
    }
}

/// Sets (or with `null`, removes) the value at `segments`, creating mappings on the way; a list
/// item must exist, or be the next one (appended).
fn set_at(doc: &mut Value, segments: &[Segment], value: Value) -> Result<(), String> {
    let Some((last, parents)) = segments.split_last() else {
        return Err("an empty path".to_owned());
    };
    let mut node = doc;
    for segment in parents {
        node = step(node, segment)?;
    }
    match (last, node) {
        (Segment::Key(k), node @ Value::Object(_)) => {
            let mut overlay = Map::new();
            overlay.insert(k.clone(), value);
            merge_at(node, Value::Object(overlay), &mut parents.to_vec());
            Ok(())
        }
        (Segment::Index(i), Value::Array(items)) if value.is_null() && *i < items.len() => {
            items.remove(*i);
            Ok(())
        }
        (Segment::Index(i), Value::Array(items)) if *i < items.len() => {
            items[*i] = without_nulls(value, &mut segments.to_vec());
            Ok(())
        }
        (Segment::Index(i), Value::Array(items)) if *i == items.len() && !value.is_null() => {
            items.push(without_nulls(value, &mut segments.to_vec()));
            Ok(())
        }
        (Segment::Index(i), Value::Array(items)) => Err(format!(
            "the list has {} item(s); `[{i}]` is past its end",
            items.len()
        )),
        (_, other) => Err(format!(
            "the field holding it is {}, not a mapping or a list",
            kind(other)
        )),
    }
}

/// One step down, creating a mapping where a key is missing.
fn step<'v>(node: &'v mut Value, segment: &Segment) -> Result<&'v mut Value, String> {
    match (segment, node) {
        (Segment::Key(k), Value::Object(map)) => Ok(map
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()))),
        (Segment::Index(i), Value::Array(items)) => {
            let len = items.len();
            items
                .get_mut(*i)
                .ok_or_else(|| format!("the list has {len} item(s); `[{i}]` is past its end"))
        }
        (Segment::Key(k), other) => Err(format!("`{k}` is under {}, not a mapping", kind(other))),
        (Segment::Index(i), other) => Err(format!("`[{i}]` is under {}, not a list", kind(other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "a mapping",
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    }
}

#[cfg(test)]
mod tests;
