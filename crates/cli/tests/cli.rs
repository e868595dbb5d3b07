//! The command line as a user meets it: every exit code, where output goes, and that bad input
//! leaves files alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

mod support;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.yaml"))
}

const BAD_CONFIG: &str = "\
domain: example
hostnames: [mail.example.com]
subnet: 10.42.0.1/16
secrets: {mailuSecretKey: s}
resolver: {serviceIP: 10.43.0.53}
storage: {dovecot: {size: 50GB}}
";

#[test]
fn synth_writes_the_default_output_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .args(["synth", example("quickstart").to_str().expect("utf-8")])
        .assert()
        .success()
        .stdout("")
        // What it wrote, as kubectl and helm say, in the one summary line after the
        // quickstart's one warning (issue 20: synth shows MK407 as `check` and `dns plan` do).
        // `-o -` says nothing of what it wrote (tests/output.rs).
        .stderr(
            predicate::str::is_match(
                r"no errors, 1 warning\(s\); wrote [0-9]+ objects to dist/mailu.k8s.yaml\n$",
            )
            .expect("regex")
            .and(predicate::str::starts_with("warning[MK407]: egress.mode:")),
        );
    let text = std::fs::read_to_string(dir.path().join("dist/mailu.k8s.yaml")).expect("output");
    assert!(text.contains("kind: Deployment"));
    // Nothing left behind from the atomic write.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("dist"))
        .expect("dist")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn synth_to_stdout_file_and_directory_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stdout = cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            example("production").to_str().expect("utf-8"),
            "-o",
            "-",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let file = dir.path().join("out.yaml");
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            example("production").to_str().expect("utf-8"),
            "-o",
        ])
        .arg(&file)
        .assert()
        .success();
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            example("production").to_str().expect("utf-8"),
            "-o",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let in_dir = std::fs::read(dir.path().join("mailu.k8s.yaml")).expect("dir output");
    assert_eq!(stdout, std::fs::read(&file).expect("file output"));
    assert_eq!(stdout, in_dir);
}

#[test]
fn synth_json_is_a_list_of_the_same_objects() {
    let yaml = cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            example("quickstart").to_str().expect("utf-8"),
            "-o",
            "-",
        ])
        .output()
        .expect("run");
    let json = cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            example("quickstart").to_str().expect("utf-8"),
            "-o",
            "-",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    assert!(json.status.success());
    let list: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(std::str::from_utf8(&yaml.stdout).expect("utf-8"))
            .expect("YAML");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().expect("items"), &docs);
}

#[test]
fn two_runs_give_identical_bytes() {
    let run = || {
        cargo_bin_cmd!("mailu-k8s")
            .args([
                "synth",
                example("production").to_str().expect("utf-8"),
                "-o",
                "-",
            ])
            .output()
            .expect("run")
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn invalid_config_exits_2_reports_everything_and_keeps_the_old_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("bad.yaml");
    std::fs::write(&config, BAD_CONFIG).expect("write");
    let out = dir.path().join("out.yaml");
    std::fs::write(&out, "previous output\n").expect("write");
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth"])
        .arg(&config)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("error[MK201]: domain:")
                .and(predicate::str::contains("error[MK202]: subnet:"))
                .and(predicate::str::contains(
                    "hint: write the network address: `10.42.0.0/16`",
                ))
                .and(predicate::str::contains(
                    "error[MK203]: storage.dovecot.size:",
                ))
                .and(predicate::str::contains("3 error(s)")),
        );
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "previous output\n"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        2,
        "no stray files"
    );
}

#[test]
fn invalid_config_writes_no_default_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mailu.yaml"), BAD_CONFIG).expect("write");
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .arg("synth")
        .assert()
        .code(2);
    assert!(!dir.path().join("dist").exists());
}

#[test]
fn json_findings_carry_code_path_value_and_hint() {
    let output = cargo_bin_cmd!("mailu-k8s")
        .args(["check", "-", "--message-format", "json"])
        .write_stdin(BAD_CONFIG)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    assert_eq!(doc["source"], "<stdin>");
    let findings = doc["findings"].as_array().expect("findings");
    let size = findings
        .iter()
        .find(|f| f["path"] == "storage.dovecot.size")
        .expect("size finding");
    assert_eq!(size["code"], "MK203");
    assert_eq!(size["name"], "invalid-quantity");
    assert_eq!(size["severity"], "error");
    assert_eq!(size["value"], "50GB");
    assert!(size["hint"].as_str().expect("hint").contains("50G"));
}

