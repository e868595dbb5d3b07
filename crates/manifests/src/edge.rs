//! Objects at the edge of the cluster: front's cert-manager `Certificate`, and the routes of the
//! chosen ingress (Traefik CRDs, Gateway API routes, or a Kubernetes Ingress). Every route's port
//! comes from the topology's exposure model, so routes, `PORTS` and `PROXY_PROTOCOL` agree.

use serde_json::{Value, json};

use mailu_k8s_config::{Config, Edge, MailService};
use mailu_k8s_topology::{Component, MailPath, Topology, ports};

use crate::k8s::Labels;

/// The names front's certificate and web routes cover: every host name, the Traefik web host
/// when it is not one of them, and the client-discovery and MTA-STS names when they are served.
pub fn web_hosts(config: &Config) -> Vec<String> {
    let mut hosts: Vec<String> = config
        .hostnames
        .all()
        .map(|h| h.as_str().to_owned())
        .collect();
    if let Edge::Traefik(t) = &config.edge
        && !hosts.iter().any(|h| h == t.web_host.as_str())
    {
        hosts.push(t.web_host.as_str().to_owned());
    }
    for name in mailu_k8s_topology::mail_dns::mta_sts_hosts(config) {
        if !hosts.contains(&name) {
            hosts.push(name);
        }
    }
    if config.exposure.client_discovery {
        for prefix in ["autoconfig", "autodiscover"] {
            let name = format!("{prefix}.{}", config.domain);
            if !hosts.contains(&name) {
                hosts.push(name);
            }
        }
    }
    hosts
}

fn metadata(name: &str, ns: &str, labels: &Labels) -> Value {
    json!({ "name": name, "namespace": ns, "labels": labels })
}

/// A cert-manager `Certificate` for front's Secret, when an issuer is configured.
pub fn certificate(config: &Config, ns: &str, labels: Labels) -> Option<Value> {
    let issuer = config.tls.issuer.as_ref()?;
    let secret = config.tls.secret_name.as_ref()?;
    Some(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": metadata(secret, ns, &labels),
        "spec": {
            "secretName": secret,
            "issuerRef": {
                "group": "cert-manager.io",
                "kind": issuer.kind.as_str(),
                "name": issuer.name,
            },
            "dnsNames": web_hosts(config),
            "privateKey": { "algorithm": "RSA", "size": 2048, "rotationPolicy": "Always" },
        },
    }))
}

/// Object names at the edge.
pub const WEB_ROUTE: &str = "mailu-web";
pub const TRAEFIK_PROXY_TRANSPORT: &str = "mailu-front-proxy-protocol";
pub const TRAEFIK_SMTP_LIMIT: &str = "mailu-smtp-connection-limit";

/// The name of the route for one mail service, e.g. `mailu-smtp`.
pub fn mail_route_name(service: MailService) -> String {
    format!("mailu-{}", service.key())
}

