//! Layered configs and `--set` (README: "Layered configs and `--set`"): the README's overlay
//! renders as the merged file would, findings name the layer that set the value, `--set` is
//! typed by the schema, and a bad argument exits 2 with nothing written.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

mod support;
use support::s;

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart.yaml")
}

/// The README's `prod.yaml` block, as the README shows it.
fn readme_overlay() -> String {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("```yaml\n# prod.yaml\n")
        .expect("the README's prod.yaml");
    let body = &readme[start + "```yaml\n".len()..];
    body[..body.find("```").expect("end of block")].to_owned()
}

/// `files` written into a fresh directory, by name.
fn write(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = files
        .iter()
        .map(|(name, text)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            p
        })
        .collect();
    (dir, paths)
}

fn synth_stdout(args: &[&str]) -> String {
    let out = cargo_bin_cmd!("mailu-k8s")
        .arg("synth")
        .args(args)
        .args(["-o", "-"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn the_readme_overlay_renders_as_the_merged_file() {
    let quick = std::fs::read_to_string(quickstart()).expect("quickstart");
    // The quickstart with the overlay applied by hand.
    let merged = quick
        .replace(
            "hostnames:\n  - mail.example.com\n",
            "hostnames: [mail.example.com, mx.example.com]\n",
        )
        .replace(
            "  initialAdminPassword: mailu-admin-password  # key `password`\n",
            "",
        )
        .replace(
            "mailu:\n  initialAccount:\n    enabled: true\n    username: admin        # admin@example.com\n",
            "",
        )
        .replace("    size: 10Gi", "    size: 200Gi")
        + "workloads: {front: {replicas: 2}}\n";
    assert_ne!(merged, quick, "the hand-merged file must differ");
    let (_dir, paths) = write(&[("prod.yaml", &readme_overlay()), ("merged.yaml", &merged)]);
    let layered = synth_stdout(&[
        s(&quickstart()),
        s(&paths[0]),
        "--set",
        "workloads.front.replicas=2",
    ]);
    assert_eq!(layered, synth_stdout(&[s(&paths[1])]));
    assert!(layered.contains("mx.example.com"));
}

#[test]
fn a_finding_in_the_second_file_names_that_file_and_line() {
    let prod = "# production\nstorage:\n  dovecot:\n    size: 50GB\n";
    let (dir, paths) = write(&[("prod.yaml", prod)]);
    let out = dir.path().join("out.yaml");
    std::fs::write(&out, "previous\n").expect("write");
    let prod_name = s(&paths[0]);
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth", s(&quickstart()), prod_name, "-o", s(&out)])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("error[MK203]: storage.dovecot.size:")
                .and(predicate::str::contains(format!("--> {prod_name}:4:11\n")))
                .and(
                    predicate::str::contains(" + ")
                        .and(predicate::str::contains("1 error(s), 0 warning(s)")),
                ),
        );
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "previous\n");
    // The same finding as JSON: `file` and `location`.
    let output = cargo_bin_cmd!("mailu-k8s")
        .args([
            "check",
            s(&quickstart()),
            prod_name,
            "--message-format",
            "json",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&output.stderr).expect("JSON");
    let finding = &doc["findings"][0];
    assert_eq!(finding["code"], "MK203");
    assert_eq!(finding["file"], prod_name);
    assert_eq!(
        finding["location"],
        serde_json::json!({"line": 4, "column": 11})
    );
}

#[test]
fn set_is_typed_by_the_schema_and_named_in_findings() {
    // An integer field takes a number; a string field takes the text.
    let yaml = synth_stdout(&[
        s(&quickstart()),
        "--set",
        "mailu.messageSizeLimit=100",
        "--set",
        "tls.secretName=12345",
    ]);
    assert!(yaml.contains("secretName: '12345'") || yaml.contains("secretName: \"12345\""));
    assert_ne!(yaml, synth_stdout(&[s(&quickstart())]));
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "check",
            s(&quickstart()),
            "--set",
            "mailu.messageSizeLimit=lots",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("error[MK102]: mailu.messageSizeLimit:").and(
                predicate::str::contains("--> --set mailu.messageSizeLimit=lots\n"),
            ),
        );
    cargo_bin_cmd!("mailu-k8s")
        .args(["check", s(&quickstart()), "--set", "mailu.logLevl=INFO"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("error[MK101]: mailu.logLevl: unknown key")
                .and(predicate::str::contains("= hint: did you mean `logLevel`?")),
        );
}

#[test]
fn the_readme_shows_the_finding_check_prints() {
    let readme = include_str!("../../../README.md");
    let (_dir, paths) = write(&[("prod.yaml", &readme_overlay())]);
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["check", s(&quickstart()), s(&paths[0])])
        .args(["--set", "mailu.messageSizeLimit=lots"])
        .output()
        .expect("run");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    let first_two: String = stderr.lines().take(2).map(|l| format!("# {l}\n")).collect();
    assert!(readme.contains(&first_two), "README lacks:\n{first_two}");
}

#[test]
fn bad_set_arguments_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.yaml");
    for arg in [
        "mailu.messageSizeLimit",
        "a..b=1",
        "hostnames[9]=x.example.com",
    ] {
        cargo_bin_cmd!("mailu-k8s")
            .args(["synth", s(&quickstart()), "-o", s(&out), "--set", arg])
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::contains("error[MK004]")
                    .and(predicate::str::contains(format!("--> --set {arg}\n")))
                    .and(predicate::str::contains(
                        "= hint: write `--set path.to.key=value`",
                    )),
            );
        assert!(!out.exists(), "{arg}: nothing written");
    }
}

