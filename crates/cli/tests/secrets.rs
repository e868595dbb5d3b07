//! `mailu-k8s secrets` against the manifests themselves: every Secret name the rendered JSON
//! mentions is listed (found here by a plain walk of the JSON, not by the command's typed walk),
//! and every command it prints is valid shell that never carries a value.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    all.sort();
    all
}

fn run_json(args: &[&str]) -> Value {
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `secretName` / `secretKeyRef.name` anywhere in the object tree.
fn secret_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("secretName", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    ("secretKeyRef", Value::Object(r)) => {
                        out.insert(r["name"].as_str().expect("name").to_owned());
                    }
                    _ => secret_names(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| secret_names(i, out)),
        _ => {}
    }
}

#[test]
fn every_secret_the_manifest_names_is_listed() {
    for example in examples() {
        let path = example.to_str().expect("utf-8");
        let manifest = run_json(&["synth", path, "--format", "json", "-o", "-"]);
        let mut named = BTreeSet::new();
        secret_names(&manifest, &mut named);
        let listed: BTreeSet<String> = run_json(&["secrets", path, "--format", "json"])["secrets"]
            .as_array()
            .expect("list")
            .iter()
            .map(|s| s["name"].as_str().expect("name").to_owned())
            .collect();
        assert_eq!(named, listed, "{path}");
    }
}

#[test]
fn commands_are_valid_shell_and_carry_no_value() {
    for example in examples() {
        let path = example.to_str().expect("utf-8");
        let doc = run_json(&["secrets", path, "--format", "json"]);
        for s in doc["secrets"].as_array().expect("list") {
            let Some(command) = s["command"].as_str() else {
                assert_ne!(s["madeBy"]["by"], "operator", "{path}: {s}");
                continue;
            };
            let check = Command::new("bash")
                .args(["-n", "-c", command])
                .output()
                .expect("bash");
            assert!(check.status.success(), "{path}: {command}");
            for key in s["keys"].as_array().expect("keys") {
                let literal = format!("--from-literal={}=", key["key"].as_str().expect("key"));
                let value = command.split(&literal).nth(1);
                if let Some(value) = value {
                    assert!(
                        value.starts_with("'<") || value.starts_with("\"$(openssl rand"),
                        "{path}: {command}"
                    );
                }
            }
        }
    }
}

#[test]
fn text_lists_each_secret_with_its_command() {
    let quickstart = examples()
        .into_iter()
        .find(|p| p.ends_with("quickstart.yaml"))
        .expect("q");
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["secrets", quickstart.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kubectl -n mailu create secret generic mailu-secret-key"),
        "{text}"
    );
    assert!(
        text.contains("create secret tls mailu-certificates"),
        "{text}"
    );
    assert!(text.contains("core/admin/start.py:26"), "{text}");
}