#[test]
fn yaml_errors_name_line_and_column() {
    cargo_bin_cmd!("mailu-k8s")
        .args(["check", "-"])
        .write_stdin("domain: example.com\nhostnames: [a\n")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("error[MK001]").and(predicate::str::contains("--> <stdin>:")),
        );
}

#[test]
fn check_refuses_what_dns_plan_would_refuse() {
    // A relay with no SPF include: `dns plan` cannot plan SPF, so `check` says so in the same pass.
    let config = mailu_k8s_config::minimal_yaml!(
        "egress: {mode: relay, relay: {host: smtp.relay.example, port: 587}}\n"
    );
    cargo_bin_cmd!("mailu-k8s")
        .args(["check", "-"])
        .write_stdin(config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[MK405]: dns.spfIncludes"));
    let with_include = format!("{config}dns: {{spfIncludes: [spf.relay.example]}}\n");
    cargo_bin_cmd!("mailu-k8s")
        .args(["check", "-"])
        .write_stdin(with_include)
        .assert()
        .success();
}

#[test]
fn check_accepts_the_examples() {
    let dir = example("quickstart").with_file_name("");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() > 10, "{paths:?}");
    for path in paths {
        cargo_bin_cmd!("mailu-k8s")
            .args(["check", path.to_str().expect("utf-8")])
            .assert()
            .success()
            .stderr(predicate::str::contains("no errors"));
    }
}

#[test]
fn missing_config_file_exits_2_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .args(["synth", "nope.yaml"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot read nope.yaml")
                .and(predicate::str::contains("mailu-k8s init")),
        );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    cargo_bin_cmd!("mailu-k8s")
        .arg("frobnicate")
        .assert()
        .code(2);
    cargo_bin_cmd!("mailu-k8s")
        .args(["synth", "--format", "xml"])
        .assert()
        .code(2);
    cargo_bin_cmd!("mailu-k8s")
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes"));
    cargo_bin_cmd!("mailu-k8s")
        .arg("--version")
        .assert()
        .success();
}

#[test]
fn oversized_input_fails_fast() {
    let big = "#".repeat(3 * 1024 * 1024);
    cargo_bin_cmd!("mailu-k8s")
        .args(["check", "-"])
        .write_stdin(big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MK002"));
}

#[test]
fn schema_prints_draft07_json() {
    let output = cargo_bin_cmd!("mailu-k8s")
        .arg("schema")
        .output()
        .expect("run");
    assert!(output.status.success());
    let schema: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema["properties"]["domain"]["description"].is_string());
}

#[test]
fn init_writes_a_valid_starter_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success();
    let config = std::fs::read_to_string(dir.path().join("mailu.yaml")).expect("config");
    assert!(config.starts_with("# yaml-language-server: $schema=./mailu-k8s.schema.json\n"));
    assert!(dir.path().join("mailu-k8s.schema.json").exists());
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .arg("synth")
        .assert()
        .success();
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir.path())
        .args(["init", "--force"])
        .assert()
        .success();
}

