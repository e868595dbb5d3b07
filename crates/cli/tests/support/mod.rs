//! Shared by the CLI's integration tests: a config file in a fresh directory, and paths as the
//! command line takes them.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `config` written to `mailu.yaml` in a fresh directory (removed when the guard drops).
pub fn setup(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailu.yaml");
    std::fs::write(&path, config).expect("config");
    (dir, path)
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}
