//! `mailu-k8s krm`: a KRM function (the kustomize/kpt functions specification): a `ResourceList`
//! on standard input whose `functionConfig` holds the config under `spec`; the same list on
//! standard output with the installation's objects added, and every finding as a `result`.
//! Exit 0 when the config is valid; 2 (the results say why) when not.

use std::io::Read;

use mailu_k8s_config::{Diagnostic, Severity};
use serde_json::{Value, json};

use crate::io::{Failure, Outcome, write_stdout};

/// The `apiVersion`/`kind` of the function config this command reads, for documentation and
/// error messages; any kind is accepted as long as it has `spec`.
pub(crate) const FUNCTION_CONFIG_KIND: &str = "mailu-k8s.io/v1alpha1 Config";

pub(crate) fn run() -> Outcome {
    let list = read_resource_list().map_err(|e| (String::from("<stdin>"), Failure::Io(e)))?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let (objects, mut findings) = generate(&list["functionConfig"]);
    // Lines and columns would be those of the re-serialized spec, not of the user's file.
    findings.iter_mut().for_each(|d| d.location = None);
    let failed = findings.iter().any(Diagnostic::is_error);
    // Also on standard error, as text: kustomize shows a failing function's stderr, not its
    // results.
    crate::io::report(
        "functionConfig.spec",
        &findings,
        crate::io::MessageFormat::Text,
    );
    let out = json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items.into_iter().chain(objects).collect::<Vec<_>>(),
        "results": findings.iter().map(result).collect::<Vec<_>>(),
    });
    let text = mailu_k8s_manifests::yaml_documents_with_header("", &[out]);
    write_stdout(text.trim_start_matches("---\n")).map_err(|e| (String::new(), Failure::Io(e)))?;
    if failed {
        Err((String::new(), Failure::Reported))
    } else {
        Ok(())
    }
}

/// The ResourceList, within the config size limit times a margin for the items passed through.
fn read_resource_list() -> Result<Value, String> {
    let limit = 64 * mailu_k8s_config::MAX_CONFIG_BYTES as u64;
    let mut text = String::new();
    std::io::stdin()
        .take(limit)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the ResourceList on standard input: {e}"))?;
    let list: Value = serde_saphyr::from_str(&text)
        .map_err(|e| format!("standard input is not a ResourceList: {e}"))?;
    if list["kind"] != "ResourceList" {
        return Err("standard input is not a ResourceList (kind: ResourceList)".to_owned());
    }
    Ok(list)
}

/// The objects for the config under `functionConfig.spec`, or the findings that stop it.
fn generate(function_config: &Value) -> (Vec<Value>, Vec<Diagnostic>) {
    let Some(spec) = function_config.get("spec").filter(|s| s.is_object()) else {
        let d = Diagnostic::error(
            mailu_k8s_config::Code::NotAMapping,
            "",
            "the function config has no `spec` mapping",
        )
        .with_hint(format!(
            "give the function a {FUNCTION_CONFIG_KIND} whose `spec` is a mailu-k8s config"
        ));
        return (Vec::new(), vec![d]);
    };
    // JSON is YAML: the config goes through the same loader, limits and validation as a file.
    let text = serde_json::to_string(spec).unwrap_or_default();
    match mailu_k8s_config::load(text.as_bytes()) {
        Ok(loaded) => {
            let objects = mailu_k8s_manifests::synthesize(&loaded.config).values();
            (objects, loaded.warnings)
        }
        Err(findings) => (Vec::new(), findings),
    }
}

/// A finding as a KRM `result`: message (with the code and hint), severity, and the field.
fn result(d: &Diagnostic) -> Value {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = format!("[{}] {}", d.code.id(), d.message);
    if let Some(hint) = &d.hint {
        message.push_str(&format!(" (fix: {hint})"));
    }
    let mut r = json!({ "message": message, "severity": severity });
    if !d.path.is_empty() {
        r["field"] = json!({ "path": format!("spec.{}", d.path) });
    }
    if let Some(value) = &d.value {
        r["field"]["currentValue"] = json!(value);
    }
    r
}