#[test]
fn every_command_that_reads_a_config_takes_layers() {
    let bad = "mailu: {messageSizeLimit: lots}\n";
    let (dir, paths) = write(&[("prod.yaml", bad)]);
    let prod = s(&paths[0]);
    let q = quickstart();
    let commands: Vec<Vec<&str>> = vec![
        vec!["check"],
        vec!["graph"],
        vec!["secrets"],
        vec!["dns", "plan"],
        vec![
            "dns",
            "check",
            "--no-connect",
            "--nameserver",
            "127.0.0.1:9",
        ],
        vec!["dkim", "keygen", "-o", "-"],
        vec!["synth", "-o", "-"],
    ];
    for command in &commands {
        cargo_bin_cmd!("mailu-k8s")
            .current_dir(dir.path())
            .args(command)
            .args([s(&q), prod])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("--> {prod}:1:27")));
        // --set alone, over one file.
        cargo_bin_cmd!("mailu-k8s")
            .current_dir(dir.path())
            .args(command)
            .args([s(&q), "--set", "mailu.messageSizeLimit=lots"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "--> --set mailu.messageSizeLimit=lots",
            ));
    }
    // diff: the new config's layers.
    cargo_bin_cmd!("mailu-k8s")
        .args(["diff", s(&q), s(&q), prod])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("--> {prod}:1:27")));
    cargo_bin_cmd!("mailu-k8s")
        .args(["diff", s(&q), s(&q), "--set", "workloads.front.replicas=2"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Deployment"));
}

#[test]
fn each_layers_every_config_over_the_bases() {
    let (dir, paths) = write(&[
        ("a.yaml", "domain: a.example.com\n"),
        ("b.yaml", "domain: b.example.com\n"),
        ("common.yaml", "storage: {dovecot: {size: 20Gi}}\n"),
    ]);
    let out = dir.path().join("out");
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth", "--each", s(&paths[0]), s(&paths[1])])
        .args(["--base", s(&quickstart()), "--base", s(&paths[2])])
        .args(["--set", "workloads.front.replicas=2", "-o", s(&out)])
        .assert()
        .success();
    let a = std::fs::read_to_string(out.join("a.yaml")).expect("a");
    let alone = synth_stdout(&[
        s(&quickstart()),
        s(&paths[2]),
        s(&paths[0]),
        "--set",
        "workloads.front.replicas=2",
    ]);
    assert_eq!(a, alone);
    assert!(a.contains("storage: 20Gi") && a.contains("a.example.com"));
    // --base without --each is a usage error.
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth", s(&quickstart()), "--base", s(&paths[2])])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--each"));
}

#[test]
fn standard_input_is_read_once() {
    cargo_bin_cmd!("mailu-k8s")
        .args(["check", "-", "-"])
        .write_stdin("domain: example.com\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("can be read once"));
}
