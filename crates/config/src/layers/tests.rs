use serde_json::{Value, json};

use super::*;
use crate::testing::MINIMAL;

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("yaml")
}

fn files<'a>(layers: &'a [(&'a str, &'a str)]) -> Vec<File<'a>> {
    layers
        .iter()
        .map(|(name, text)| File {
            name,
            bytes: text.as_bytes(),
        })
        .collect()
}

fn findings(layers: &[(&str, &str)], sets: &[&str]) -> Vec<Diagnostic> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load(&files(layers), &sets).expect_err("refused")
}

/// The one finding at `path`, as (file, line, column).
fn at(found: &[Diagnostic], path: &str) -> (Option<String>, Option<(u64, u64)>) {
    let d = found
        .iter()
        .find(|d| d.path == path)
        .unwrap_or_else(|| panic!("no finding at {path}: {found:#?}"));
    (d.file.clone(), d.location.map(|l| (l.line, l.column)))
}

#[test]
fn merge_semantics_table() {
    let table = [
        // maps merge key by key
        (
            "a: {x: 1, y: 2}",
            "a: {y: 3, z: 4}",
            json!({"a": {"x": 1, "y": 3, "z": 4}}),
        ),
        // lists are replaced, not appended to
        ("l: [1, 2, 3]", "l: [9]", json!({"l": [9]})),
        // null removes a key an earlier layer set
        ("a: {x: 1, y: 2}", "a: {x: null}", json!({"a": {"y": 2}})),
        ("a: {x: 1}\nb: 2", "a: null", json!({"b": 2})),
        // null for a key nobody set: nothing to remove
        ("b: 2", "a: {x: null}", json!({"b": 2, "a": {}})),
        // a type change replaces, both ways
        ("a: {x: 1}", "a: text", json!({"a": "text"})),
        ("a: text", "a: {x: 1, y: null}", json!({"a": {"x": 1}})),
        ("a: [1]", "a: {x: 1}", json!({"a": {"x": 1}})),
        // a list of mappings is replaced whole
        ("l: [{x: 1, y: 2}]", "l: [{x: 3}]", json!({"l": [{"x": 3}]})),
    ];
    for (base, overlay, want) in table {
        let mut doc = yaml(base);
        merge(&mut doc, yaml(overlay));
        assert_eq!(doc, want, "{base} + {overlay}");
    }
}

#[test]
fn one_file_without_set_is_the_single_file_load() {
    let bad = format!("{MINIMAL}storage: {{dovecot: {{size: 50GB}}}}\n");
    let layered = load(&files(&[("mailu.yaml", &bad)]), &[]).expect_err("refused");
    let single = crate::load(bad.as_bytes()).expect_err("refused");
    assert_eq!(layered, single);
    assert!(layered.iter().all(|d| d.file.is_none()));
}

#[test]
fn a_finding_names_the_file_and_line_that_set_the_value() {
    let prod = "# production\nstorage:\n  dovecot:\n    size: 50GB\n";
    let found = findings(&[("base.yaml", MINIMAL), ("prod.yaml", prod)], &[]);
    assert_eq!(
        at(&found, "storage.dovecot.size"),
        (Some("prod.yaml".into()), Some((4, 11)))
    );
    // The same value set in the base and overridden later: the later file is named.
    let base = format!("{MINIMAL}storage: {{dovecot: {{size: 50GB}}}}\n");
    let found = findings(&[("base.yaml", &base), ("prod.yaml", prod)], &[]);
    assert_eq!(
        at(&found, "storage.dovecot.size").0.as_deref(),
        Some("prod.yaml")
    );
    // A bad value only the base sets, under a mapping the overlay also has: the base.
    let prod = "storage: {dovecot: {storageClass: fast}}\n";
    let found = findings(&[("base.yaml", &base), ("prod.yaml", prod)], &[]);
    assert_eq!(
        at(&found, "storage.dovecot.size"),
        (Some("base.yaml".into()), Some((6, 27)))
    );
}

#[test]
fn a_replaced_list_and_an_unknown_key_point_at_the_later_file() {
    let base = MINIMAL.replace("[mail.example.com]", "[mail.example.com, mx.example.com]");
    let prod = "hostnames:\n  - bad_name!\n";
    let found = findings(&[("base.yaml", &base), ("prod.yaml", prod)], &[]);
    assert_eq!(
        at(&found, "hostnames[0]"),
        (Some("prod.yaml".into()), Some((2, 5)))
    );
    // Structural findings stop the load before value rules run: on their own.
    let prod = "hostnames: [a.example.com]\nmailu: {logLevl: INFO}\n";
    let found = findings(&[("base.yaml", &base), ("prod.yaml", prod)], &[]);
    assert_eq!(
        at(&found, "mailu.logLevl"),
        (Some("prod.yaml".into()), Some((2, 9)))
    );
}

