//! Every example config, synthesized and checked against independent facts: Mailu's own list of
//! environment variables, the objects' own cross-references, and a second YAML parser.
//! Kubernetes schema validation of the same outputs runs in `scripts/test`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

mod common;
use common::{examples, repo_root, workloads};

/// `name -> readBy` from Mailu 2024.06's list of the variables it reads, or `None` (with a
/// notice) when ../shared/reference is not beside the repository.
fn mailu_env_reference() -> Option<BTreeMap<String, String>> {
    let path = repo_root().join("../shared/reference/mailu-2024.06-env.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: {} is missing (../shared/reference)",
            path.display()
        );
        return None;
    };
    let doc: Value = serde_json::from_str(&text).expect("reference JSON");
    let vars = doc["variables"].as_array().expect("variables");
    Some(
        vars.iter()
            .map(|v| {
                (
                    v["name"].as_str().expect("name").to_owned(),
                    v["readBy"].as_str().expect("readBy").to_owned(),
                )
            })
            .collect(),
    )
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn containers(deployment: &Value) -> &Vec<Value> {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
}

fn component_of(object: &Value) -> String {
    object["metadata"]["labels"]["app.kubernetes.io/component"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Mailu's own names for our components, as the reference's `readBy` spells some of them.
fn mailu_names(component: &str) -> Vec<&str> {
    match component {
        "front" => vec!["front", "nginx"],
        "postfix" => vec!["postfix", "smtp"],
        "dovecot" => vec!["dovecot", "imap"],
        "rspamd" => vec!["rspamd", "antispam"],
        other => vec![other],
    }
}

#[test]
fn golden_snapshots() {
    for (name, config) in examples() {
        let manifest = mailu_k8s_manifests::synthesize(&config);
        insta::assert_snapshot!(format!("{name}.k8s.yaml"), manifest.to_yaml());
    }
}

#[test]
fn output_is_deterministic() {
    for (name, config) in examples() {
        let a = mailu_k8s_manifests::synthesize(&config);
        let b = mailu_k8s_manifests::synthesize(&config.clone());
        assert_eq!(a.to_yaml(), b.to_yaml(), "{name}");
        assert_eq!(a.to_json(), b.to_json(), "{name}");
    }
}

#[test]
fn yaml_output_reads_back_as_the_json_output() {
    // Two independent YAML parsers must see exactly the objects we meant.
    let mut pyyaml = common::PyYaml::start("yaml_output_reads_back_as_the_json_output");
    for (name, config) in examples() {
        let manifest = mailu_k8s_manifests::synthesize(&config);
        let yaml = manifest.to_yaml();
        let docs = common::saphyr_documents(&yaml).expect("our YAML parses");
        assert_eq!(docs, manifest.values(), "{name}");
        if let Some(pyyaml) = &mut pyyaml {
            let docs = pyyaml.documents(&yaml).expect("libyaml reads our YAML");
            assert_eq!(docs, manifest.values(), "{name}, read by libyaml");
        }
        let list: Value = serde_json::from_str(&manifest.to_json()).expect("our JSON parses");
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"].as_array(), Some(&manifest.values()), "{name}");
    }
}

#[test]
fn every_env_name_is_one_mailu_reads() {
    let Some(reference) = mailu_env_reference() else {
        return;
    };
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let mut seen = BTreeSet::new();
        for cm in of_kind(&objects, "ConfigMap")
            .into_iter()
            .filter(|cm| cm["metadata"]["name"] == mailu_k8s_manifests::env::SHARED_ENV_CONFIGMAP)
        {
            for key in cm["data"].as_object().expect("data").keys() {
                seen.insert(key.clone());
            }
        }
        for d in workloads(&objects) {
            for c in containers(d) {
                for e in c["env"].as_array().into_iter().flatten() {
                    seen.insert(e["name"].as_str().expect("env name").to_owned());
                }
            }
        }
        let unknown: Vec<_> = seen
            .iter()
            .filter(|n| !reference.contains_key(*n))
            .collect();
        assert!(unknown.is_empty(), "{name}: Mailu never reads {unknown:?}");
        // Everything mailu-k8s derives is listed as managed, so `extraEnv` cannot set it twice.
        let extra: BTreeSet<&String> = config
            .workloads
            .values()
            .flat_map(|w| w.extra_env.keys())
            .collect();
        let unmanaged: Vec<_> = seen
            .iter()
            .filter(|n| !extra.contains(n) && mailu_k8s_config::mailu_env::managed_by(n).is_none())
            .collect();
        assert!(
            unmanaged.is_empty(),
            "{name}: derived but not in MANAGED_ENV: {unmanaged:?}"
        );
        for required in [
            "DOMAIN",
            "HOSTNAMES",
            "SUBNET",
            "TZ",
            "SECRET_KEY",
            "PORTS",
            "MAILU_HELM_CHART",
        ] {
            assert!(seen.contains(required), "{name}: {required} missing");
        }
    }
}

#[test]
fn secrets_reach_only_the_containers_that_read_them() {
    let Some(reference) = mailu_env_reference() else {
        return;
    };
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        for d in workloads(&objects) {
            let component = component_of(d);
            for c in containers(d) {
                for e in c["env"].as_array().into_iter().flatten() {
                    if e["valueFrom"].get("secretKeyRef").is_none() {
                        continue;
                    }
                    let var = e["name"].as_str().expect("name");
                    let read_by = &reference[var];
                    let reads = read_by.starts_with("all")
                        || mailu_names(&component).iter().any(|n| read_by.contains(n));
                    assert!(
                        reads,
                        "{name}: {component} gets secret {var}, read by {read_by}"
                    );
                }
                // Secrets are referenced, never inlined.
                let text = c.to_string();
                assert!(!text.contains("changeMe"), "{name}: inlined secret");
            }
        }
        // Redis is not Mailu and gets no Mailu secret.
        for d in of_kind(&objects, "Deployment") {
            if component_of(d) == "redis" {
                assert!(containers(d)[0].get("env").is_none(), "{name}");
            }
        }
    }
}

