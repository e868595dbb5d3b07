//! `mailu-k8s secrets`: every Secret the config's manifests reference, who reads each key and
//! what Mailu cannot take in it, and the commands that create them — with placeholders, never a
//! value.

use std::fmt::Write as _;

use clap::ValueEnum;
use mailu_k8s_manifests::secrets::{MadeBy, SecretNeed, secret_needs};

use crate::io::{ConfigArgs, Failure, MessageFormat, Outcome, load, report, write_stdout};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SecretsFormat {
    Text,
    Json,
}

pub(crate) fn secrets(input: &ConfigArgs, out: SecretsFormat, format: MessageFormat) -> Outcome {
    let (source, loaded) = load(input)?;
    report(&source, &loaded.warnings, format);
    let manifest = mailu_k8s_manifests::synthesize(&loaded.config);
    let needs = secret_needs(&loaded.config, &manifest);
    let text = match out {
        SecretsFormat::Text => text(&needs),
        SecretsFormat::Json => json(&needs),
    };
    write_stdout(&text).map_err(|e| (source, Failure::Io(e)))
}

fn json(needs: &[SecretNeed]) -> String {
    let items: Vec<serde_json::Value> = needs
        .iter()
        .map(|n| {
            let mut v = serde_json::to_value(n).unwrap_or_default();
            v["command"] = n.create_command().into();
            v
        })
        .collect();
    let doc = serde_json::json!({ "secrets": items });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn text(needs: &[SecretNeed]) -> String {
    let to_create = needs
        .iter()
        .filter(|n| n.made_by == MadeBy::Operator)
        .count();
    let mut out = format!(
        "{} Secrets referenced, {to_create} to create before applying:\n",
        needs.len()
    );
    for n in needs {
        out.push('\n');
        out.push_str(&secret_text(n));
    }
    out
}

fn secret_text(n: &SecretNeed) -> String {
    let kind = match n.kind {
        mailu_k8s_manifests::secrets::SecretKind::Opaque => "generic",
        mailu_k8s_manifests::secrets::SecretKind::Tls => "tls",
    };
    let mut out = format!("{}/{} ({kind})\n", n.namespace, n.name);
    for k in &n.keys {
        let readers: Vec<String> = k
            .readers
            .iter()
            .map(|r| match &r.container {
                Some(c) => format!("{} [{c}] {}", r.object, r.used_as),
                None => format!("{} {}", r.object, r.used_as),
            })
            .collect();
        let _ = writeln!(out, "  {}: read by {}", k.key, readers.join("; "));
        if let Some(c) = k.constraint {
            let _ = writeln!(out, "    {c}");
        }
    }
    match (&n.made_by, n.create_command()) {
        (_, Some(command)) => {
            let _ = writeln!(out, "  create:\n    {}", command.replace('\n', "\n    "));
        }
        (MadeBy::CertManager { certificate }, None) => {
            let _ = writeln!(out, "  made by cert-manager (Certificate {certificate})");
        }
        (_, None) => {
            let _ = writeln!(
                out,
                "  made by `mailu-k8s dkim keygen CONFIG -o FILE`: apply FILE (keep it out of git)"
            );
        }
    }
    out
}
