//! Validation of how Mailu is reached: TLS flavor, the edge (ingress) and front's exposure.
//!
//! The combinations refused here are the ones that break mail in practice: client IPs lost behind
//! a proxy (postfix then relays for everyone), an HTTPS proxy in front of a flavor that redirects
//! to HTTPS (a loop), a certificate Secret that nothing creates, mail ports declared twice.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::check::Checker;
use crate::diagnostic::Code;
use crate::file::{self, ConfigFile, IngressKind, TlsFlavor};
use crate::leaf::{Dns1123Subdomain, Parsed};
use crate::model::*;
use crate::rules;

/// Node ports Kubernetes allocates by default.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

pub(crate) struct EdgeParts {
    pub tls: Tls,
    pub edge: Edge,
    pub exposure: Exposure,
}

/// Validates `tls`, `ingress` and `exposure` together. `pod_cidrs` are `subnet`/`subnet6` as
/// written (already validated elsewhere); they are the default `REAL_IP_FROM`.
///
/// The rules run in this order (findings come out in it): the edge, front's Service and the direct
/// mail path, client IPs, TLS.
pub(crate) fn validate_edge(
    c: &mut Checker,
    file: &ConfigFile,
    hostnames: Option<&Hostnames>,
    pod_cidrs: &[String],
) -> Option<EdgeParts> {
    let mark = c.mark();
    let ingress = file.ingress.as_ref();
    let kind = ingress_kind(ingress);
    let offered = offered_mail(&file.exposure.ports);
    let edge = c.field("ingress", |c| {
        check_blocks_match_ingress_type(c, ingress, kind);
        edge(c, kind, ingress, file.namespace.raw(), hostnames, &offered)
    });
    // The rules below need the edge's shape only, so an edge with errors stops none of them.
    let shape = EdgeShape::of(kind, ingress);
    debug_assert!(edge.iter().all(|e| shape == EdgeShape::built(e)));
    let x = &file.exposure;
    let direct_mail = x.service.kind != ServiceType::ClusterIP || x.host_port;
    let exposure = c.field("exposure", |c| {
        exposure(c, x, shape, &offered, direct_mail, pod_cidrs)
    });
    let tls = tls(
        c,
        &file.tls,
        shape,
        traefik_cert_issuer(kind, ingress),
        direct_mail,
        exposure.daemon_set.is_some(),
    );
    warn_web_on_plain_http(c, tls.flavor, shape.terminates_https, direct_mail);
    warn_mail_unreachable(c, shape, direct_mail, &offered);
    if c.errors_since(mark) {
        return None;
    }
    Some(EdgeParts {
        tls,
        edge: edge?,
        exposure,
    })
}

/// What the rules past the edge need to know of it, known from `ingress.type` and its switches
/// even when the edge's own block has errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EdgeShape {
    /// An ingress serves HTTPS in front of front.
    terminates_https: bool,
    /// The mail ports reach front through the edge's L4 proxy, with PROXY protocol.
    carries_mail: bool,
}

impl EdgeShape {
    fn of(kind: IngressKind, ingress: Option<&file::IngressFile>) -> EdgeShape {
        let carries_mail = match kind {
            IngressKind::Traefik => ingress
                .and_then(|i| i.traefik.as_ref())
                .and_then(|t| t.enable_tcp),
            IngressKind::GatewayApi => ingress
                .and_then(|i| i.gateway_api.as_ref())
                .and_then(|g| g.route_mail),
            IngressKind::None | IngressKind::Ingress => Some(false),
        };
        EdgeShape {
            terminates_https: kind != IngressKind::None,
            carries_mail: carries_mail.unwrap_or(true),
        }
    }

    /// The shape of a validated edge (`of` must agree with it).
    fn built(edge: &Edge) -> EdgeShape {
        EdgeShape {
            terminates_https: edge.terminates_https(),
            carries_mail: edge.carries_mail(),
        }
    }
}

// --- the edge -------------------------------------------------------------------------------

/// The edge in use: `ingress.type`, or `none` without an enabled `ingress` block.
fn ingress_kind(ingress: Option<&file::IngressFile>) -> IngressKind {
    match ingress {
        Some(i) if i.enabled.unwrap_or(true) => i.kind,
        _ => IngressKind::None,
    }
}

