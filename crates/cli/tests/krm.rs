//! `mailu-k8s krm`: the KRM function contract (ResourceList in, ResourceList out, findings as
//! results), and a real kustomize running it as an exec generator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn quickstart() -> Value {
    let text = std::fs::read_to_string(repo().join("examples/quickstart.yaml")).expect("read");
    serde_saphyr::from_str(&text).expect("YAML")
}

fn function_config(spec: Value) -> Value {
    json!({"apiVersion": "mailu-k8s.io/v1alpha1", "kind": "Config",
           "metadata": {"name": "mailu"}, "spec": spec})
}

fn krm(list: &Value) -> (i32, Value) {
    let out = cargo_bin_cmd!("mailu-k8s")
        .arg("krm")
        .write_stdin(serde_json::to_string(list).expect("JSON"))
        .output()
        .expect("runs");
    let doc = serde_saphyr::from_slice(&out.stdout).expect("a ResourceList");
    (out.status.code().expect("exit code"), doc)
}

/// Objects by `kind/namespace/name`.
fn by_key(objects: &[Value]) -> BTreeMap<String, Value> {
    objects
        .iter()
        .map(|o| {
            let m = &o["metadata"];
            let key = format!("{}/{}/{}", o["kind"], m["namespace"], m["name"]);
            (key, o.clone())
        })
        .collect()
}

fn synth_quickstart() -> Vec<Value> {
    let out = cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            repo()
                .join("examples/quickstart.yaml")
                .to_str()
                .expect("utf-8"),
        ])
        .args(["--format", "json", "-o", "-"])
        .output()
        .expect("runs");
    let list: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    list["items"].as_array().expect("items").clone()
}

#[test]
fn the_objects_are_added_to_the_items_passed_through() {
    let mine = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine"}});
    let list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                      "items": [mine.clone()], "functionConfig": function_config(quickstart())});
    let (code, out) = krm(&list);
    assert_eq!(code, 0);
    assert_eq!(out["kind"], "ResourceList");
    let items = out["items"].as_array().expect("items");
    assert_eq!(items[0], mine);
    assert_eq!(by_key(&items[1..]), by_key(&synth_quickstart()));
}

#[test]
fn findings_are_results_with_the_field_and_exit_2() {
    let mut spec = quickstart();
    spec["domain"] = json!("example");
    let list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                      "items": [], "functionConfig": function_config(spec)});
    let (code, out) = krm(&list);
    assert_eq!(code, 2);
    let result = &out["results"][0];
    assert_eq!(result["severity"], "error");
    assert_eq!(result["field"]["path"], "spec.domain");
    assert_eq!(result["field"]["currentValue"], "example");
    assert!(
        result["message"]
            .as_str()
            .expect("message")
            .contains("fix:"),
        "{result}"
    );
}

#[test]
fn a_function_config_without_spec_is_refused() {
    let list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                      "items": [], "functionConfig": {"kind": "ConfigMap", "data": {}}});
    let (code, out) = krm(&list);
    assert_eq!(code, 2);
    assert!(
        out["results"][0]["message"]
            .as_str()
            .expect("message")
            .contains("spec")
    );
}

/// kustomize (an exec generator needs kustomize itself: kubectl's cannot run exec functions):
/// `MAILU_K8S_KUSTOMIZE`, else what `scripts/fetch-tools kustomize` cached.
fn kustomize() -> Option<PathBuf> {
    let path = std::env::var_os("MAILU_K8S_KUSTOMIZE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".cache/tools/kustomize"));
    path.exists().then_some(path).or_else(|| {
        eprintln!("SKIPPED: no kustomize (run scripts/fetch-tools kustomize)");
        None
    })
}

#[test]
fn kustomize_runs_it_as_an_exec_generator() {
    let Some(kustomize) = kustomize() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(cargo_bin("mailu-k8s"), dir.path().join("mailu-k8s-krm"))
        .expect("symlink");
    let mut generator = function_config(quickstart());
    generator["metadata"]["annotations"] =
        json!({"config.kubernetes.io/function": "exec:\n  path: ./mailu-k8s-krm\n"});
    std::fs::write(
        dir.path().join("mailu.yaml"),
        serde_json::to_string(&generator).expect("JSON"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "generators: [mailu.yaml]\n",
    )
    .expect("write");
    let out = Command::new(kustomize)
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(dir.path())
        .output()
        .expect("kustomize runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built: Vec<Value> =
        serde_saphyr::from_multiple(std::str::from_utf8(&out.stdout).expect("utf-8"))
            .expect("YAML");
    assert_eq!(by_key(&built), by_key(&synth_quickstart()));
}
