//! The mailu-k8s configuration: file format, JSON Schema, and the one validation pass.
//!
//! `load` runs the whole edge: YAML text → structural check against the generated schema (every
//! unknown key, wrong type, missing key and bad enum value at once) → typed [`file::ConfigFile`] →
//! [`validate`] (every value rule at once) → [`Config`]. Nothing past this crate re-validates.

mod check;
pub mod component;
pub mod diagnostic;
pub mod dns;
pub mod egress;
pub mod file;
mod file_dns;
mod file_egress;
pub mod layers;
pub mod leaf;
pub mod locations;
pub mod mailu_env;
pub mod model;
mod networks;
mod repair;
pub mod rules;
pub mod structure;
mod syntax;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod validate;
mod validate_components;
mod validate_dns;
mod validate_edge;
mod validate_egress;
mod validate_mailu;
mod validate_network;
mod validate_storage;
pub mod validate_workloads;

pub use component::{Component, NAME_PREFIX};
pub use diagnostic::{Code, Diagnostic, FindingCode, Location, Severity};
pub use model::*;
pub use validate::validate;
pub use validate_dns::{MTA_STS_OVERRIDE_FILE, parse_mailbox};
pub use validate_edge::NODE_PORT_RANGE;

use serde_json::Value;

/// Config files larger than this are refused before parsing: a real one is a few KiB.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;
/// Deeper nesting than this is refused: the schema itself is five levels deep.
pub const MAX_DEPTH: usize = 32;
/// Alias expansions beyond this are refused (stops "billion laughs" documents).
pub const MAX_ALIASES: usize = 256;
/// Total YAML nodes, counting alias replays.
pub const MAX_NODES: usize = 20_000;

/// A loaded config with its non-fatal findings.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates a config file. `Err` holds every error found (and any warnings).
pub fn load(bytes: &[u8]) -> Result<Loaded, Vec<Diagnostic>> {
    let doc = parse_document(bytes).map_err(|d| vec![d])?;
    // The document parsed, so it is UTF-8.
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    load_document(doc, |findings| {
        locations::Locations::of(text).attach(findings);
        diagnostic::sort_in_file_order(findings, |_| 0);
    })
}

/// Checks and validates a parsed document; `locate` gives findings their positions (called
/// only when there are findings, so a clean run never walks the text twice).
fn load_document(
    doc: Value,
    locate: impl Fn(&mut [Diagnostic]),
) -> Result<Loaded, Vec<Diagnostic>> {
    let located = |mut findings: Vec<Diagnostic>| {
        locate(&mut findings);
        findings
    };
    let (mut structural, repairs) = structure::check_repairable(committed_schema(), &doc);
    validate_egress::explain_structure_findings(&mut structural);
    if !structural.is_empty() {
        structural.extend(findings_despite(&doc, repairs));
        return Err(located(structural));
    }
    let file: file::ConfigFile = serde_json::from_value(doc).map_err(|e| {
        // The structural check mirrors these types, so this is a backstop, not a path users
        // should normally reach.
        vec![Diagnostic::error(Code::WrongType, "", e.to_string())]
    })?;
    let (config, warnings) = validate(&file).map_err(located)?;
    let warnings = if warnings.is_empty() {
        warnings
    } else {
        located(warnings)
    };
    Ok(Loaded { config, warnings })
}

/// The value rules' findings on a document with structural findings: run on the document with
/// those repaired, keeping only findings that no repair could have caused ([`repair`]).
fn findings_despite(doc: &Value, repairs: Vec<structure::Repair>) -> Vec<Diagnostic> {
    let Some(repaired) = repair::repair(committed_schema(), doc, repairs) else {
        return Vec::new();
    };
    let Ok(file) = serde_json::from_value::<file::ConfigFile>(repaired.doc.clone()) else {
        return Vec::new();
    };
    let findings = match validate(&file) {
        Ok((_, warnings)) => warnings,
        Err(findings) => findings,
    };
    findings
        .into_iter()
        .filter(|d| repaired.keeps(&d.path))
        .collect()
}

/// Parses YAML into a JSON value tree with hard limits on size, depth and alias expansion.
// A parse failure is one finding; it is built once per run, so its size does not matter.
#[allow(clippy::result_large_err)]
pub fn parse_document(bytes: &[u8]) -> Result<Value, Diagnostic> {
    let text = text_of(bytes)?;
    let doc: Value = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| yaml_error(e, text))?;
    if !doc.is_object() {
        return Err(Diagnostic::error(
            Code::NotAMapping,
            "",
            "the top level of the config must be a mapping of keys to values",
        )
        .with_hint(
            "start with `domain: example.com` (run `mailu-k8s init` for a starter config)",
        ));
    }
    Ok(doc)
}