/// A `traefik`/`gatewayApi`/`ingress` block is given only for its own `ingress.type`.
fn check_blocks_match_ingress_type(
    c: &mut Checker,
    ingress: Option<&file::IngressFile>,
    kind: IngressKind,
) {
    let Some(i) = ingress else {
        return;
    };
    // A disabled `ingress` may keep the blocks of every type.
    let other = |given: bool, own: IngressKind| given && kind != own && i.enabled.unwrap_or(true);
    c.refuse_blocks_of_other_modes(
        [
            ("traefik", other(i.traefik.is_some(), IngressKind::Traefik)),
            (
                "gatewayApi",
                other(i.gateway_api.is_some(), IngressKind::GatewayApi),
            ),
            ("ingress", other(i.ingress.is_some(), IngressKind::Ingress)),
        ],
        |block| format!("`{block}` settings are given but `ingress.type` is not `{block}`"),
        |block| format!("set `ingress.type: {block}`, or remove the `{block}` block"),
    );
}

/// The mail services `exposure.ports` turns on, in `MailService::ALL` order.
fn offered_mail(ports: &file::MailPortsFile<bool>) -> Vec<MailService> {
    MailService::ALL
        .into_iter()
        .filter(|s| mail_value(ports, *s).copied().unwrap_or(s.on_by_default()))
        .collect()
}

/// One value per mail service, `None` where the file leaves it out.
fn mail_ports_of(m: &file::MailPortsFile<String>) -> BTreeMap<MailService, Option<String>> {
    MailService::ALL
        .into_iter()
        .map(|s| (s, mail_value(m, s).cloned()))
        .collect()
}

/// The edge of `kind`, from its block (at `ingress`). `None` stops validation of the edge (the
/// error is already reported, or the host names it needs are invalid).
fn edge(
    c: &mut Checker,
    kind: IngressKind,
    ingress: Option<&file::IngressFile>,
    namespace: &str,
    hostnames: Option<&Hostnames>,
    offered: &[MailService],
) -> Option<Edge> {
    Some(match kind {
        IngressKind::None => Edge::None,
        IngressKind::Ingress => Edge::Ingress(c.field("ingress", |c| {
            kubernetes_ingress(
                c,
                ingress.and_then(|i| i.ingress.clone()).unwrap_or_default(),
            )
        })),
        IngressKind::Traefik => {
            let t = ingress.and_then(|i| i.traefik.clone()).unwrap_or_default();
            Edge::Traefik(c.field("traefik", |c| traefik(c, &t, hostnames, offered))?)
        }
        IngressKind::GatewayApi => {
            let Some(g) = ingress.and_then(|i| i.gateway_api.as_ref()) else {
                c.field("gatewayApi", |c| {
                    c.error(
                        Code::MissingDependency,
                        "`type: gatewayApi` needs a `gatewayApi` block naming the Gateway",
                        "add `gatewayApi: {gatewayName: ...}` under `ingress`",
                    );
                });
                return None;
            };
            Edge::GatewayApi(c.field("gatewayApi", |c| gateway_api(c, g, namespace, offered)))
        }
    })
}

/// `type: ingress` (at `ingress.ingress`): a valid class name and annotations.
fn kubernetes_ingress(c: &mut Checker, k: file::KubernetesIngressFile) -> KubernetesIngress {
    if let Some(class) = &k.class_name {
        c.leaf_field("className", Code::InvalidKubernetesName, class);
    }
    c.field("annotations", |c| c.annotations(&k.annotations));
    KubernetesIngress {
        class_name: k.class_name.map(|n| n.raw().to_owned()),
        annotations: k.annotations,
    }
}

/// `type: traefik` (at `ingress.traefik`): the web host, entry points and, with `enableTcp`, the
/// mail routes.
fn traefik(
    c: &mut Checker,
    t: &file::TraefikFile,
    hostnames: Option<&Hostnames>,
    offered: &[MailService],
) -> Option<Traefik> {
    let web_host = match &t.hostname {
        Some(h) => c
            .leaf_field("hostname", Code::InvalidDnsName, h)
            .map(DnsName::from),
        None => hostnames.map(|h| h.primary.clone()),
    };
    let web_entry_point = t
        .web_entry_point
        .clone()
        .unwrap_or_else(|| file::defaults::TRAEFIK_WEB_ENTRY_POINT.to_owned());
    c.field("webEntryPoint", |c| check_entry_point(c, &web_entry_point));
    let mail = t
        .enable_tcp
        .unwrap_or(true)
        .then(|| traefik_mail(c, t, offered));
    Some(Traefik {
        web_host: web_host?,
        web_entry_point,
        mail,
    })
}

