//! `synth --split DIR`: a real kustomize (kubectl's) builds the directory into exactly the
//! objects `synth` writes as one file, an overlay patching a Deployment works on it, and the
//! directory always holds exactly the latest output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> String {
    repo()
        .join(format!("examples/{name}.yaml"))
        .display()
        .to_string()
}

/// kubectl (for its built-in kustomize): `MAILU_K8S_KUBECTL`, else what `scripts/fetch-tools`
/// cached; `None` (the test is skipped, loudly) without either.
fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("MAILU_K8S_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".cache/tools/kubectl"));
    if path.exists() {
        return Some(path);
    }
    eprintln!(
        "SKIPPED: no kubectl for kustomize (run scripts/fetch-tools kubectl, or set MAILU_K8S_KUBECTL)"
    );
    None
}

fn split(config: &str, dir: &Path) {
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth", config, "--split", dir.to_str().expect("utf-8")])
        .assert()
        .success();
}

/// Objects by `kind/namespace/name`.
fn objects(yaml: &str) -> BTreeMap<String, Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .expect("YAML")
        .into_iter()
        .filter(|d| !d.is_null())
        .map(|d| {
            let key = format!(
                "{}/{}/{}",
                d["kind"].as_str().unwrap_or(""),
                d["metadata"]["namespace"].as_str().unwrap_or(""),
                d["metadata"]["name"].as_str().unwrap_or("")
            );
            (key, d)
        })
        .collect()
}

fn kustomize(kubectl: &Path, dir: &Path) -> String {
    let out = Command::new(kubectl)
        .args(["kustomize", dir.to_str().expect("utf-8")])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn synth(config: &str) -> String {
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["synth", config, "-o", "-"])
        .output()
        .expect("runs");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn kustomize_builds_exactly_the_objects_synth_writes() {
    let Some(kubectl) = kubectl() else { return };
    for name in [
        "quickstart",
        "full",
        "egress-cilium-1.20-dualstack",
        "gateway-api",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        split(&example(name), dir.path());
        let built = objects(&kustomize(&kubectl, dir.path()));
        let single = objects(&synth(&example(name)));
        assert_eq!(
            built.keys().collect::<Vec<_>>(),
            single.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (key, object) in &single {
            assert_eq!(&built[key], object, "{name}: {key}");
        }
    }
}

#[test]
fn an_overlay_patches_a_deployment_of_the_split() {
    let Some(kubectl) = kubectl() else { return };
    let root = tempfile::tempdir().expect("tempdir");
    let base = root.path().join("base");
    split(&example("quickstart"), &base);
    let overlay = root.path().join("prod");
    std::fs::create_dir(&overlay).expect("mkdir");
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources: [../base]\npatches:\n  - target: {kind: Deployment, name: mailu-front}\n    patch: |\n      \
         - op: add\n        path: /spec/template/metadata/annotations/example.com~1team\n        value: mail\n",
    )
    .expect("write");
    let built = objects(&kustomize(&kubectl, &overlay));
    let front = &built["Deployment/mailu/mailu-front"];
    assert_eq!(
        front["spec"]["template"]["metadata"]["annotations"]["example.com/team"],
        "mail"
    );
    let single = objects(&synth(&example("quickstart")));
    assert_eq!(
        built["Deployment/mailu/mailu-admin"],
        single["Deployment/mailu/mailu-admin"]
    );
}

#[test]
fn the_directory_holds_exactly_the_latest_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    split(&example("full"), dir.path());
    assert!(dir.path().join("webmail.yaml").exists());
    std::fs::write(dir.path().join("notes.yaml"), "# mine\n").expect("write");
    split(&example("quickstart"), dir.path());
    assert!(
        !dir.path().join("webmail.yaml").exists(),
        "a component turned off leaves no file"
    );
    assert!(
        dir.path().join("notes.yaml").exists(),
        "files mailu-k8s did not write stay"
    );
    let listed = std::fs::read_to_string(dir.path().join("kustomization.yaml")).expect("read");
    assert!(!listed.contains("webmail.yaml"));
}

#[test]
fn an_invalid_config_writes_no_directory() {
    let root = tempfile::tempdir().expect("tempdir");
    let bad = root.path().join("bad.yaml");
    std::fs::write(&bad, "domain: example\n").expect("write");
    let dir = root.path().join("out");
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            bad.to_str().expect("utf-8"),
            "--split",
            dir.to_str().expect("utf-8"),
        ])
        .assert()
        .code(2);
    assert!(!dir.exists());
}

#[test]
fn split_and_output_exclude_each_other() {
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth", &example("quickstart"), "--split", "x", "-o", "y"])
        .assert()
        .code(2);
}
