//! No config value can change the manifest's structure (issue 8).
//!
//! Every free-text field of the config, found from its JSON Schema (string leaves without an
//! enum, map values, and the free-form objects passed to Kubernetes as written), gets arbitrary
//! Unicode weighted towards what has broken YAML writers: line separators followed by
//! indentation and YAML structure, control characters, BOM, document markers, indicators,
//! quotes, `{{ }}`, `$(VAR)`, leading and trailing blanks, long lines. Each value is either
//! - refused by validation with a finding that names the field, or
//! - written exactly as given wherever the field's base value was written in the base config's
//!   output, and nowhere else; in a container's `env[].value`, `command` and `args` with `$`
//!   written as `$$` (Kubernetes expands `$(VAR)` there).
//!
//! Values Mailu pastes unescaped into PHP, XML or a URI (`SINKS`) must hold nothing that ends
//! their place there.
//!
//! The YAML must read back, with serde-saphyr and with libyaml (PyYAML's `CSafeLoader`, found
//! through `$MAILU_K8S_PYTHON` or `.venv/bin/python`), as exactly the objects synthesized: the
//! same (kind, name) list, the same values.
//!
//! The base configs are `tests/free_text/*.yaml`. A schema field that is in none of them must
//! be refused whatever its value (a value accepted and written nowhere is a bug); a field they
//! cannot express (inside a list item) fails the test until a base sets it.
//!
//! Cost: validation dominates in debug builds. The fields under one top-level key form a batch
//! of `CASES_PER_BATCH` cases; a case sets up to `FIELDS_PER_CASE` fields of one base at once,
//! and a batch whose first quarter of cases wrote nothing (names, addresses, quantities) stops
//! there. Batches run on up to four threads.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::Value;

/// Cases per batch of fields (`PROPTEST_CASES` overrides it).
const CASES_PER_BATCH: u32 = 64;
/// Fields set together in one case, at most.
const FIELDS_PER_CASE: usize = 8;

/// Fields whose value is converted, not copied, into the output: their base value appears
/// nowhere in it, so only the structural checks apply to them.
const CONVERTED: &[(&str, &str)] = &[
    (
        "mailu.defaultQuota",
        "a size such as `5G`, written as bytes in DEFAULT_QUOTA",
    ),
    (
        "egress.ips[*]",
        "the public addresses the DNS plan authorises; the bases' gateways send from their own \
         (NATed) egressIP or interface, so no manifest holds them",
    ),
    (
        "dns.domains[*]",
        "DNS-plan input: the extra mail domains (their records are printed by `dns plan`)",
    ),
    (
        "dns.inboundIps[*]",
        "DNS-plan input: A/AAAA of the host names",
    ),
    (
        "dns.spfIncludes[*]",
        "DNS-plan input: the relay provider's SPF include",
    ),
    (
        "dns.nameservers[*]",
        "DNS-plan input: the zone's NS records",
    ),
    (
        "dns.dmarc.rua[*]",
        "DNS-plan input (Mailu's DMARC_RUA takes the local part)",
    ),
    (
        "dns.dmarc.ruf[*]",
        "DNS-plan input (Mailu's DMARC_RUF takes the local part)",
    ),
    ("dns.tlsRpt.rua[*]", "DNS-plan input: the TLS-RPT record"),
    ("dns.caa[*]", "DNS-plan input: CAA records"),
    (
        "dns.caaParameters.ca-qd.example.accountUri",
        "DNS-plan input: a CAA issue record's accounturi",
    ),
    ("dns.caaIodef[*]", "DNS-plan input: CAA iodef records"),
    (
        "dns.dkim.publicKeys",
        "DNS-plan input: the directory `dns plan` reads public keys from",
    ),
    (
        "dns.dkim.ed25519Selector",
        "DNS-plan input: the second selector's record (Mailu signs with one key)",
    ),
    (
        "egress.cilium.authorizeNodeIps[*]",
        "node addresses the DNS plan also authorises (the programming race); no manifest holds them",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A path with every list index written `[*]`, as `CONVERTED` names list items.
fn any_index(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push_str("[*]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(ch),
        }
    }
    out
}

/// A field path as findings spell it: `pods.tolerations[0].value`.
fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The free-text fields, from the schema.

/// One step of a schema path: a property, any key of a map, any item of a list, or anything
/// below a free-form object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemaSeg {
    Prop(String),
    AnyKey,
    AnyItem,
    AnyBelow,
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut node = schema;
    loop {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().expect("a $ref names a definition");
            node = &root["definitions"][name];
        } else if let Some([only]) = node
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            node = only;
        } else {
            return node;
        }
    }
}

