//! `mailu-k8s graph`: Graphviz itself reads every example's DOT, and the README's picture is
//! the quickstart's, as the command draws it today.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn graph(config: &Path, format: &str) -> String {
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["graph", config.to_str().expect("utf-8"), "--format", format])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn graphviz_reads_every_examples_dot() {
    if Command::new("dot").arg("-V").output().is_err() {
        eprintln!(
            "SKIPPED: graphviz_reads_every_examples_dot: no `dot` (scripts/test installs graphviz)"
        );
        return;
    }
    for entry in std::fs::read_dir(repo().join("examples")).expect("examples") {
        let path = entry.expect("entry").path();
        let dot = graph(&path, "dot");
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dot");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dot.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("dot ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{}: {stderr}\n{dot}",
            path.display()
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("<svg"),
            "{}",
            path.display()
        );
    }
}

#[test]
fn the_readme_shows_the_quickstarts_picture() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let drawn = graph(&repo().join("examples/quickstart.yaml"), "mermaid");
    let block = format!("```mermaid\n{drawn}```\n");
    assert!(
        readme.contains(&block),
        "README.md's ```mermaid block must be `mailu-k8s graph examples/quickstart.yaml`:\n{block}"
    );
}