#[test]
fn addresses_and_service_ports_point_at_things_that_exist() {
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let ns = config.namespace.as_str();
        let suffix = format!(".{ns}.svc.{}", config.cluster_domain);
        let services: BTreeMap<String, &Value> = of_kind(&objects, "Service")
            .into_iter()
            .map(|s| (s["metadata"]["name"].as_str().expect("name").to_owned(), s))
            .collect();

        let every_env: BTreeMap<String, String> = workloads(&objects)
            .into_iter()
            .flat_map(|d| containers(d).iter())
            .flat_map(|c| container_env(&objects, c))
            .collect();
        for (var, host) in &every_env {
            if !var.ends_with("_ADDRESS") {
                continue;
            }
            if let Some(service) = host.strip_suffix(&suffix) {
                assert!(
                    services.contains_key(service),
                    "{name}: {var}={host} has no Service"
                );
            } else {
                assert_eq!(
                    var, "REDIS_ADDRESS",
                    "{name}: {var}={host} is not in-cluster"
                );
            }
        }

        let deployments = workloads(&objects);
        for (svc_name, svc) in &services {
            let selector = &svc["spec"]["selector"];
            let selected: Vec<&&Value> = deployments
                .iter()
                .filter(|d| {
                    let labels = &d["spec"]["template"]["metadata"]["labels"];
                    selector
                        .as_object()
                        .expect("selector")
                        .iter()
                        .all(|(k, v)| &labels[k] == v)
                })
                .collect();
            assert_eq!(
                selected.len(),
                1,
                "{name}: {svc_name} selects {} workloads",
                selected.len()
            );
            let container_ports: BTreeMap<&str, u64> = containers(selected[0])
                .iter()
                .flat_map(|c| c["ports"].as_array().expect("ports"))
                .map(|p| {
                    (
                        p["name"].as_str().expect("name"),
                        p["containerPort"].as_u64().expect("port"),
                    )
                })
                .collect();
            for port in svc["spec"]["ports"].as_array().expect("ports") {
                let target = port["targetPort"].as_str().expect("named targetPort");
                let number = container_ports
                    .get(target)
                    .unwrap_or_else(|| panic!("{name}: {svc_name} targets missing port {target}"));
                assert_eq!(
                    Some(*number),
                    port["port"].as_u64(),
                    "{name}: {svc_name}/{target}"
                );
            }
        }

        // PORTS lists exactly the public ports front's container declares (not the internal ones).
        let front = deployments
            .iter()
            .find(|d| component_of(d) == "front")
            .expect("front");
        let front_env = container_env(&objects, &containers(front)[0]);
        let ports_env = front_env["PORTS"].as_str();
        let webmail = front_env["WEBMAIL"] != "none";
        let declared: BTreeSet<u64> = containers(front)[0]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        for p in ports_env.split(',') {
            let p: u64 = p.parse().expect("number");
            // With webmail, 4190 is listed so front opens its sieve listener for webmail
            // (14190); it is not published.
            assert!(
                declared.contains(&p) || (webmail && p == 4190),
                "{name}: PORTS lists {p} that front does not declare"
            );
        }
    }
}

