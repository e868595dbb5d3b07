//! Objects at the edge of the cluster: front's cert-manager `Certificate`, and the routes of the
//! chosen ingress (Traefik CRDs, Gateway API routes, or a Kubernetes Ingress). Every route's port
//! comes from the topology's exposure model, so routes, `PORTS` and `PROXY_PROTOCOL` agree.

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use mailu_k8s_config::{Config, Edge, GatewayApi, MailService, Traefik, TraefikMail};
use mailu_k8s_topology::{Component, MailPath, MailRoute, Topology, ports};

use crate::crd::{self, CustomResource};
use crate::{Labels, Object, non_empty_map};

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

fn metadata(name: &str, ns: &str, labels: &Labels) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(ns.to_owned()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    }
}

/// A cert-manager `Certificate` for front's Secret, when an issuer is configured.
pub fn certificate(config: &Config, ns: &str, labels: Labels) -> Option<crd::Certificate> {
    let issuer = config.tls.issuer.as_ref()?;
    let secret = config.tls.secret_name.as_ref()?;
    Some(CustomResource {
        metadata: metadata(secret, ns, &labels),
        spec: crd::CertificateSpec {
            secret_name: secret.clone(),
            issuer_ref: crd::IssuerRef {
                group: Some("cert-manager.io".to_owned()),
                kind: Some(issuer.kind.as_str().to_owned()),
                name: issuer.name.clone(),
            },
            dns_names: web_hosts(config),
            private_key: Some(crd::CertificatePrivateKey {
                algorithm: Some(crd::PrivateKeyAlgorithm::Rsa),
                size: Some(2048),
                // DANE's TLSA record holds the key's digest: a new key on every renewal would
                // break it, so with `dns.dane` the key is kept (cert-manager's `Never`: "a private
                // key will only be generated if one does not already exist"); rolling it over
                // is a deliberate step (README, "DANE").
                rotation_policy: Some(if config.dns.dane {
                    crd::RotationPolicy::Never
                } else {
                    crd::RotationPolicy::Always
                }),
            }),
        },
    })
}

/// Object names at the edge.
pub const WEB_ROUTE: &str = "mailu-web";
pub const TRAEFIK_PROXY_TRANSPORT: &str = "mailu-front-proxy-protocol";
pub const TRAEFIK_SMTP_LIMIT: &str = "mailu-smtp-connection-limit";

/// The name of the route for one mail service, e.g. `mailu-smtp`.
pub fn mail_route_name(service: MailService) -> String {
    format!("mailu-{}", service.key())
}

/// What every route of one installation shares: where it lives, its labels, what it routes.
struct RouteContext<'a> {
    config: &'a Config,
    ns: &'a str,
    labels: Labels,
    /// The web host names, as on front's certificate.
    hosts: Vec<String>,
    /// The mail services that reach front through the ingress's L4 proxy.
    proxied: Vec<&'a MailRoute>,
}

impl RouteContext<'_> {
    fn metadata(&self, name: &str) -> ObjectMeta {
        metadata(name, self.ns, &self.labels)
    }
}

/// front's in-cluster Service, the backend of every route.
fn front() -> String {
    Component::Front.object_name()
}

/// Routes of the configured edge, in a stable order.
pub fn routes(config: &Config, topology: &Topology, ns: &str, labels: Labels) -> Vec<Object> {
    let cx = RouteContext {
        config,
        ns,
        labels,
        hosts: web_hosts(config),
        proxied: topology
            .exposure
            .mail
            .iter()
            .filter(|r| r.path == MailPath::Proxy)
            .collect(),
    };
    match &config.edge {
        Edge::None => Vec::new(),
        Edge::Traefik(t) => traefik_routes(&cx, t),
        Edge::GatewayApi(g) => gateway_routes(&cx, g),
        Edge::Ingress(k) => vec![Object::Ingress(ingress(&cx, k))],
    }
}

/// Traefik: the web `IngressRoute`, and with TCP routing the PROXY-protocol transport, the SMTP
/// connection limit and one `IngressRouteTCP` per proxied mail port.
fn traefik_routes(cx: &RouteContext, t: &Traefik) -> Vec<Object> {
    let mut out = vec![Object::IngressRoute(traefik_web_route(cx, t))];
    let Some(mail) = &t.mail else {
        return out;
    };
    out.push(Object::ServersTransportTcp(CustomResource {
        metadata: cx.metadata(TRAEFIK_PROXY_TRANSPORT),
        spec: crd::ServersTransportTcpSpec {
            proxy_protocol: Some(crd::ProxyProtocol { version: 2 }),
        },
    }));
    if cx.proxied.iter().any(|r| r.service == MailService::Smtp) {
        out.push(Object::MiddlewareTcp(CustomResource {
            metadata: cx.metadata(TRAEFIK_SMTP_LIMIT),
            spec: crd::MiddlewareTcpSpec {
                in_flight_conn: Some(crd::InFlightConn {
                    amount: mail.smtp_connection_limit,
                }),
            },
        }));
    }
    out.extend(
        cx.proxied
            .iter()
            .map(|r| Object::IngressRouteTcp(traefik_mail_route(cx, mail, r))),
    );
    out
}