/// Traefik's TCP routes: PROXY protocol on, some mail port offered, valid entry points.
fn traefik_mail(c: &mut Checker, t: &file::TraefikFile, offered: &[MailService]) -> TraefikMail {
    if !t.proxy_protocol.unwrap_or(true) {
        c.field("proxyProtocol", |c| {
            c.error(
                Code::InvalidValue,
                "mail routed through Traefik without PROXY protocol hides every client's IP",
                "front would see Traefik's pod IP, which is inside `subnet`, and postfix relays for `subnet`: an open relay. Keep `proxyProtocol: true`, or set `enableTcp: false` and expose mail through `exposure.service`",
            );
        });
    }
    if offered.is_empty() {
        c.field("enableTcp", |c| {
            c.error(
                Code::InvalidValue,
                "TCP routes are enabled but no mail port is offered",
                "turn on a port under `exposure.ports`, or set `enableTcp: false`",
            );
        });
    }
    let entry_points = c.field("entryPoints", |c| {
        let given = mail_ports_of(&t.entry_points).into_iter();
        given
            .map(|(s, name)| {
                let name = name.unwrap_or_else(|| s.key().to_owned());
                c.field(s.key(), |c| check_entry_point(c, &name));
                (s, name)
            })
            .collect()
    });
    TraefikMail {
        entry_points,
        smtp_connection_limit: t
            .smtp_connection_limit
            .map_or(file::defaults::SMTP_CONNECTION_LIMIT, |n| n.get()),
    }
}

/// `ingress.traefik.certIssuer`, when Traefik is the edge.
fn traefik_cert_issuer(
    kind: IngressKind,
    ingress: Option<&file::IngressFile>,
) -> Option<&Parsed<Dns1123Subdomain>> {
    match kind {
        IngressKind::Traefik => ingress
            .and_then(|i| i.traefik.as_ref())
            .and_then(|t| t.cert_issuer.as_ref()),
        _ => None,
    }
}

/// `type: gatewayApi` (at `ingress.gatewayApi`): valid names and, with `routeMail`, the mail
/// routes.
fn gateway_api(
    c: &mut Checker,
    g: &file::GatewayApiFile,
    namespace: &str,
    offered: &[MailService],
) -> GatewayApi {
    c.leaf_field("gatewayName", Code::InvalidKubernetesName, &g.gateway_name);
    // The default is `namespace`, checked again at this key: every route names the Gateway's
    // namespace in its `parentRefs`.
    let gateway_namespace = match &g.gateway_namespace {
        Some(given) => {
            c.leaf_field("gatewayNamespace", Code::InvalidKubernetesName, given);
            given.raw().to_owned()
        }
        None => {
            c.check_field(
                "gatewayNamespace",
                Code::InvalidKubernetesName,
                namespace,
                rules::check_dns1123_label,
            );
            namespace.to_owned()
        }
    };
    let mail = g
        .route_mail
        .unwrap_or(true)
        .then(|| gateway_mail(c, g, offered));
    check_gateway_section_names(c, g, mail.as_ref());
    GatewayApi {
        gateway_name: g.gateway_name.raw().to_owned(),
        gateway_namespace,
        web_section_name: g.web_section_name.clone(),
        mail,
    }
}

/// The Gateway's mail routes: PROXY protocol confirmed, some mail port offered.
fn gateway_mail(c: &mut Checker, g: &file::GatewayApiFile, offered: &[MailService]) -> GatewayMail {
    if !g.backend_sends_proxy_protocol {
        c.field("backendSendsProxyProtocol", |c| {
            c.error(
                Code::MissingDependency,
                "mail routed through a Gateway needs PROXY protocol towards front",
                "the Gateway API has no PROXY field: configure your implementation to send PROXY v2 to front on the mail routes, then set `backendSendsProxyProtocol: true`; or set `routeMail: false` and expose mail through `exposure.service`",
            );
        });
    }
    if offered.is_empty() {
        c.field("routeMail", |c| {
            c.error(
                Code::InvalidValue,
                "mail routes are enabled but no mail port is offered",
                "turn on a port under `exposure.ports`, or set `routeMail: false`",
            );
        });
    }
    let section_names = mail_ports_of(&g.mail_section_names)
        .into_iter()
        .map(|(s, name)| (s, name.unwrap_or_else(|| s.key().to_owned())))
        .collect();
    GatewayMail { section_names }
}