#[test]
fn closed_stdout_is_a_normal_end() {
    // `mailu-k8s synth -o - | head -c 1`: the reader goes away early; that is not an error.
    let bin = assert_cmd::cargo::cargo_bin!("mailu-k8s");
    let mut child = Command::new(bin)
        .args([
            "synth",
            example("production").to_str().expect("utf-8"),
            "-o",
            "-",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The PID the kernel gave out last, where Linux says.
fn last_pid() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[test]
fn a_symlink_planted_at_a_predictable_temp_name_is_not_followed() {
    // Earlier versions wrote `.<name>.<pid>.tmp` beside the target without O_EXCL: anyone who
    // could write to the directory could plant a symlink there and have the manifests written
    // through it (and the target replaced by the link). Plant links at that name for the next
    // PIDs, run, and check that the PID we got was covered.
    let Some(first) = last_pid() else {
        eprintln!("no /proc/sys/kernel/ns_last_pid: cannot predict PIDs, test skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let out = dir.path().join("mailu.k8s.yaml");
    const WINDOW: u32 = 2000;
    for pid in first + 1..=first + WINDOW {
        std::os::unix::fs::symlink(
            &victim,
            dir.path().join(format!(".mailu.k8s.yaml.{pid}.tmp")),
        )
        .expect("plant a symlink");
    }
    let bin = assert_cmd::cargo::cargo_bin!("mailu-k8s");
    let mut child = Command::new(bin)
        .args([
            "synth",
            example("quickstart").to_str().expect("utf-8"),
            "-o",
        ])
        .arg(&out)
        .spawn()
        .expect("run");
    let pid = child.id();
    assert!(child.wait().expect("wait").success());
    assert!(
        (first + 1..=first + WINDOW).contains(&pid),
        "PID {pid} was not predicted ({first} + 1..{WINDOW}); rerun"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "precious\n"
    );
    let meta = std::fs::symlink_metadata(&out).expect("output");
    assert!(meta.file_type().is_file(), "the output is a regular file");
    assert!(
        std::fs::read_to_string(&out)
            .expect("read")
            .contains("kind: Namespace")
    );
    // The planted links are still there and still links; nothing else was left behind.
    let planted = dir.path().join(format!(".mailu.k8s.yaml.{pid}.tmp"));
    assert!(
        std::fs::symlink_metadata(&planted)
            .expect("planted")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        WINDOW as usize + 2,
        "no stray files"
    );
}

#[test]
fn special_files_are_refused_as_output_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let socket = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind a socket");
    for (target, kind) in [(&fifo, "FIFO"), (&socket, "socket")] {
        cargo_bin_cmd!("mailu-k8s")
            .args([
                "synth",
                example("quickstart").to_str().expect("utf-8"),
                "-o",
            ])
            .arg(target)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::contains(kind)
                    .and(predicate::str::contains("not a regular file"))
                    .and(predicate::str::contains("-o -")),
            );
    }
    use std::os::unix::fs::FileTypeExt;
    let meta = |p: &Path| {
        std::fs::symlink_metadata(p)
            .expect("still there")
            .file_type()
    };
    assert!(meta(&fifo).is_fifo(), "the FIFO is left alone");
    assert!(meta(&socket).is_socket(), "the socket is left alone");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        2,
        "no stray files"
    );
    // Standard output stays `-o -`.
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "synth",
            example("quickstart").to_str().expect("utf-8"),
            "-o",
            "-",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: Namespace"));
}

#[test]
fn an_existing_output_is_replaced_only_by_a_successful_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, BAD_CONFIG).expect("write");
    let out = dir.path().join("out.yaml");
    std::fs::write(&out, "previous output\n").expect("write");
    let synth = |config: &Path| {
        cargo_bin_cmd!("mailu-k8s")
            .args(["synth", config.to_str().expect("utf-8"), "-o"])
            .arg(&out)
            .assert()
    };
    synth(&bad).code(2);
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "previous output\n"
    );
    synth(&example("quickstart")).success();
    let written = std::fs::read_to_string(&out).expect("read");
    assert!(written.starts_with("# Generated by mailu-k8s"), "{written}");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        2,
        "no stray files"
    );
}

// ---------------------------------------------------------------------------------------------
// `dkim keygen` writes private keys with the same care as `synth`'s output, and more.

const KEYGEN_CONFIG: &str = mailu_k8s_config::minimal_yaml!();

/// A config in a fresh directory (the public keys go to `dkim/` beside it).
fn keygen_dir() -> (tempfile::TempDir, PathBuf) {
    support::setup(KEYGEN_CONFIG)
}

