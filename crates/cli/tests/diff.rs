//! `mailu-k8s diff`: exit codes as `diff(1)` has them, any mix of configs and rendered outputs,
//! and a change reported as an operator reviews it (what rolls, what needs pruning).

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.yaml"))
}

fn diff(old: &Path, new: &Path, json: bool) -> (i32, String) {
    let mut cmd = cargo_bin_cmd!("mailu-k8s");
    cmd.args([
        "diff",
        old.to_str().expect("utf-8"),
        new.to_str().expect("utf-8"),
    ]);
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

/// The quickstart with webmail on, written beside `dir`.
fn with_webmail(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(example("quickstart")).expect("read");
    let path = dir.join("webmail.yaml");
    std::fs::write(
        &path,
        text.replace("\nmailu:\n", "\ncomponents:\n  webmail: true\n\nmailu:\n"),
    )
    .expect("write");
    path
}

fn rendered(dir: &Path, config: &Path, format: &str) -> PathBuf {
    let path = dir.join(format!("out.{format}"));
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            config.to_str().expect("utf-8"),
            "--format",
            format,
            "-o",
        ])
        .arg(&path)
        .assert()
        .success();
    path
}

#[test]
fn a_config_and_its_rendering_are_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["yaml", "json"] {
        let out = rendered(dir.path(), &example("full"), format);
        assert_eq!(
            diff(&example("full"), &out, false),
            (0, "no differences\n".into()),
            "{format}"
        );
        assert_eq!(diff(&out, &example("full"), false).0, 0, "{format}");
    }
}

#[test]
fn turning_webmail_on_adds_its_objects_and_rolls_the_readers_of_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, json) = diff(&example("quickstart"), &with_webmail(dir.path()), true);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&json).expect("JSON");
    let objects = doc["objects"].as_array().expect("objects");
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name}: {json}"))
    };
    assert_eq!(find("Deployment", "mailu-webmail")["change"], "added");
    assert_eq!(find("Deployment", "mailu-front")["rolls"], true);
    assert_eq!(find("ConfigMap", "mailu-env")["change"], "changed");
    let webmail_on = find("ConfigMap", "mailu-env")["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .any(|f| f["path"] == "data.WEBMAIL" && f["new"] == "roundcube");
    assert!(webmail_on, "{json}");
}

#[test]
fn turning_a_component_off_says_what_to_prune() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, text) = diff(&with_webmail(dir.path()), &example("quickstart"), false);
    assert_eq!(code, 1);
    assert!(
        text.contains("- Deployment mailu/mailu-webmail (prune it"),
        "{text}"
    );
    assert!(
        text.contains("- PersistentVolumeClaim mailu/mailu-webmail-data"),
        "{text}"
    );
    assert!(
        text.lines().last().expect("summary").contains("removed"),
        "{text}"
    );
}

#[test]
fn an_invalid_input_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "domain: example\n").expect("write");
    assert_eq!(diff(&bad, &example("quickstart"), false).0, 2);
    assert_eq!(
        diff(
            &dir.path().join("missing.yaml"),
            &example("quickstart"),
            false
        )
        .0,
        2
    );
}
