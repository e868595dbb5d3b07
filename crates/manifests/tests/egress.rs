//! The egress objects checked against independent facts:
//! - every custom resource validates against the upstream JSON schema of the release it targets
//!   (`../shared/reference/jsonschema-cilium/<tag>/` per Cilium release, `jsonschema/` for Antrea
//!   and OVN-Kubernetes), with formats checked; the schemas are read at test time, never copied,
//!   and the checks are skipped loudly when the reference is absent;
//! - every object selects exactly the sending pods: evaluated here, from the pod templates'
//!   labels, with a label-selector evaluator written from the Kubernetes API reference;
//! - postfix's egress parameters reach its override file after the user's own lines.

mod common;
use common::{examples, repo_root};

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn load(text: &str) -> mailu_k8s_config::Config {
    mailu_k8s_config::load(text.as_bytes())
        .unwrap_or_else(|e| panic!("invalid config: {e:#?}\n{text}"))
        .config
}

const BASE: &str = mailu_k8s_config::minimal_yaml!("exposure: {service: {type: LoadBalancer}}\n");

const EGRESS_GROUPS: [&str; 3] = ["cilium.io", "crd.antrea.io", "k8s.ovn.org"];

fn egress_objects(objects: &[Value]) -> Vec<&Value> {
    objects
        .iter()
        .filter(|o| {
            let api = o["apiVersion"].as_str().unwrap_or_default();
            EGRESS_GROUPS
                .iter()
                .any(|g| api.starts_with(&format!("{g}/")))
        })
        .collect()
}

// --- upstream schemas -------------------------------------------------------------------------

/// The shared reference, or a loud notice that the schema checks are skipped.
fn reference(test: &str) -> Option<PathBuf> {
    let dir = repo_root().join("../shared/reference");
    if dir.join("jsonschema").is_dir() && dir.join("jsonschema-cilium").is_dir() {
        return Some(dir);
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** {test}: SKIPPING the upstream schema checks: {} is absent (the shared reference \
         must sit beside this repository). ***\n",
        dir.display()
    );
    None
}

/// The Cilium tag whose CRD a minor release's policies are validated against
/// (`shared/reference/crds/SOURCES.md`: the newest patch of each line available there).
fn cilium_tag(minor: u8) -> &'static str {
    match minor {
        16 => "v1.16.17",
        17 => "v1.17.14",
        18 => "v1.18.10",
        19 => "v1.19.4",
        20 => "v1.20.0-pre.4",
        other => panic!("no reference schema for Cilium 1.{other}"),
    }
}

/// The schema file an object is checked against: for Cilium, the release the config names.
fn schema_path(reference: &Path, object: &Value, config: &mailu_k8s_config::Config) -> PathBuf {
    let (group, version) = object["apiVersion"]
        .as_str()
        .and_then(|a| a.split_once('/'))
        .expect("group/version");
    let kind = object["kind"].as_str().expect("kind").to_lowercase();
    let file = format!("{kind}_{version}.json");
    if group == "cilium.io" {
        let mailu_k8s_config::egress::EgressMode::Cilium(c) = &config.egress.mode else {
            panic!("a Cilium policy without `egress.mode: cilium`")
        };
        // The object says which release it follows; it must be the configured one.
        assert_eq!(
            object["metadata"]["annotations"]["mailu-k8s.io/cilium-version"],
            c.version.to_string()
        );
        return reference
            .join("jsonschema-cilium")
            .join(cilium_tag(c.version.minor))
            .join(group)
            .join(file);
    }
    reference.join("jsonschema").join(group).join(file)
}