/// The web section name, then every mail section name in use, are valid Kubernetes names.
fn check_gateway_section_names(
    c: &mut Checker,
    g: &file::GatewayApiFile,
    mail: Option<&GatewayMail>,
) {
    let subdomain = rules::check_dns1123_subdomain;
    if let Some(web) = &g.web_section_name {
        c.check_field(
            "webSectionName",
            Code::InvalidKubernetesName,
            web,
            subdomain,
        );
    }
    let Some(mail) = mail else {
        return;
    };
    c.field("mailSectionNames", |c| {
        for (s, name) in &mail.section_names {
            c.check_field(s.key(), Code::InvalidKubernetesName, name, subdomain);
        }
    });
}

// --- front's Service and the direct mail path, client IPs ------------------------------------

/// `exposure` (at that path): front's Service, the direct mail path and client IPs.
fn exposure(
    c: &mut Checker,
    x: &file::ExposureFile,
    edge: EdgeShape,
    offered: &[MailService],
    direct_mail: bool,
    pod_cidrs: &[String],
) -> Exposure {
    check_mail_not_both_proxied_and_direct(c, edge, x, direct_mail);
    let service = c.field("service", |c| front_service(c, &x.service, edge, offered));
    let daemon_set = x
        .daemon_set
        .as_ref()
        .map(|d| c.fields(&["daemonSet", "nodeSelector"], |c| daemon_set(c, d)));
    let proxy = edge.carries_mail;
    check_real_ip_header(c, x, proxy);
    let real_ip_from = real_ip_from(c, x, proxy, pod_cidrs);
    Exposure {
        offered: offered.to_vec(),
        service,
        host_port: x.host_port,
        client_discovery: x.client_discovery,
        daemon_set,
        real_ip_from,
        real_ip_header: x.real_ip_header.clone(),
    }
}

/// Mail reaches front either through the edge's L4 proxy or directly, never both.
fn check_mail_not_both_proxied_and_direct(
    c: &mut Checker,
    edge: EdgeShape,
    x: &file::ExposureFile,
    direct_mail: bool,
) {
    if !(edge.carries_mail && direct_mail) {
        return;
    }
    let what: &[&str] = if x.host_port {
        &["hostPort"]
    } else {
        &["service", "type"]
    };
    c.fields(what, |c| {
        c.error(
            Code::InvalidValue,
            "mail would reach front both through the ingress's L4 proxy and directly",
            "front expects PROXY headers on the proxied mail ports, so direct connections would fail: keep front's Service `ClusterIP` without hostPorts, or stop routing mail through the ingress",
        );
    });
}

/// `exposure.service` (at that path): its type, traffic policy, load-balancer keys, annotations
/// and node ports.
fn front_service(
    c: &mut Checker,
    svc: &file::FrontServiceFile,
    edge: EdgeShape,
    offered: &[MailService],
) -> FrontService {
    check_service_publishes_something(c, svc, edge, offered);
    let external_traffic_policy = external_traffic_policy(c, svc, offered);
    check_load_balancer_keys_need_load_balancer(c, svc);
    let load_balancer_ip = load_balancer_ip(c, svc);
    check_load_balancer_class_not_empty(c, svc);
    c.field("annotations", |c| c.annotations(&svc.annotations));
    let node_ports = c.field("nodePorts", |c| node_ports(c, svc, offered));
    FrontService {
        kind: svc.kind,
        load_balancer_ip,
        load_balancer_class: svc.load_balancer_class.clone(),
        annotations: svc.annotations.clone(),
        external_traffic_policy,
        node_ports,
        ip_family_policy: svc.ip_family_policy,
    }
}

/// A Service beyond `ClusterIP` publishes a mail port when web goes through the edge.
fn check_service_publishes_something(
    c: &mut Checker,
    svc: &file::FrontServiceFile,
    edge: EdgeShape,
    offered: &[MailService],
) {
    if svc.kind != ServiceType::ClusterIP && edge.terminates_https && offered.is_empty() {
        c.field("type", |c| {
            c.error(
                Code::InvalidValue,
                format!("a `{}` Service would publish nothing: web goes through the ingress and no mail port is offered", svc.kind.as_str()),
                "turn on a port under `exposure.ports`, or keep `type: ClusterIP`",
            );
        });
    }
}