fn traefik_web_route(cx: &RouteContext, t: &Traefik) -> crd::IngressRoute {
    let rule = cx
        .hosts
        .iter()
        .map(|h| format!("Host(`{h}`)"))
        .collect::<Vec<_>>()
        .join(" || ");
    CustomResource {
        metadata: cx.metadata(WEB_ROUTE),
        spec: crd::IngressRouteSpec {
            entry_points: vec![t.web_entry_point.clone()],
            routes: vec![crd::TraefikRoute {
                kind: Some(crd::TraefikRouteKind::Rule),
                rule,
                services: vec![crd::TraefikService {
                    name: front(),
                    port: Some(IntOrString::Int(i32::from(ports::HTTP.number.get()))),
                }],
                middlewares: Vec::new(),
            }],
            tls: cx
                .config
                .tls
                .secret_name
                .as_ref()
                .map(|secret| crd::TraefikTls {
                    secret_name: Some(secret.clone()),
                    ..crd::TraefikTls::default()
                }),
        },
    }
}

/// One mail port through Traefik's entry point for it, with PROXY protocol to front.
fn traefik_mail_route(
    cx: &RouteContext,
    mail: &TraefikMail,
    r: &MailRoute,
) -> crd::IngressRouteTcp {
    let middlewares = if r.service == MailService::Smtp {
        vec![crd::MiddlewareRef {
            name: TRAEFIK_SMTP_LIMIT.to_owned(),
            namespace: None,
        }]
    } else {
        Vec::new()
    };
    CustomResource {
        metadata: cx.metadata(&mail_route_name(r.service)),
        spec: crd::IngressRouteTcpSpec {
            // The config names an entry point for every service (default: the service's key).
            entry_points: vec![
                mail.entry_points
                    .get(&r.service)
                    .cloned()
                    .unwrap_or_else(|| r.service.key().to_owned()),
            ],
            routes: vec![crd::TraefikTcpRoute {
                rule: "HostSNI(`*`)".to_owned(),
                services: vec![crd::TraefikTcpService {
                    name: front(),
                    port: IntOrString::Int(i32::from(r.port.number.get())),
                    servers_transport: Some(TRAEFIK_PROXY_TRANSPORT.to_owned()),
                }],
                middlewares,
            }],
            // Implicit-TLS ports pass the TLS stream to front untouched; STARTTLS ports are
            // plain TCP until front upgrades them.
            tls: r.service.implicit_tls().then(|| crd::TraefikTls {
                passthrough: Some(true),
                ..crd::TraefikTls::default()
            }),
        },
    }
}

/// Gateway API: the web `HTTPRoute`, and with mail routing a `TLSRoute` per implicit-TLS port
/// and a `TCPRoute` per other proxied port.
fn gateway_routes(cx: &RouteContext, g: &GatewayApi) -> Vec<Object> {
    let parent = |section: Option<&String>| crd::ParentReference {
        name: g.gateway_name.clone(),
        namespace: Some(g.gateway_namespace.clone()),
        section_name: section.cloned(),
    };
    let mut out = vec![Object::HttpRoute(CustomResource {
        metadata: cx.metadata(WEB_ROUTE),
        spec: crd::HttpRouteSpec {
            parent_refs: vec![parent(g.web_section_name.as_ref())],
            hostnames: cx.hosts.clone(),
            rules: vec![front_rule(ports::HTTP.number.get())],
        },
    })];
    let Some(mail) = &g.mail else {
        return out;
    };
    for r in &cx.proxied {
        let metadata = cx.metadata(&mail_route_name(r.service));
        let parent_refs = vec![parent(mail.section_names.get(&r.service))];
        let rules = vec![front_rule(r.port.number.get())];
        out.push(if r.service.implicit_tls() {
            Object::TlsRoute(CustomResource {
                metadata,
                spec: crd::TlsRouteSpec {
                    parent_refs,
                    hostnames: cx
                        .config
                        .hostnames
                        .all()
                        .map(|h| h.as_str().to_owned())
                        .collect(),
                    rules,
                },
            })
        } else {
            Object::TcpRoute(CustomResource {
                metadata,
                spec: crd::TcpRouteSpec { parent_refs, rules },
            })
        });
    }
    out
}

/// A route rule sending everything to front's `port`.
fn front_rule(port: u16) -> crd::RouteRule {
    crd::RouteRule {
        backend_refs: vec![crd::BackendRef {
            name: front(),
            namespace: None,
            port: Some(port),
        }],
    }
}

/// A Kubernetes Ingress for the web UI: every web host to front's HTTP port.
fn ingress(cx: &RouteContext, k: &mailu_k8s_config::KubernetesIngress) -> Ingress {
    let mut metadata = cx.metadata(WEB_ROUTE);
    metadata.annotations = non_empty_map(k.annotations.clone());
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: front(),
            port: Some(ServiceBackendPort {
                number: Some(i32::from(ports::HTTP.number.get())),
                name: None,
            }),
        }),
        resource: None,
    };
    let rule = |host: &String| IngressRule {
        host: Some(host.clone()),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath {
                path: Some("/".to_owned()),
                path_type: "Prefix".to_owned(),
                backend: backend.clone(),
            }],
        }),
    };
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: k.class_name.clone(),
            rules: Some(cx.hosts.iter().map(rule).collect()),
            tls: cx.config.tls.secret_name.as_ref().map(|secret| {
                vec![IngressTLS {
                    hosts: Some(cx.hosts.clone()),
                    secret_name: Some(secret.clone()),
                }]
            }),
            default_backend: None,
        }),
        status: None,
    }
}