/// Routes of the configured edge, in a stable order.
pub fn routes(config: &Config, topology: &Topology, ns: &str, labels: Labels) -> Vec<Value> {
    let front = Component::Front.object_name();
    let http = ports::HTTP.number.get();
    let proxied: Vec<_> = topology
        .exposure
        .mail
        .iter()
        .filter(|r| r.path == MailPath::Proxy)
        .collect();
    let hosts = web_hosts(config);
    let mut out = Vec::new();
    match &config.edge {
        Edge::None => {}
        Edge::Traefik(t) => {
            let rule = hosts
                .iter()
                .map(|h| format!("Host(`{h}`)"))
                .collect::<Vec<_>>()
                .join(" || ");
            let mut spec = json!({
                "entryPoints": [t.web_entry_point],
                "routes": [{
                    "kind": "Rule",
                    "match": rule,
                    "services": [{ "name": front, "port": http }],
                }],
            });
            if let Some(secret) = &config.tls.secret_name {
                spec["tls"] = json!({ "secretName": secret });
            }
            out.push(json!({
                "apiVersion": "traefik.io/v1alpha1",
                "kind": "IngressRoute",
                "metadata": metadata(WEB_ROUTE, ns, &labels),
                "spec": spec,
            }));
            if let Some(mail) = &t.mail {
                out.push(json!({
                    "apiVersion": "traefik.io/v1alpha1",
                    "kind": "ServersTransportTCP",
                    "metadata": metadata(TRAEFIK_PROXY_TRANSPORT, ns, &labels),
                    "spec": { "proxyProtocol": { "version": 2 } },
                }));
                if proxied.iter().any(|r| r.service == MailService::Smtp) {
                    out.push(json!({
                        "apiVersion": "traefik.io/v1alpha1",
                        "kind": "MiddlewareTCP",
                        "metadata": metadata(TRAEFIK_SMTP_LIMIT, ns, &labels),
                        "spec": { "inFlightConn": { "amount": mail.smtp_connection_limit } },
                    }));
                }
                for r in &proxied {
                    let mut route = json!({
                        "match": "HostSNI(`*`)",
                        "services": [{
                            "name": front,
                            "port": r.port.number.get(),
                            "serversTransport": TRAEFIK_PROXY_TRANSPORT,
                        }],
                    });
                    if r.service == MailService::Smtp {
                        route["middlewares"] = json!([{ "name": TRAEFIK_SMTP_LIMIT }]);
                    }
                    let mut spec = json!({
                        "entryPoints": [mail.entry_points[&r.service]],
                        "routes": [route],
                    });
                    // Implicit-TLS ports pass the TLS stream to front untouched; STARTTLS ports
                    // are plain TCP until front upgrades them.
                    if r.service.implicit_tls() {
                        spec["tls"] = json!({ "passthrough": true });
                    }
                    out.push(json!({
                        "apiVersion": "traefik.io/v1alpha1",
                        "kind": "IngressRouteTCP",
                        "metadata": metadata(&mail_route_name(r.service), ns, &labels),
                        "spec": spec,
                    }));
                }
            }
        }
        Edge::GatewayApi(g) => {
            let parent = |section: Option<&String>| {
                let mut p = json!({ "name": g.gateway_name, "namespace": g.gateway_namespace });
                if let Some(section) = section {
                    p["sectionName"] = json!(section);
                }
                p
            };
            out.push(json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": metadata(WEB_ROUTE, ns, &labels),
                "spec": {
                    "parentRefs": [parent(g.web_section_name.as_ref())],
                    "hostnames": hosts,
                    "rules": [{ "backendRefs": [{ "name": front, "port": http }] }],
                },
            }));
            if let Some(mail) = &g.mail {
                for r in &proxied {
                    let backend = json!([{ "backendRefs": [{ "name": front, "port": r.port.number.get() }] }]);
                    let section = mail.section_names.get(&r.service);
                    let (kind, spec) = if r.service.implicit_tls() {
                        (
                            "TLSRoute",
                            json!({
                                "parentRefs": [parent(section)],
                                "hostnames": config.hostnames.all().map(|h| h.as_str()).collect::<Vec<_>>(),
                                "rules": backend,
                            }),
                        )
                    } else {
                        (
                            "TCPRoute",
                            json!({ "parentRefs": [parent(section)], "rules": backend }),
                        )
                    };
                    out.push(json!({
                        "apiVersion": "gateway.networking.k8s.io/v1",
                        "kind": kind,
                        "metadata": metadata(&mail_route_name(r.service), ns, &labels),
                        "spec": spec,
                    }));
                }
            }
        }
        Edge::Ingress(k) => {
            let mut meta = metadata(WEB_ROUTE, ns, &labels);
            if !k.annotations.is_empty() {
                meta["annotations"] = json!(k.annotations);
            }
            let mut spec = json!({
                "rules": hosts.iter().map(|h| json!({
                    "host": h,
                    "http": { "paths": [{
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": { "service": { "name": front, "port": { "number": http } } },
                    }] },
                })).collect::<Vec<_>>(),
            });
            if let Some(class) = &k.class_name {
                spec["ingressClassName"] = json!(class);
            }
            if let Some(secret) = &config.tls.secret_name {
                spec["tls"] = json!([{ "hosts": hosts, "secretName": secret }]);
            }
            out.push(json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": meta,
                "spec": spec,
            }));
        }
    }
    out
}
