//! Shared by the integration tests: the bundled examples, and reading our YAML back with two
//! independent parsers: serde-saphyr, and libyaml through PyYAML's `CSafeLoader` (YAML 1.1, the
//! family kubectl's and most tools' readers belong to).

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workloads among the objects: Deployments, DaemonSets and StatefulSets.
pub fn workloads(objects: &[Value]) -> Vec<&Value> {
    objects
        .iter()
        .filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("Deployment" | "DaemonSet" | "StatefulSet")
            )
        })
        .collect()
}

/// Every example config, by file stem, validated (and without warnings: an example shows a
/// configuration done right).
pub fn examples() -> Vec<(String, mailu_k8s_config::Config)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 2, "expected the bundled examples");
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().expect("name").to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).expect("read example");
            let loaded = mailu_k8s_config::load(&bytes)
                .unwrap_or_else(|e| panic!("{name} does not load: {e:#?}"));
            assert!(loaded.warnings.is_empty(), "{name}: {:#?}", loaded.warnings);
            (name, loaded.config)
        })
        .collect()
}

/// Every document of `yaml`, as serde-saphyr reads it by default: YAML 1.2 numbers plus YAML
/// 1.1's `yes`/`no`/`on`/`off`/`y`/`n` booleans, so it catches look-alikes of both versions.
pub fn saphyr_documents(yaml: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple(yaml).map_err(|e| e.to_string())
}

/// Reads YAML streams with libyaml in one long-running Python process (starting Python per
/// document would dominate the property tests' time).
pub struct PyYaml {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// Reads `<length>\n<that many bytes of YAML>` requests and answers each with one JSON line:
/// `{"docs": [...]}` or `{"error": "..."}`. Anything JSON cannot hold exactly (a timestamp, a
/// non-string key, a float) is written as `{"$not-json": repr}`, so it never equals a string.
const WORKER: &str = r#"
import json, sys, yaml

def plain(node):
    if isinstance(node, dict):
        return {k if isinstance(k, str) else "$not-json:" + repr(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if node is None or isinstance(node, (str, bool, int)):
        return node
    return {"$not-json": repr(node)}

inp, out = sys.stdin.buffer, sys.stdout
while True:
    header = inp.readline()
    if not header:
        break
    text = inp.read(int(header)).decode("utf-8")
    try:
        docs = [plain(d) for d in yaml.load_all(text, Loader=yaml.CSafeLoader)]
        out.write(json.dumps({"docs": docs}) + "\n")
    except Exception as e:
        out.write(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}) + "\n")
    out.flush()
"#;

/// The interpreter to use: `$MAILU_K8S_PYTHON`, else the repository's `.venv` (which
/// `scripts/test` creates with PyYAML).
fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MAILU_K8S_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    venv.exists().then_some(venv)
}

impl PyYaml {
    /// Starts the reader, or says on the terminal why libyaml checks are skipped. The notice is
    /// written to the stderr handle directly, so the test harness does not swallow it.
    pub fn start(test: &str) -> Option<PyYaml> {
        match Self::try_start() {
            Ok(reader) => Some(reader),
            Err(why) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** {test}: SKIPPING the libyaml (PyYAML CSafeLoader) half of this test: \
                     {why}. Run scripts/test, or set MAILU_K8S_PYTHON to a Python with PyYAML \
                     built against libyaml. ***\n"
                );
                None
            }
        }
    }

    fn try_start() -> Result<PyYaml, String> {
        let python = python().ok_or("no $MAILU_K8S_PYTHON and no .venv/bin/python")?;
        let check = Command::new(&python)
            .args([
                "-c",
                "import yaml; assert yaml.__with_libyaml__; yaml.CSafeLoader",
            ])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        if !check.status.success() {
            return Err(format!(
                "{} has no PyYAML with libyaml: {}",
                python.display(),
                String::from_utf8_lossy(&check.stderr).trim()
            ));
        }
        let mut child = Command::new(&python)
            .args(["-c", WORKER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(PyYaml {
            child,
            stdin,
            stdout,
        })
    }

    /// Every document of `yaml` as libyaml reads it, or its error message.
    pub fn documents(&mut self, yaml: &str) -> Result<Vec<Value>, String> {
        write!(self.stdin, "{}\n{yaml}", yaml.len()).expect("write to the PyYAML worker");
        self.stdin.flush().expect("flush the PyYAML worker");
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("read from the PyYAML worker");
        let mut answer: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("PyYAML worker answered {line:?}: {e}"));
        match answer.get_mut("docs").map(Value::take) {
            Some(Value::Array(docs)) => Ok(docs),
            _ => Err(answer["error"].as_str().unwrap_or("no answer").to_owned()),
        }
    }
}

impl Drop for PyYaml {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