/// Every free-text string leaf of the schema.
fn free_text_fields(schema: &Value) -> Vec<Vec<SchemaSeg>> {
    fn walk(node: &Value, root: &Value, path: &mut Vec<SchemaSeg>, out: &mut Vec<Vec<SchemaSeg>>) {
        let node = resolve(node, root);
        // Enumerations (plain or as `oneOf` of constants) are not free text.
        if ["enum", "const", "oneOf", "anyOf"]
            .iter()
            .any(|k| node.get(k).is_some())
        {
            return;
        }
        match node.get("type").and_then(Value::as_str) {
            Some("object") => {
                let props = node.get("properties").and_then(Value::as_object);
                for (key, child) in props.into_iter().flatten() {
                    path.push(SchemaSeg::Prop(key.clone()));
                    walk(child, root, path, out);
                    path.pop();
                }
                match node.get("additionalProperties") {
                    Some(child @ Value::Object(_)) => {
                        path.push(SchemaSeg::AnyKey);
                        walk(child, root, path, out);
                        path.pop();
                    }
                    Some(Value::Bool(true)) if props.is_none_or(|p| p.is_empty()) => {
                        path.push(SchemaSeg::AnyBelow);
                        out.push(path.clone());
                        path.pop();
                    }
                    _ => {}
                }
            }
            Some("array") => {
                path.push(SchemaSeg::AnyItem);
                walk(&node["items"], root, path, out);
                path.pop();
            }
            Some("string") if node.get("pattern").is_none() && node.get("format").is_none() => {
                out.push(path.clone());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, schema, &mut Vec::new(), &mut out);
    out
}

fn schema_text(path: &[SchemaSeg]) -> String {
    path.iter()
        .map(|s| match s {
            SchemaSeg::Prop(p) => p.as_str(),
            SchemaSeg::AnyKey => "*",
            SchemaSeg::AnyItem => "[]",
            SchemaSeg::AnyBelow => "**",
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The concrete paths of `schema_path` in `doc`, with the string each holds.
fn instances(
    doc: &Value,
    schema_path: &[SchemaSeg],
    at: &mut Vec<Seg>,
    out: &mut Vec<(Vec<Seg>, String)>,
) {
    let Some((first, rest)) = schema_path.split_first() else {
        if let Value::String(s) = doc {
            out.push((at.clone(), s.clone()));
        }
        return;
    };
    let mut visit = |seg: Seg, child: &Value, rest: &[SchemaSeg], out: &mut Vec<_>| {
        at.push(seg);
        instances(child, rest, at, out);
        at.pop();
    };
    match (first, doc) {
        (SchemaSeg::Prop(p), Value::Object(map)) => {
            if let Some(child) = map.get(p) {
                visit(Seg::Key(p.clone()), child, rest, out);
            }
        }
        (SchemaSeg::AnyKey, Value::Object(map)) => {
            for (k, child) in map {
                visit(Seg::Key(k.clone()), child, rest, out);
            }
        }
        (SchemaSeg::AnyItem, Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                visit(Seg::Index(i), child, rest, out);
            }
        }
        (SchemaSeg::AnyBelow, Value::Object(map)) => {
            for (k, child) in map {
                visit(Seg::Key(k.clone()), child, schema_path, out);
            }
        }
        (SchemaSeg::AnyBelow, Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                visit(Seg::Index(i), child, schema_path, out);
            }
        }
        (SchemaSeg::AnyBelow, Value::String(s)) => out.push((at.clone(), s.clone())),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Configs and their output.

struct Base {
    name: String,
    doc: Value,
    objects: Vec<Value>,
}

fn bases() -> Vec<Base> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/free_text");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/free_text/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().expect("name").to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).expect("read base");
            let doc = mailu_k8s_config::parse_document(&bytes).expect("base parses");
            let config = mailu_k8s_config::load(&bytes)
                .unwrap_or_else(|e| panic!("base {name} does not load: {e:#?}"))
                .config;
            let objects = mailu_k8s_manifests::synthesize(&config).values();
            Base { name, doc, objects }
        })
        .collect()
}

/// `doc` as YAML the config loader reads back exactly: flow style, every string double-quoted
/// with every character outside printable ASCII escaped (raw DEL or C1 controls would make
/// the config itself invalid YAML, and the value would never reach the writer under test).
fn config_text(doc: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        ' '..='~' => out.push(c),
                        c if (c as u32) <= 0xFFFF => {
                            let _ = write!(out, "\\u{:04X}", c as u32);
                        }
                        c => {
                            let _ = write!(out, "\\U{:08X}", c as u32);
                        }
                    }
                }
                out.push('"');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(&Value::String(k.clone()), out);
                    out.push_str(": ");
                    write(item, out);
                }
                out.push('}');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(doc, &mut out);
    out.push('\n');
    out
}

