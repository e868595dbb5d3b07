//! `mailu-k8s diff OLD NEW`: two configs, two rendered outputs, or one of each, compared object
//! by object. Exit 0: the same; 1: they differ; 2: an input is unreadable or invalid.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use mailu_k8s_manifests::diff::{Change, ObjectDiff, diff};
use serde_json::Value;

use crate::io::{Failure, MessageFormat, Outcome, load_layers, report, write_stdout};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    Text,
    Json,
}

pub(crate) fn run(
    old: &Path,
    new: &[PathBuf],
    set: &[String],
    out: DiffFormat,
    format: MessageFormat,
) -> Outcome {
    let before = objects(old, format)?;
    let after = match new {
        [one] if set.is_empty() => objects(one, format)?,
        layers => {
            let (source, loaded) = load_layers(layers, set)?;
            report(&source, &loaded.warnings, format);
            mailu_k8s_manifests::synthesize(&loaded.config).values()
        }
    };
    let new_source = new
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>();
    let changes = diff(&before, &after);
    let text = match out {
        DiffFormat::Text => text(&changes),
        DiffFormat::Json => json(&changes),
    };
    write_stdout(&text).map_err(|e| (new_source.join(" + "), Failure::Io(e)))?;
    if changes.is_empty() {
        Ok(())
    } else {
        Err((String::new(), Failure::Problems))
    }
}

/// The objects of `path`: a rendered output (YAML documents with `kind`, or a JSON `List`) as it
/// is, anything else as a config, validated and rendered.
fn objects(path: &Path, format: MessageFormat) -> Result<Vec<Value>, (String, Failure)> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        (
            source.clone(),
            Failure::Io(format!("cannot read {source}: {e}")),
        )
    })?;
    if let Some(objects) = rendered(&text) {
        return Ok(objects);
    }
    let (source, loaded) = load_layers(&[path.to_path_buf()], &[])?;
    report(&source, &loaded.warnings, format);
    Ok(mailu_k8s_manifests::synthesize(&loaded.config).values())
}

/// The objects when `text` is a rendered output; `None` when it is not one (a config).
fn rendered(text: &str) -> Option<Vec<Value>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).ok()?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    match docs.as_slice() {
        [list] if list["kind"] == "List" => list["items"].as_array().cloned(),
        [first, ..] if first.get("kind").is_some() && first.get("apiVersion").is_some() => {
            Some(docs)
        }
        _ => None,
    }
}

fn json(changes: &[ObjectDiff]) -> String {
    let doc = serde_json::json!({ "objects": changes });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn text(changes: &[ObjectDiff]) -> String {
    let mut out = String::new();
    let (mut added, mut removed, mut changed, mut rolls) = (0, 0, 0, Vec::new());
    for c in changes {
        match &c.change {
            Change::Added => {
                added += 1;
                let _ = writeln!(out, "+ {}", c.key);
            }
            Change::Removed => {
                removed += 1;
                let _ = writeln!(
                    out,
                    "- {} (prune it: `kubectl apply` alone leaves it)",
                    c.key
                );
            }
            Change::Changed { fields, rolls: r } => {
                changed += 1;
                let note = if *r {
                    " (rolls: pod template changed)"
                } else {
                    ""
                };
                let _ = writeln!(out, "~ {}{note}", c.key);
                if *r {
                    rolls.push(c.key.name.clone());
                }
                for f in fields {
                    let _ = writeln!(out, "    {}: {} → {}", f.path, short(&f.old), short(&f.new));
                }
            }
        }
    }
    if changes.is_empty() {
        out.push_str("no differences\n");
    } else {
        let _ = write!(
            out,
            "{} objects differ: {added} added, {removed} removed, {changed} changed",
            changes.len()
        );
        if !rolls.is_empty() {
            let _ = write!(out, "; these roll: {}", rolls.join(", "));
        }
        out.push('\n');
    }
    out
}

/// A value on one line, cut at 100 characters; `(none)` for an absent one.
fn short(v: &Option<Value>) -> String {
    let Some(v) = v else {
        return "(none)".to_owned();
    };
    let text = serde_json::to_string(v).unwrap_or_default();
    let printable = crate::io::printable(&text).into_owned();
    if printable.chars().count() > 100 {
        format!("{}…", printable.chars().take(100).collect::<String>())
    } else {
        printable
    }
}