#[test]
fn workloads_are_operable() {
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let claims: BTreeSet<&str> = of_kind(&objects, "PersistentVolumeClaim")
            .iter()
            .map(|p| p["metadata"]["name"].as_str().expect("name"))
            .collect();
        for d in workloads(&objects) {
            let component = component_of(d);
            let pod = &d["spec"]["template"]["spec"];
            let uses_claim = pod["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
                .inspect(|c| assert!(claims.contains(c), "{name}: {component} mounts missing {c}"))
                .count()
                > 0;
            let strategy = d["spec"]["strategy"]["type"]
                .as_str()
                .or(d["spec"]["updateStrategy"]["type"].as_str())
                .expect("strategy");
            let claim_modes: Vec<&str> = pod["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
                .filter_map(|c| {
                    objects.iter().find(|o| {
                        o["kind"] == "PersistentVolumeClaim" && o["metadata"]["name"] == c
                    })
                })
                .flat_map(|pvc| pvc["spec"]["accessModes"].as_array().expect("modes"))
                .filter_map(|m| m.as_str())
                .collect();
            if uses_claim && !claim_modes.contains(&"ReadWriteMany") {
                assert_eq!(d["spec"]["replicas"], 1, "{name}: {component}");
                assert_eq!(strategy, "Recreate", "{name}: {component} on a RWO volume");
            }
            // Every scaled workload has a disruption budget that selects exactly its pods.
            let scaled =
                d["spec"]["replicas"].as_u64().is_some_and(|r| r > 1) || d["kind"] == "DaemonSet";
            if scaled {
                let pdb = objects
                    .iter()
                    .find(|o| {
                        o["kind"] == "PodDisruptionBudget"
                            && o["metadata"]["name"] == d["metadata"]["name"]
                    })
                    .unwrap_or_else(|| {
                        panic!("{name}: {component} is scaled without a PodDisruptionBudget")
                    });
                assert_eq!(
                    pdb["spec"]["selector"], d["spec"]["selector"],
                    "{name}: {component}"
                );
                assert!(
                    pod["topologySpreadConstraints"]
                        .as_array()
                        .is_some_and(|t| !t.is_empty())
                        || d["kind"] == "DaemonSet",
                    "{name}: {component} is scaled but not spread"
                );
            }
            assert_eq!(pod["enableServiceLinks"], false, "{name}: {component}");
            // Every mount names a pod volume or a claim template; every ConfigMap volume names a
            // ConfigMap in the output.
            let mut volume_names: BTreeSet<&str> = pod["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["name"].as_str())
                .collect();
            volume_names.extend(
                d["spec"]["volumeClaimTemplates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["metadata"]["name"].as_str()),
            );
            let all_containers = pod["containers"]
                .as_array()
                .into_iter()
                .chain(pod["initContainers"].as_array())
                .flatten();
            for c in all_containers {
                for m in c["volumeMounts"].as_array().into_iter().flatten() {
                    let v = m["name"].as_str().expect("mount name");
                    assert!(
                        volume_names.contains(v),
                        "{name}: {component} mounts undeclared volume {v}"
                    );
                }
            }
            for v in pod["volumes"].as_array().into_iter().flatten() {
                if let Some(cm) = v["configMap"]["name"].as_str() {
                    assert!(
                        objects
                            .iter()
                            .any(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm),
                        "{name}: {component} mounts missing ConfigMap {cm}"
                    );
                }
            }
            for c in containers(d) {
                // A container that listens on nothing (fetchmail) has nothing to probe.
                if c.get("ports").is_none() {
                    assert!(c.get("livenessProbe").is_none(), "{name}: {component}");
                    continue;
                }
                for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
                    let p = &c[probe];
                    assert!(p.is_object(), "{name}: {component} has no {probe}");
                    if let Some(cmd) = p["exec"]["command"].as_array() {
                        // argv goes to the program, not a shell: a pipe would be a literal.
                        assert!(cmd.iter().all(|a| a != "|"), "{name}: {component} {probe}");
                    }
                    for key in ["httpGet", "tcpSocket"] {
                        if let Some(port) = p[key]["port"].as_str() {
                            let declared = c["ports"]
                                .as_array()
                                .expect("ports")
                                .iter()
                                .any(|cp| cp["name"] == port);
                            assert!(declared, "{name}: {component} {probe} on undeclared {port}");
                        }
                    }
                }
            }
        }
    }
}

/// Quantity in base units, for the sums below (the config layer already validated the syntax).
fn amount(q: &str) -> f64 {
    mailu_k8s_config::Quantity::parse(q)
        .expect("valid quantity")
        .value()
}

#[test]
fn default_install_fits_a_two_cpu_node() {
    let (_, quickstart) = examples()
        .into_iter()
        .find(|(n, _)| n == "quickstart")
        .expect("quickstart");
    let objects = mailu_k8s_manifests::synthesize(&quickstart).values();
    let (mut cpu, mut memory) = (0.0, 0.0);
    for d in of_kind(&objects, "Deployment") {
        for c in containers(d) {
            cpu += amount(c["resources"]["requests"]["cpu"].as_str().expect("cpu"));
            memory += amount(
                c["resources"]["requests"]["memory"]
                    .as_str()
                    .expect("memory"),
            );
        }
    }
    // Leave half of a 2-CPU / 4 GiB node for the system and other workloads.
    assert!(cpu <= 1.0, "requests {cpu} CPU");
    assert!(memory <= 2.0 * 1024f64.powi(3), "requests {memory} bytes");
}

#[test]
fn committed_schema_is_current() {
    let path = repo_root().join("mailu-k8s.schema.json");
    let committed = std::fs::read_to_string(&path).expect("mailu-k8s.schema.json");
    let current =
        serde_json::to_string_pretty(&mailu_k8s_config::json_schema()).expect("json") + "\n";
    assert!(
        committed == current,
        "mailu-k8s.schema.json is stale: run `cargo run -- schema > mailu-k8s.schema.json`"
    );
}

fn front_env(objects: &[Value]) -> BTreeMap<String, String> {
    let front = workloads(objects)
        .into_iter()
        .find(|d| component_of(d) == "front")
        .expect("front");
    container_env(objects, &containers(front)[0])
}

/// A container's environment as Kubernetes resolves it: `configMapKeyRef` looked up in the
/// output's ConfigMaps, `$$` unescaped, a secret shown as `<secret NAME/KEY>`.
fn container_env(objects: &[Value], container: &Value) -> BTreeMap<String, String> {
    let config_map = |name: &str, key: &str| -> String {
        of_kind(objects, "ConfigMap")
            .into_iter()
            .find(|cm| cm["metadata"]["name"] == name)
            .and_then(|cm| cm["data"][key].as_str())
            .unwrap_or_else(|| panic!("configMapKeyRef {name}/{key} names nothing"))
            .to_owned()
    };
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let name = e["name"].as_str().expect("name").to_owned();
            let from = &e["valueFrom"];
            let value = if let Some(v) = e["value"].as_str() {
                v.replace("$$", "$")
            } else if from["configMapKeyRef"].is_object() {
                let r = &from["configMapKeyRef"];
                config_map(
                    r["name"].as_str().expect("name"),
                    r["key"].as_str().expect("key"),
                )
            } else {
                let r = &from["secretKeyRef"];
                format!("<secret {}/{}>", r["name"], r["key"])
            };
            (name, value)
        })
        .collect()
}