/// `externalTrafficPolicy`: none on `ClusterIP`, never `Cluster` with mail offered; default
/// `Local`.
fn external_traffic_policy(
    c: &mut Checker,
    svc: &file::FrontServiceFile,
    offered: &[MailService],
) -> Option<TrafficPolicy> {
    c.field("externalTrafficPolicy", |c| {
        match (svc.kind, svc.external_traffic_policy) {
            (ServiceType::ClusterIP, Some(_)) => {
                c.error(
                    Code::InvalidValue,
                    "`externalTrafficPolicy` has no meaning on a `ClusterIP` Service",
                    "remove it, or set `exposure.service.type` to `LoadBalancer` or `NodePort`",
                );
                None
            }
            (ServiceType::ClusterIP, None) => None,
            (_, Some(TrafficPolicy::Cluster)) if !offered.is_empty() => {
                c.error(
                    Code::InvalidValue,
                    "`Cluster` replaces every client's IP with a node IP inside the cluster",
                    "use `Local` (the default): postfix relays for internal addresses, so lost client IPs make an open relay",
                );
                None
            }
            (_, policy) => Some(policy.unwrap_or(TrafficPolicy::Local)),
        }
    })
}

/// `loadBalancerIP` and `loadBalancerClass` only with `type: LoadBalancer`.
fn check_load_balancer_keys_need_load_balancer(c: &mut Checker, svc: &file::FrontServiceFile) {
    if svc.kind == ServiceType::LoadBalancer {
        return;
    }
    for (present, key) in [
        (svc.load_balancer_ip.is_some(), "loadBalancerIP"),
        (svc.load_balancer_class.is_some(), "loadBalancerClass"),
    ] {
        if present {
            c.field(key, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("`{key}` needs `type: LoadBalancer`"),
                    "set `exposure.service.type: LoadBalancer`, or remove it",
                );
            });
        }
    }
}

/// `loadBalancerIP`, an IP address.
fn load_balancer_ip(c: &mut Checker, svc: &file::FrontServiceFile) -> Option<IpAddr> {
    let ip = svc.load_balancer_ip.as_ref()?;
    c.leaf_field("loadBalancerIP", Code::InvalidValue, ip)
        .map(|ip| ip.0)
}

/// `loadBalancerClass`, when given, is not empty.
fn check_load_balancer_class_not_empty(c: &mut Checker, svc: &file::FrontServiceFile) {
    if svc.load_balancer_class.as_deref() == Some("") {
        c.field("loadBalancerClass", |c| {
            c.error(
                Code::InvalidValue,
                "the class is empty",
                "name the load-balancer class, or remove the key",
            );
        });
    }
}

/// `nodePorts` (at that path): only on a `NodePort`/`LoadBalancer` Service, in Kubernetes' range,
/// for an offered service, each port once. The valid ones, by service.
fn node_ports(
    c: &mut Checker,
    svc: &file::FrontServiceFile,
    offered: &[MailService],
) -> BTreeMap<MailService, u16> {
    let mut node_ports = BTreeMap::new();
    let mut seen_node_ports = BTreeMap::new();
    for s in MailService::ALL {
        let Some(&port) = mail_value(&svc.node_ports, s) else {
            continue;
        };
        c.field(s.key(), |c| {
            if svc.kind == ServiceType::ClusterIP {
                c.error(
                    Code::InvalidValue,
                    "node ports need `type: NodePort` or `LoadBalancer`",
                    "set `exposure.service.type`, or remove `nodePorts`",
                );
            } else if !NODE_PORT_RANGE.contains(&port) {
                c.error(
                    Code::OutOfRange,
                    format!("{port} is outside Kubernetes' node port range"),
                    "use a port from 30000 to 32767",
                )
                .value(port.to_string());
            } else if !offered.contains(&s) {
                c.error(
                    Code::InvalidValue,
                    format!("`{}` is not offered", s.key()),
                    format!(
                        "turn on `exposure.ports.{}`, or remove this node port",
                        s.key()
                    ),
                );
            } else if let Some(other) = seen_node_ports.insert(port, s) {
                c.error(
                    Code::InvalidValue,
                    format!("node port {port} is also given to `{}`", other.key()),
                    "give each port its own node port",
                )
                .value(port.to_string());
            } else {
                node_ports.insert(s, port);
            }
        });
    }
    node_ports
}

/// `exposure.daemonSet.nodeSelector` (at that path): a non-empty, valid node selector.
fn daemon_set(c: &mut Checker, d: &file::DaemonSetFile) -> BTreeMap<String, String> {
    if d.node_selector.is_empty() {
        c.error(
            Code::InvalidValue,
            "a DaemonSet needs a node selector",
            "label the nodes whose IPs receive mail and select them, e.g. `{mailu.io/mx: \"true\"}`",
        );
    }
    c.labels(&d.node_selector);
    d.node_selector.clone()
}

