//! The schema's leaf rules (`pattern`, `maxLength`) held against a real JSON Schema validator:
//! every rule the schema states refuses, in an editor, a value `mailu-k8s check` refuses too (at
//! the same path), and accepts every example. A schema stricter than the parsers would mark valid
//! configs red; one looser than it claims would let a bad value through unflagged.

use jsonschema::error::ValidationErrorKind;
use serde_json::{Value, json};

use crate::testing::MINIMAL;

/// A bad leaf: the keys to set on the minimal config (dotted, from the top) with their values,
/// and the path both `check` and the schema report it at.
struct Row {
    sets: Vec<(&'static str, Value)>,
    at: &'static str,
}

fn row(set: &'static str, value: Value, at: &'static str) -> Row {
    Row {
        sets: vec![(set, value)],
        at,
    }
}

/// One row per rule the schema states, each on every kind of field that carries it.
fn rows() -> Vec<Row> {
    let long = |n: usize| Value::String("a".repeat(n));
    let postgresql = |key: &str, value: Value| {
        let mut pg = json!({"host": "db.example", "secretName": "mailu-db"});
        pg[key] = value;
        json!({"type": "postgresql", "postgresql": pg})
    };
    // A name of our own, so only the reference is in question.
    let extra_env = |value: Value| json!({"allowUnknownEnv": true, "extraEnv": {"MY_VAR": value}});
    vec![
        // DNS-1123 label.
        row("namespace", json!("Mailu"), "namespace"),
        row("namespace", json!("mail-"), "namespace"),
        row("namespace", long(64), "namespace"),
        row(
            "networkPolicies.submissionFrom",
            json!([{"namespace": "Apps"}]),
            "networkPolicies.submissionFrom[0].namespace",
        ),
        row(
            "ingress",
            json!({"type": "gatewayApi", "gatewayApi": {"gatewayName": "gw", "gatewayNamespace": "a.b"}}),
            "ingress.gatewayApi.gatewayNamespace",
        ),
        // DNS-1123 subdomain.
        row(
            "secrets.mailuSecretKey",
            json!("Mailu"),
            "secrets.mailuSecretKey",
        ),
        row(
            "secrets.mailuSecretKey",
            long(254),
            "secrets.mailuSecretKey",
        ),
        row("secrets.apiToken", json!("a..b"), "secrets.apiToken"),
        row(
            "secrets.initialAdminPassword",
            json!("-pw"),
            "secrets.initialAdminPassword",
        ),
        row(
            "storage.storageClass",
            json!("Fast"),
            "storage.storageClass",
        ),
        row(
            "storage.admin.storageClass",
            json!("a_b"),
            "storage.admin.storageClass",
        ),
        row(
            "storage.admin.existingClaim",
            json!("claim."),
            "storage.admin.existingClaim",
        ),
        row(
            "pods.priorityClassName",
            json!("High"),
            "pods.priorityClassName",
        ),
        row(
            "images.pullSecrets",
            json!(["ok", "Not-Ok"]),
            "images.pullSecrets[1]",
        ),
        row(
            "database",
            postgresql("secretName", json!("Db")),
            "database.postgresql.secretName",
        ),
        row("tls.secretName", json!("Cert"), "tls.secretName"),
        row(
            "tls.certificate",
            json!({"issuerName": "LE"}),
            "tls.certificate.issuerName",
        ),
        row(
            "ingress",
            json!({"type": "traefik", "traefik": {"certIssuer": "LE"}}),
            "ingress.traefik.certIssuer",
        ),
        row(
            "ingress",
            json!({"type": "gatewayApi", "gatewayApi": {"gatewayName": "Gw"}}),
            "ingress.gatewayApi.gatewayName",
        ),
        row(
            "ingress",
            json!({"type": "ingress", "ingress": {"className": "Nginx"}}),
            "ingress.ingress.className",
        ),
        row("dns.dkim.secretName", json!("Dkim"), "dns.dkim.secretName"),
        row(
            "egress",
            json!({"mode": "relay", "relay": {"host": "smtp.relay.example", "secretName": "R"}}),
            "egress.relay.secretName",
        ),
        row(
            "egress",
            json!({"mode": "antrea", "ips": ["203.0.113.40"], "antrea": {"externalIPPool": "P"}}),
            "egress.antrea.externalIPPool",
        ),
        row(
            "workloads.admin",
            extra_env(json!({"secretKeyRef": {"name": "Site", "key": "name"}})),
            "workloads.admin.extraEnv.MY_VAR.secretKeyRef.name",
        ),
        // Secret and data keys.
        row(
            "database",
            postgresql("secretKeys", json!({"username": "user name"})),
            "database.postgresql.secretKeys.username",
        ),
        row(
            "database",
            postgresql("secretKeys", json!({"password": ".."})),
            "database.postgresql.secretKeys.password",
        ),
        row(
            "database",
            postgresql("secretKeys", json!({"password": long(254)})),
            "database.postgresql.secretKeys.password",
        ),
        row(
            "workloads.admin",
            extra_env(json!({"configMapKeyRef": {"name": "site", "key": "."}})),
            "workloads.admin.extraEnv.MY_VAR.configMapKeyRef.key",
        ),
        // Database names.
        row(
            "database",
            postgresql("database", json!("mailu'db")),
            "database.postgresql.database",
        ),
        row(
            "database",
            postgresql("database", long(64)),
            "database.postgresql.database",
        ),
        Row {
            sets: vec![
                ("components.webmail", json!(true)),
                (
                    "webmail.roundcubeDatabase",
                    json!({"host": "db.example", "database": "", "secretName": "rc"}),
                ),
            ],
            at: "webmail.roundcubeDatabase.database",
        },
        // Mailbox names.
        row("mailu.postmaster", json!(".admin"), "mailu.postmaster"),
        row(
            "mailu.postmaster",
            json!("post..master"),
            "mailu.postmaster",
        ),
        row("mailu.postmaster", long(65), "mailu.postmaster"),
        row(
            "mailu.initialAccount",
            json!({"enabled": true, "username": "admin."}),
            "mailu.initialAccount.username",
        ),
        // Image references.
        row(
            "images.registry",
            json!("ghcr.io/mailu/"),
            "images.registry",
        ),
        row("images.registry", json!("GHCR.io/mailu"), "images.registry"),
        row("images.tag", json!("-2024.06"), "images.tag"),
        row("images.tag", long(64), "images.tag"),
        row(
            "workloads.admin.image",
            json!({"repository": "Registry.example/admin"}),
            "workloads.admin.image.repository",
        ),
        row(
            "workloads.admin.image",
            json!({"tag": "2024.06_"}),
            "workloads.admin.image.tag",
        ),
        row(
            "workloads.admin.image",
            json!({"digest": format!("sha256:{}", "A".repeat(64))}),
            "workloads.admin.image.digest",
        ),
    ]
}

/// The minimal config as a document with each value set at its dotted key.
fn document(sets: Vec<(&str, Value)>) -> Value {
    let mut doc = crate::parse_document(MINIMAL.as_bytes()).expect("the minimal config parses");
    for (set, value) in sets {
        let mut at = &mut doc;
        for key in set.split('.') {
            at = at
                .as_object_mut()
                .expect("an object on the way")
                .entry(key)
                .or_insert_with(|| json!({}));
        }
        *at = value;
    }
    doc
}

/// A finding's path (`a.b[1].c`) as the JSON pointer the validator reports (`/a/b/1/c`).
fn pointer(path: &str) -> String {
    path.split('.')
        .flat_map(|part| part.split('['))
        .map(|seg| format!("/{}", seg.trim_end_matches(']')))
        .collect()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(crate::committed_schema()).expect("the schema compiles")
}

#[test]
fn the_schema_refuses_what_check_refuses_at_the_same_path() {
    let validator = validator();
    for Row { sets, at } in rows() {
        let doc = document(sets);
        let findings = crate::load(doc.to_string().as_bytes()).expect_err(at);
        assert!(
            findings.iter().any(|d| d.is_error() && d.path == at),
            "check does not refuse {at}: {findings:#?}"
        );
        let want = pointer(at);
        let errors: Vec<_> = validator.iter_errors(&doc).collect();
        let by_a_leaf_rule = |e: &jsonschema::ValidationError<'_>| {
            matches!(
                e.kind(),
                ValidationErrorKind::Pattern { .. } | ValidationErrorKind::MaxLength { .. }
            ) && e.instance_path().as_str() == want
        };
        // An `extraEnv` value is text or a reference (`anyOf`): the validator reports the
        // branch that failed at the value, not inside it.
        let by_a_branch = |e: &jsonschema::ValidationError<'_>| {
            matches!(e.kind(), ValidationErrorKind::AnyOf { .. })
                && want.starts_with(&format!("{}/", e.instance_path().as_str()))
        };
        assert!(
            errors.iter().any(|e| by_a_leaf_rule(e) || by_a_branch(e)),
            "the schema does not refuse {at} by a leaf rule: {:?}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_schema_accepts_every_example() {
    let validator = validator();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let doc = crate::parse_document(&std::fs::read(&path).expect("read")).expect("parses");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} examples");
}