/// Puts `value` at `path` in `doc`, creating the maps on the way.
fn set_value(doc: &mut Value, path: &[Seg], value: &str) {
    let mut node = doc;
    for seg in path {
        node = match seg {
            Seg::Key(k) => node
                .as_object_mut()
                .unwrap_or_else(|| panic!("{} is not a mapping", path_text(path)))
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            Seg::Index(i) => &mut node[*i],
        };
    }
    *node = Value::String(value.to_owned());
}

fn kinds_and_names(objects: &[Value]) -> Vec<(String, String)> {
    objects
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or("").to_owned(),
                o["metadata"]["name"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Whether the string at `path` in an object is one Kubernetes expands `$(VAR)` in.
fn expanded_by_kubernetes(path: &[Seg]) -> bool {
    match path {
        [.., Seg::Key(env), Seg::Index(_), Seg::Key(value)] => env == "env" && value == "value",
        [.., Seg::Key(list), Seg::Index(_)] => list == "command" || list == "args",
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The property.

/// One field under test.
struct Field {
    /// Index into the bases.
    base: usize,
    path: Vec<Seg>,
    /// The base config's value, or `None` for a field no base sets: it must be refused.
    original: Option<String>,
    /// Whether the value is converted rather than copied (see `CONVERTED`).
    converted: bool,
    /// Whether the field is a map entry (annotations, extraEnv, override files): a finding on
    /// the map names it too.
    map_entry: bool,
}

impl Field {
    fn text(&self) -> String {
        path_text(&self.path)
    }

    /// Whether a finding at `path` names this field.
    fn named_by(&self, path: &str) -> bool {
        let name = self.text();
        let map = self
            .map_entry
            .then(|| path_text(&self.path[..self.path.len() - 1]));
        // A finding on the block holding the field names it too (e.g. `egress.antrea` given
        // for another mode), but not one on a top-level key, which would name everything.
        let in_block = path.contains('.')
            && name
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with(['.', '[']));
        path == name
            || path
                .strip_prefix(name.as_str())
                .is_some_and(|rest| rest.starts_with(['.', '[']))
            || map.as_deref() == Some(path)
            || in_block
    }
}

/// Decides whether the string at a path may have changed from the first to the second.
type Judge<'a> = dyn FnMut(&[Seg], &str, &str) -> Result<(), String> + 'a;

/// Where a value differs from the base: `judge` decides on every changed string; anything else
/// that changed (a key, a list's length, a number) is an error.
fn check_changes(
    base: &Value,
    got: &Value,
    at: &mut Vec<Seg>,
    judge: &mut Judge,
) -> Result<(), String> {
    match (base, got) {
        (Value::Object(b), Value::Object(g)) => {
            if !b.keys().eq(g.keys()) {
                return Err(format!(
                    "keys at `{}` changed: {:?} -> {:?}",
                    path_text(at),
                    b.keys().collect::<Vec<_>>(),
                    g.keys().collect::<Vec<_>>()
                ));
            }
            for (k, bv) in b {
                at.push(Seg::Key(k.clone()));
                check_changes(bv, &g[k], at, judge)?;
                at.pop();
            }
            Ok(())
        }
        (Value::Array(b), Value::Array(g)) => {
            if b.len() != g.len() {
                return Err(format!(
                    "`{}` has {} items, not {}",
                    path_text(at),
                    g.len(),
                    b.len()
                ));
            }
            for (i, (bv, gv)) in b.iter().zip(g).enumerate() {
                at.push(Seg::Index(i));
                check_changes(bv, gv, at, judge)?;
                at.pop();
            }
            Ok(())
        }
        (b, g) if b == g => Ok(()),
        (Value::String(b), Value::String(g)) => judge(at, b, g),
        (b, g) => Err(format!("`{}` changed from {b} to {g}", path_text(at))),
    }
}

/// `text` with every occurrence of each `(from, to)` pair's `from` replaced at once (so a
/// replacement is never searched again).
fn replace_all(text: &str, pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        for (from, to) in pairs {
            if let Some(after) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = after;
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// How many values were written, and how many refused.
type Tally = BTreeMap<&'static str, u32>;

/// Sets `values` (fields of one base) at once. Validation may refuse some: each refused value
/// must be named by a finding; the others are set again until the config loads. Then every
/// accepted value must be written exactly at its places, and the output must read back as the
/// objects synthesized with both parsers.
fn check(
    bases: &[Base],
    values: &[(&Field, String)],
    pyyaml: &mut Option<common::PyYaml>,
    tally: &mut Tally,
) -> Result<(), String> {
    let base = &bases[values[0].0.base];
    let mut left: Vec<&(&Field, String)> = values.iter().collect();
    let loaded = loop {
        let mut doc = base.doc.clone();
        for (f, v) in &left {
            set_value(&mut doc, &f.path, v);
        }
        match mailu_k8s_config::load(config_text(&doc).as_bytes()) {
            Ok(loaded) => break loaded,
            Err(findings) => {
                let errors: Vec<&str> = findings
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.path.as_str())
                    .collect();
                let before = left.len();
                left.retain(|(f, _)| !errors.iter().any(|p| f.named_by(p)));
                *tally.entry("refused").or_default() += (before - left.len()) as u32;
                if left.len() == before {
                    return Err(format!(
                        "refused without naming any of {:?}: {:?}",
                        left.iter().map(|(f, _)| f.text()).collect::<Vec<_>>(),
                        findings
                            .iter()
                            .map(|d| (&d.path, &d.message))
                            .collect::<Vec<_>>()
                    ));
                }
                if left.is_empty() {
                    return Ok(());
                }
            }
        }
    };
    if let Some((f, _)) = left.iter().find(|(f, _)| f.original.is_none()) {
        return Err(format!(
            "`{}` is in no base config and was accepted: add it to a base in tests/free_text/ \
             (or refuse it in validation if nothing uses it)",
            f.text()
        ));
    }
    *tally.entry("written").or_default() += left.len() as u32;
    let manifest = mailu_k8s_manifests::synthesize(&loaded.config);
    let objects = manifest.values();
    sinks_are_safe(&objects)?;

    // Each value exactly at its places, nowhere else.
    let converted = left.iter().any(|(f, _)| f.converted);
    let mut seen = vec![false; left.len()];
    let mut judge = |at: &[Seg], was: &str, got: &str| -> Result<(), String> {
        // A digest of the pod's configuration changes with it; a converted value cannot be
        // found by its text.
        // Where each base value was is recorded first: a case mixing a converted field with
        // copied ones still has to show the copied ones changed.
        for (i, (f, _)) in left.iter().enumerate() {
            if was.contains(f.original.as_deref().unwrap_or_default()) {
                seen[i] = true;
            }
        }
        if matches!(at, [.., Seg::Key(k)] if k.contains("checksum")) || converted {
            return Ok(());
        }
        let expanded = expanded_by_kubernetes(at);
        let mut pairs = Vec::new();
        for (f, v) in &left {
            let original = f.original.as_deref().unwrap_or_default();
            let v = if expanded {
                v.replace('$', "$$")
            } else {
                v.clone()
            };
            pairs.push((original, v));
        }
        // Longest first, so no base value shadows one that contains it.
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let want = replace_all(was, &pairs);
        // DNS names are case-insensitive and kept in lower case.
        let lower = || {
            let lowered: Vec<_> = pairs
                .iter()
                .map(|(from, to)| {
                    let dns_like = to
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
                    let to = if dns_like {
                        to.to_ascii_lowercase()
                    } else {
                        to.clone()
                    };
                    (*from, to)
                })
                .collect();
            replace_all(was, &lowered)
        };
        if got == want || got == lower() {
            Ok(())
        } else {
            Err(format!("`{}` is {got:?}, expected {want:?}", path_text(at)))
        }
    };
    if objects.len() != base.objects.len() {
        return Err(format!(
            "{} objects instead of {}: {:?}",
            objects.len(),
            base.objects.len(),
            kinds_and_names(&objects)
        ));
    }
    for (b, g) in base.objects.iter().zip(&objects) {
        check_changes(b, g, &mut Vec::new(), &mut judge)?;
    }
    for ((f, v), seen) in left.iter().zip(&seen) {
        let same = f.original.as_deref() == Some(v)
            || f.original.as_deref() == Some(&v.to_ascii_lowercase());
        if !seen && !f.converted && !same {
            return Err(format!("`{}` changed nothing in the output", f.text()));
        }
    }

    // The output reads back as these objects, with both parsers. `to_yaml` writes each object
    // on its own, so the documents of the objects that changed are read (the others are the
    // base's, read once at the start).
    let yaml = manifest.to_yaml();
    let changed: Vec<Value> = objects
        .iter()
        .zip(&base.objects)
        .filter(|(g, b)| g != b)
        .map(|(g, _)| g.clone())
        .collect();
    let mut part = String::new();
    for object in &changed {
        let alone = mailu_k8s_manifests::yaml_documents(std::slice::from_ref(object));
        let (header, document) = alone.split_once('\n').unwrap_or_default();
        if !yaml.contains(document) {
            return Err(format!(
                "the document of {object} differs in the whole output"
            ));
        }
        if part.is_empty() {
            part.push_str(header);
            part.push('\n');
        }
        part.push_str(document);
    }
    read_back(&part, &changed, pyyaml)
}

// ---------------------------------------------------------------------------------------------
// Beyond YAML: Mailu pastes some variables unescaped into code and markup.

/// Where Mailu 2024.06.57 writes a variable without escaping it.
#[derive(Debug, Clone, Copy)]
enum Sink {
    /// Inside `'…'` in PHP: `webmails/roundcube/config/config.inc.php` line 6,
    /// `$config['db_dsnw'] = '{{ DB_DSNW }}';`, `DB_DSNW` being `pgsql://USER:PW@HOST/NAME`
    /// (`webmails/start.py` lines 39-44). A `'` ends the string, a `\` escapes its end.
    PhpSingleQuoted,
    /// Element content in XML: `core/admin/mailu/internal/views/autoconfig.py` (the Apple
    /// profile, lines 100-150: `<string>{sitename}</string>`, `{hostname}` in the others).
    XmlText,
    /// A URI's path or host, unescaped: `postgresql://{DB_USER}:{DB_PW}@{DB_HOST}/{DB_NAME}`
    /// (admin `configuration.py` line 105) and `DB_DSNW` above.
    Uri,
}

/// The variables with a sink, from Mailu's source (the user and password come from Secrets:
/// the README lists what breaks them). `HOSTNAMES`' first name is `HOSTNAME` in autoconfig.py.
const SINKS: &[(&str, Sink)] = &[
    ("ROUNDCUBE_DB_NAME", Sink::PhpSingleQuoted),
    ("ROUNDCUBE_DB_NAME", Sink::Uri),
    ("ROUNDCUBE_DB_HOST", Sink::PhpSingleQuoted),
    ("ROUNDCUBE_DB_HOST", Sink::Uri),
    ("DB_NAME", Sink::Uri),
    ("DB_HOST", Sink::Uri),
    ("SITENAME", Sink::XmlText),
    ("HOSTNAMES", Sink::XmlText),
];

impl Sink {
    /// The first character of `value` this sink cannot carry.
    fn breaks(self, value: &str) -> Option<char> {
        value.chars().find(|&c| match self {
            Sink::PhpSingleQuoted => c == '\'' || c == '\\',
            Sink::XmlText => {
                matches!(c, '<' | '&' | '\u{fffe}' | '\u{ffff}')
                    || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            }
            // RFC 3986 unreserved, `:` between host and port, `,` between host names.
            Sink::Uri => !(c.is_ascii_alphanumeric() || "-._~:,".contains(c)),
        })
    }
}

/// Every variable with a sink, wherever it is set (a container's `env`, or `mailu-env`),
/// carries only what its sink can.
fn sinks_are_safe(objects: &[Value]) -> Result<(), String> {
    fn visit(v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                if let (Some(Value::String(n)), Some(Value::String(value))) =
                    (map.get("name"), map.get("value"))
                {
                    out.push((n.clone(), value.clone()));
                }
                if map.get("kind").and_then(Value::as_str) == Some("ConfigMap")
                    && let Some(Value::Object(data)) = map.get("data")
                {
                    for (k, value) in data {
                        if let Value::String(value) = value {
                            out.push((k.clone(), value.clone()));
                        }
                    }
                }
                map.values().for_each(|c| visit(c, out));
            }
            Value::Array(items) => items.iter().for_each(|c| visit(c, out)),
            _ => {}
        }
    }
    let mut vars = Vec::new();
    objects.iter().for_each(|o| visit(o, &mut vars));
    for (name, value) in vars {
        for (_, sink) in SINKS.iter().filter(|(n, _)| *n == name) {
            if let Some(c) = sink.breaks(&value) {
                return Err(format!(
                    "{name} = {value:?} holds {c:?}, which Mailu pastes unescaped into {sink:?}"
                ));
            }
        }
    }
    Ok(())
}

/// `yaml` must read back as `objects` with serde-saphyr and with libyaml.
fn read_back(
    yaml: &str,
    objects: &[Value],
    pyyaml: &mut Option<common::PyYaml>,
) -> Result<(), String> {
    let docs = common::saphyr_documents(yaml).map_err(|e| format!("serde-saphyr: {e}"))?;
    compare("serde-saphyr", &docs, objects)?;
    if let Some(pyyaml) = pyyaml {
        let docs = pyyaml
            .documents(yaml)
            .map_err(|e| format!("libyaml: {e}"))?;
        compare("libyaml", &docs, objects)?;
    }
    Ok(())
}

fn compare(parser: &str, docs: &[Value], objects: &[Value]) -> Result<(), String> {
    let names = kinds_and_names(objects);
    if kinds_and_names(docs) != names {
        return Err(format!(
            "{parser} reads objects {:?}, not {names:?}",
            kinds_and_names(docs)
        ));
    }
    for (doc, object) in docs.iter().zip(objects) {
        if doc != object {
            return Err(format!("{parser} reads {doc}\nwhere we wrote {object}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The fields and the values.

/// Every free-text field, in every base config that sets it; a field no base sets is tried in
/// the first base and must be refused.
fn fields(bases: &[Base]) -> Vec<Field> {
    let schema = mailu_k8s_config::json_schema();
    let mut out = Vec::new();
    let mut inexpressible = Vec::new();
    for schema_path in free_text_fields(&schema) {
        let map_entry = schema_path.last() == Some(&SchemaSeg::AnyKey);
        let before = out.len();
        for (i, base) in bases.iter().enumerate() {
            let mut found = Vec::new();
            instances(&base.doc, &schema_path, &mut Vec::new(), &mut found);
            out.extend(found.into_iter().map(|(path, original)| {
                let converted = CONVERTED
                    .iter()
                    .any(|(f, _)| *f == any_index(&path_text(&path)));
                Field {
                    base: i,
                    path,
                    original: Some(original),
                    converted,
                    map_entry,
                }
            }));
        }
        if out.len() > before {
            continue;
        }
        // In no base: insertable when only maps lead to it.
        let path: Option<Vec<Seg>> = schema_path
            .iter()
            .map(|s| match s {
                SchemaSeg::Prop(p) => Some(Seg::Key(p.clone())),
                SchemaSeg::AnyKey => Some(Seg::Key("k".to_owned())),
                SchemaSeg::AnyItem | SchemaSeg::AnyBelow => None,
            })
            .collect();
        match path {
            Some(path) => out.push(Field {
                base: 0,
                path,
                original: None,
                converted: false,
                map_entry,
            }),
            None => inexpressible.push(schema_text(&schema_path)),
        }
    }
    assert!(
        inexpressible.is_empty(),
        "free-text fields inside lists or free-form objects that no base config in \
         tests/free_text/ sets: {inexpressible:?}"
    );
    for (name, _) in CONVERTED {
        assert!(
            out.iter()
                .any(|f| f.converted && any_index(&f.text()) == *name),
            "CONVERTED names `{name}`, which no base sets"
        );
    }
    // Each base value must show where the field lands, or the check has nothing to compare.
    assert!(
        out.iter().all(|f| f.original.as_deref() != Some("")),
        "a base config leaves a free-text field empty"
    );
    for f in &out {
        let (Some(original), base) = (&f.original, &bases[f.base]) else {
            continue;
        };
        let shows = base.objects.iter().any(|o| contains_string(o, original));
        assert_eq!(
            shows,
            !f.converted,
            "`{}` = {original:?} in base {}: {}",
            f.text(),
            base.name,
            if f.converted {
                "listed in CONVERTED but written as given"
            } else {
                "appears nowhere in the output; give it a distinctive value, or list it in CONVERTED"
            }
        );
    }
    // The check replaces a base value inside each changed string: no base value may contain
    // another (the same value in several places is fine).
    for (i, base) in bases.iter().enumerate() {
        let values: Vec<(&str, String)> = out
            .iter()
            .filter(|f| f.base == i)
            .filter_map(|f| Some((f.original.as_deref()?, f.text())))
            .collect();
        for (a, a_field) in &values {
            for (b, b_field) in &values {
                assert!(
                    a == b || !b.contains(a),
                    "base {}: the value of `{a_field}` ({a:?}) is part of `{b_field}`'s ({b:?}); \
                     make them distinct",
                    base.name
                );
            }
        }
    }
    out
}

fn contains_string(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|i| contains_string(i, needle)),
        Value::Object(map) => map
            .iter()
            .any(|(k, i)| k.contains(needle) || contains_string(i, needle)),
        _ => false,
    }
}

/// Pieces of text that have broken YAML writers and readers, or Kubernetes.
const NASTY: &[&str] = &[
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{7f}",
    "\u{80}",
    "\u{9b}",
    "\u{9f}",
    "\u{feff}",
    "\u{fffe}",
    "\u{0}",
    "\u{1b}",
    "\u{a0}",
    "\u{3000}",
    "😀",
    "é",
    "---",
    "...",
    "\n---\n",
    "\n...\n",
    "#",
    " #",
    ": ",
    ":",
    "'",
    "\"",
    "|",
    ">",
    "|-",
    ">+",
    "{{ .Values.x }}",
    "$(SECRET_KEY)",
    "$",
    "$$",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\r\n",
    "\r",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "true",
    "null",
    "~",
    "2024.06",
    "0777",
    "1e3",
    "0x1F",
    "1:30",
    "2024-01-01",
    ".inf",
    "- ",
    "? ",
    "&a",
    "*a",
    "!tag",
    "%",
    "@",
    "`",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\\",
    "<<",
    "=",
    "securityContext: {privileged: true}",
    "\n  privileged: true",
    "kind: ClusterRoleBinding",
];

/// Characters some reader breaks a line at.
const BREAKS: &[&str] = &["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"];

/// What an attacker puts after a line break: YAML structure.
const PAYLOADS: &[&str] = &[
    "securityContext: {privileged: true}",
    "- name: X\n  value: y",
    "---\nkind: ClusterRoleBinding",
    "SUBNET: 0.0.0.0/0",
    "...",
    "# comment",
    "key: |\n  block",
    "\"quoted: x",
];

fn nasty_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(NASTY).prop_map(str::to_owned),
        2 => any::<char>().prop_map(String::from),
        // Name-like pieces, so fields that take names are sometimes accepted too.
        3 => "[a-z0-9][a-z0-9.-]{0,10}",
        1 => "[A-Za-z0-9 _/:=,.+-]{1,12}",
    ];
    // The attack of issue 8: a line break, indentation, then structure.
    let injection = (
        prop::collection::vec(piece.clone(), 0..3),
        prop::sample::select(BREAKS),
        0..12usize,
        prop::sample::select(PAYLOADS),
        prop::collection::vec(piece.clone(), 0..2),
    )
        .prop_map(|(before, brk, indent, payload, after)| {
            format!(
                "{}{brk}{}{payload}{}",
                before.concat(),
                " ".repeat(indent),
                after.concat()
            )
        });
    prop_oneof![
        10 => prop::collection::vec(piece.clone(), 0..8).prop_map(|p| p.concat()),
        4 => injection,
        1 => any::<String>(),
        // Long single lines (a DKIM record is 400+ characters): no folding may change them.
        1 => (prop::collection::vec(piece, 0..3), 380..520usize).prop_map(|(p, n)| {
            let words = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA ";
            let mut s: String = words.chars().cycle().take(n).collect();
            s.push_str(&p.concat());
            s
        }),
    ]
}

#[test]
fn free_text_is_refused_or_written_exactly_where_it_belongs() {
    let bases = bases();
    let fields = fields(&bases);
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(CASES_PER_BATCH);

    // A batch: the fields under one top-level key, by base config.
    let mut batches: BTreeMap<String, BTreeMap<usize, Vec<&Field>>> = BTreeMap::new();
    for f in &fields {
        batches
            .entry(path_text(&f.path[..1]))
            .or_default()
            .entry(f.base)
            .or_default()
            .push(f);
    }
    let batches: Vec<(String, Vec<Vec<&Field>>)> = batches
        .into_iter()
        .map(|(top, by_base)| (top, by_base.into_values().collect()))
        .collect();

    // One libyaml reader per thread; the first says why there is none.
    let test = "free_text_is_refused_or_written_exactly_where_it_belongs";
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut readers = vec![common::PyYaml::start(test)];
    while readers.len() < threads {
        let more = readers[0]
            .is_some()
            .then(|| common::PyYaml::start(test))
            .flatten();
        readers.push(more);
    }
    // The bases themselves read back exactly.
    for base in &bases {
        let yaml = mailu_k8s_manifests::yaml_documents(&base.objects);
        if let Err(e) = read_back(&yaml, &base.objects, &mut readers[0]) {
            panic!("base {}: {e}", base.name);
        }
    }

    let next = std::sync::atomic::AtomicUsize::new(0);
    let tallies: Vec<(String, Tally)> = std::thread::scope(|scope| {
        let workers: Vec<_> = readers
            .into_iter()
            .map(|mut pyyaml| {
                let (bases, batches, next) = (&bases, &batches, &next);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    while let Some((top, by_base)) =
                        batches.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        let tally = run_batch(bases, top, by_base, cases, &mut pyyaml);
                        done.push((top.clone(), tally));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    // Shown with --nocapture.
    eprintln!(
        "{} free-text fields; values written and refused:",
        fields.len()
    );
    for (top, tally) in tallies.into_iter().collect::<BTreeMap<_, _>>() {
        eprintln!("  {top}: {tally:?}");
    }
}

/// Runs the cases of one batch: each sets up to `FIELDS_PER_CASE` fields of one base at once.
fn run_batch(
    bases: &[Base],
    top: &str,
    by_base: &[Vec<&Field>],
    cases: u32,
    pyyaml: &mut Option<common::PyYaml>,
) -> Tally {
    let pyyaml = std::cell::RefCell::new(pyyaml);
    let tally = std::cell::RefCell::new(Tally::new());
    // A batch that refuses every value of a first quarter of its cases (names, addresses,
    // quantities) is not free text in practice; the other batches get all their cases.
    let probe = cases.div_ceil(4);
    for (round, round_cases) in [probe, cases - probe].into_iter().enumerate() {
        if round == 1 && !tally.borrow().contains_key("written") {
            break;
        }
        let mut runner = TestRunner::new(ProptestConfig {
            cases: round_cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let strategy = (
            any::<prop::sample::Index>(),
            prop::collection::vec(
                (any::<prop::sample::Index>(), nasty_text()),
                1..=FIELDS_PER_CASE,
            ),
        );
        let result = runner.run(&strategy, |(base, picks)| {
            let batch = &by_base[base.index(by_base.len())];
            // One value per field, and one field per base value (a value found in the output
            // must say which field it came from).
            let mut values: Vec<(&Field, String)> = Vec::new();
            for (pick, value) in picks {
                let f = batch[pick.index(batch.len())];
                if !values
                    .iter()
                    .any(|(g, _)| g.path == f.path || g.original == f.original)
                {
                    values.push((f, value));
                }
            }
            let mut pyyaml = pyyaml.borrow_mut();
            check(bases, &values, &mut pyyaml, &mut tally.borrow_mut()).map_err(|e| {
                TestCaseError::fail(format!(
                    "in base {}, {:?}: {e}",
                    bases[values[0].0.base].name,
                    values
                        .iter()
                        .map(|(f, v)| (f.text(), v))
                        .collect::<Vec<_>>()
                ))
            })
        });
        if let Err(e) = result {
            panic!("fields under `{top}`: {e}");
        }
    }
    tally.into_inner()
}