/// Schema violations of `object` (empty: valid), formats (`ipv4`, `ipv6`) checked.
fn violations(schema_file: &Path, object: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(schema_file)
        .unwrap_or_else(|e| panic!("{}: {e}", schema_file.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{}: {e}", schema_file.display()));
    validator
        .iter_errors(object)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(reference: &Path, what: &str, config: &mailu_k8s_config::Config) {
    let objects = mailu_k8s_manifests::synthesize(config).values();
    let egress = egress_objects(&objects);
    assert!(!egress.is_empty(), "{what}: no egress objects");
    for o in egress {
        let schema = schema_path(reference, o, config);
        let errors = violations(&schema, o);
        assert!(
            errors.is_empty(),
            "{what}: {} {} against {}:\n{}",
            o["kind"],
            o["metadata"]["name"],
            schema.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn every_example_egress_object_matches_its_upstream_schema() {
    let Some(reference) = reference("every_example_egress_object_matches_its_upstream_schema")
    else {
        return;
    };
    let mut checked = 0;
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        if egress_objects(&objects).is_empty() {
            continue;
        }
        assert_valid(&reference, &name, &config);
        checked += 1;
    }
    assert!(
        checked >= 4,
        "the egress examples: cilium 1.17, 1.20, antrea, ovn"
    );
}

/// The most each release can say: every feature mailu-k8s offers for it.
fn fullest_cilium(minor: u8) -> String {
    let mut cilium = format!(
        "version: '1.{minor}', nodeSelector: {{kubernetes.io/hostname: gw-1}}, egressIP: 203.0.113.25"
    );
    let mut ips = vec!["203.0.113.25"];
    let mut extra = String::new();
    if minor >= 17 {
        cilium.push_str(", sourceNodeSelector: {mail: 'true'}");
        extra.push_str("  nodeSelector: {mail: 'true'}\n");
    }
    if minor >= 18 {
        cilium.push_str(
            ", extraGateways: [{nodeSelector: {kubernetes.io/hostname: gw-2}, interface: eth1}, {nodeSelector: {kubernetes.io/hostname: gw-3}, egressIP: 203.0.113.27}]",
        );
        ips.extend(["203.0.113.26", "203.0.113.27"]);
    }
    let ipv6 = if minor >= 20 {
        ips.push("'2001:db8::25'");
        "gateway"
    } else {
        ips.push("'2001:db8::11'");
        "nodeIps"
    };
    format!(
        "{BASE}subnet6: fd00:42::/56\nnetworkPolicies: {{serviceCidrs: [10.43.0.0/16, 'fd00:43::/112']}}\ncomponents: {{fetchmail: true}}\negress:\n  mode: cilium\n  ips: [{}]\n  ipv6: {ipv6}\n  components: [fetchmail]\n{extra}  cilium: {{{cilium}}}\n",
        ips.join(", ")
    )
}

#[test]
fn cilium_policies_match_the_schema_of_every_release() {
    let Some(reference) = reference("cilium_policies_match_the_schema_of_every_release") else {
        return;
    };
    for minor in 16..=20 {
        let config = load(&fullest_cilium(minor));
        assert_valid(&reference, &format!("Cilium 1.{minor}"), &config);
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let policies = egress_objects(&objects);
        assert_eq!(
            policies.len(),
            if minor >= 20 { 2 } else { 1 },
            "1.{minor}: one policy per family that goes through the gateway"
        );
    }
}

#[test]
fn a_newer_shape_fails_an_older_release_schema() {
    // Negative control: the validator and the release schemas do tell releases apart, so the
    // version gating above is what keeps each release's objects valid.
    let Some(reference) = reference("a_newer_shape_fails_an_older_release_schema") else {
        return;
    };
    let schema = |minor: u8| {
        reference
            .join("jsonschema-cilium")
            .join(cilium_tag(minor))
            .join("cilium.io/ciliumegressgatewaypolicy_v2.json")
    };
    let newest = mailu_k8s_manifests::synthesize(&load(&fullest_cilium(20))).values();
    let newest = egress_objects(&newest);
    let (v4, v6) = (newest[0], newest[1]);
    assert!(
        !violations(&schema(17), v4).is_empty(),
        "egressGateways on 1.17"
    );
    assert!(
        !violations(&schema(16), v4).is_empty(),
        "selectors[].nodeSelector on 1.16"
    );
    assert!(
        !violations(&schema(19), v6).is_empty(),
        "an IPv6 egressIP on 1.19"
    );
    assert!(
        !violations(&schema(17), v6).is_empty(),
        "IPv6 destinations on 1.17"
    );
    // And an Antrea address that is not one fails its format.
    let antrea = mailu_k8s_manifests::synthesize(&load(&format!(
        "{BASE}egress: {{mode: antrea, ips: [203.0.113.40]}}\n"
    )))
    .values();
    let mut egress = egress_objects(&antrea)[0].clone();
    egress["spec"]["egressIP"] = "203.0.113".into();
    assert!(
        !violations(
            &reference.join("jsonschema/crd.antrea.io/egress_v1beta1.json"),
            &egress
        )
        .is_empty(),
        "formats are checked"
    );
}

#[test]
fn antrea_and_ovn_shapes_match_their_schemas() {
    let Some(reference) = reference("antrea_and_ovn_shapes_match_their_schemas") else {
        return;
    };
    let dual = "subnet6: fd00:42::/56\n";
    for (what, egress) in [
        (
            "antrea, static address",
            "{mode: antrea, ips: [203.0.113.40], ipv6: disable}",
        ),
        (
            "antrea, existing pool",
            "{mode: antrea, ips: [203.0.113.40], ipv6: disable, antrea: {externalIPPool: egress-pool}}",
        ),
        (
            "antrea, dual-stack pools",
            "{mode: antrea, ips: [203.0.113.40, '2001:db8::40'], antrea: {nodeSelector: {}}}",
        ),
        (
            "antrea, IPv6 from the nodes",
            "{mode: antrea, ips: [203.0.113.40, '2001:db8::1'], ipv6: nodeIps, antrea: {nodeSelector: {egress: 'true'}}}",
        ),
        (
            "ovn, dual-stack",
            "{mode: ovn, ips: [192.0.2.50, '2001:db8::50'], components: [resolver]}",
        ),
    ] {
        let config = load(&format!("{BASE}{dual}egress: {egress}\n"));
        assert_valid(&reference, what, &config);
    }
}

#[test]
fn a_cilium_policy_never_mixes_address_families() {
    // An IPv4 egressIP with `::/0` destinations black-holes IPv6 (cilium#48660): every CIDR and
    // every egressIP of one policy belong to one family. Independent of the schemas, which
    // accept any string as a 1.20 egressIP.
    let family = |s: &str| s.contains(':');
    let mut configs: Vec<(String, mailu_k8s_config::Config)> = examples();
    for minor in 16..=20 {
        configs.push((format!("fullest 1.{minor}"), load(&fullest_cilium(minor))));
    }
    let mut checked = 0;
    for (name, config) in configs {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        for p in objects
            .iter()
            .filter(|o| o["kind"] == "CiliumEgressGatewayPolicy")
        {
            let spec = &p["spec"];
            let strings = |v: &Value| -> Vec<String> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            };
            let mut seen: Vec<String> = strings(&spec["destinationCIDRs"]);
            seen.extend(strings(&spec["excludedCIDRs"]));
            let gateways = std::iter::once(&spec["egressGateway"])
                .chain(spec["egressGateways"].as_array().into_iter().flatten());
            seen.extend(gateways.filter_map(|g| g["egressIP"].as_str().map(str::to_owned)));
            let v6 = family(&seen[0]);
            assert!(
                seen.iter().all(|s| family(s) == v6),
                "{name}: {} mixes families: {seen:?}",
                p["metadata"]["name"]
            );
            let suffix = if v6 { "-ipv6" } else { "-ipv4" };
            assert!(
                p["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(suffix)),
                "{name}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked} policies");
}

// --- selection --------------------------------------------------------------------------------

/// A label selector as the API reference defines it: every `matchLabels` pair and every
/// `matchExpressions` requirement must hold. An unknown operator matches nothing.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let expressions_ok = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| {
            let key = r["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = r["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let value = labels.get(key).map(String::as_str);
            match r["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        });
    labels_ok && expressions_ok
}

/// Whether an egress object applies to a pod with `labels` in namespace `ns`.
fn applies_to(object: &Value, ns: &str, labels: &BTreeMap<String, String>) -> bool {
    let spec = &object["spec"];
    let ns_labels = BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())]);
    match object["kind"].as_str() {
        // Cilium matches the endpoint's labels, which include its namespace.
        Some("CiliumEgressGatewayPolicy") => {
            let mut endpoint = labels.clone();
            endpoint.insert("io.kubernetes.pod.namespace".into(), ns.into());
            spec["selectors"].as_array().into_iter().flatten().any(|s| {
                selects(&s["podSelector"], &endpoint)
                    && s.get("namespaceSelector")
                        .is_none_or(|n| selects(n, &ns_labels))
            })
        }
        Some("Egress") => {
            let to = &spec["appliedTo"];
            selects(&to["namespaceSelector"], &ns_labels) && selects(&to["podSelector"], labels)
        }
        Some("EgressIP") => {
            selects(&spec["namespaceSelector"], &ns_labels) && selects(&spec["podSelector"], labels)
        }
        // ExternalIPPools select nodes, not pods.
        _ => false,
    }
}

/// Each workload's pod labels, by component.
fn pods(objects: &[Value]) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    common::workloads(objects)
        .into_iter()
        .map(|o| {
            let labels: BTreeMap<String, String> = o["spec"]["template"]["metadata"]["labels"]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            let ns = o["metadata"]["namespace"].as_str().expect("ns").to_owned();
            (labels["app.kubernetes.io/component"].clone(), (ns, labels))
        })
        .collect()
}

/// The components that must send through the egress path: postfix, and the running components
/// the config names (read from the config, not from the model under test).
fn expected_senders(config: &mailu_k8s_config::Config, running: &BTreeSet<String>) -> Vec<String> {
    let mut out = vec!["postfix".to_owned()];
    out.extend(
        config
            .egress
            .components
            .iter()
            .map(|c| c.name().to_owned())
            .filter(|c| running.contains(c)),
    );
    out.sort();
    out
}

fn check_selection(what: &str, config: &mailu_k8s_config::Config) -> usize {
    let objects = mailu_k8s_manifests::synthesize(config).values();
    let pods = pods(&objects);
    let running: BTreeSet<String> = pods.keys().cloned().collect();
    let expected = expected_senders(config, &running);
    let mut checked = 0;
    for o in egress_objects(&objects) {
        if o["kind"] == "ExternalIPPool" {
            continue;
        }
        let mut selected: Vec<String> = pods
            .iter()
            .filter(|(_, (ns, labels))| applies_to(o, ns, labels))
            .map(|(c, _)| c.clone())
            .collect();
        selected.sort();
        assert_eq!(
            selected, expected,
            "{what}: {} {} selects the wrong pods",
            o["kind"], o["metadata"]["name"]
        );
        // The same pods in another Mailu installation's namespace are not selected.
        for (component, (ns, labels)) in &pods {
            let elsewhere = format!("{ns}-other");
            assert!(
                !applies_to(o, &elsewhere, labels),
                "{what}: {} also selects {component} in {elsewhere}",
                o["metadata"]["name"]
            );
        }
        // Cluster-scoped: no namespace, and a name that carries it.
        assert!(o["metadata"].get("namespace").is_none(), "{what}");
        let name = o["metadata"]["name"].as_str().expect("name");
        assert!(
            name.contains(&format!("-{}-", config.namespace)),
            "{what}: {name} does not carry the namespace"
        );
        checked += 1;
    }
    checked
}

#[test]
fn egress_objects_select_exactly_the_sending_pods() {
    let mut checked = 0;
    for (name, config) in examples() {
        checked += check_selection(&name, &config);
    }
    for (what, text) in [
        ("cilium 1.20 fullest", fullest_cilium(20)),
        ("cilium 1.16 fullest", fullest_cilium(16)),
        (
            "antrea with several senders",
            format!(
                "{BASE}namespace: mail\ncomponents: {{fetchmail: true, clamav: true}}\negress: {{mode: antrea, ips: [203.0.113.40], components: [fetchmail, clamav, rspamd]}}\n"
            ),
        ),
        (
            "ovn, postfix only",
            format!("{BASE}egress: {{mode: ovn, ips: [192.0.2.50]}}\n"),
        ),
    ] {
        checked += check_selection(what, &load(&text));
    }
    assert!(checked >= 8, "{checked} objects checked");
}

#[test]
fn the_selector_evaluator_follows_kubernetes_semantics() {
    // Negative controls for the evaluator itself.
    let labels = BTreeMap::from([("a".to_owned(), "1".to_owned())]);
    assert!(
        selects(&serde_json::json!({}), &labels),
        "empty selects all"
    );
    assert!(!selects(
        &serde_json::json!({"matchLabels": {"a": "2"}}),
        &labels
    ));
    assert!(!selects(
        &serde_json::json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["2"]}]}),
        &labels
    ));
    assert!(selects(
        &serde_json::json!({"matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]}),
        &labels
    ));
    assert!(!selects(
        &serde_json::json!({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}),
        &labels
    ));
}

// --- postfix's settings -----------------------------------------------------------------------

#[test]
fn a_relay_on_port_465_wraps_only_the_relay_connection_in_tls() {
    let overrides = |port: u16, user_master: &str| {
        let config = load(&format!(
            "{BASE}egress: {{mode: relay, relay: {{host: smtp.relay.example, port: {port}}}}}\n{user_master}"
        ));
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        objects
            .iter()
            .find(|o| {
                o["kind"] == "ConfigMap" && o["metadata"]["name"] == "mailu-postfix-overrides"
            })
            .map(|cm| cm["data"].clone())
    };
    let data = overrides(465, "").expect("postfix's override ConfigMap");
    let lines = |file: &str| -> Vec<String> {
        data[file]
            .as_str()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    // postfix refuses port 465 without wrapper mode; `relayhost` is the default transport's next
    // hop, so pointing the default transport at a wrapping service changes that connection only.
    assert_eq!(lines("postfix.cf"), ["default_transport = relaysmtps"]);
    assert_eq!(
        lines("postfix.master"),
        [
            "relaysmtps/unix = relaysmtps unix - - n - - smtp -o smtp_tls_wrappermode=yes -o smtp_tls_security_level=encrypt"
        ]
    );
    // The user's own master.cf lines stay first.
    let user = "workloads: {postfix: {overrides: {postfix.master: 'submission/inet = submission inet n - n - - smtpd'}}}\n";
    let data = overrides(465, user).expect("postfix's override ConfigMap");
    let master = data["postfix.master"].as_str().expect("postfix.master");
    assert!(master.starts_with("submission/inet = "), "{master}");
    assert!(master.contains("\nrelaysmtps/unix = "), "{master}");
    // STARTTLS on 587 needs nothing of ours.
    assert!(
        overrides(587, "").is_none(),
        "no override file without settings"
    );
}

#[test]
fn postfix_settings_follow_the_users_own_lines() {
    let config = load(&format!(
        "{BASE}subnet6: fd00:42::/56\nworkloads: {{postfix: {{overrides: {{postfix.cf: 'smtp_address_preference = ipv4'}}}}}}\negress: {{mode: static, ips: [203.0.113.10], ipv6: disable}}\n"
    ));
    let objects = mailu_k8s_manifests::synthesize(&config).values();
    let cm = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "mailu-postfix-overrides")
        .expect("postfix's override ConfigMap");
    let file = cm["data"]["postfix.cf"].as_str().expect("postfix.cf");
    let lines: Vec<&str> = file.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "smtp_address_preference = ipv4",
            "smtp_helo_name = out.example.com"
        ]
    );
    // IPv4 only for the SMTP client's services, not postfix-wide: smtpd keeps taking front's
    // XCLIENT for IPv6 clients.
    let master = cm["data"]["postfix.master"]
        .as_str()
        .expect("postfix.master");
    let entries: Vec<&str> = master.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        entries,
        [
            "smtp/unix = smtp unix - - n - - smtp -o inet_protocols=ipv4",
            "relay/unix = relay unix - - n - - smtp -o inet_protocols=ipv4"
        ]
    );
    // Mailu passes each line to `postconf -e`: none may be empty or continue another.
    assert!(
        file.lines()
            .all(|l| !l.is_empty() && !l.starts_with(char::is_whitespace))
    );
    let postfix = objects
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "mailu-postfix")
        .expect("postfix");
    let volumes = postfix["spec"]["template"]["spec"]["volumes"].to_string();
    assert!(volumes.contains("mailu-postfix-overrides"), "{volumes}");
    assert!(
        postfix["spec"]["template"]["metadata"]["annotations"]["mailu-k8s.io/overrides-checksum"]
            .is_string()
    );
    // Without egress settings postfix gets no override file at all.
    let plain = mailu_k8s_manifests::synthesize(&load(BASE)).values();
    assert!(
        plain
            .iter()
            .all(|o| o["metadata"]["name"] != "mailu-postfix-overrides")
    );
}

#[test]
fn egress_objects_come_before_the_pods() {
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let position = |pred: &dyn Fn(&Value) -> bool| objects.iter().position(pred);
        let first_workload = position(&|o: &Value| {
            matches!(
                o["kind"].as_str(),
                Some("Deployment" | "DaemonSet" | "StatefulSet")
            )
        })
        .expect("workloads");
        for o in egress_objects(&objects) {
            let at = objects.iter().position(|x| x == o).expect("present");
            assert!(at < first_workload, "{name}: {} after the pods", o["kind"]);
        }
    }
}