/// `realIpHeader`: an HTTP header name, not combined with PROXY protocol.
fn check_real_ip_header(c: &mut Checker, x: &file::ExposureFile, proxy: bool) {
    let Some(header) = &x.real_ip_header else {
        return;
    };
    c.field("realIpHeader", |c| {
        if proxy {
            c.error(
                Code::InvalidValue,
                "`REAL_IP_HEADER` cannot be combined with PROXY protocol",
                "Mailu reads client IPs from PROXY headers on the mail ports; remove `realIpHeader`",
            );
        }
        let name_ok = !header.is_empty()
            && header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !name_ok {
            c.error(
                Code::InvalidValue,
                format!("`{header}` is not an HTTP header name"),
                "e.g. `X-Forwarded-For` or `X-Real-IP`",
            )
            .value(header);
        }
    });
}

/// `REAL_IP_FROM`: `realIpFrom` (private CIDRs, not empty behind PROXY protocol), or by default
/// the pod CIDRs when client IPs come from a proxy.
fn real_ip_from(
    c: &mut Checker,
    x: &file::ExposureFile,
    proxy: bool,
    pod_cidrs: &[String],
) -> Vec<String> {
    let Some(list) = &x.real_ip_from else {
        let from_proxy = proxy || x.real_ip_header.is_some();
        return if from_proxy {
            pod_cidrs.to_vec()
        } else {
            Vec::new()
        };
    };
    c.field("realIpFrom", |c| {
        if list.is_empty() && proxy {
            c.error(
                Code::MissingDependency,
                "PROXY protocol needs the addresses allowed to send PROXY headers (`REAL_IP_FROM`)",
                "list the proxy's pod CIDR, or remove `realIpFrom` to use `subnet`",
            );
        }
        for (i, cidr) in list.iter().enumerate() {
            // Whoever sends from these may claim any client address (nginx's
            // `real_ip_recursive on`): only the proxies' private networks.
            c.index(i, |c| c.private_cidr(cidr));
        }
    });
    list.iter().map(|n| n.raw().to_owned()).collect()
}

// --- TLS ------------------------------------------------------------------------------------

/// `tls`: the flavor, the issuer, and the Secret front mounts, each checked against the edge.
fn tls(
    c: &mut Checker,
    t: &file::TlsFile,
    edge: EdgeShape,
    traefik_cert_issuer: Option<&Parsed<Dns1123Subdomain>>,
    direct_mail: bool,
    daemon_set: bool,
) -> Tls {
    let flavor = tls_flavor(t, edge);
    let issuer = issuer(c, t, traefik_cert_issuer);
    let has_issuer = issuer.is_some();
    check_issuer_and_secret_names(c, t, traefik_cert_issuer, has_issuer);
    let secret_name = match flavor {
        TlsFlavor::Cert | TlsFlavor::Letsencrypt if edge.terminates_https => {
            check_no_redirect_loop(c, flavor);
            None
        }
        TlsFlavor::Cert | TlsFlavor::Mail => Some(
            t.secret_name
                .as_ref()
                .map_or_else(file::defaults::tls_secret_name, |n| n.raw().to_owned()),
        ),
        TlsFlavor::Letsencrypt | TlsFlavor::MailLetsencrypt => {
            check_certbot_reachable(c, flavor, edge, direct_mail);
            check_certbot_not_in_daemon_set(c, daemon_set);
            check_certbot_without_certificate(c, flavor, t, has_issuer);
            None
        }
        TlsFlavor::Notls => {
            check_notls_confirmed(c, t);
            check_notls_without_certificate(c, t, has_issuer);
            None
        }
    };
    check_notls_confirmation_only_with_notls(c, flavor, t);
    Tls {
        flavor,
        secret_name,
        issuer,
    }
}

/// `tls.flavor`; by default `mail` behind an HTTPS-terminating edge, otherwise `cert`.
fn tls_flavor(t: &file::TlsFile, edge: EdgeShape) -> TlsFlavor {
    t.flavor.unwrap_or(if edge.terminates_https {
        TlsFlavor::Mail
    } else {
        TlsFlavor::Cert
    })
}