/// The file as text, refused before parsing when too large, not UTF-8, or empty.
#[allow(clippy::result_large_err)]
fn text_of(bytes: &[u8]) -> Result<&str, Diagnostic> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(Diagnostic::error(
            Code::InputLimit,
            "",
            format!(
                "the file is {} bytes; config files are limited to {} bytes",
                bytes.len(),
                MAX_CONFIG_BYTES
            ),
        )
        .with_hint("a mailu-k8s config is a few KiB; check that this is the right file"));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(
            Code::YamlSyntax,
            "",
            format!(
                "the file is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
        .with_hint("save the file as UTF-8")
    })?;
    if text.trim().is_empty()
        || text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
        })
    {
        return Err(
            Diagnostic::error(Code::NotAMapping, "", "the config file is empty")
                .with_hint("run `mailu-k8s init` for a starter config"),
        );
    }
    Ok(text)
}

/// The parser's limits and YAML dialect.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: MAX_ALIASES,
            max_nodes: MAX_NODES,
            max_documents: 1,
            max_total_scalar_bytes: MAX_CONFIG_BYTES,
        },
        alias_limits: alias_limits(),
        with_snippet: false,
        // YAML 1.2: only `true`/`false` are booleans (`y`, `no`, `on` stay strings).
        strict_booleans: true,
    }
}

/// A parse failure as one finding: several documents, a limit reached, or a syntax error.
fn yaml_error(e: serde_saphyr::Error, text: &str) -> Diagnostic {
    let location = e.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    let message = first_line(&e.to_string());
    // Matched on the message as well as the variant: the parser may wrap these errors.
    let multiple_documents = matches!(e, serde_saphyr::Error::MultipleDocuments { .. })
        || message.contains("Documents {");
    let budget = matches!(e, serde_saphyr::Error::Budget { .. })
        || matches!(e, serde_saphyr::Error::AliasReplayLimitExceeded { .. })
        || matches!(e, serde_saphyr::Error::AliasExpansionLimitExceeded { .. })
        || matches!(e, serde_saphyr::Error::AliasReplayStackDepthExceeded { .. })
        || message.contains("budget breached")
        || message.contains("limit exceeded");
    if multiple_documents {
        Diagnostic::error(
            Code::YamlSyntax,
            "",
            "the file holds more than one YAML document",
        )
        .with_hint("keep one document; remove the extra `---` sections")
        .with_location(location)
    } else if budget {
        Diagnostic::error(Code::InputLimit, "", format!("the document is too large or too deeply nested: {message}"))
                .with_hint(format!(
                    "config files are limited to {MAX_DEPTH} levels, {MAX_ALIASES} alias uses and {MAX_NODES} nodes"
                ))
                .with_location(location)
    } else if let Some((message, hint)) = syntax::explain(&message, location, text) {
        Diagnostic::error(Code::YamlSyntax, "", message)
            .with_hint(hint)
            .with_location(location)
    } else {
        Diagnostic::error(Code::YamlSyntax, "", format!("invalid YAML: {message}"))
            .with_hint("fix the YAML syntax at the given line and column")
            .with_location(location)
    }
}

fn alias_limits() -> serde_saphyr::options::AliasLimits {
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = MAX_NODES;
    limits.max_replay_stack_depth = MAX_DEPTH;
    limits.max_alias_expansions_per_anchor = MAX_ALIASES;
    limits
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_owned()
}

/// The JSON Schema (draft-07) of the config file, as printed by `mailu-k8s schema`.
/// The schema as committed in `mailu-k8s.schema.json`, parsed once: generating it with schemars
/// costs most of a short run's CPU time. A test keeps it equal to [`json_schema`].
fn committed_schema() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!("../../../mailu-k8s.schema.json"))
            .unwrap_or_else(|_| json_schema())
    })
}

pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator
        .into_root_schema_for::<file::ConfigFile>()
        .to_value();
    // Absent keys take defaults; an explicit `null` is an error, so optional keys are not
    // nullable in the schema either.
    strip_null(&mut schema);
    schema
}

fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) if map.contains_key(file::NULL_MEANS) => {}
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get_mut(key) {
                    branches.retain(|b| b.get("type").is_none_or(|t| t != "null"));
                    if branches.len() == 1
                        && let Some(Value::Object(only)) = branches.pop()
                    {
                        map.remove(key);
                        for (k, v) in only {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod committed_schema_tests {
    /// Validation walks the committed schema; it must be the one the types generate (run
    /// `cargo run -- schema > mailu-k8s.schema.json` after changing the file format).
    #[test]
    fn committed_schema_is_the_generated_one() {
        assert!(
            *super::committed_schema() == super::json_schema(),
            "mailu-k8s.schema.json is stale: run `cargo run -- schema > mailu-k8s.schema.json`"
        );
    }
}
