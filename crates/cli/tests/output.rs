//! Output for CI and terminals (issue 20): `check --strict`, `--quiet`, one summary, JSON for
//! every message (a clean run too), colour only when asked or on a terminal, what `synth`
//! wrote, and MK407 (no predictable sending address) from `check` and `synth`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

mod support;
use support::s;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.yaml"))
}

fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

/// Lines that summarise a run: `SOURCE: no errors…` or `SOURCE: N error(s)…`.
fn summaries(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains(": no errors") || l.contains(" error(s), "))
        .count()
}

#[test]
fn check_shows_mk407_with_one_summary_and_strict_fails_on_it() {
    let quickstart = example("quickstart");
    let (code, err) = stderr_of(&["check", s(&quickstart)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.starts_with("warning[MK407]: egress.mode: SPF and PTR cannot be guaranteed"),
        "{err}"
    );
    assert_eq!(summaries(&err), 1, "{err}");
    assert!(err.ends_with(": no errors, 1 warning(s)\n"), "{err}");
    let (code, err) = stderr_of(&["check", s(&quickstart), "--strict"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("error[MK407]"), "{err}");
    assert!(
        err.ends_with(": 1 error(s), 0 warning(s) (--strict: warnings fail)\n"),
        "{err}"
    );
    // A config without warnings passes --strict.
    let (code, err) = stderr_of(&["check", s(&example("egress-cilium-1.17")), "--strict"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.ends_with(": no errors (--strict: warnings fail)\n"),
        "{err}"
    );
}

#[test]
fn quiet_shows_errors_only() {
    let quickstart = example("quickstart");
    assert_eq!(
        stderr_of(&["check", s(&quickstart), "-q"]),
        (Some(0), String::new())
    );
    assert_eq!(
        stderr_of(&["synth", s(&quickstart), "-o", "-", "--quiet"]).1,
        ""
    );
    // Errors still show, warnings do not.
    let (code, err) = stderr_of(&[
        "check",
        s(&quickstart),
        "--set",
        "mailu.messageSizeLimit=lots",
        "--quiet",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with("error[MK102]") && !err.contains("warning["),
        "{err}"
    );
}

#[test]
fn json_covers_a_clean_run_and_every_failure() {
    let (code, err) = stderr_of(&[
        "check",
        s(&example("egress-cilium-1.17")),
        "--message-format",
        "json",
    ]);
    assert_eq!(code, Some(0));
    let doc: Value = serde_json::from_str(&err).expect("one JSON object");
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(
        (doc["errors"].as_u64(), doc["warnings"].as_u64()),
        (Some(0), Some(0))
    );
    let (_, err) = stderr_of(&[
        "check",
        s(&example("quickstart")),
        "--message-format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&err).expect("one JSON object");
    assert_eq!(doc["findings"][0]["code"], "MK407");
    assert_eq!(doc["warnings"], 1);
    // I/O and usage errors are JSON too.
    for args in [
        vec!["check", "no-such.yaml", "--message-format", "json"],
        vec!["check", "--no-such-flag", "--message-format", "json"],
    ] {
        let (code, err) = stderr_of(&args);
        assert_eq!(code, Some(2));
        let doc: Value = serde_json::from_str(&err).expect("JSON");
        assert!(doc["error"].is_string(), "{err}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let quickstart = example("quickstart");
    // Not a terminal here: no colour by default.
    assert!(!stderr_of(&["check", s(&quickstart)]).1.contains('\u{1b}'));
    let (_, err) = stderr_of(&["check", s(&quickstart), "--color", "always"]);
    assert!(
        err.starts_with("\u{1b}[1;33mwarning\u{1b}[0m[MK407]"),
        "{err:?}"
    );
    // The flag beats NO_COLOR; NO_COLOR and `never` keep it plain.
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["check", s(&quickstart), "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
    let (_, err) = stderr_of(&["check", s(&quickstart), "--color", "never"]);
    assert!(!err.contains('\u{1b}'));
}

#[test]
fn synth_says_what_it_wrote_except_on_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = example("egress-cilium-1.17");
    let out = dir.path().join("out.yaml");
    let (code, err) = stderr_of(&["synth", s(&config), "-o", s(&out)]);
    assert_eq!(code, Some(0));
    let objects = std::fs::read_to_string(&out)
        .expect("out")
        .matches("\nkind: ")
        .count();
    assert_eq!(err, format!("wrote {objects} objects to {}\n", s(&out)));
    // Standard output: stderr stays empty for a config without warnings.
    assert_eq!(
        stderr_of(&["synth", s(&config), "-o", "-"]),
        (Some(0), String::new())
    );
    let split = dir.path().join("split");
    let (_, err) = stderr_of(&["synth", s(&config), "--split", s(&split)]);
    assert_eq!(err, format!("wrote {objects} objects to {}\n", s(&split)));
    let (_, err) = stderr_of(&[
        "synth",
        s(&config),
        "-o",
        s(&out),
        "--message-format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&err).expect("JSON");
    assert_eq!(doc["wrote"], s(&out));
    assert_eq!(doc["objects"], objects);
    // With findings too, one JSON object: what it found and what it wrote (issue 20).
    let quickstart = example("quickstart");
    let args = [
        "synth",
        s(&quickstart),
        "-o",
        s(&out),
        "--message-format",
        "json",
    ];
    let (_, err) = stderr_of(&args);
    assert_eq!(err.lines().count(), 1, "{err}");
    let doc: Value = serde_json::from_str(&err).expect("one JSON object");
    assert_eq!(
        (doc["warnings"].as_u64(), doc["wrote"].as_str()),
        (Some(1), Some(s(&out)))
    );
    // MK407 from synth too.
    let (_, err) = stderr_of(&["synth", s(&example("quickstart")), "-o", "-"]);
    assert!(err.starts_with("warning[MK407]"), "{err}");
}