fn port_set(list: Option<&String>) -> BTreeSet<u64> {
    list.map(|l| {
        l.split(',')
            .map(|p| p.parse().expect("port number"))
            .collect()
    })
    .unwrap_or_default()
}

/// Every route backend as (kind, service name, port).
fn route_backends(objects: &[Value]) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for o in objects {
        let kind = o["kind"].as_str().expect("kind").to_owned();
        let spec = &o["spec"];
        match kind.as_str() {
            "IngressRoute" | "IngressRouteTCP" => {
                for route in spec["routes"].as_array().expect("routes") {
                    for s in route["services"].as_array().expect("services") {
                        out.push((
                            kind.clone(),
                            s["name"].as_str().expect("name").into(),
                            s["port"].as_u64().expect("port"),
                        ));
                    }
                }
            }
            "HTTPRoute" | "TCPRoute" | "TLSRoute" => {
                for rule in spec["rules"].as_array().expect("rules") {
                    for b in rule["backendRefs"].as_array().expect("backendRefs") {
                        out.push((
                            kind.clone(),
                            b["name"].as_str().expect("name").into(),
                            b["port"].as_u64().expect("port"),
                        ));
                    }
                }
            }
            "Ingress" => {
                for rule in spec["rules"].as_array().expect("rules") {
                    for p in rule["http"]["paths"].as_array().expect("paths") {
                        let s = &p["backend"]["service"];
                        out.push((
                            kind.clone(),
                            s["name"].as_str().expect("name").into(),
                            s["port"]["number"].as_u64().expect("port"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Issue 3's agreement test: what front listens on (`PORTS`), what must carry PROXY headers
/// (`PROXY_PROTOCOL`), what the routes, Services and hostPorts publish, and how client IPs
/// survive, must all agree, read back from the generated objects themselves.
#[test]
fn exposure_outputs_agree() {
    // front's ports for other components only (Mailu 2024.06 reference): LMTP proxy, internal
    // submission, and IMAP/sieve for webmail.
    const INTERNAL: [u64; 4] = [2525, 10025, 10143, 14190];
    const WEB: [u64; 2] = [80, 443];
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let env = front_env(&objects);
        let ports = port_set(env.get("PORTS"));
        let proxy = port_set(env.get("PROXY_PROTOCOL"));
        let front = workloads(&objects)
            .into_iter()
            .find(|d| component_of(d) == "front")
            .expect("front");
        let container_ports: BTreeSet<u64> = containers(front)[0]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .map(|p| p["containerPort"].as_u64().expect("port"))
            .collect();
        let public: BTreeSet<u64> = container_ports
            .iter()
            .copied()
            .filter(|p| !INTERNAL.contains(p))
            .collect();
        // With webmail, 4190 is in PORTS (front's sieve listener for webmail, 14190, exists
        // only then) without being published.
        let mut listed = ports.clone();
        if env["WEBMAIL"] != "none" && !public.contains(&4190) {
            assert!(
                listed.remove(&4190),
                "{name}: webmail without 4190 in PORTS"
            );
        }
        assert_eq!(
            listed, public,
            "{name}: PORTS vs front's public container ports"
        );

        // Routes: each targets front's in-cluster Service on a port it has.
        let services: BTreeMap<&str, &Value> = of_kind(&objects, "Service")
            .into_iter()
            .map(|s| (s["metadata"]["name"].as_str().expect("name"), s))
            .collect();
        let front_service_ports: BTreeSet<u64> = services["mailu-front"]["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .map(|p| p["port"].as_u64().expect("port"))
            .collect();
        let backends = route_backends(&objects);
        for (kind, svc, port) in &backends {
            assert_eq!(svc, "mailu-front", "{name}: {kind} targets {svc}");
            assert!(
                front_service_ports.contains(port),
                "{name}: {kind} targets missing port {port}"
            );
            assert!(
                ports.contains(port),
                "{name}: {kind} routes to {port}, which front does not listen on"
            );
        }
        // The L4 routes are exactly the PROXY ports.
        let l4: BTreeSet<u64> = backends
            .iter()
            .filter(|(k, _, _)| matches!(k.as_str(), "IngressRouteTCP" | "TCPRoute" | "TLSRoute"))
            .map(|(_, _, p)| *p)
            .collect();
        assert_eq!(l4, proxy, "{name}: L4 routes vs PROXY_PROTOCOL");
        if !proxy.is_empty() {
            assert!(
                env.get("REAL_IP_FROM").is_some_and(|v| !v.is_empty()),
                "{name}: PROXY without REAL_IP_FROM"
            );
            assert!(
                !env.contains_key("REAL_IP_HEADER"),
                "{name}: PROXY with REAL_IP_HEADER"
            );
            // Traefik routes send PROXY v2 through the ServersTransportTCP.
            for route in of_kind(&objects, "IngressRouteTCP") {
                let transport = route["spec"]["routes"][0]["services"][0]["serversTransport"]
                    .as_str()
                    .expect("transport");
                let t = objects
                    .iter()
                    .find(|o| {
                        o["kind"] == "ServersTransportTCP" && o["metadata"]["name"] == transport
                    })
                    .unwrap_or_else(|| panic!("{name}: missing ServersTransportTCP {transport}"));
                assert_eq!(t["spec"]["proxyProtocol"]["version"], 2);
            }
        }

        // Directly published ports: the public Service and hostPorts carry no internal port,
        // only ports front listens on, and keep client IPs.
        let mut direct = BTreeSet::new();
        if let Some(public) = services.get("mailu-front-public") {
            assert_eq!(
                public["spec"]["externalTrafficPolicy"], "Local",
                "{name}: client IPs"
            );
            for p in public["spec"]["ports"].as_array().expect("ports") {
                direct.insert(p["port"].as_u64().expect("port"));
            }
        }
        for p in containers(front)[0]["ports"].as_array().expect("ports") {
            if let Some(h) = p["hostPort"].as_u64() {
                direct.insert(h);
            }
        }
        for p in &direct {
            assert!(!INTERNAL.contains(p), "{name}: internal port {p} published");
            assert!(
                ports.contains(p),
                "{name}: publishes {p}, which front does not listen on"
            );
            assert!(!proxy.contains(p), "{name}: {p} is both proxied and direct");
        }
        // Every published mail port keeps the client IP: through PROXY or a direct path.
        for p in listed.iter().filter(|p| !WEB.contains(p)) {
            let reachable = proxy.contains(p) || direct.contains(p);
            let only_internal = !services.contains_key("mailu-front-public")
                && direct.is_empty()
                && proxy.is_empty();
            assert!(
                reachable || only_internal,
                "{name}: mail port {p} reached some other way"
            );
        }

        // TLS: an HTTPS-terminating edge forwards HTTP, so front must not redirect (no `cert`).
        let flavor = env.get("TLS_FLAVOR").expect("TLS_FLAVOR");
        let web_edge = objects.iter().any(|o| {
            matches!(
                o["kind"].as_str(),
                Some("IngressRoute" | "HTTPRoute" | "Ingress")
            )
        });
        if web_edge {
            assert!(
                matches!(flavor.as_str(), "mail" | "mail-letsencrypt" | "notls"),
                "{name}: {flavor} behind an ingress"
            );
            assert!(
                !ports.contains(&443),
                "{name}: front listens on 443 behind an ingress"
            );
        }
        // front never mounts a Secret that nothing creates: with an issuer, a Certificate
        // produces exactly the mounted Secret (without one, the README says to create it).
        let mounted: Vec<&str> = front["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["secret"]["secretName"].as_str())
            .collect();
        if config.tls.issuer.is_some() {
            let issued: Vec<&str> = of_kind(&objects, "Certificate")
                .iter()
                .map(|c| c["spec"]["secretName"].as_str().expect("secretName"))
                .collect();
            assert_eq!(mounted, issued, "{name}: mounted vs issued Secret");
        }
        // Every host a web route answers for is on the certificate.
        if let Some(cert) = of_kind(&objects, "Certificate").first() {
            let names: BTreeSet<&str> = cert["spec"]["dnsNames"]
                .as_array()
                .expect("dnsNames")
                .iter()
                .map(|n| n.as_str().expect("name"))
                .collect();
            let mut route_hosts: Vec<String> = Vec::new();
            for o in &objects {
                match o["kind"].as_str() {
                    Some("HTTPRoute") => route_hosts.extend(
                        o["spec"]["hostnames"]
                            .as_array()
                            .expect("hostnames")
                            .iter()
                            .map(|h| h.as_str().expect("host").to_owned()),
                    ),
                    Some("Ingress") => route_hosts.extend(
                        o["spec"]["rules"]
                            .as_array()
                            .expect("rules")
                            .iter()
                            .map(|r| r["host"].as_str().expect("host").to_owned()),
                    ),
                    Some("IngressRoute") => {
                        let rule = o["spec"]["routes"][0]["match"].as_str().expect("match");
                        route_hosts.extend(
                            rule.split("Host(`")
                                .skip(1)
                                .map(|h| h.split('`').next().unwrap_or("").to_owned()),
                        );
                    }
                    _ => {}
                }
            }
            for h in route_hosts {
                assert!(
                    names.contains(h.as_str()),
                    "{name}: route host {h} not on the certificate"
                );
            }
        }
    }
}

/// Claim names are part of an installation's data: renaming one would orphan a mailbox volume.
/// These names are pinned; changing one is a breaking change that needs a migration note.
#[test]
fn volume_names_are_stable() {
    let (_, full) = examples()
        .into_iter()
        .find(|(n, _)| n == "full")
        .expect("full");
    let objects = mailu_k8s_manifests::synthesize(&full).values();
    let mut claims: Vec<&str> = of_kind(&objects, "PersistentVolumeClaim")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().expect("name"))
        .collect();
    claims.sort_unstable();
    assert_eq!(
        claims,
        [
            "mailu-admin-data",
            "mailu-dovecot-data",
            "mailu-fetchmail-data",
            "mailu-postfix-data",
            "mailu-redis-data",
            "mailu-rspamd-data",
            "mailu-webdav-data",
            "mailu-webmail-data",
        ]
    );
    let clamav = of_kind(&objects, "StatefulSet")[0];
    assert_eq!(
        clamav["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "data"
    );
    // The sub-directories inside each volume are pinned too.
    let mounts: BTreeSet<(String, String)> = workloads(&objects)
        .iter()
        .flat_map(|d| containers(d))
        .flat_map(|c| c["volumeMounts"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["name"] == "data")
        .map(|m| {
            (
                m["mountPath"].as_str().expect("path").to_owned(),
                m["subPath"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for (path, sub) in [
        ("/data", "data"),
        ("/dkim", "dkim"),
        ("/queue", "queue"),
        ("/mail", "mail"),
        ("/var/lib/rspamd", "rspamd"),
        ("/var/lib/clamav", "clamav"),
    ] {
        assert!(
            mounts.contains(&(path.to_owned(), sub.to_owned())),
            "{path} -> {sub} missing: {mounts:?}"
        );
    }
}

/// Every `pods`/`workloads`/`images` setting in `full.yaml` reaches the objects.
#[test]
fn workload_settings_reach_the_output() {
    let (_, full) = examples()
        .into_iter()
        .find(|(n, _)| n == "full")
        .expect("full");
    let objects = mailu_k8s_manifests::synthesize(&full).values();
    let by_component = |c: &str| {
        workloads(&objects)
            .into_iter()
            .find(|d| component_of(d) == c)
            .unwrap_or_else(|| panic!("{c}"))
    };
    for d in workloads(&objects) {
        let pod = &d["spec"]["template"]["spec"];
        let c = component_of(d);
        assert_eq!(
            pod["imagePullSecrets"][0]["name"], "registry-credentials",
            "{c}"
        );
        assert_eq!(pod["nodeSelector"]["node-pool"], "mail", "{c}");
        assert_eq!(pod["tolerations"][0]["key"], "dedicated", "{c}");
        assert_eq!(pod["priorityClassName"], "mail-critical", "{c}");
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"]["backup.velero.io/backup-volumes"],
            "data",
            "{c}"
        );
    }
    // Replicas, and the default spread for scaled components.
    for (c, n) in [
        ("front", 2),
        ("clamav", 2),
        ("tika", 2),
        ("oletools", 2),
        ("resolver", 2),
        ("postfix", 1),
    ] {
        assert_eq!(by_component(c)["spec"]["replicas"], n, "{c}");
    }
    let tika = &by_component("tika")["spec"]["template"]["spec"];
    assert_eq!(
        tika["topologySpreadConstraints"][0]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert_eq!(
        tika["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"],
        "tika"
    );
    let resolver = &by_component("resolver")["spec"]["template"]["spec"];
    assert_eq!(
        resolver["topologySpreadConstraints"][0]["topologyKey"],
        "topology.kubernetes.io/zone"
    );
    // Image tag override.
    assert_eq!(
        containers(by_component("tika"))[0]["image"],
        "docker.io/apache/tika:2.9.2.1-full"
    );
    // Log level, extra env.
    let env_of = |c: &str| container_env(&objects, &containers(by_component(c))[0]);
    assert_eq!(env_of("admin")["LOG_LEVEL"], "DEBUG");
    assert_eq!(env_of("postfix")["LOG_LEVEL"], "INFO");
    assert_eq!(env_of("admin")["CREDENTIAL_ROUNDS"], "14");
    // Override files: a ConfigMap mounted at /overrides, with a checksum that rolls the pods.
    for (c, file) in [("postfix", "postfix.cf"), ("front", "proxy.conf")] {
        let cm_name = format!("mailu-{c}-overrides");
        let cm = objects
            .iter()
            .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm_name.as_str())
            .unwrap_or_else(|| panic!("{cm_name}"));
        assert!(cm["data"][file].is_string(), "{c}");
        let d = by_component(c);
        assert!(
            containers(d)[0]["volumeMounts"]
                .as_array()
                .expect("mounts")
                .iter()
                .any(|m| m["mountPath"] == "/overrides"),
            "{c}"
        );
        assert!(
            d["spec"]["template"]["metadata"]["annotations"]["mailu-k8s.io/overrides-checksum"]
                .is_string()
        );
    }
    // Service annotations.
    let rspamd_svc = objects
        .iter()
        .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == "mailu-rspamd")
        .expect("service");
    assert_eq!(
        rspamd_svc["metadata"]["annotations"]["prometheus.io/scrape"],
        "true"
    );
    // PVCs are protected from GitOps pruning.
    for pvc in of_kind(&objects, "PersistentVolumeClaim") {
        assert_eq!(
            pvc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
            "Prune=false"
        );
        assert_eq!(
            pvc["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"],
            "disabled"
        );
    }
}

/// Issue 9's pod hardening, read back from every example: the runtime's seccomp profile, no
/// privilege escalation, no NET_RAW; the images with a fixed non-root user run as it with no
/// capabilities; Pod Security admission on the namespace at the level the pods meet.
#[test]
fn pods_are_hardened() {
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        for w in workloads(&objects) {
            let spec = &w["spec"]["template"]["spec"];
            let component = component_of(w);
            assert_eq!(
                spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
                "{name}: {component}"
            );
            let all = containers(w)
                .iter()
                .chain(spec["initContainers"].as_array().into_iter().flatten());
            for c in all {
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}: {component}");
                let drops: Vec<&str> = sc["capabilities"]["drop"]
                    .as_array()
                    .expect("drops")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                assert!(
                    drops.contains(&"NET_RAW") || drops.contains(&"ALL"),
                    "{name}: {component} keeps NET_RAW"
                );
                assert!(sc["capabilities"]["add"].is_null(), "{name}: {component}");
            }
            if matches!(component.as_str(), "tika" | "oletools") {
                assert_eq!(
                    spec["securityContext"]["runAsNonRoot"], true,
                    "{name}: {component}"
                );
                assert!(
                    spec["securityContext"]["runAsUser"]
                        .as_i64()
                        .is_some_and(|u| u > 0)
                );
            }
        }
        let binds_host_ports = workloads(&objects).iter().any(|w| {
            containers(w)
                .iter()
                .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                .any(|p| p.get("hostPort").is_some())
        });
        let ns = of_kind(&objects, "Namespace")[0];
        assert_eq!(
            ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            if binds_host_ports {
                "privileged"
            } else {
                "baseline"
            },
            "{name}"
        );
    }
}

#[test]
fn namespace_creation_digests_and_security_overrides_reach_the_output() {
    let config = mailu_k8s_config::testing::config(
        "exposure: {service: {type: LoadBalancer}}\ncreateNamespace: false\nworkloads:\n  admin:\n    image: {digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}\n    securityContext: {runAsUser: 1000, readOnlyRootFilesystem: true}\n    extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: recaptcha, key: private}}}\n",
    );
    let objects = mailu_k8s_manifests::synthesize(&config).values();
    assert!(of_kind(&objects, "Namespace").is_empty());
    let admin = workloads(&objects)
        .into_iter()
        .find(|d| component_of(d) == "admin")
        .expect("admin");
    let c = &containers(admin)[0];
    assert_eq!(
        c["image"],
        "ghcr.io/mailu/admin:2024.06@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    // A secret given to extraEnv is referenced, never inlined.
    let recaptcha = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "RECAPTCHA_PRIVATE_KEY")
        .expect("extraEnv");
    assert_eq!(
        recaptcha["valueFrom"]["secretKeyRef"],
        serde_json::json!({"name": "recaptcha", "key": "private"})
    );
    assert!(recaptcha.get("value").is_none());
    // The operator's securityContext replaces the derived one as given.
    assert_eq!(
        c["securityContext"],
        serde_json::json!({"readOnlyRootFilesystem": true, "runAsUser": 1000})
    );
}

/// A limit removed with `null` is absent from the container, the other stays; a number is
/// written as the quantity Kubernetes reads (issue 20).
#[test]
fn removed_limits_are_absent_and_numbers_are_quantities() {
    let config = mailu_k8s_config::testing::config(
        "resources:\n  front: {requests: {cpu: 1}, limits: {cpu: null, memory: 1Gi}}\n  admin: {limits: {cpu: null, memory: null}}\n",
    );
    let objects = mailu_k8s_manifests::synthesize(&config).values();
    let resources_of = |name: &str| {
        let workload = workloads(&objects)
            .into_iter()
            .find(|d| component_of(d) == name)
            .expect("workload");
        containers(workload)[0]["resources"].clone()
    };
    let front = resources_of("front");
    assert_eq!(front["limits"], serde_json::json!({"memory": "1Gi"}));
    assert_eq!(front["requests"]["cpu"], "1");
    let admin = resources_of("admin");
    assert!(admin.get("limits").is_none(), "{admin}");
    assert_eq!(admin["requests"]["memory"], "256Mi");
}
