//! `mailu-k8s init`: into a directory, beside an existing identical schema, and nothing written
//! when it refuses.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::PredicateBooleanExt;

fn init(dir: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("mailu-k8s")
        .current_dir(dir)
        .arg("init")
        .args(args)
        .assert()
}

#[test]
fn a_directory_gets_mailu_yaml_and_the_schema() {
    let tmp = tempfile::tempdir().expect("tempdir");
    init(tmp.path(), &["new/"]).success();
    assert!(tmp.path().join("new/mailu.yaml").is_file());
    assert!(tmp.path().join("new/mailu-k8s.schema.json").is_file());
    std::fs::create_dir(tmp.path().join("existing")).expect("mkdir");
    init(tmp.path(), &["existing"]).success();
    assert!(tmp.path().join("existing/mailu.yaml").is_file());
    assert!(
        !tmp.path().join("mailu-k8s.schema.json").exists(),
        "nothing lands in ."
    );
}

#[test]
fn a_second_config_shares_an_identical_schema() {
    let tmp = tempfile::tempdir().expect("tempdir");
    init(tmp.path(), &["a.yaml"]).success();
    init(tmp.path(), &["b.yaml"]).success();
    assert!(tmp.path().join("b.yaml").is_file());
}

#[test]
fn a_different_schema_is_kept_and_nothing_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("mailu-k8s.schema.json"), "{}\n").expect("write");
    init(tmp.path(), &["a.yaml"])
        .code(2)
        .stderr(predicates::str::contains("--force"))
        .stderr(predicates::str::contains("-o").not());
    assert!(!tmp.path().join("a.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("mailu-k8s.schema.json")).expect("read"),
        "{}\n"
    );
    init(tmp.path(), &["a.yaml", "--force"]).success();
    assert!(tmp.path().join("a.yaml").is_file());
}
