//! Validation of how Mailu is reached: TLS flavor, the edge (ingress) and front's exposure.
//!
//! The combinations refused here are the ones that break mail in practice: client IPs lost behind
//! a proxy (postfix then relays for everyone), an HTTPS proxy in front of a flavor that redirects
//! to HTTPS (a loop), a certificate Secret that nothing creates, mail ports declared twice.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::diagnostic::{Code, Diagnostic, join};
use crate::file::{self, ConfigFile, IngressKind, TlsFlavor};
use crate::model::*;
use crate::rules;
use crate::validate::check_into;
use crate::validate_workloads::{check_annotations, check_labels};

/// Node ports Kubernetes allocates by default.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

pub(crate) struct EdgeParts {
    pub tls: Tls,
    pub edge: Edge,
    pub exposure: Exposure,
}

fn err(code: Code, path: &str, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, path, message).with_hint(hint)
}

/// Validates `tls`, `ingress` and `exposure` together. `pod_cidrs` are `subnet`/`subnet6` as
/// written (already validated elsewhere); they are the default `REAL_IP_FROM`.
///
/// The rules run in this order (findings come out in it): the edge, front's Service and the direct
/// mail path, client IPs, TLS.
pub(crate) fn validate_edge(
    file: &ConfigFile,
    hostnames: Option<&Hostnames>,
    pod_cidrs: &[String],
    out: &mut Vec<Diagnostic>,
) -> Option<EdgeParts> {
    let errors_before = out.iter().filter(|d| d.is_error()).count();

    // --- the edge ---------------------------------------------------------------------------
    let ingress = file.ingress.as_ref();
    let kind = ingress_kind(ingress);
    check_blocks_match_ingress_type(ingress, kind, out);
    let offered = offered_mail(&file.exposure.ports);
    let edge = edge(kind, ingress, &file.namespace, hostnames, &offered, out)?;

    // --- front's Service and the direct mail path ------------------------------------------
    let x = &file.exposure;
    let svc = &x.service;
    let direct_mail = svc.kind != ServiceType::ClusterIP || x.host_port;
    check_mail_not_both_proxied_and_direct(&edge, x, direct_mail, out);
    check_service_publishes_something(svc, &edge, &offered, out);
    let external_traffic_policy = external_traffic_policy(svc, &offered, out);
    check_load_balancer_keys_need_load_balancer(svc, out);
    let load_balancer_ip = load_balancer_ip(svc, out);
    check_load_balancer_class_not_empty(svc, out);
    check_annotations(&svc.annotations, "exposure.service.annotations", out);
    let node_ports = node_ports(svc, &offered, out);
    let daemon_set = daemon_set(x, out);

    // --- client IPs -------------------------------------------------------------------------
    let proxy = edge.carries_mail();
    check_real_ip_header_without_proxy(x, proxy, out);
    check_real_ip_header_name(x, out);
    let real_ip_from = real_ip_from(x, proxy, pod_cidrs, out);

    // --- TLS --------------------------------------------------------------------------------
    let tls = tls(
        &file.tls,
        &edge,
        traefik_cert_issuer(kind, ingress),
        direct_mail,
        daemon_set.is_some(),
        out,
    );
    warn_web_on_plain_http(tls.flavor, edge.terminates_https(), direct_mail, out);
    warn_mail_unreachable(&edge, direct_mail, &offered, out);

    if out.iter().filter(|d| d.is_error()).count() > errors_before {
        return None;
    }
    Some(EdgeParts {
        tls,
        edge,
        exposure: Exposure {
            offered,
            service: FrontService {
                kind: svc.kind,
                load_balancer_ip,
                load_balancer_class: svc.load_balancer_class.clone(),
                annotations: svc.annotations.clone(),
                external_traffic_policy,
                node_ports,
            },
            host_port: x.host_port,
            client_discovery: x.client_discovery,
            daemon_set,
            real_ip_from,
            real_ip_header: x.real_ip_header.clone(),
        },
    })
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
    ingress: Option<&file::IngressFile>,
    kind: IngressKind,
    out: &mut Vec<Diagnostic>,
) {
    let Some(i) = ingress else {
        return;
    };
    let enabled = i.enabled.unwrap_or(true);
    for (present, block, block_kind) in [
        (i.traefik.is_some(), "traefik", IngressKind::Traefik),
        (
            i.gateway_api.is_some(),
            "gatewayApi",
            IngressKind::GatewayApi,
        ),
        (i.ingress.is_some(), "ingress", IngressKind::Ingress),
    ] {
        if present && kind != block_kind && enabled {
            out.push(err(
                Code::InvalidValue,
                &join("ingress", block),
                format!("`{block}` settings are given but `ingress.type` is not `{block}`"),
                format!("set `ingress.type: {block}`, or remove the `{block}` block"),
            ));
        }
    }
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

/// The edge of `kind`, from its block. `None` stops validation of the edge (the error is already
/// reported, or the host names it needs are invalid).
fn edge(
    kind: IngressKind,
    ingress: Option<&file::IngressFile>,
    namespace: &str,
    hostnames: Option<&Hostnames>,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> Option<Edge> {
    Some(match kind {
        IngressKind::None => Edge::None,
        IngressKind::Ingress => Edge::Ingress(kubernetes_ingress(ingress, out)),
        IngressKind::Traefik => Edge::Traefik(traefik(ingress, hostnames, offered, out)?),
        IngressKind::GatewayApi => Edge::GatewayApi(gateway_api(ingress, namespace, offered, out)?),
    })
}

/// `type: ingress`: a valid class name and annotations.
fn kubernetes_ingress(
    ingress: Option<&file::IngressFile>,
    out: &mut Vec<Diagnostic>,
) -> KubernetesIngress {
    let k = ingress.and_then(|i| i.ingress.clone()).unwrap_or_default();
    if let Some(class) = &k.class_name {
        check_into(
            out,
            Code::InvalidKubernetesName,
            "ingress.ingress.className",
            class,
            rules::check_dns1123_subdomain,
        );
    }
    check_annotations(&k.annotations, "ingress.ingress.annotations", out);
    KubernetesIngress {
        class_name: k.class_name,
        annotations: k.annotations,
    }
}

/// `type: traefik`: the web host, entry points and, with `enableTcp`, the mail routes.
fn traefik(
    ingress: Option<&file::IngressFile>,
    hostnames: Option<&Hostnames>,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> Option<Traefik> {
    let t = ingress.and_then(|i| i.traefik.clone()).unwrap_or_default();
    let web_host = traefik_web_host(&t, hostnames, out);
    let web_entry_point = t
        .web_entry_point
        .clone()
        .unwrap_or_else(|| file::defaults::TRAEFIK_WEB_ENTRY_POINT.to_owned());
    check_entry_point(&web_entry_point, "ingress.traefik.webEntryPoint", out);
    let mail = if t.enable_tcp.unwrap_or(true) {
        Some(traefik_mail(&t, offered, out))
    } else {
        None
    };
    Some(Traefik {
        web_host: web_host?,
        web_entry_point,
        mail,
    })
}

/// `ingress.traefik.hostname`, a valid FQDN; by default the primary host name.
fn traefik_web_host(
    t: &file::TraefikFile,
    hostnames: Option<&Hostnames>,
    out: &mut Vec<Diagnostic>,
) -> Option<DnsName> {
    match &t.hostname {
        Some(h) => match DnsName::parse_fqdn(h) {
            Ok(n) => Some(n),
            Err(p) => {
                out.push(
                    err(
                        Code::InvalidDnsName,
                        "ingress.traefik.hostname",
                        p.message,
                        p.hint,
                    )
                    .with_value(h),
                );
                None
            }
        },
        None => hostnames.map(|h| h.primary.clone()),
    }
}

/// Traefik's TCP routes: PROXY protocol on, some mail port offered, valid entry points.
fn traefik_mail(
    t: &file::TraefikFile,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> TraefikMail {
    if !t.proxy_protocol.unwrap_or(true) {
        out.push(err(
            Code::InvalidValue,
            "ingress.traefik.proxyProtocol",
            "mail routed through Traefik without PROXY protocol hides every client's IP",
            "front would see Traefik's pod IP, which is inside `subnet`, and postfix relays for `subnet`: an open relay. Keep `proxyProtocol: true`, or set `enableTcp: false` and expose mail through `exposure.service`",
        ));
    }
    if offered.is_empty() {
        out.push(err(
            Code::InvalidValue,
            "ingress.traefik.enableTcp",
            "TCP routes are enabled but no mail port is offered",
            "turn on a port under `exposure.ports`, or set `enableTcp: false`",
        ));
    }
    let entry_points: BTreeMap<MailService, String> = mail_ports_of(&t.entry_points)
        .into_iter()
        .map(|(s, name)| {
            let name = name.unwrap_or_else(|| s.key().to_owned());
            check_entry_point(
                &name,
                &format!("ingress.traefik.entryPoints.{}", s.key()),
                out,
            );
            (s, name)
        })
        .collect();
    TraefikMail {
        entry_points,
        smtp_connection_limit: t
            .smtp_connection_limit
            .map_or(file::defaults::SMTP_CONNECTION_LIMIT, |n| n.get()),
    }
}

/// `ingress.traefik.certIssuer`, when Traefik is the edge.
fn traefik_cert_issuer(kind: IngressKind, ingress: Option<&file::IngressFile>) -> Option<&String> {
    match kind {
        IngressKind::Traefik => ingress
            .and_then(|i| i.traefik.as_ref())
            .and_then(|t| t.cert_issuer.as_ref()),
        _ => None,
    }
}

/// `type: gatewayApi`: the block naming the Gateway, valid names and, with `routeMail`, the mail
/// routes.
fn gateway_api(
    ingress: Option<&file::IngressFile>,
    namespace: &str,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> Option<GatewayApi> {
    let Some(g) = ingress.and_then(|i| i.gateway_api.clone()) else {
        out.push(err(
            Code::MissingDependency,
            "ingress.gatewayApi",
            "`type: gatewayApi` needs a `gatewayApi` block naming the Gateway",
            "add `gatewayApi: {gatewayName: ...}` under `ingress`",
        ));
        return None;
    };
    check_into(
        out,
        Code::InvalidKubernetesName,
        "ingress.gatewayApi.gatewayName",
        &g.gateway_name,
        rules::check_dns1123_subdomain,
    );
    let gateway_namespace = g
        .gateway_namespace
        .clone()
        .unwrap_or_else(|| namespace.to_owned());
    check_into(
        out,
        Code::InvalidKubernetesName,
        "ingress.gatewayApi.gatewayNamespace",
        &gateway_namespace,
        rules::check_dns1123_label,
    );
    let mail = if g.route_mail.unwrap_or(true) {
        Some(gateway_mail(&g, offered, out))
    } else {
        None
    };
    check_gateway_section_names(&g, mail.as_ref(), out);
    Some(GatewayApi {
        gateway_name: g.gateway_name,
        gateway_namespace,
        web_section_name: g.web_section_name,
        mail,
    })
}

/// The Gateway's mail routes: PROXY protocol confirmed, some mail port offered.
fn gateway_mail(
    g: &file::GatewayApiFile,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> GatewayMail {
    if !g.backend_sends_proxy_protocol {
        out.push(err(
            Code::MissingDependency,
            "ingress.gatewayApi.backendSendsProxyProtocol",
            "mail routed through a Gateway needs PROXY protocol towards front",
            "the Gateway API has no PROXY field: configure your implementation to send PROXY v2 to front on the mail routes, then set `backendSendsProxyProtocol: true`; or set `routeMail: false` and expose mail through `exposure.service`",
        ));
    }
    if offered.is_empty() {
        out.push(err(
            Code::InvalidValue,
            "ingress.gatewayApi.routeMail",
            "mail routes are enabled but no mail port is offered",
            "turn on a port under `exposure.ports`, or set `routeMail: false`",
        ));
    }
    let section_names = mail_ports_of(&g.mail_section_names)
        .into_iter()
        .map(|(s, name)| (s, name.unwrap_or_else(|| s.key().to_owned())))
        .collect();
    GatewayMail { section_names }
}

/// The web section name, then every mail section name in use, are valid Kubernetes names.
fn check_gateway_section_names(
    g: &file::GatewayApiFile,
    mail: Option<&GatewayMail>,
    out: &mut Vec<Diagnostic>,
) {
    let mut sections = vec![];
    if let Some(web) = &g.web_section_name {
        sections.push(("ingress.gatewayApi.webSectionName".to_owned(), web));
    }
    for (s, name) in mail.map(|m| &m.section_names).into_iter().flatten() {
        sections.push((
            format!("ingress.gatewayApi.mailSectionNames.{}", s.key()),
            name,
        ));
    }
    for (path, name) in sections {
        check_into(
            out,
            Code::InvalidKubernetesName,
            &path,
            name,
            rules::check_dns1123_subdomain,
        );
    }
}

// --- front's Service and the direct mail path -----------------------------------------------

/// Mail reaches front either through the edge's L4 proxy or directly, never both.
fn check_mail_not_both_proxied_and_direct(
    edge: &Edge,
    x: &file::ExposureFile,
    direct_mail: bool,
    out: &mut Vec<Diagnostic>,
) {
    if edge.carries_mail() && direct_mail {
        let what = if x.host_port {
            "exposure.hostPort"
        } else {
            "exposure.service.type"
        };
        out.push(err(
            Code::InvalidValue,
            what,
            "mail would reach front both through the ingress's L4 proxy and directly",
            "front expects PROXY headers on the proxied mail ports, so direct connections would fail: keep front's Service `ClusterIP` without hostPorts, or stop routing mail through the ingress",
        ));
    }
}

/// A Service beyond `ClusterIP` publishes a mail port when web goes through the edge.
fn check_service_publishes_something(
    svc: &file::FrontServiceFile,
    edge: &Edge,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) {
    if svc.kind != ServiceType::ClusterIP && edge.terminates_https() && offered.is_empty() {
        out.push(err(
            Code::InvalidValue,
            "exposure.service.type",
            format!("a `{}` Service would publish nothing: web goes through the ingress and no mail port is offered", svc.kind.as_str()),
            "turn on a port under `exposure.ports`, or keep `type: ClusterIP`",
        ));
    }
}

/// `externalTrafficPolicy`: none on `ClusterIP`, never `Cluster` with mail offered; default
/// `Local`.
fn external_traffic_policy(
    svc: &file::FrontServiceFile,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> Option<TrafficPolicy> {
    match (svc.kind, svc.external_traffic_policy) {
        (ServiceType::ClusterIP, Some(_)) => {
            out.push(err(
                Code::InvalidValue,
                "exposure.service.externalTrafficPolicy",
                "`externalTrafficPolicy` has no meaning on a `ClusterIP` Service",
                "remove it, or set `exposure.service.type` to `LoadBalancer` or `NodePort`",
            ));
            None
        }
        (ServiceType::ClusterIP, None) => None,
        (_, Some(TrafficPolicy::Cluster)) if !offered.is_empty() => {
            out.push(err(
                Code::InvalidValue,
                "exposure.service.externalTrafficPolicy",
                "`Cluster` replaces every client's IP with a node IP inside the cluster",
                "use `Local` (the default): postfix relays for internal addresses, so lost client IPs make an open relay",
            ));
            None
        }
        (_, policy) => Some(policy.unwrap_or(TrafficPolicy::Local)),
    }
}

/// `loadBalancerIP` and `loadBalancerClass` only with `type: LoadBalancer`.
fn check_load_balancer_keys_need_load_balancer(
    svc: &file::FrontServiceFile,
    out: &mut Vec<Diagnostic>,
) {
    if svc.kind == ServiceType::LoadBalancer {
        return;
    }
    for (present, key) in [
        (svc.load_balancer_ip.is_some(), "loadBalancerIP"),
        (svc.load_balancer_class.is_some(), "loadBalancerClass"),
    ] {
        if present {
            out.push(err(
                Code::InvalidValue,
                &join("exposure.service", key),
                format!("`{key}` needs `type: LoadBalancer`"),
                "set `exposure.service.type: LoadBalancer`, or remove it",
            ));
        }
    }
}

/// `loadBalancerIP`, an IP address.
fn load_balancer_ip(svc: &file::FrontServiceFile, out: &mut Vec<Diagnostic>) -> Option<IpAddr> {
    let ip = svc.load_balancer_ip.as_ref()?;
    match ip.parse::<IpAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            out.push(
                err(
                    Code::InvalidValue,
                    "exposure.service.loadBalancerIP",
                    format!("`{ip}` is not an IP address"),
                    "write the address the load balancer should use, e.g. `203.0.113.25`",
                )
                .with_value(ip),
            );
            None
        }
    }
}

/// `loadBalancerClass`, when given, is not empty.
fn check_load_balancer_class_not_empty(svc: &file::FrontServiceFile, out: &mut Vec<Diagnostic>) {
    if let Some(class) = &svc.load_balancer_class
        && class.is_empty()
    {
        out.push(err(
            Code::InvalidValue,
            "exposure.service.loadBalancerClass",
            "the class is empty",
            "name the load-balancer class, or remove the key",
        ));
    }
}

/// `nodePorts`: only on a `NodePort`/`LoadBalancer` Service, in Kubernetes' range, for an offered
/// service, each port once. The valid ones, by service.
fn node_ports(
    svc: &file::FrontServiceFile,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) -> BTreeMap<MailService, u16> {
    let mut node_ports = BTreeMap::new();
    let mut seen_node_ports = BTreeMap::new();
    for s in MailService::ALL {
        let Some(&port) = mail_value(&svc.node_ports, s) else {
            continue;
        };
        let path = format!("exposure.service.nodePorts.{}", s.key());
        if svc.kind == ServiceType::ClusterIP {
            out.push(err(
                Code::InvalidValue,
                &path,
                "node ports need `type: NodePort` or `LoadBalancer`",
                "set `exposure.service.type`, or remove `nodePorts`",
            ));
        } else if !NODE_PORT_RANGE.contains(&port) {
            out.push(
                err(
                    Code::OutOfRange,
                    &path,
                    format!("{port} is outside Kubernetes' node port range"),
                    "use a port from 30000 to 32767",
                )
                .with_value(port.to_string()),
            );
        } else if !offered.contains(&s) {
            out.push(err(
                Code::InvalidValue,
                &path,
                format!("`{}` is not offered", s.key()),
                format!(
                    "turn on `exposure.ports.{}`, or remove this node port",
                    s.key()
                ),
            ));
        } else if let Some(other) = seen_node_ports.insert(port, s) {
            out.push(
                err(
                    Code::InvalidValue,
                    &path,
                    format!("node port {port} is also given to `{}`", other.key()),
                    "give each port its own node port",
                )
                .with_value(port.to_string()),
            );
        } else {
            node_ports.insert(s, port);
        }
    }
    node_ports
}

/// `exposure.daemonSet`: a non-empty, valid node selector.
fn daemon_set(
    x: &file::ExposureFile,
    out: &mut Vec<Diagnostic>,
) -> Option<BTreeMap<String, String>> {
    x.daemon_set.as_ref().map(|d| {
        if d.node_selector.is_empty() {
            out.push(err(
                Code::InvalidValue,
                "exposure.daemonSet.nodeSelector",
                "a DaemonSet needs a node selector",
                "label the nodes whose IPs receive mail and select them, e.g. `{mailu.io/mx: \"true\"}`",
            ));
        }
        check_labels(&d.node_selector, "exposure.daemonSet.nodeSelector", out);
        d.node_selector.clone()
    })
}

// --- client IPs -----------------------------------------------------------------------------

/// `realIpHeader` and PROXY protocol exclude each other.
fn check_real_ip_header_without_proxy(
    x: &file::ExposureFile,
    proxy: bool,
    out: &mut Vec<Diagnostic>,
) {
    if proxy && x.real_ip_header.is_some() {
        out.push(err(
            Code::InvalidValue,
            "exposure.realIpHeader",
            "`REAL_IP_HEADER` cannot be combined with PROXY protocol",
            "Mailu reads client IPs from PROXY headers on the mail ports; remove `realIpHeader`",
        ));
    }
}

/// `realIpHeader`, an HTTP header name.
fn check_real_ip_header_name(x: &file::ExposureFile, out: &mut Vec<Diagnostic>) {
    if let Some(header) = &x.real_ip_header
        && (header.is_empty()
            || !header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        out.push(
            err(
                Code::InvalidValue,
                "exposure.realIpHeader",
                format!("`{header}` is not an HTTP header name"),
                "e.g. `X-Forwarded-For` or `X-Real-IP`",
            )
            .with_value(header),
        );
    }
}

/// `REAL_IP_FROM`: `realIpFrom` (private CIDRs, not empty behind PROXY protocol), or by default
/// the pod CIDRs when client IPs come from a proxy.
fn real_ip_from(
    x: &file::ExposureFile,
    proxy: bool,
    pod_cidrs: &[String],
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    match &x.real_ip_from {
        Some(list) => {
            if list.is_empty() && proxy {
                out.push(err(
                    Code::MissingDependency,
                    "exposure.realIpFrom",
                    "PROXY protocol needs the addresses allowed to send PROXY headers (`REAL_IP_FROM`)",
                    "list the proxy's pod CIDR, or remove `realIpFrom` to use `subnet`",
                ));
            }
            for (i, cidr) in list.iter().enumerate() {
                check_into(
                    out,
                    Code::InvalidCidr,
                    &format!("exposure.realIpFrom[{i}]"),
                    cidr,
                    // Whoever sends from these may claim any client address (nginx's
                    // `real_ip_recursive on`): only the proxies' private networks.
                    rules::check_private_cidr,
                );
            }
            list.clone()
        }
        None if proxy || x.real_ip_header.is_some() => pod_cidrs.to_vec(),
        None => Vec::new(),
    }
}

// --- TLS ------------------------------------------------------------------------------------

/// `tls`: the flavor, the issuer, and the Secret front mounts, each checked against the edge.
fn tls(
    t: &file::TlsFile,
    edge: &Edge,
    traefik_cert_issuer: Option<&String>,
    direct_mail: bool,
    daemon_set: bool,
    out: &mut Vec<Diagnostic>,
) -> Tls {
    let flavor = tls_flavor(t, edge);
    let issuer = issuer(t, traefik_cert_issuer, out);
    check_issuer_and_secret_names(t, issuer.as_ref(), out);
    let has_issuer = issuer.is_some();
    let secret_name = match flavor {
        TlsFlavor::Cert | TlsFlavor::Letsencrypt if edge.terminates_https() => {
            check_no_redirect_loop(flavor, out);
            None
        }
        TlsFlavor::Cert | TlsFlavor::Mail => Some(
            t.secret_name
                .clone()
                .unwrap_or_else(file::defaults::tls_secret_name),
        ),
        TlsFlavor::Letsencrypt | TlsFlavor::MailLetsencrypt => {
            check_certbot_reachable(flavor, edge, direct_mail, out);
            check_certbot_not_in_daemon_set(daemon_set, out);
            check_certbot_without_certificate(flavor, t, has_issuer, out);
            None
        }
        TlsFlavor::Notls => {
            check_notls_confirmed(t, out);
            check_notls_without_certificate(t, has_issuer, out);
            None
        }
    };
    check_notls_confirmation_only_with_notls(flavor, t, out);
    Tls {
        flavor,
        secret_name,
        issuer,
    }
}

/// `tls.flavor`; by default `mail` behind an HTTPS-terminating edge, otherwise `cert`.
fn tls_flavor(t: &file::TlsFile, edge: &Edge) -> TlsFlavor {
    t.flavor.unwrap_or(if edge.terminates_https() {
        TlsFlavor::Mail
    } else {
        TlsFlavor::Cert
    })
}

/// The cert-manager issuer: from `tls.certificate` or `ingress.traefik.certIssuer`, not both.
fn issuer(
    t: &file::TlsFile,
    traefik_cert_issuer: Option<&String>,
    out: &mut Vec<Diagnostic>,
) -> Option<Issuer> {
    match (&t.certificate, traefik_cert_issuer) {
        (Some(c), Some(traefik)) => {
            out.push(err(
                Code::InvalidValue,
                "ingress.traefik.certIssuer",
                format!("both `tls.certificate` ({}) and `ingress.traefik.certIssuer` ({traefik}) name an issuer", c.issuer_name),
                "keep one of them",
            ));
            None
        }
        (Some(c), None) => Some(Issuer {
            name: c.issuer_name.clone(),
            kind: c.issuer_kind,
        }),
        (None, Some(name)) => Some(Issuer {
            name: name.clone(),
            kind: IssuerKind::ClusterIssuer,
        }),
        (None, None) => None,
    }
}

/// The issuer's name and `tls.secretName` are valid Kubernetes names.
fn check_issuer_and_secret_names(
    t: &file::TlsFile,
    issuer: Option<&Issuer>,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(i) = issuer {
        let path = if t.certificate.is_some() {
            "tls.certificate.issuerName"
        } else {
            "ingress.traefik.certIssuer"
        };
        check_into(
            out,
            Code::InvalidKubernetesName,
            path,
            &i.name,
            rules::check_dns1123_subdomain,
        );
    }
    if let Some(name) = &t.secret_name {
        check_into(
            out,
            Code::InvalidKubernetesName,
            "tls.secretName",
            name,
            rules::check_dns1123_subdomain,
        );
    }
}

/// `cert`/`letsencrypt` behind an HTTPS-terminating edge: front redirects to HTTPS, a loop.
fn check_no_redirect_loop(flavor: TlsFlavor, out: &mut Vec<Diagnostic>) {
    out.push(err(
        Code::InvalidValue,
        "tls.flavor",
        format!("`{}` makes front redirect HTTP to HTTPS, but the ingress sends it HTTP: a redirect loop", flavor.as_str()),
        "use `flavor: mail` (the default with an ingress): the ingress serves HTTPS, front serves TLS on the mail ports",
    ).with_value(flavor.as_str()));
}

/// The `letsencrypt` flavors need front's port 80 reachable from the internet, without an edge.
fn check_certbot_reachable(
    flavor: TlsFlavor,
    edge: &Edge,
    direct_mail: bool,
    out: &mut Vec<Diagnostic>,
) {
    if edge.terminates_https() || edge.carries_mail() {
        out.push(err(
            Code::InvalidValue,
            "tls.flavor",
            format!("`{}` needs port 80 of front reachable from the internet for certbot, which an ingress in front prevents", flavor.as_str()),
            "with an ingress, let cert-manager issue the certificate (`tls.certificate`) and use `flavor: mail`",
        ).with_value(flavor.as_str()));
    } else if !direct_mail {
        out.push(
            err(
                Code::InvalidValue,
                "tls.flavor",
                format!(
                    "`{}` needs port 80 of front reachable from the internet",
                    flavor.as_str()
                ),
                "set `exposure.service.type: LoadBalancer` or `exposure.hostPort: true`",
            )
            .with_value(flavor.as_str()),
        );
    }
}

/// The `letsencrypt` flavors and a DaemonSet: every front would run certbot.
fn check_certbot_not_in_daemon_set(daemon_set: bool, out: &mut Vec<Diagnostic>) {
    if daemon_set {
        out.push(err(
            Code::InvalidValue,
            "exposure.daemonSet",
            "every front of a DaemonSet would run certbot for the same names",
            "let cert-manager issue one certificate (`tls.certificate`) and use `flavor: cert`",
        ));
    }
}

/// The `letsencrypt` flavors obtain their own certificates: no Secret or issuer.
fn check_certbot_without_certificate(
    flavor: TlsFlavor,
    t: &file::TlsFile,
    issuer: bool,
    out: &mut Vec<Diagnostic>,
) {
    if t.secret_name.is_some() || issuer {
        out.push(err(
            Code::InvalidValue,
            "tls.flavor",
            format!("`{}` obtains its own certificates; the given Secret or issuer would be ignored", flavor.as_str()),
            "remove `tls.secretName`/`tls.certificate`, or use `flavor: cert`/`mail`",
        ).with_value(flavor.as_str()));
    }
}

/// `notls` needs `notlsIsForTestingOnly: true`.
fn check_notls_confirmed(t: &file::TlsFile, out: &mut Vec<Diagnostic>) {
    if !t.notls_is_for_testing_only {
        out.push(err(
            Code::MissingDependency,
            "tls.notlsIsForTestingOnly",
            "`flavor: notls` sends passwords in clear text and breaks webmail",
            "set `tls.notlsIsForTestingOnly: true` to confirm this is a test install",
        ));
    }
}

/// `notls` with no Secret or issuer.
fn check_notls_without_certificate(t: &file::TlsFile, issuer: bool, out: &mut Vec<Diagnostic>) {
    if t.secret_name.is_some() || issuer {
        out.push(
            err(
                Code::InvalidValue,
                "tls.flavor",
                "`notls` together with a certificate",
                "remove `tls.secretName` and the issuer, or choose a TLS flavor",
            )
            .with_value("notls"),
        );
    }
}

/// `notlsIsForTestingOnly` only with `notls`.
fn check_notls_confirmation_only_with_notls(
    flavor: TlsFlavor,
    t: &file::TlsFile,
    out: &mut Vec<Diagnostic>,
) {
    if flavor != TlsFlavor::Notls && t.notls_is_for_testing_only {
        out.push(err(
            Code::InvalidValue,
            "tls.notlsIsForTestingOnly",
            "set, but the flavor is not `notls`",
            "remove it",
        ));
    }
}

/// Warning: the `mail` flavors without an edge publish the web UI on plain HTTP.
fn warn_web_on_plain_http(
    flavor: TlsFlavor,
    web_edge: bool,
    direct_mail: bool,
    out: &mut Vec<Diagnostic>,
) {
    if matches!(flavor, TlsFlavor::Mail | TlsFlavor::MailLetsencrypt) && !web_edge && direct_mail {
        out.push(
            Diagnostic::warning(
                Code::InvalidValue,
                "tls.flavor",
                format!("with `{}` and no ingress, the web UI is published on plain HTTP (port 80)", flavor.as_str()),
            )
            .with_hint("put an HTTPS-terminating ingress in front (`ingress`), or use `flavor: cert` so front serves HTTPS itself"),
        );
    }
}

/// Warning: mail ports offered, but neither the edge nor front's Service carries them outside.
fn warn_mail_unreachable(
    edge: &Edge,
    direct_mail: bool,
    offered: &[MailService],
    out: &mut Vec<Diagnostic>,
) {
    if !edge.carries_mail() && !direct_mail && !offered.is_empty() {
        out.push(
            Diagnostic::warning(
                Code::InvalidValue,
                "exposure.service.type",
                "no mail port is reachable from outside the cluster",
            )
            .with_hint("set `exposure.service.type: LoadBalancer`, `exposure.hostPort: true`, or route mail through `ingress` (traefik or gatewayApi)"),
        );
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

fn check_entry_point(name: &str, path: &str, out: &mut Vec<Diagnostic>) {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        out.push(err(
            Code::InvalidValue,
            path,
            format!("`{name}` is not a Traefik entry point name"),
            "use the name of an entry point in Traefik's static configuration (letters, digits, `-`, `_`)",
        ).with_value(name));
    }
}