#[test]
fn a_list_item_a_later_file_replaced_is_that_file_s() {
    let spread =
        |item: &str| format!("workloads: {{front: {{topologySpreadConstraints: [{item}]}}}}\n");
    let base = format!(
        "{MINIMAL}{}",
        spread("{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}")
    );
    let prod = spread("{maxSkew: 2}");
    let found = findings(&[("base.yaml", &base), ("prod.yaml", &prod)], &[]);
    let path = "workloads.front.topologySpreadConstraints[0].topologyKey";
    assert_eq!(at(&found, path).0.as_deref(), Some("prod.yaml"));
    // A list item replaced by --set is the argument's, even where the file had the key.
    let arg = "workloads.front.topologySpreadConstraints[0]={maxSkew: 2}";
    let found = load(&files(&[("base.yaml", &base)]), &[arg.to_owned()]).expect_err("refused");
    assert_eq!(at(&found, path).0, Some(format!("--set {arg}")));
}

#[test]
fn a_missing_key_points_at_the_last_layer_holding_its_block() {
    let base = MINIMAL.replace("secrets: {mailuSecretKey: k}\n", "secrets: {}\n");
    let found = findings(&[("base.yaml", &base), ("prod.yaml", "mailu: {}\n")], &[]);
    assert_eq!(
        at(&found, "secrets.mailuSecretKey"),
        (Some("base.yaml".into()), Some((4, 10)))
    );
    // The deepest enclosing block wins over a later, shallower one.
    let base =
        format!("{MINIMAL}database:\n  type: postgresql\n  postgresql: {{host: db.example.com}}\n");
    let prod = "database: {type: postgresql}\n";
    let found = findings(&[("base.yaml", &base), ("prod.yaml", prod)], &[]);
    assert_eq!(
        at(&found, "database.postgresql.secretName"),
        (Some("base.yaml".into()), Some((8, 15)))
    );
    // Removed by a later layer: that layer's `null` is named.
    let found = findings(
        &[
            ("base.yaml", MINIMAL),
            ("prod.yaml", "secrets: {mailuSecretKey: null}\n"),
        ],
        &[],
    );
    assert_eq!(
        at(&found, "secrets.mailuSecretKey"),
        (Some("prod.yaml".into()), Some((1, 27)))
    );
}

#[test]
fn parse_errors_name_their_file() {
    let found = findings(&[("base.yaml", MINIMAL), ("prod.yaml", "a: [\n")], &[]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, Code::YamlSyntax);
    assert_eq!(found[0].file.as_deref(), Some("prod.yaml"));
    let found = findings(&[("base.yaml", MINIMAL), ("prod.yaml", "# nothing\n")], &[]);
    assert_eq!(found[0].code, Code::NotAMapping);
    assert_eq!(found[0].file.as_deref(), Some("prod.yaml"));
}

fn set(sets: &[&str]) -> Result<Loaded, Vec<Diagnostic>> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load(&files(&[("mailu.yaml", MINIMAL)]), &sets)
}

#[test]
fn set_values_are_typed_by_the_schema() {
    let table: &[(&str, Value)] = &[
        // integer field: a number
        ("mailu.messageSizeLimit=100", json!(100)),
        // string field: the text, even when it looks like a number or a boolean
        ("namespace=12345", json!("12345")),
        ("mailu.branding.siteName=true", json!("true")),
        // boolean field
        ("mailu.apiEnabled=true", json!(true)),
        // a list field takes YAML
        (
            "hostnames=[a.example.com, b.example.com]",
            json!(["a.example.com", "b.example.com"]),
        ),
        // a list item: a string
        ("hostnames[0]=007.example.com", json!("007.example.com")),
    ];
    for (arg, want) in table {
        let (raw_path, raw_value) = arg.split_once('=').expect("=");
        let segments = parse_path(raw_path).expect("path");
        assert_eq!(
            &typed_value(&segments, raw_value).expect("value"),
            want,
            "{arg}"
        );
    }
    let loaded = set(&["mailu.messageSizeLimit=100", "hostnames[1]=mx.example.com"])
        .unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(loaded.config.hostnames.others.len(), 1);
}

