//! The README's pruning command: its label selector matches every object the examples produce,
//! and its allow-list names every kind they produce except claims and the Namespace (never
//! pruned), so a new kind cannot be silently left behind by `kubectl apply --prune`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn objects(example: &Path) -> Vec<Value> {
    let out = cargo_bin_cmd!("mailu-k8s")
        .arg("synth")
        .arg(example)
        .args(["--format", "json", "-o", "-"])
        .output()
        .expect("runs");
    let list: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    list["items"].as_array().expect("items").clone()
}

/// `group/version/Kind` as kubectl's `--prune-allowlist` spells it (`core` for the legacy group).
fn allowlist_entry(o: &Value) -> String {
    let api = o["apiVersion"].as_str().expect("apiVersion");
    let api = if api.contains('/') {
        api.to_owned()
    } else {
        format!("core/{api}")
    };
    format!("{api}/{}", o["kind"].as_str().expect("kind"))
}

fn readme_prune_command() -> (Vec<(String, String)>, BTreeSet<String>) {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let start = readme
        .find("kubectl apply -f dist/mailu.k8s.yaml --prune")
        .expect("the command");
    let command = &readme[start..start + readme[start..].find("```").expect("end")];
    let selector = command
        .split(" -l ")
        .nth(1)
        .expect("-l")
        .split_whitespace()
        .next()
        .expect("sel");
    let labels = selector
        .split(',')
        .map(|kv| kv.split_once('=').expect("k=v"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let allowed = command
        .split("--prune-allowlist=")
        .skip(1)
        .map(|s| s.split_whitespace().next().expect("entry").to_owned())
        .collect();
    (labels, allowed)
}

#[test]
fn the_readme_prunes_every_kind_but_claims_and_the_namespace() {
    let (labels, allowed) = readme_prune_command();
    let mut produced = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("examples")).expect("examples") {
        let path = entry.expect("entry").path();
        for o in objects(&path) {
            for (k, v) in &labels {
                assert_eq!(
                    o["metadata"]["labels"][k],
                    v.as_str(),
                    "{}: {o}",
                    path.display()
                );
            }
            produced.insert(allowlist_entry(&o));
        }
    }
    let never = ["core/v1/PersistentVolumeClaim", "core/v1/Namespace"];
    let expected: BTreeSet<String> = produced
        .into_iter()
        .filter(|k| !never.contains(&k.as_str()))
        .collect();
    assert_eq!(allowed, expected);
}
