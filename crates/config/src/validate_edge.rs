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
pub(crate) fn validate_edge(
    file: &ConfigFile,
    hostnames: Option<&Hostnames>,
    pod_cidrs: &[String],
    out: &mut Vec<Diagnostic>,
) -> Option<EdgeParts> {
    let errors_before = out.iter().filter(|d| d.is_error()).count();
    let namespace = &file.namespace;

    // --- the edge ---------------------------------------------------------------------------
    let ingress = file.ingress.clone();
    let enabled = ingress.as_ref().is_some_and(|i| i.enabled.unwrap_or(true));
    let kind = match &ingress {
        Some(i) if enabled => i.kind,
        _ => IngressKind::None,
    };
    if let Some(i) = &ingress {
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

    let mail_ports_of = |m: &file::MailPortsFile<String>| -> BTreeMap<MailService, Option<String>> {
        MailService::ALL
            .into_iter()
            .map(|s| (s, mail_value(m, s).cloned()))
            .collect()
    };

    let offered: Vec<MailService> = MailService::ALL
        .into_iter()
        .filter(|s| {
            mail_value(&file.exposure.ports, *s)
                .copied()
                .unwrap_or(s.on_by_default())
        })
        .collect();

    let mut cert_issuer_from_traefik: Option<String> = None;
    let edge = match kind {
        IngressKind::None => Edge::None,
        IngressKind::Ingress => {
            let k = ingress
                .as_ref()
                .and_then(|i| i.ingress.clone())
                .unwrap_or_default();
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
            Edge::Ingress(KubernetesIngress {
                class_name: k.class_name,
                annotations: k.annotations,
            })
        }
        IngressKind::Traefik => {
            let t = ingress
                .as_ref()
                .and_then(|i| i.traefik.clone())
                .unwrap_or_default();
            let web_host = match &t.hostname {
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
            };
            cert_issuer_from_traefik = t.cert_issuer.clone();
            let web_entry_point = t
                .web_entry_point
                .clone()
                .unwrap_or_else(|| file::defaults::TRAEFIK_WEB_ENTRY_POINT.to_owned());
            check_entry_point(&web_entry_point, "ingress.traefik.webEntryPoint", out);
            let enable_tcp = t.enable_tcp.unwrap_or(true);
            let proxy_protocol = t.proxy_protocol.unwrap_or(true);
            let mail = if enable_tcp {
                if !proxy_protocol {
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
                Some(TraefikMail {
                    entry_points,
                    smtp_connection_limit: t
                        .smtp_connection_limit
                        .map_or(file::defaults::SMTP_CONNECTION_LIMIT, |n| n.get()),
                })
            } else {
                None
            };
            Edge::Traefik(Traefik {
                web_host: web_host?,
                web_entry_point,
                mail,
            })
        }
        IngressKind::GatewayApi => {
            let Some(g) = ingress.as_ref().and_then(|i| i.gateway_api.clone()) else {
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
                .unwrap_or_else(|| namespace.clone());
            check_into(
                out,
                Code::InvalidKubernetesName,
                "ingress.gatewayApi.gatewayNamespace",
                &gateway_namespace,
                rules::check_dns1123_label,
            );
            let mut sections = vec![];
            if let Some(web) = &g.web_section_name {
                sections.push(("ingress.gatewayApi.webSectionName".to_owned(), web.clone()));
            }
            let mail = if g.route_mail.unwrap_or(true) {
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
                let section_names: BTreeMap<MailService, String> =
                    mail_ports_of(&g.mail_section_names)
                        .into_iter()
                        .map(|(s, name)| {
                            let name = name.unwrap_or_else(|| s.key().to_owned());
                            sections.push((
                                format!("ingress.gatewayApi.mailSectionNames.{}", s.key()),
                                name.clone(),
                            ));
                            (s, name)
                        })
                        .collect();
                Some(GatewayMail { section_names })
            } else {
                None
            };
            for (path, name) in sections {
                check_into(
                    out,
                    Code::InvalidKubernetesName,
                    &path,
                    &name,
                    rules::check_dns1123_subdomain,
                );
            }
            Edge::GatewayApi(GatewayApi {
                gateway_name: g.gateway_name,
                gateway_namespace,
                web_section_name: g.web_section_name,
                mail,
            })
        }
    };

    // --- front's Service and the direct mail path ------------------------------------------
    let x = &file.exposure;
    let svc = &x.service;
    let direct_mail = svc.kind != ServiceType::ClusterIP || x.host_port;
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
    if svc.kind != ServiceType::ClusterIP && edge.terminates_https() && offered.is_empty() {
        out.push(err(
            Code::InvalidValue,
            "exposure.service.type",
            format!("a `{}` Service would publish nothing: web goes through the ingress and no mail port is offered", svc.kind.as_str()),
            "turn on a port under `exposure.ports`, or keep `type: ClusterIP`",
        ));
    }
    let external_traffic_policy = match (svc.kind, svc.external_traffic_policy) {
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
    };
    if svc.kind != ServiceType::LoadBalancer {
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
    let load_balancer_ip =
        svc.load_balancer_ip
            .as_ref()
            .and_then(|ip| match ip.parse::<IpAddr>() {
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
            });
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
    check_annotations(&svc.annotations, "exposure.service.annotations", out);

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

    let daemon_set = x.daemon_set.as_ref().map(|d| {
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
    });

    // --- client IPs -------------------------------------------------------------------------
    let proxy = edge.carries_mail();
    if proxy && x.real_ip_header.is_some() {
        out.push(err(
            Code::InvalidValue,
            "exposure.realIpHeader",
            "`REAL_IP_HEADER` cannot be combined with PROXY protocol",
            "Mailu reads client IPs from PROXY headers on the mail ports; remove `realIpHeader`",
        ));
    }
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
    let real_ip_from = match &x.real_ip_from {
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
    };

    // --- TLS --------------------------------------------------------------------------------
    let t = &file.tls;
    let flavor = t.flavor.unwrap_or(if edge.terminates_https() {
        TlsFlavor::Mail
    } else {
        TlsFlavor::Cert
    });
    let issuer = match (&t.certificate, &cert_issuer_from_traefik) {
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
    };
    if let Some(i) = &issuer {
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

    let web_edge = edge.terminates_https();
    let secret_name = match flavor {
        TlsFlavor::Cert | TlsFlavor::Letsencrypt if web_edge => {
            out.push(err(
                Code::InvalidValue,
                "tls.flavor",
                format!("`{}` makes front redirect HTTP to HTTPS, but the ingress sends it HTTP: a redirect loop", flavor.as_str()),
                "use `flavor: mail` (the default with an ingress): the ingress serves HTTPS, front serves TLS on the mail ports",
            ).with_value(flavor.as_str()));
            None
        }
        TlsFlavor::Cert | TlsFlavor::Mail => Some(
            t.secret_name
                .clone()
                .unwrap_or_else(file::defaults::tls_secret_name),
        ),
        TlsFlavor::Letsencrypt | TlsFlavor::MailLetsencrypt => {
            if web_edge || edge.carries_mail() {
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
            if daemon_set.is_some() {
                out.push(err(
                    Code::InvalidValue,
                    "exposure.daemonSet",
                    "every front of a DaemonSet would run certbot for the same names",
                    "let cert-manager issue one certificate (`tls.certificate`) and use `flavor: cert`",
                ));
            }
            if t.secret_name.is_some() || issuer.is_some() {
                out.push(err(
                    Code::InvalidValue,
                    "tls.flavor",
                    format!("`{}` obtains its own certificates; the given Secret or issuer would be ignored", flavor.as_str()),
                    "remove `tls.secretName`/`tls.certificate`, or use `flavor: cert`/`mail`",
                ).with_value(flavor.as_str()));
            }
            None
        }
        TlsFlavor::Notls => {
            if !t.notls_is_for_testing_only {
                out.push(err(
                    Code::MissingDependency,
                    "tls.notlsIsForTestingOnly",
                    "`flavor: notls` sends passwords in clear text and breaks webmail",
                    "set `tls.notlsIsForTestingOnly: true` to confirm this is a test install",
                ));
            }
            if t.secret_name.is_some() || issuer.is_some() {
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
            None
        }
    };
    if flavor != TlsFlavor::Notls && t.notls_is_for_testing_only {
        out.push(err(
            Code::InvalidValue,
            "tls.notlsIsForTestingOnly",
            "set, but the flavor is not `notls`",
            "remove it",
        ));
    }

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

    if out.iter().filter(|d| d.is_error()).count() > errors_before {
        return None;
    }
    Some(EdgeParts {
        tls: Tls {
            flavor,
            secret_name,
            issuer,
        },
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