#[test]
fn set_null_removes_and_indexes_replace_or_append() {
    let mut doc = yaml("a: {x: 1, y: 2}\nl: [1, 2]\n");
    set_at(&mut doc, &parse_path("a.x").expect("ok"), Value::Null).expect("ok");
    set_at(&mut doc, &parse_path("l[0]").expect("ok"), json!(9)).expect("ok");
    set_at(&mut doc, &parse_path("l[2]").expect("ok"), json!(3)).expect("ok");
    set_at(&mut doc, &parse_path("new.deep").expect("ok"), json!("v")).expect("ok");
    set_at(&mut doc, &parse_path("a.z").expect("ok"), json!({"k": 1})).expect("ok");
    assert_eq!(
        doc,
        json!({"a": {"y": 2, "z": {"k": 1}}, "l": [9, 2, 3], "new": {"deep": "v"}})
    );
    let err = set_at(&mut doc, &parse_path("l[7]").expect("ok"), json!(1)).expect_err("refused");
    assert!(err.contains("past its end"), "{err}");
}

#[test]
fn set_paths_parse_with_escaped_dots_and_indexes() {
    use Segment::{Index as I, Key as K};
    let k = |s: &str| K(s.to_owned());
    assert_eq!(
        parse_path("a.b[0].c").expect("ok"),
        vec![k("a"), k("b"), I(0), k("c")]
    );
    assert_eq!(parse_path("a[1][2]").expect("ok"), vec![k("a"), I(1), I(2)]);
    assert_eq!(
        parse_path(r"ingress.annotations.nginx\.io/x").expect("ok"),
        vec![k("ingress"), k("annotations"), k("nginx.io/x")]
    );
    for bad in ["", "a..b", ".a", "a.", "a[x]", "a[-1]", "a[]"] {
        assert!(parse_path(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn bad_set_arguments_are_findings_naming_the_argument() {
    for (arg, says) in [
        ("mailu.messageSizeLimit", "has no `=`"),
        ("a..b=1", "empty key"),
        ("hostnames[5]=x.example.com", "past its end"),
        ("domain.x=1", "not a mapping"),
        ("hostnames=[a, b", "not valid YAML"),
    ] {
        let found = set(&[arg]).expect_err(arg);
        assert_eq!(found.len(), 1, "{arg}: {found:#?}");
        assert_eq!(found[0].code, Code::InvalidSet, "{arg}");
        assert_eq!(found[0].file.as_deref(), Some(&*format!("--set {arg}")));
        assert!(
            found[0].message.contains(says),
            "{arg}: {}",
            found[0].message
        );
        assert!(found[0].hint.is_some());
    }
}

#[test]
fn findings_about_set_values_name_the_argument() {
    let found = set(&["mailu.messageSizeLimit=lots", "mailu.logLevl=INFO"]).expect_err("refused");
    let (file, location) = at(&found, "mailu.messageSizeLimit");
    assert_eq!(file.as_deref(), Some("--set mailu.messageSizeLimit=lots"));
    assert_eq!(location, None);
    let d = found
        .iter()
        .find(|d| d.path == "mailu.logLevl")
        .expect("unknown key");
    assert_eq!(d.code, Code::UnknownKey);
    assert_eq!(d.hint.as_deref(), Some("did you mean `logLevel`?"));
    assert_eq!(d.file.as_deref(), Some("--set mailu.logLevl=INFO"));
    // Set in a file, then by --set: the argument is named.
    let base = format!("{MINIMAL}storage: {{dovecot: {{size: 1Gi}}}}\n");
    let found = load(
        &files(&[("base.yaml", &base)]),
        &["storage.dovecot.size=50GB".to_owned()],
    )
    .expect_err("refused");
    assert_eq!(
        at(&found, "storage.dovecot.size").0.as_deref(),
        Some("--set storage.dovecot.size=50GB")
    );
}

/// `null` removes what an earlier layer set, except where the schema gives it a meaning of its
/// own: a limit set to `null` in an overlay or with `--set` means "no limit" (issue 20), as a
/// Helm value set to `null` drops the chart's default.
#[test]
fn a_null_limit_survives_the_merge() {
    let base = format!("{MINIMAL}resources:\n  front: {{limits: {{cpu: 2, memory: 1Gi}}}}\n");
    let overlay = "resources:\n  front: {limits: {cpu: null}}\n";
    let loaded = load(&files(&[("base.yaml", &base), ("prod.yaml", overlay)]), &[]).expect("loads");
    let front = loaded.config.resources.compute(crate::Component::Front);
    assert!(front.limits.cpu.is_none(), "{front:?}");
    assert_eq!(
        front.limits.memory.as_ref().map(|q| q.as_str()),
        Some("1Gi")
    );

    let sets = ["resources.front.limits.memory=null".to_owned()];
    let loaded = load(&files(&[("base.yaml", &base)]), &sets).expect("loads");
    let front = loaded.config.resources.compute(crate::Component::Front);
    assert!(front.limits.memory.is_none(), "{front:?}");
    assert_eq!(front.limits.cpu.as_ref().map(|q| q.as_str()), Some("2"));
}
