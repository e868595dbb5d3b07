//! `synth --each`: many installations in one run, each output what `synth` alone writes, and
//! all or nothing unless `--keep-going`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;

/// `n` quickstart configs for domains c1.example.com, c2.example.com, …
fn customers(dir: &Path, n: usize) -> Vec<PathBuf> {
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart.yaml");
    let text = std::fs::read_to_string(quickstart).expect("read");
    (1..=n)
        .map(|i| {
            let path = dir.join(format!("c{i}.yaml"));
            let domain = format!("domain: c{i}.example.com");
            std::fs::write(&path, text.replacen("domain: example.com", &domain, 1)).expect("write");
            path
        })
        .collect()
}

fn synth(args: &[&Path]) -> assert_cmd::assert::Assert {
    let mut cmd = cargo_bin_cmd!("mailu-k8s");
    cmd.arg("synth");
    for a in args {
        cmd.arg(a);
    }
    cmd.assert()
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

#[test]
fn each_output_is_what_synth_writes_alone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let configs = customers(tmp.path(), 3);
    let out = tmp.path().join("out");
    let mut args: Vec<&Path> = vec![p("--each")];
    args.extend(configs.iter().map(PathBuf::as_path));
    args.extend([p("-o"), out.as_path()]);
    synth(&args).success();
    for (i, config) in configs.iter().enumerate() {
        let alone = cargo_bin_cmd!("mailu-k8s")
            .arg("synth")
            .arg(config)
            .args(["-o", "-"])
            .output()
            .expect("runs");
        let batch = std::fs::read(out.join(format!("c{}.yaml", i + 1))).expect("written");
        assert_eq!(batch, alone.stdout, "{}", config.display());
    }
}

#[test]
fn split_gives_each_installation_its_own_kustomization() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let configs = customers(tmp.path(), 2);
    let out = tmp.path().join("clusters");
    synth(&[p("--each"), &configs[0], &configs[1], p("--split"), &out]).success();
    for stem in ["c1", "c2"] {
        assert!(
            out.join(stem).join("kustomization.yaml").is_file(),
            "{stem}"
        );
        assert!(out.join(stem).join("front.yaml").is_file(), "{stem}");
    }
}

#[test]
fn one_invalid_config_writes_nothing_unless_keep_going() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut configs = customers(tmp.path(), 2);
    let bad = tmp.path().join("zz-bad.yaml");
    std::fs::write(&bad, "domain: example\n").expect("write");
    configs.push(bad);
    let out = tmp.path().join("out");
    let mut args: Vec<&Path> = vec![p("--each")];
    args.extend(configs.iter().map(PathBuf::as_path));
    args.extend([p("-o"), out.as_path()]);
    synth(&args)
        .code(2)
        .stderr(predicates::str::contains("zz-bad.yaml"));
    assert!(!out.exists(), "nothing written, not even the directory");
    args.push(p("--keep-going"));
    synth(&args).code(2);
    assert!(out.join("c1.yaml").is_file() && out.join("c2.yaml").is_file());
    assert!(!out.join("zz-bad.yaml").exists());
}

#[test]
fn refusals() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let configs = customers(tmp.path(), 2);
    std::fs::create_dir(tmp.path().join("other")).expect("mkdir");
    let twin = tmp.path().join("other/c1.yaml");
    std::fs::copy(&configs[0], &twin).expect("copy");
    let out = tmp.path().join("out");
    // Two outputs would be named c1.
    synth(&[p("--each"), &configs[0], &twin, p("-o"), &out])
        .code(2)
        .stderr(predicates::str::contains("two configs named c1"));
    // Several configs without --each are layers of one installation (tests/layers.rs), not
    // installations: one output, the later file winning.
    let layered = tmp.path().join("layered.yaml");
    synth(&[&configs[0], &configs[1], p("-o"), &layered]).success();
    let text = std::fs::read_to_string(&layered).expect("layered");
    assert!(text.contains("c2.example.com") && !text.contains("c1.example.com"));
    // --each needs a directory.
    synth(&[p("--each"), &configs[0]]).code(2);
    synth(&[p("--each"), &configs[0], p("-o"), p("-")]).code(2);
    assert!(!out.exists());
}
