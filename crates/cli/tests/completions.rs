//! `mailu-k8s completions`: the scripts work in the shell itself, not only as text.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

/// What bash offers after `words` (the last one being completed), with the generated script
/// sourced as bash-completion would.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = Command::new(cargo_bin("mailu-k8s"))
        .args(["completions", "bash"])
        .output()
        .expect("runs");
    assert!(script.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailu-k8s.bash");
    std::fs::write(&path, &script.stdout).expect("write");
    let cword = words.len() - 1;
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let driver = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; \
         _mailu__k8s mailu-k8s '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        quoted.join(" "),
        words[cword],
        words[cword - 1],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &driver])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_commands() {
    assert_eq!(bash_completes(&["mailu-k8s", "sy"]), ["synth"]);
}

#[test]
fn bash_completes_subcommands_and_their_flags() {
    // Both broke with clap_complete's own script for a hyphenated name (clap-rs/clap#6421).
    assert_eq!(bash_completes(&["mailu-k8s", "dns", "ch"]), ["check"]);
    assert_eq!(
        bash_completes(&["mailu-k8s", "dns", "check", "--autho"]),
        ["--authoritative"]
    );
    assert_eq!(
        bash_completes(&["mailu-k8s", "synth", "--format", "j"]),
        ["json"]
    );
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Command::new(cargo_bin("mailu-k8s"))
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("keygen"),
            "{shell}"
        );
    }
}