/// The cert-manager issuer: from `tls.certificate` or `ingress.traefik.certIssuer`, not both.
fn issuer(
    c: &mut Checker,
    t: &file::TlsFile,
    traefik_cert_issuer: Option<&Parsed<Dns1123Subdomain>>,
) -> Option<Issuer> {
    match (&t.certificate, traefik_cert_issuer) {
        (Some(cert), Some(traefik)) => {
            c.fields(&["ingress", "traefik", "certIssuer"], |c| {
                c.error(
                    Code::InvalidValue,
                    format!("both `tls.certificate` ({}) and `ingress.traefik.certIssuer` ({}) name an issuer", cert.issuer_name.raw(), traefik.raw()),
                    "keep one of them",
                );
            });
            None
        }
        (Some(cert), None) => Some(Issuer {
            name: cert.issuer_name.raw().to_owned(),
            kind: cert.issuer_kind,
        }),
        (None, Some(name)) => Some(Issuer {
            name: name.raw().to_owned(),
            kind: IssuerKind::ClusterIssuer,
        }),
        (None, None) => None,
    }
}

/// The issuer's name (from wherever [`issuer`] took it) and `tls.secretName` are valid
/// Kubernetes names.
fn check_issuer_and_secret_names(
    c: &mut Checker,
    t: &file::TlsFile,
    traefik_cert_issuer: Option<&Parsed<Dns1123Subdomain>>,
    has_issuer: bool,
) {
    let code = Code::InvalidKubernetesName;
    if has_issuer {
        match (&t.certificate, traefik_cert_issuer) {
            (Some(cert), _) => {
                c.fields(&["tls", "certificate", "issuerName"], |c| {
                    c.leaf(code, &cert.issuer_name)
                });
            }
            (None, Some(name)) => {
                c.fields(&["ingress", "traefik", "certIssuer"], |c| {
                    c.leaf(code, name)
                });
            }
            (None, None) => {}
        }
    }
    if let Some(name) = &t.secret_name {
        c.fields(&["tls", "secretName"], |c| c.leaf(code, name));
    }
}

/// An error at `tls.flavor` about `flavor`.
fn flavor_error(c: &mut Checker, flavor: &str, message: String, hint: &str) {
    c.fields(&["tls", "flavor"], |c| {
        c.error(Code::InvalidValue, message, hint).value(flavor);
    });
}

/// `cert`/`letsencrypt` behind an HTTPS-terminating edge: front redirects to HTTPS, a loop.
fn check_no_redirect_loop(c: &mut Checker, flavor: TlsFlavor) {
    flavor_error(
        c,
        flavor.as_str(),
        format!(
            "`{}` makes front redirect HTTP to HTTPS, but the ingress sends it HTTP: a redirect loop",
            flavor.as_str()
        ),
        "use `flavor: mail` (the default with an ingress): the ingress serves HTTPS, front serves TLS on the mail ports",
    );
}

/// The `letsencrypt` flavors need front's port 80 reachable from the internet, without an edge.
fn check_certbot_reachable(c: &mut Checker, flavor: TlsFlavor, edge: EdgeShape, direct_mail: bool) {
    let name = flavor.as_str();
    if edge.terminates_https || edge.carries_mail {
        flavor_error(
            c,
            name,
            format!(
                "`{name}` needs port 80 of front reachable from the internet for certbot, which an ingress in front prevents"
            ),
            "with an ingress, let cert-manager issue the certificate (`tls.certificate`) and use `flavor: mail`",
        );
    } else if !direct_mail {
        flavor_error(
            c,
            name,
            format!("`{name}` needs port 80 of front reachable from the internet"),
            "set `exposure.service.type: LoadBalancer` or `exposure.hostPort: true`",
        );
    }
}

/// The `letsencrypt` flavors and a DaemonSet: every front would run certbot.
fn check_certbot_not_in_daemon_set(c: &mut Checker, daemon_set: bool) {
    if daemon_set {
        c.fields(&["exposure", "daemonSet"], |c| {
            c.error(
                Code::InvalidValue,
                "every front of a DaemonSet would run certbot for the same names",
                "let cert-manager issue one certificate (`tls.certificate`) and use `flavor: cert`",
            );
        });
    }
}

/// The `letsencrypt` flavors obtain their own certificates: no Secret or issuer.
fn check_certbot_without_certificate(
    c: &mut Checker,
    flavor: TlsFlavor,
    t: &file::TlsFile,
    issuer: bool,
) {
    if t.secret_name.is_some() || issuer {
        flavor_error(
            c,
            flavor.as_str(),
            format!(
                "`{}` obtains its own certificates; the given Secret or issuer would be ignored",
                flavor.as_str()
            ),
            "remove `tls.secretName`/`tls.certificate`, or use `flavor: cert`/`mail`",
        );
    }
}