fn keygen(config: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("mailu-k8s")
        .args(["dkim", "keygen", config.to_str().expect("utf-8")])
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn keygen_force_leaves_the_secret_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, config) = keygen_dir();
    let secret = dir.path().join("secret.yaml");
    std::fs::write(&secret, "old\n").expect("write");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    keygen(&config, &["--force", "-o", secret.to_str().expect("utf-8")]).success();
    assert_eq!(
        mode(&secret),
        0o600,
        "a replaced 0644 file does not keep 0644"
    );
    let text = std::fs::read_to_string(&secret).expect("secret");
    assert!(text.contains("BEGIN PRIVATE KEY"));
    // The header speaks of keys, not of `synth`.
    assert!(text.starts_with("# DKIM private keys"), "{text}");
    assert!(!text.contains("mailu-k8s synth"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn keygen_never_writes_through_a_symlink() {
    let (dir, config) = keygen_dir();
    let secret = dir.path().join("secret.yaml");
    let elsewhere = dir.path().join("elsewhere.yaml");
    // A dangling symlink is something there: refused without --force, nothing created.
    std::os::unix::fs::symlink(&elsewhere, &secret).expect("symlink");
    keygen(&config, &["-o", secret.to_str().expect("utf-8")])
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert!(!elsewhere.exists(), "the link was not followed");
    assert!(!dir.path().join("dkim").exists(), "no public key either");
    // With --force the link itself is replaced; the file it names stays as it was.
    std::fs::write(&elsewhere, "not yours\n").expect("write");
    keygen(&config, &["--force", "-o", secret.to_str().expect("utf-8")]).success();
    assert_eq!(
        std::fs::read_to_string(&elsewhere).expect("read"),
        "not yours\n"
    );
    let meta = std::fs::symlink_metadata(&secret).expect("meta");
    assert!(
        meta.file_type().is_file(),
        "a regular file replaced the link"
    );
    assert_eq!(mode(&secret), 0o600);
}

#[cfg(unix)]
#[test]
fn keygen_refuses_a_fifo_without_blocking_and_writes_nothing() {
    let (dir, config) = keygen_dir();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    keygen(&config, &["--force", "-o", fifo.to_str().expect("utf-8")])
        .code(2)
        .stderr(predicate::str::contains("FIFO"));
    assert!(
        !dir.path().join("dkim/example.com.dkim.pub").exists(),
        "no public key without its private half"
    );
}

#[test]
fn keygen_writes_both_halves_or_neither() {
    let (dir, config) = keygen_dir();
    let secret = dir.path().join("secret.yaml");
    // A public key's place is taken by a directory: the run fails before anything is written.
    std::fs::create_dir_all(dir.path().join("dkim/example.com.dkim.pub")).expect("mkdir");
    keygen(&config, &["--force", "-o", secret.to_str().expect("utf-8")])
        .code(2)
        .stderr(predicate::str::contains("example.com.dkim.pub"));
    assert!(!secret.exists(), "no private key without its public half");
    // Both written, then replaced together.
    std::fs::remove_dir(dir.path().join("dkim/example.com.dkim.pub")).expect("rmdir");
    keygen(&config, &["-o", secret.to_str().expect("utf-8")]).success();
    let public =
        std::fs::read_to_string(dir.path().join("dkim/example.com.dkim.pub")).expect("pub");
    assert!(public.contains("BEGIN PUBLIC KEY"));
}

#[test]
fn keygen_to_stdout_pipes_the_secret() {
    let (dir, config) = keygen_dir();
    let out = keygen(&config, &["-o", "-"]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("kind: Secret") && stdout.contains("BEGIN PRIVATE KEY"),
        "{stdout}"
    );
    assert!(!dir.path().join("-").exists(), "not a file named `-`");
    assert!(dir.path().join("dkim/example.com.dkim.pub").exists());
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("standard output"), "{stderr}");
    // The Secret reads back as one object.
    let docs: Vec<Value> = serde_saphyr::from_multiple(&stdout).expect("YAML");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["kind"], "Secret");
}

// ---------------------------------------------------------------------------------------------
// `dns plan` with several mail domains: a zone file holds one zone.

#[test]
fn dns_plan_to_stdout_says_which_zone_it_printed() {
    let (dir, config) = keygen_dir();
    std::fs::write(
        &config,
        format!("{KEYGEN_CONFIG}dns: {{domains: [example.net, example.org]}}\n"),
    )
    .expect("config");
    let plan = |args: &[&str]| {
        cargo_bin_cmd!("mailu-k8s")
            .args(["dns", "plan", config.to_str().expect("utf-8")])
            .args(args)
            .output()
            .expect("runs")
    };
    let out = plan(&[]);
    assert_eq!(out.status.code(), Some(0));
    let zone = String::from_utf8_lossy(&out.stdout);
    assert_eq!(zone.matches("$ORIGIN").count(), 1, "{zone}");
    assert!(zone.contains("$ORIGIN example.com."));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("printed the zone of example.com only")
            && stderr.contains("example.net, example.org")
            && stderr.contains("-o DIR"),
        "{stderr}"
    );
    // The same as JSON findings.
    let out = plan(&["--message-format", "json"]);
    let notes: Vec<Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert!(notes.iter().any(|d| {
        d["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["path"] == "dns.domains"))
    }));
    // Picked explicitly: no warning about the others.
    let out = plan(&["--zone", "example.net"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("$ORIGIN example.net."));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("dns.domains"));
    // A directory gets every zone.
    let zones = dir.path().join("zones");
    std::fs::create_dir(&zones).expect("mkdir");
    assert_eq!(
        plan(&["-o", zones.to_str().expect("utf-8")]).status.code(),
        Some(0)
    );
    for d in ["example.com", "example.net", "example.org"] {
        let text = std::fs::read_to_string(zones.join(format!("{d}.zone"))).expect("zone");
        assert!(text.contains(&format!("$ORIGIN {d}.")));
    }
    // external-dns output names the command that makes it.
    let out = plan(&["--format", "external-dns"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("run `mailu-k8s dns plan` again"), "{text}");
    assert!(!text.contains("mailu-k8s synth"), "{text}");
}