/// `notls` needs `notlsIsForTestingOnly: true`.
fn check_notls_confirmed(c: &mut Checker, t: &file::TlsFile) {
    if !t.notls_is_for_testing_only {
        c.fields(&["tls", "notlsIsForTestingOnly"], |c| {
            c.error(
                Code::MissingDependency,
                "`flavor: notls` sends passwords in clear text and breaks webmail",
                "set `tls.notlsIsForTestingOnly: true` to confirm this is a test install",
            );
        });
    }
}

/// `notls` with no Secret or issuer.
fn check_notls_without_certificate(c: &mut Checker, t: &file::TlsFile, issuer: bool) {
    if t.secret_name.is_some() || issuer {
        flavor_error(
            c,
            "notls",
            "`notls` together with a certificate".to_owned(),
            "remove `tls.secretName` and the issuer, or choose a TLS flavor",
        );
    }
}

/// `notlsIsForTestingOnly` only with `notls`.
fn check_notls_confirmation_only_with_notls(c: &mut Checker, flavor: TlsFlavor, t: &file::TlsFile) {
    if flavor != TlsFlavor::Notls && t.notls_is_for_testing_only {
        c.fields(&["tls", "notlsIsForTestingOnly"], |c| {
            c.error(
                Code::InvalidValue,
                "set, but the flavor is not `notls`",
                "remove it",
            );
        });
    }
}

/// Warning: the `mail` flavors without an edge publish the web UI on plain HTTP.
fn warn_web_on_plain_http(c: &mut Checker, flavor: TlsFlavor, web_edge: bool, direct_mail: bool) {
    if matches!(flavor, TlsFlavor::Mail | TlsFlavor::MailLetsencrypt) && !web_edge && direct_mail {
        c.fields(&["tls", "flavor"], |c| {
            c.warning(
                Code::InvalidValue,
                format!("with `{}` and no ingress, the web UI is published on plain HTTP (port 80)", flavor.as_str()),
                "put an HTTPS-terminating ingress in front (`ingress`), or use `flavor: cert` so front serves HTTPS itself",
            );
        });
    }
}

/// Warning: mail ports offered, but neither the edge nor front's Service carries them outside.
fn warn_mail_unreachable(
    c: &mut Checker,
    edge: EdgeShape,
    direct_mail: bool,
    offered: &[MailService],
) {
    if !edge.carries_mail && !direct_mail && !offered.is_empty() {
        c.fields(&["exposure", "service", "type"], |c| {
            c.warning(
                Code::InvalidValue,
                "no mail port is reachable from outside the cluster",
                "set `exposure.service.type: LoadBalancer`, `exposure.hostPort: true`, or route mail through `ingress` (traefik or gatewayApi)",
            );
        });
    }
}

fn mail_value<T>(m: &file::MailPortsFile<T>, s: MailService) -> Option<&T> {
    match s {
        MailService::Smtp => m.smtp.as_ref(),
        MailService::Submissions => m.submissions.as_ref(),
        MailService::Submission => m.submission.as_ref(),
        MailService::Imaps => m.imaps.as_ref(),
        MailService::Pop3s => m.pop3s.as_ref(),
        MailService::Imap => m.imap.as_ref(),
        MailService::Pop3 => m.pop3.as_ref(),
        MailService::Sieve => m.sieve.as_ref(),
    }
}

/// A Traefik entry point name (at its path).
fn check_entry_point(c: &mut Checker, name: &str) {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        c.error(
            Code::InvalidValue,
            format!("`{name}` is not a Traefik entry point name"),
            "use the name of an entry point in Traefik's static configuration (letters, digits, `-`, `_`)",
        )
        .value(name);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::finding_paths as paths;

    /// An edge whose own block has errors stops none of the rules about exposure and TLS.
    #[test]
    fn an_edge_with_errors_hides_no_other_finding() {
        for ingress in [
            "ingress: {type: traefik, traefik: {hostname: 'bad host'}}\n",
            "ingress: {type: gatewayApi}\n",
        ] {
            let paths = paths(&format!("{ingress}exposure: {{realIpHeader: 'X Bad'}}\n"));
            assert!(
                paths.contains(&"exposure.realIpHeader".to_owned()),
                "{ingress}: {paths:?}"
            );
        }
    }
}
