//! `egress`: every combination that would leave outbound mail with an address SPF and reverse DNS
//! do not vouch for is refused here, with the field and a fix.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;

use crate::check::Checker;
use crate::diagnostic::{Code, Diagnostic};
use crate::egress::*;
use crate::file::{
    AntreaEgressFile, CiliumEgressFile, CiliumGatewayFile, ConfigFile, EgressFile, Ipv6Egress,
    RelayFile,
};
use crate::model::{Hostnames, Relay, WorkloadSettings};
use crate::networks::{self, Network};
use crate::rules::{self, DnsName};

/// Address ranges that are never a public sender's: private, shared, loopback, link-local,
/// unspecified, multicast, unique-local. (Documentation ranges are left alone: examples use
/// them as placeholders.)
fn is_private(ip: IpAddr) -> bool {
    /// 0.0.0.0/8, "this network", which `Ipv4Addr` has no stable predicate for.
    const THIS_NETWORK: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::UNSPECIFIED, 8);
    match ip {
        IpAddr::V4(a) => {
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_multicast()
                || rules::SHARED_ADDRESS_SPACE.contains(&a)
                || THIS_NETWORK.contains(&a)
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || a.to_ipv4_mapped().is_some()
                || rules::UNIQUE_LOCAL_V6.contains(&a)
                || rules::LINK_LOCAL_V6.contains(&a)
        }
    }
}

/// What the address rules check against: the file and the cluster's own networks.
struct Context<'a> {
    file: &'a ConfigFile,
    cluster: Vec<Network>,
}

/// An address (at the current path) that must not be one of the cluster's own; `public` adds a
/// warning for private ranges.
fn address(c: &mut Checker, cx: &Context, raw: &str, public: bool) -> Option<IpAddr> {
    let Ok(ip) = raw.parse::<IpAddr>() else {
        let hint = if raw.contains('/') {
            "write the address without a prefix length, e.g. `203.0.113.10`"
        } else {
            "write an IPv4 or IPv6 address, e.g. `203.0.113.10` or `2001:db8::10`"
        };
        c.error(
            Code::InvalidValue,
            format!("`{raw}` is not an IP address"),
            hint,
        )
        .value(raw);
        return None;
    };
    if let Some(net) = cx.cluster.iter().find(|n| n.net.contains(&ip)) {
        c.error(
            Code::InvalidValue,
            format!("`{ip}` lies inside the cluster's network `{}`", net.text),
            "give the address other mail servers see: a node's or gateway's public \
             address, never a pod or Service address",
        )
        .value(raw);
        return None;
    }
    if public && is_private(ip) {
        c.warning(
            Code::InvalidValue,
            format!("`{ip}` is a private address, which no receiving mail server sees"),
            "list the public address the traffic is translated to (SPF and PTR are \
             checked against it)",
        )
        .value(raw);
    }
    Some(ip)
}

/// A selector (at the current path) that must select something: present and not empty.
fn selector(
    c: &mut Checker,
    map: &BTreeMap<String, String>,
    what: &str,
    example: &str,
) -> Option<BTreeMap<String, String>> {
    if map.is_empty() {
        c.error(
            Code::MissingKey,
            format!("{what} needs node labels"),
            format!(
                "label the node(s) and select them, e.g. `{example}`; an empty selector \
                 matches every node"
            ),
        );
        return None;
    }
    c.labels(map).then(|| map.clone())
}

/// Validates `egress`. `domain` and `hostnames` are `None` when invalid (reported elsewhere).
pub(crate) fn validate_egress(
    c: &mut Checker,
    file: &ConfigFile,
    domain: Option<&DnsName>,
    hostnames: Option<&Hostnames>,
) -> Option<Egress> {
    let mark = c.mark();
    let cx = Context {
        file,
        cluster: networks::cluster(file),
    };
    let e = &file.egress;
    let uses_ips = matches!(
        e.mode,
        EgressModeKind::Cilium
            | EgressModeKind::Antrea
            | EgressModeKind::Ovn
            | EgressModeKind::NodeIps
            | EgressModeKind::Static
    );
    c.field("egress", |c| check_blocks_match_mode(c, e));
    let ips = c.fields(&["egress", "ips"], |c| addresses(c, &cx, e, uses_ips));
    let ipv6 = c.fields(&["egress", "ipv6"], |c| ipv6_path(c, file, e, &ips));
    let ip_source = c.fields(&["egress", "ipSource"], |c| ip_source(c, e));
    let helo_name = c.fields(&["egress", "heloName"], |c| {
        helo_name(c, e, uses_ips, domain, hostnames)
    });
    let components = c.fields(&["egress", "components"], |c| components(c, file, e));
    let node_selector = c.fields(&["egress", "nodeSelector"], |c| pinning(c, e));
    let implicit_tls_relay = implicit_tls_relay(e);
    c.fields(&["workloads", "postfix", "overrides"], |c| {
        check_postfix_overrides(c, file, helo_name.as_ref(), hostnames, implicit_tls_relay);
        let ipv4_only = ipv6 == Some(Ipv6Path::Disabled);
        check_postfix_master_overrides(c, file, ipv4_only, implicit_tls_relay);
    });
    let mode = c.field("egress", |c| egress_mode(c, &cx, e, &ips, ipv6));
    if c.errors_since(mark) {
        return None;
    }
    Some(Egress {
        mode: mode?,
        ips,
        ipv6: ipv6?,
        ip_source: ip_source?,
        helo_name,
        components,
        node_selector,
    })
}

/// A `cilium`/`antrea`/`relay` block is given only for its own `egress.mode`.
fn check_blocks_match_mode(c: &mut Checker, e: &EgressFile) {
    let kind = e.mode;
    c.refuse_blocks_of_other_modes(
        [
            (
                "cilium",
                e.cilium.is_some() && kind != EgressModeKind::Cilium,
            ),
            (
                "antrea",
                e.antrea.is_some() && kind != EgressModeKind::Antrea,
            ),
            ("relay", e.relay.is_some() && kind != EgressModeKind::Relay),
        ],
        |block| {
            format!(
                "`egress.{block}` is given but `egress.mode` is `{}`",
                kind.as_str()
            )
        },
        |block| format!("set `egress.mode: {block}`, or remove `egress.{block}`"),
    );
}

/// Whether mail leaves through a relay on the implicit-TLS port (465).
fn implicit_tls_relay(e: &EgressFile) -> bool {
    e.mode == EgressModeKind::Relay
        && e.relay
            .as_ref()
            .is_some_and(|r| r.port.get() == postfix_params::IMPLICIT_TLS_PORT)
}

/// The mode's own settings, from its block (at `egress`).
fn egress_mode(
    c: &mut Checker,
    cx: &Context,
    e: &EgressFile,
    ips: &[IpAddr],
    ipv6: Option<Ipv6Path>,
) -> Option<EgressMode> {
    match e.mode {
        EgressModeKind::None => Some(EgressMode::None),
        EgressModeKind::Ovn => Some(EgressMode::Ovn),
        EgressModeKind::NodeIps => Some(EgressMode::NodeIps),
        EgressModeKind::Static => Some(EgressMode::Static),
        EgressModeKind::Relay => c
            .field("relay", |c| relay(c, e.relay.as_ref()))
            .map(EgressMode::Relay),
        EgressModeKind::Cilium => c.field("cilium", |c| match &e.cilium {
            Some(f) => cilium(c, cx, f, ips, ipv6).map(EgressMode::Cilium),
            None => {
                c.error(
                    Code::MissingDependency,
                    "`mode: cilium` needs the gateway and the Cilium release",
                    "add `cilium: {version: \"1.18\", nodeSelector: {egress-gateway: \"true\"}}` \
                     under `egress`",
                );
                None
            }
        }),
        EgressModeKind::Antrea => {
            let gateway_ips = gateway_ips(ips, ipv6.unwrap_or(Ipv6Path::Disabled));
            antrea(c, e.antrea.as_ref(), &gateway_ips).map(EgressMode::Antrea)
        }
    }
}

/// `egress.ips` (at that path): valid, unique, outside the cluster, of a family the pods have.
fn addresses(c: &mut Checker, cx: &Context, e: &EgressFile, uses_ips: bool) -> Vec<IpAddr> {
    if !uses_ips {
        check_no_ips_for_mode(c, e);
        return Vec::new();
    }
    if e.ips.is_empty() {
        report_missing_ips(c, e.mode);
        return Vec::new();
    }
    let mut seen = Vec::new();
    for (i, raw) in e.ips.iter().enumerate() {
        if let Some(ip) = c.index(i, |c| listed_address(c, cx, raw, &seen)) {
            seen.push(ip);
        }
    }
    if !seen.is_empty() && !seen.iter().any(IpAddr::is_ipv4) {
        c.error(
            Code::MissingDependency,
            "no IPv4 address: postfix always sends over IPv4 (the pods' `subnet`)",
            "add the IPv4 address outbound mail leaves from",
        );
    }
    seen
}

/// A mode that sends from no declared address has no `egress.ips`.
fn check_no_ips_for_mode(c: &mut Checker, e: &EgressFile) {
    if e.ips.is_empty() {
        return;
    }
    let hint = match e.mode {
        EgressModeKind::Relay => {
            "remove `egress.ips`: with a relay, the relay's operator vouches for the \
             addresses mail leaves from (include its SPF record)"
        }
        _ => {
            "say where they come from: `mode: static` for a provider's NAT or \
             load-balancer addresses, `mode: nodeIps` for the nodes' own addresses"
        }
    };
    c.error(
        Code::InvalidValue,
        format!("`mode: {}` sends from no declared address", e.mode.as_str()),
        hint,
    );
}

/// A mode that sends from declared addresses needs them in `egress.ips`.
fn report_missing_ips(c: &mut Checker, kind: EgressModeKind) {
    let what = match kind {
        EgressModeKind::NodeIps => {
            "list the public IPv4 and IPv6 addresses of every node postfix can run on"
        }
        EgressModeKind::Static => "list the outbound addresses of the NAT gateway or load balancer",
        _ => "list the egress address(es), e.g. `[203.0.113.10]`",
    };
    c.error(
        Code::EmptyList,
        format!(
            "`mode: {}` needs the addresses mail leaves from: SPF and PTR are built from them",
            kind.as_str()
        ),
        what,
    );
}

/// One entry of `egress.ips`: an address outside the cluster, not listed before (`seen`), IPv6
/// only when the pods have IPv6.
fn listed_address(c: &mut Checker, cx: &Context, raw: &str, seen: &[IpAddr]) -> Option<IpAddr> {
    let ip = address(c, cx, raw, true)?;
    if seen.contains(&ip) {
        c.error(
            Code::InvalidValue,
            format!("`{ip}` is listed twice"),
            "list each address once",
        )
        .value(raw);
        return None;
    }
    if ip.is_ipv6() && cx.file.subnet6.is_none() {
        c.error(
            Code::InvalidValue,
            format!("`{ip}` is IPv6, but the pods have no IPv6 (no `subnet6`)"),
            "set `subnet6` to the cluster's IPv6 pod CIDR if it is dual-stack; otherwise \
             remove the IPv6 addresses: postfix cannot send from them",
        )
        .value(raw);
        return None;
    }
    Some(ip)
}

/// How IPv6 leaves (at `egress.ipv6`); `None` after reporting an ambiguous or contradictory
/// choice.
fn ipv6_path(
    c: &mut Checker,
    file: &ConfigFile,
    e: &EgressFile,
    ips: &[IpAddr],
) -> Option<Ipv6Path> {
    let kind = e.mode;
    let dual_stack = file.subnet6.is_some();
    let has_v6 = ips.iter().any(IpAddr::is_ipv6);
    match (kind, e.ipv6) {
        (EgressModeKind::Relay | EgressModeKind::None, None) => Some(if dual_stack {
            Ipv6Path::Unplanned
        } else {
            Ipv6Path::NotInCluster
        }),
        (_, Some(Ipv6Egress::Disable)) => ipv6_disabled(c, has_v6),
        (EgressModeKind::Relay | EgressModeKind::None, Some(other)) => {
            c.error(
                Code::InvalidValue,
                format!(
                    "`{}` needs declared addresses, which `mode: {}` has none of",
                    ipv6_name(other),
                    kind.as_str()
                ),
                "remove it, or use `disable` to keep postfix on IPv4",
            );
            None
        }
        (_, given) if !dual_stack => ipv6_not_in_cluster(c, given),
        (EgressModeKind::NodeIps, Some(Ipv6Egress::Gateway)) => {
            c.error(
                Code::InvalidValue,
                "`mode: nodeIps` has no gateway",
                "use `nodeIps` (or leave it out): IPv6 leaves from the nodes' addresses",
            );
            None
        }
        (EgressModeKind::NodeIps, _) => ipv6_from_listed(
            c,
            has_v6,
            "on a dual-stack cluster postfix also sends over IPv6, from node addresses \
             `egress.ips` does not list",
        ),
        (_, Some(Ipv6Egress::NodeIps)) => ipv6_from_listed(
            c,
            has_v6,
            "`nodeIps` needs the nodes' IPv6 addresses in `egress.ips`",
        ),
        (_, Some(Ipv6Egress::Gateway)) => {
            ipv6_through_gateway(c, has_v6, before_cilium_ipv6_gateway(e))
        }
        (_, None) => ipv6_by_default(c, has_v6, before_cilium_ipv6_gateway(e)),
    }
}

/// Whether the mode is Cilium at a release without an IPv6 egress address (before 1.20).
fn before_cilium_ipv6_gateway(e: &EgressFile) -> bool {
    e.mode == EgressModeKind::Cilium
        && e.cilium
            .as_ref()
            .and_then(|f| parse_cilium_version(&f.version).ok())
            .is_some_and(|v| !v.has_ipv6_egress_ip())
}

/// Reports that IPv6 would leave from an address `egress.ips` does not list.
fn no_ipv6_listed(c: &mut Checker, message: &str) -> Option<Ipv6Path> {
    c.error(
        Code::MissingDependency,
        message,
        "add the IPv6 address(es) to `egress.ips`, or set `egress.ipv6: disable` so postfix \
         sends over IPv4 only",
    );
    None
}

/// `ipv6: disable`: no IPv6 address may be listed.
fn ipv6_disabled(c: &mut Checker, has_v6: bool) -> Option<Ipv6Path> {
    if has_v6 {
        c.error(
            Code::InvalidValue,
            "postfix is told not to send over IPv6, yet `egress.ips` lists IPv6 addresses",
            "remove the IPv6 addresses from `egress.ips`, or remove `egress.ipv6: disable`",
        );
        return None;
    }
    Some(Ipv6Path::Disabled)
}

/// Pods without IPv6: `egress.ipv6` has nothing to say.
fn ipv6_not_in_cluster(c: &mut Checker, given: Option<Ipv6Egress>) -> Option<Ipv6Path> {
    if let Some(g) = given {
        c.error(
            Code::InvalidValue,
            format!("`{}`: the pods have no IPv6 (no `subnet6`)", ipv6_name(g)),
            "set `subnet6` if the cluster is dual-stack, or remove `egress.ipv6`",
        );
        return None;
    }
    Some(Ipv6Path::NotInCluster)
}

/// IPv6 from the nodes' addresses, which `egress.ips` must list.
fn ipv6_from_listed(c: &mut Checker, has_v6: bool, message: &str) -> Option<Ipv6Path> {
    if has_v6 {
        Some(Ipv6Path::NodeIps)
    } else {
        no_ipv6_listed(c, message)
    }
}

/// `ipv6: gateway`: a gateway with an IPv6 address, listed in `egress.ips`.
fn ipv6_through_gateway(
    c: &mut Checker,
    has_v6: bool,
    before_ipv6_gateway: bool,
) -> Option<Ipv6Path> {
    if before_ipv6_gateway {
        c.error(
            Code::InvalidValue,
            "Cilium before 1.20 has no IPv6 egress address: IPv6 bypasses the gateway",
            "upgrade to Cilium 1.20 (`egress.cilium.version: \"1.20\"`), or use \
             `nodeIps` (list every node's IPv6) or `disable`",
        );
        return None;
    }
    if has_v6 {
        Some(Ipv6Path::Gateway)
    } else {
        no_ipv6_listed(c, "`gateway` needs the IPv6 egress address in `egress.ips`")
    }
}

/// No `egress.ipv6` on a dual-stack cluster: through the gateway, whose IPv6 address is listed.
fn ipv6_by_default(c: &mut Checker, has_v6: bool, before_ipv6_gateway: bool) -> Option<Ipv6Path> {
    if !has_v6 {
        return no_ipv6_listed(
            c,
            "on a dual-stack cluster postfix also sends over IPv6, and that path has no \
             IPv6 address in `egress.ips`: it would leave from the node's own address",
        );
    }
    if before_ipv6_gateway {
        c.error(
            Code::MissingDependency,
            "IPv6 addresses are listed, but Cilium before 1.20 sends IPv6 from the \
             node running postfix, not through the gateway",
            "say what they are: `egress.ipv6: nodeIps` (every node's IPv6 address is \
             listed) or `disable`; or upgrade to Cilium 1.20",
        );
        return None;
    }
    Some(Ipv6Path::Gateway)
}

fn ipv6_name(v: Ipv6Egress) -> &'static str {
    match v {
        Ipv6Egress::Gateway => "gateway",
        Ipv6Egress::NodeIps => "nodeIps",
        Ipv6Egress::Disable => "disable",
    }
}

/// `egress.ipSource` (at that path): where a gateway's address comes from, by mode.
fn ip_source(c: &mut Checker, e: &EgressFile) -> Option<Option<IpSource>> {
    let antrea_pool = e
        .antrea
        .as_ref()
        .is_some_and(|a| a.node_selector.is_some() || a.external_ip_pool.is_some());
    let refuse = |c: &mut Checker, message: &str, hint: &str| {
        c.error(Code::InvalidValue, message, hint);
        None
    };
    match (e.mode, e.ip_source) {
        (EgressModeKind::Cilium, s) => Some(Some(s.unwrap_or(IpSource::NodeIp))),
        (EgressModeKind::Antrea, Some(IpSource::NodeIp)) if antrea_pool => refuse(
            c,
            "Antrea moves pool addresses between nodes; a node's own address cannot move",
            "use `floatingIp`, or remove `egress.antrea.nodeSelector`/`externalIPPool` and \
             name the node's address in `egress.ips`",
        ),
        (EgressModeKind::Antrea, s) => Some(Some(s.unwrap_or(if antrea_pool {
            IpSource::FloatingIp
        } else {
            IpSource::NodeIp
        }))),
        (EgressModeKind::Ovn, Some(IpSource::NodeIp)) => refuse(
            c,
            "OVN-Kubernetes adds the egress address to a node; it cannot be a node's own address",
            "use `floatingIp` (the default) with a free address in a node subnet",
        ),
        (EgressModeKind::Ovn, _) => Some(Some(IpSource::FloatingIp)),
        (EgressModeKind::NodeIps, Some(IpSource::FloatingIp)) => refuse(
            c,
            "`mode: nodeIps` sends from the nodes' own addresses",
            "remove `ipSource`, or use a gateway mode for a floating address",
        ),
        (EgressModeKind::NodeIps, _) => Some(Some(IpSource::NodeIp)),
        (kind, Some(_)) => refuse(
            c,
            &format!("`mode: {}` has no gateway address", kind.as_str()),
            "remove `egress.ipSource`: it applies to `cilium`, `antrea` and `ovn`",
        ),
        (_, None) => Some(None),
    }
}

/// `egress.heloName` (at that path): the name the egress addresses confirm, by default
/// `out.<domain>`, not one of the inbound `hostnames`.
fn helo_name(
    c: &mut Checker,
    e: &EgressFile,
    uses_ips: bool,
    domain: Option<&DnsName>,
    hostnames: Option<&Hostnames>,
) -> Option<DnsName> {
    if !uses_ips {
        if e.helo_name.is_some() {
            c.error(
                Code::InvalidValue,
                format!(
                    "`mode: {}` has no declared sending address for the name to confirm",
                    e.mode.as_str()
                ),
                "remove `egress.heloName` (postfix says the first of `hostnames`)",
            );
        }
        return None;
    }
    let name = match &e.helo_name {
        Some(raw) => c.check(Code::InvalidDnsName, raw, DnsName::parse_fqdn)?,
        None => default_helo_name(c, domain?)?,
    };
    if let Some(h) = hostnames
        && h.others.contains(&name)
    {
        c.error(
            Code::InvalidValue,
            format!("`{name}` is one of `hostnames`, which point at the inbound addresses"),
            "use a name of its own (default `out.<domain>`): its A/AAAA records hold the \
             egress addresses, which would otherwise take the web and mail clients of that name",
        )
        .value(name.as_str());
        return None;
    }
    Some(name)
}

/// `out.<domain>`, when that is a usable name.
fn default_helo_name(c: &mut Checker, domain: &DnsName) -> Option<DnsName> {
    match DnsName::parse_fqdn(&format!("out.{domain}")) {
        Ok(n) => Some(n),
        Err(p) => {
            c.error(
                Code::InvalidDnsName,
                format!(
                    "the default HELO name `out.{domain}` is not usable: {}",
                    p.message
                ),
                "set `egress.heloName` to a name of your own",
            );
            None
        }
    }
}

/// `egress.components` (at that path): components that run, each once, sharing a path that
/// exists.
fn components(c: &mut Checker, file: &ConfigFile, e: &EgressFile) -> Vec<EgressComponent> {
    if e.components.is_empty() {
        return Vec::new();
    }
    if matches!(e.mode, EgressModeKind::Relay | EgressModeKind::None) {
        c.error(
            Code::InvalidValue,
            format!(
                "`mode: {}` has no path for other components to share",
                e.mode.as_str()
            ),
            "remove `egress.components`",
        );
        return Vec::new();
    }
    let k = &file.components;
    let mut out = Vec::new();
    for (i, comp) in e.components.iter().enumerate() {
        let runs = match comp {
            EgressComponent::Fetchmail => k.fetchmail,
            EgressComponent::Clamav => k.clamav,
            EgressComponent::Rspamd => true,
            EgressComponent::Resolver => k.resolver.unwrap_or(true),
        };
        c.index(i, |c| {
            if !runs {
                c.error(
                    Code::MissingDependency,
                    format!("`{}` does not run", comp.name()),
                    format!("set `components.{}: true`, or remove it here", comp.name()),
                )
                .value(comp.name());
            } else if out.contains(comp) {
                c.error(
                    Code::InvalidValue,
                    format!("`{}` is listed twice", comp.name()),
                    "list each component once",
                )
                .value(comp.name());
            } else {
                out.push(*comp);
            }
        });
    }
    out
}

/// `egress.nodeSelector` (at that path): where the sending pods are pinned.
fn pinning(c: &mut Checker, e: &EgressFile) -> BTreeMap<String, String> {
    let Some(given) = &e.node_selector else {
        return BTreeMap::new();
    };
    if matches!(e.mode, EgressModeKind::Relay | EgressModeKind::None) {
        c.error(
            Code::InvalidValue,
            format!("`mode: {}` declares no node addresses", e.mode.as_str()),
            "use `mode: nodeIps` and list the pinned nodes' addresses in `egress.ips`, or pin \
             postfix with `workloads.postfix.nodeSelector`",
        );
        return BTreeMap::new();
    }
    selector(
        c,
        given,
        "pinning the sending pods",
        "{mailu.example.com/egress: \"true\"}",
    )
    .unwrap_or_default()
}

/// The user's own `postfix.cf` (at `workloads.postfix.overrides`) must not set what the egress
/// settings write into it.
fn check_postfix_overrides(
    c: &mut Checker,
    file: &ConfigFile,
    helo: Option<&DnsName>,
    hostnames: Option<&Hostnames>,
    implicit_tls_relay: bool,
) {
    let Some(text) = postfix_override(file, postfix_params::OVERRIDE_FILE) else {
        return;
    };
    let helo_override = helo.is_some_and(|h| hostnames.is_none_or(|n| &n.primary != h));
    let owned: Vec<(&str, &str)> = [
        (
            helo_override,
            postfix_params::SMTP_HELO_NAME,
            "`egress.heloName` sets it",
        ),
        (
            implicit_tls_relay,
            postfix_params::DEFAULT_TRANSPORT,
            "`egress.relay.port: 465` sets it (the relay's TLS-wrapping transport)",
        ),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, name, why)| (name, why))
    .collect();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if let Some((_, why)) = owned.iter().find(|(n, _)| *n == name) {
            c.field(postfix_params::OVERRIDE_FILE, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("sets `{name}`, which {why}"),
                    format!(
                        "remove the `{name}` line: mailu-k8s writes it from `egress` (two values \
                         for one parameter, the last wins)"
                    ),
                )
                .value(line);
            });
        }
    }
}

/// postfix's override file `name`, when the user gives one.
fn postfix_override<'a>(file: &'a ConfigFile, name: &str) -> Option<&'a String> {
    file.workloads
        .postfix
        .as_ref()
        .and_then(|w| w.overrides.get(name))
}

/// The user's own `postfix.master` (at `workloads.postfix.overrides`) must not define the
/// services the egress settings write: the SMTP client services for `ipv6: disable`, the
/// TLS-wrapping one for a relay on port 465.
fn check_postfix_master_overrides(
    c: &mut Checker,
    file: &ConfigFile,
    ipv4_only: bool,
    implicit_tls_relay: bool,
) {
    let Some(text) = postfix_override(file, postfix_params::MASTER_OVERRIDE_FILE) else {
        return;
    };
    let ipv4 = "`egress.ipv6: disable` gives it `-o inet_protocols=ipv4`";
    let owned = postfix_params::SENDING_SERVICES
        .map(|s| (ipv4_only, s, ipv4))
        .into_iter()
        .chain([(
            implicit_tls_relay,
            postfix_params::RELAY_TLS_SERVICE,
            "`egress.relay.port: 465` adds it",
        )])
        .filter(|(on, _, _)| *on);
    for (_, service, why) in owned {
        let key = format!("{service}/unix");
        let taken = text
            .lines()
            .map(str::trim_start)
            .find(|line| line.split(['=', ' ']).next() == Some(key.as_str()));
        if let Some(line) = taken {
            c.field(postfix_params::MASTER_OVERRIDE_FILE, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("defines `{key}`, which {why}"),
                    "remove that line: mailu-k8s writes the service from `egress`",
                )
                .value(line);
            });
        }
    }
}

/// `egress.relay` (at that path): the smarthost and its credentials.
fn relay(c: &mut Checker, r: Option<&RelayFile>) -> Option<Relay> {
    let Some(r) = r else {
        c.error(
            Code::MissingDependency,
            "`mode: relay` needs the smarthost",
            "add `relay: {host: smtp.relay.example, port: 587, secretName: mailu-relay}` under \
             `egress`",
        );
        return None;
    };
    let host = c
        .leaf_field("host", Code::InvalidDnsName, &r.host)
        .map(DnsName::from);
    let credentials = match &r.secret_name {
        Some(name) => c.object_name("secretName", name).map(Some),
        None => Some(None),
    };
    Some(Relay {
        host: host?,
        port: r.port,
        credentials: credentials?,
    })
}

/// `"1.18"`, `"1.18.4"` or `"v1.18.4"` → 1.18, within the releases mailu-k8s knows.
pub(crate) fn parse_cilium_version(raw: &str) -> Result<CiliumVersion, rules::Problem> {
    let known = format!(
        "give the running release, quoted: `\"1.{}\"` to `\"1.{}\"`",
        CiliumVersion::OLDEST_MINOR,
        CiliumVersion::NEWEST_MINOR
    );
    let trimmed = raw.strip_prefix('v').unwrap_or(raw);
    let mut parts = trimmed.split('.');
    let major = parts.next();
    let minor = parts.next().and_then(|m| m.parse::<u8>().ok());
    let patch_ok = parts
        .next()
        .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let (Some("1"), Some(minor), true, None) = (major, minor, patch_ok, parts.next()) else {
        return Err(rules::Problem {
            message: format!("`{raw}` is not a Cilium release"),
            hint: known,
        });
    };
    if !(CiliumVersion::OLDEST_MINOR..=CiliumVersion::NEWEST_MINOR).contains(&minor) {
        let hint = if minor > CiliumVersion::NEWEST_MINOR {
            format!(
                "mailu-k8s knows the policy up to Cilium 1.{n}; write `\"1.{n}\"` until it knows \
                 1.{minor}",
                n = CiliumVersion::NEWEST_MINOR
            )
        } else {
            format!(
                "upgrade Cilium: its egress gateway policy is checked from 1.{} on",
                CiliumVersion::OLDEST_MINOR
            )
        };
        return Err(rules::Problem {
            message: format!("Cilium 1.{minor} is not supported"),
            hint,
        });
    }
    Ok(CiliumVersion { minor })
}

/// Whether `version` has what `since` (a Cilium minor release) brings; otherwise reports `what`
/// at the current path.
fn needs_version(c: &mut Checker, what: &str, version: CiliumVersion, since: u8) -> bool {
    if version.minor >= since {
        return true;
    }
    c.error(
        Code::InvalidValue,
        format!("{what} needs Cilium 1.{since}; `egress.cilium.version` is {version}"),
        format!("remove it, or upgrade Cilium and set `egress.cilium.version: \"1.{since}\"`"),
    );
    false
}

/// A Linux interface name (at the current path): 1 to 15 bytes, no `/`, whitespace or `:`.
fn check_interface(c: &mut Checker, name: &str) -> bool {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if !ok {
        c.error(
            Code::InvalidValue,
            format!("`{name}` is not a network interface name"),
            "e.g. `eth1` (at most 15 characters, no `/`, `:` or spaces)",
        )
        .value(name);
    }
    ok
}

/// `mode: cilium` (at `egress.cilium`): the release, the gateways (primary, extra, IPv6), the
/// source nodes and the extra authorised node addresses, in that order.
fn cilium(
    c: &mut Checker,
    cx: &Context,
    f: &CiliumEgressFile,
    ips: &[IpAddr],
    ipv6: Option<Ipv6Path>,
) -> Option<Cilium> {
    let mark = c.mark();
    let parsed_version = c.check_field(
        "version",
        Code::InvalidValue,
        &f.version,
        parse_cilium_version,
    );
    // An unknown release still gets every other check, against the newest shape.
    let version = parsed_version.unwrap_or(CiliumVersion {
        minor: CiliumVersion::NEWEST_MINOR,
    });

    // The primary gateway.
    let node_selector = c.field("nodeSelector", |c| {
        let example = "{kubernetes.io/hostname: gw-1}";
        selector(c, &f.node_selector, "the egress gateway", example)
    });
    let egress_ip = cilium_egress_ip(c, cx, f, version);
    check_cilium_interface(c, f);
    let v4: Vec<IpAddr> = ips.iter().copied().filter(IpAddr::is_ipv4).collect();
    let primary_source = cilium_primary_source(c, f, egress_ip, &v4);

    // More gateways.
    let extra = c.field("extraGateways", |c| {
        cilium_extra_gateways(c, cx, f, version)
    });
    check_every_gateway_address_listed(c, 1 + f.extra_gateways.len(), v4.len());
    check_gateway_egress_ips(c, egress_ip, &extra, ips);
    let extra = extra.into_iter().map(|(_, gateway)| gateway);

    // IPv6 through the gateway (1.20).
    let ipv6_gateway = c.field("egressIPv6", |c| {
        cilium_ipv6_gateway(c, cx, f, ipv6, version, node_selector.as_ref(), ips)
    });

    let source_node_selector = c.field("sourceNodeSelector", |c| {
        cilium_source_node_selector(c, f, version)
    });
    let authorize_node_ips = c.field("authorizeNodeIps", |c| {
        cilium_authorize_node_ips(c, cx, f, ips)
    });

    if c.errors_since(mark) {
        return None;
    }
    parsed_version?;
    let mut gateways = vec![CiliumGateway {
        node_selector: node_selector?,
        source: primary_source?,
    }];
    gateways.extend(extra);
    Some(Cilium {
        version,
        gateways,
        ipv6_gateway,
        source_node_selector,
        authorize_node_ips,
        excluded_cidrs: cx.cluster.iter().map(|n| n.text.clone()).collect(),
    })
}

/// `egressIP`: an address outside the cluster, and IPv4 (the IPv4 policy's).
fn cilium_egress_ip(
    c: &mut Checker,
    cx: &Context,
    f: &CiliumEgressFile,
    version: CiliumVersion,
) -> Option<IpAddr> {
    let raw = f.egress_ip.as_ref()?;
    let hint = if version.has_ipv6_egress_ip() {
        "`egressIP` is the IPv4 policy's; put the IPv6 address in `egressIPv6`".to_owned()
    } else {
        format!(
            "an IPv6 egressIP needs Cilium 1.20 (`egressIPv6`); `egress.cilium.version` is \
             {version}: keep IPv6 off the gateway (`egress.ipv6: nodeIps` or `disable`)"
        )
    };
    let wrong_family = ("an IPv6 address as the IPv4 egressIP", hint.as_str());
    c.field("egressIP", |c| {
        gateway_address(c, cx, raw, false, wrong_family)
    })
}

/// A gateway's address (at the current path): outside the cluster, of the family its policy
/// carries (`ipv6`); `wrong_family` is the message and hint for the other one.
fn gateway_address(
    c: &mut Checker,
    cx: &Context,
    raw: &str,
    ipv6: bool,
    (message, hint): (&str, &str),
) -> Option<IpAddr> {
    let ip = address(c, cx, raw, false)?;
    if ip.is_ipv6() != ipv6 {
        c.error(Code::InvalidValue, message, hint).value(raw);
        return None;
    }
    Some(ip)
}

/// `egressIP` and `interface` together (at `interface`): Cilium ignores the policy.
fn refuse_egress_ip_with_interface(c: &mut Checker, hint: &str) {
    c.field("interface", |c| {
        c.error(
            Code::InvalidValue,
            "`egressIP` and `interface` together: Cilium ignores such a policy",
            hint,
        );
    });
}

/// `interface`: a valid name, and not together with `egressIP`.
fn check_cilium_interface(c: &mut Checker, f: &CiliumEgressFile) {
    let Some(interface) = &f.interface else {
        return;
    };
    c.field("interface", |c| check_interface(c, interface));
    if f.egress_ip.is_some() {
        refuse_egress_ip_with_interface(
            c,
            "keep one: `egressIP` names the address, `interface` takes that interface's first \
             IPv4 address",
        );
    }
}

/// Where the primary gateway's IPv4 comes from: `egressIP`, `interface`, or the only IPv4
/// address in `egress.ips` (`v4`).
fn cilium_primary_source(
    c: &mut Checker,
    f: &CiliumEgressFile,
    egress_ip: Option<IpAddr>,
    v4: &[IpAddr],
) -> Option<GatewaySource> {
    match (&egress_ip, &f.interface) {
        (Some(ip), None) => Some(GatewaySource::EgressIp(*ip)),
        (None, Some(name)) if f.egress_ip.is_none() => Some(GatewaySource::Interface(name.clone())),
        (None, None) if f.egress_ip.is_none() => match v4 {
            [only] => Some(GatewaySource::EgressIp(*only)),
            // `egress.ips` without IPv4 is reported with the addresses.
            [] => None,
            _ => {
                c.field("egressIP", |c| {
                    c.error(
                        Code::MissingDependency,
                        "`egress.ips` has several IPv4 addresses: which one is the gateway's?",
                        "set `egress.cilium.egressIP` (and give the other gateways their own in \
                         `extraGateways`)",
                    );
                });
                None
            }
        },
        _ => None,
    }
}

/// `extraGateways` (at that path; Cilium 1.18): at most `MAX_GATEWAYS` in all; the valid ones,
/// each with its index in the list.
fn cilium_extra_gateways(
    c: &mut Checker,
    cx: &Context,
    f: &CiliumEgressFile,
    version: CiliumVersion,
) -> Vec<(usize, CiliumGateway)> {
    if f.extra_gateways.is_empty()
        || !needs_version(c, "`extraGateways` (egressGateways)", version, 18)
    {
        return Vec::new();
    }
    if f.extra_gateways.len() + 1 > CiliumVersion::MAX_GATEWAYS {
        c.error(
            Code::OutOfRange,
            format!(
                "{} gateways; Cilium takes at most {}",
                f.extra_gateways.len() + 1,
                CiliumVersion::MAX_GATEWAYS
            ),
            "list fewer gateways",
        );
    }
    let mut extra = Vec::new();
    for (i, g) in f.extra_gateways.iter().enumerate() {
        let gateway = c.index(i, |c| {
            let selector = c.field("nodeSelector", |c| {
                selector(
                    c,
                    &g.node_selector,
                    "a gateway",
                    "{kubernetes.io/hostname: gw-2}",
                )
            });
            let source = extra_gateway_source(c, cx, g);
            Some(CiliumGateway {
                node_selector: selector?,
                source: source?,
            })
        });
        extra.extend(gateway.map(|g| (i, g)));
    }
    extra
}

/// An extra gateway's address (at the gateway): an IPv4 `egressIP` or an `interface`, exactly
/// one of them.
fn extra_gateway_source(
    c: &mut Checker,
    cx: &Context,
    g: &CiliumGatewayFile,
) -> Option<GatewaySource> {
    match (&g.egress_ip, &g.interface) {
        (Some(raw), None) => {
            let wrong_family = (
                "an IPv6 address as a gateway's IPv4 egressIP",
                "extra gateways carry IPv4; IPv6 uses the first gateway (`egressIPv6`)",
            );
            c.field("egressIP", |c| {
                gateway_address(c, cx, raw, false, wrong_family)
            })
            .map(GatewaySource::EgressIp)
        }
        (None, Some(name)) => c
            .field("interface", |c| check_interface(c, name))
            .then(|| GatewaySource::Interface(name.clone())),
        (Some(_), Some(_)) => {
            refuse_egress_ip_with_interface(c, "keep one");
            None
        }
        (None, None) => {
            c.error(
                Code::MissingKey,
                "an extra gateway needs its own address",
                "give `egressIP` (listed in `egress.ips`) or `interface`",
            );
            None
        }
    }
}

/// Several gateways send from as many IPv4 addresses, each listed in `egress.ips`.
fn check_every_gateway_address_listed(c: &mut Checker, gateway_count: usize, v4_count: usize) {
    if gateway_count > 1 && v4_count < gateway_count {
        c.root(|c| {
            c.fields(&["egress", "ips"], |c| {
                c.error(
                    Code::MissingDependency,
                    format!(
                        "{gateway_count} gateways send from {gateway_count} addresses, but \
                         `egress.ips` has {v4_count} IPv4 address(es)"
                    ),
                    "list every gateway's public IPv4 address: mail leaves through each of them",
                );
            })
        });
    }
}

/// A gateway's explicit `egressIP` is its own, and a public one is one SPF authorises (listed in
/// `egress.ips`).
fn check_gateway_egress_ips(
    c: &mut Checker,
    egress_ip: Option<IpAddr>,
    extra: &[(usize, CiliumGateway)],
    ips: &[IpAddr],
) {
    let extra_ips = extra.iter().filter_map(|(i, g)| match g.source {
        GatewaySource::EgressIp(ip) => Some((Some(*i), ip)),
        GatewaySource::Interface(_) => None,
    });
    let explicit = egress_ip.map(|ip| (None, ip)).into_iter().chain(extra_ips);
    let mut used = Vec::new();
    for (extra_index, ip) in explicit {
        let check = |c: &mut Checker| {
            if used.contains(&ip) {
                c.error(
                    Code::InvalidValue,
                    format!("`{ip}` is already another gateway's address"),
                    "give each gateway its own address: one address cannot be on two nodes",
                )
                .value(ip.to_string());
            }
            used.push(ip);
            let hint = format!(
                "add `{ip}` to `egress.ips` (SPF and PTR are built from it); a private \
                 address here is one a provider's 1:1 NAT translates"
            );
            check_gateway_ip_listed(c, ip, ips, &hint);
        };
        match extra_index {
            None => c.field("egressIP", check),
            Some(i) => c.field("extraGateways", |c| {
                c.index(i, |c| c.field("egressIP", check))
            }),
        }
    }
}

/// A gateway's public address (at the current path) is one `egress.ips` lists: SPF authorises
/// only those.
fn check_gateway_ip_listed(c: &mut Checker, ip: IpAddr, ips: &[IpAddr], hint: &str) {
    if !is_private(ip) && !ips.contains(&ip) {
        c.error(
            Code::InvalidValue,
            format!("the gateway sends from `{ip}`, which `egress.ips` does not list"),
            hint,
        )
        .value(ip.to_string());
    }
}

/// IPv6 through the primary gateway (at `egressIPv6`; Cilium 1.20, `egress.ipv6: gateway`).
fn cilium_ipv6_gateway(
    c: &mut Checker,
    cx: &Context,
    f: &CiliumEgressFile,
    ipv6: Option<Ipv6Path>,
    version: CiliumVersion,
    node_selector: Option<&BTreeMap<String, String>>,
    ips: &[IpAddr],
) -> Option<CiliumGateway> {
    match (&f.egress_ipv6, ipv6) {
        (Some(_), _) if !version.has_ipv6_egress_ip() => {
            needs_version(c, "an IPv6 egressIP", version, 20);
            None
        }
        (Some(_), Some(p)) if p != Ipv6Path::Gateway => {
            c.error(
                Code::InvalidValue,
                "IPv6 does not go through the gateway (`egress.ipv6` is not `gateway`)",
                "remove `egressIPv6`, or set `egress.ipv6: gateway`",
            );
            None
        }
        (given, Some(Ipv6Path::Gateway)) => {
            let source = match given {
                Some(raw) => cilium_egress_ipv6(c, cx, raw, ips),
                None => only_listed_ipv6(c, ips),
            };
            Some(CiliumGateway {
                node_selector: node_selector?.clone(),
                source: GatewaySource::EgressIp(source?),
            })
        }
        _ => None,
    }
}

/// `egressIPv6`: an IPv6 address outside the cluster; a public one listed in `egress.ips`.
fn cilium_egress_ipv6(c: &mut Checker, cx: &Context, raw: &str, ips: &[IpAddr]) -> Option<IpAddr> {
    let wrong_family = (
        "an IPv4 address as the IPv6 egressIP",
        "put IPv4 in `egressIP`",
    );
    let ip = gateway_address(c, cx, raw, true, wrong_family)?;
    check_gateway_ip_listed(c, ip, ips, &format!("add `{ip}` to `egress.ips`"));
    Some(ip)
}

/// Without `egressIPv6`, the only IPv6 address in `egress.ips`.
fn only_listed_ipv6(c: &mut Checker, ips: &[IpAddr]) -> Option<IpAddr> {
    let v6: Vec<IpAddr> = ips.iter().copied().filter(IpAddr::is_ipv6).collect();
    match v6.as_slice() {
        [only] => Some(*only),
        _ => {
            c.error(
                Code::MissingDependency,
                "`egress.ips` has several IPv6 addresses: which one is the gateway's?",
                "set `egress.cilium.egressIPv6`",
            );
            None
        }
    }
}

/// `sourceNodeSelector` (at that path; Cilium 1.17): a selector that selects something.
fn cilium_source_node_selector(
    c: &mut Checker,
    f: &CiliumEgressFile,
    version: CiliumVersion,
) -> BTreeMap<String, String> {
    let what = "`sourceNodeSelector` (selectors[].nodeSelector)";
    match &f.source_node_selector {
        Some(sel) if needs_version(c, what, version, 17) => selector(
            c,
            sel,
            "`sourceNodeSelector`",
            "{mailu.example.com/egress: \"true\"}",
        )
        .unwrap_or_default(),
        _ => BTreeMap::new(),
    }
}

/// `authorizeNodeIps` (at that path): addresses outside the cluster, of a family the pods have,
/// each once and not already in `egress.ips`.
fn cilium_authorize_node_ips(
    c: &mut Checker,
    cx: &Context,
    f: &CiliumEgressFile,
    ips: &[IpAddr],
) -> Vec<IpAddr> {
    let mut authorized = Vec::new();
    for (i, raw) in f.authorize_node_ips.iter().enumerate() {
        let ip = c.index(i, |c| authorized_node_ip(c, cx, raw, ips, &authorized));
        authorized.extend(ip);
    }
    authorized
}

/// One `authorizeNodeIps` entry, not among `ips` or those `authorized` before it.
fn authorized_node_ip(
    c: &mut Checker,
    cx: &Context,
    raw: &str,
    ips: &[IpAddr],
    authorized: &[IpAddr],
) -> Option<IpAddr> {
    let ip = address(c, cx, raw, true)?;
    if ip.is_ipv6() && cx.file.subnet6.is_none() {
        c.error(
            Code::InvalidValue,
            format!("`{ip}` is IPv6, but the pods have no IPv6 (no `subnet6`)"),
            "remove it, or set `subnet6` if the cluster is dual-stack",
        )
        .value(raw);
        return None;
    }
    if ips.contains(&ip) || authorized.contains(&ip) {
        c.error(
            Code::InvalidValue,
            format!("`{ip}` is already authorised"),
            "list each address once, egress addresses only in `egress.ips`",
        )
        .value(raw);
        return None;
    }
    Some(ip)
}

/// `mode: antrea` (at `egress`): one address per family, and where the pool comes from.
fn antrea(c: &mut Checker, f: Option<&AntreaEgressFile>, ips: &[IpAddr]) -> Option<Antrea> {
    let default = AntreaEgressFile::default();
    let f = f.unwrap_or(&default);
    let (v4, v6) = ips.iter().partition::<Vec<&IpAddr>, _>(|ip| ip.is_ipv4());
    if v4.len() > 1 || v6.len() > 1 {
        c.field("ips", |c| {
            c.error(
                Code::InvalidValue,
                "an Antrea Egress has one address per family",
                "keep one IPv4 and at most one IPv6 address",
            );
        });
        return None;
    }
    let dual = !v4.is_empty() && !v6.is_empty();
    let pool = c.field("antrea", |c| antrea_pool(c, f, dual))?;
    Some(Antrea { pool })
}

/// The Antrea pool (at `egress.antrea`): written from `nodeSelector`, or an existing
/// `externalIPPool`, which holds one family.
fn antrea_pool(c: &mut Checker, f: &AntreaEgressFile, dual_stack: bool) -> Option<AntreaPool> {
    match (&f.node_selector, &f.external_ip_pool) {
        (Some(_), Some(_)) => {
            c.field("externalIPPool", |c| {
                c.error(
                    Code::InvalidValue,
                    "`nodeSelector` and `externalIPPool` together",
                    "keep `nodeSelector` to have mailu-k8s write the pool, or `externalIPPool` \
                     to use yours",
                );
            });
            None
        }
        (Some(sel), None) => {
            c.field("nodeSelector", |c| c.labels(sel))
                .then(|| AntreaPool::Created {
                    node_selector: sel.clone(),
                })
        }
        (None, Some(name)) => {
            let name = c.object_name("externalIPPool", name)?;
            if dual_stack {
                c.field("externalIPPool", |c| {
                    c.error(
                        Code::InvalidValue,
                        "one existing pool cannot hold both an IPv4 and an IPv6 egress address",
                        "use `nodeSelector` instead: mailu-k8s writes one pool per family",
                    );
                });
                return None;
            }
            Some(AntreaPool::Existing(name))
        }
        (None, None) => Some(AntreaPool::None),
    }
}

/// Merges `egress.nodeSelector` into the sending pods' `nodeSelector`, and checks what depends
/// on where they run.
pub(crate) fn pin_senders(
    c: &mut Checker,
    egress: &Egress,
    workloads: &mut BTreeMap<&'static str, WorkloadSettings>,
) {
    let senders: Vec<&'static str> = std::iter::once("postfix")
        .chain(egress.components.iter().map(|c| c.name()))
        .collect();
    c.fields(&["egress", "nodeSelector"], |c| {
        pin(c, &senders, &egress.node_selector, workloads);
    });
    let EgressMode::Cilium(cilium) = &egress.mode else {
        return;
    };
    c.fields(&["egress", "cilium"], |c| {
        check_senders_within_source_nodes(c, &senders, cilium, workloads);
        warn_authorized_nodes_unpinned(c, cilium, workloads);
    });
}

/// `egress.nodeSelector` (at that path) merged into each sender's `nodeSelector`; a label
/// already set otherwise is refused.
fn pin(
    c: &mut Checker,
    senders: &[&'static str],
    selector: &BTreeMap<String, String>,
    workloads: &mut BTreeMap<&'static str, WorkloadSettings>,
) {
    for name in senders {
        let Some(w) = workloads.get_mut(name) else {
            continue;
        };
        for (k, v) in selector {
            match w.node_selector.get(k) {
                Some(existing) if existing != v => c.field(k, |c| {
                    c.error(
                        Code::InvalidValue,
                        format!("`{name}` is already scheduled with `{k}: {existing}`"),
                        "make `pods.nodeSelector` / `workloads.<component>.nodeSelector` and \
                         `egress.nodeSelector` agree on this label",
                    )
                    .value(v);
                }),
                _ => {
                    w.node_selector.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// Every sender runs only on nodes `sourceNodeSelector` selects: elsewhere it would send from
/// that node's address.
fn check_senders_within_source_nodes(
    c: &mut Checker,
    senders: &[&'static str],
    cilium: &Cilium,
    workloads: &BTreeMap<&'static str, WorkloadSettings>,
) {
    for name in senders {
        let Some(w) = workloads.get(name) else {
            continue;
        };
        let outside = cilium
            .source_node_selector
            .iter()
            .any(|(k, v)| w.node_selector.get(k) != Some(v));
        if outside {
            c.field("sourceNodeSelector", |c| {
                c.error(
                    Code::InvalidValue,
                    format!(
                        "`{name}` can run on nodes this selector leaves out, and would send from \
                         that node's address"
                    ),
                    "pin the sending pods to the same labels with `egress.nodeSelector`",
                );
            });
        }
    }
}

/// Warning: authorised node addresses, but postfix may run on any node.
fn warn_authorized_nodes_unpinned(
    c: &mut Checker,
    cilium: &Cilium,
    workloads: &BTreeMap<&'static str, WorkloadSettings>,
) {
    let pinned = workloads
        .get("postfix")
        .is_some_and(|w| !w.node_selector.is_empty() || w.affinity.is_some());
    if !cilium.authorize_node_ips.is_empty() && !pinned {
        c.field("authorizeNodeIps", |c| {
            c.warning(
                Code::InvalidValue,
                "postfix can run on any node, so any node's address may send in the race",
                "pin the sending pods with `egress.nodeSelector` to the nodes whose addresses \
                 are listed",
            );
        });
    }
}

/// Structural findings about `egress` said more precisely: a moved key names its new place
/// instead of "unknown key", and an unquoted Cilium release is shown as the number YAML read.
pub(crate) fn explain_structure_findings(findings: &mut [Diagnostic]) {
    for d in findings.iter_mut() {
        if d.code == Code::WrongType && d.path == "egress.cilium.version" {
            d.hint = Some(format!(
                "quote the release: `version: \"1.{}\"` (unquoted, YAML reads `1.20` as the number \
                 1.2)",
                CiliumVersion::NEWEST_MINOR
            ));
        }
        if d.code == Code::UnknownKey && d.path == "mailu.relay" {
            d.message = "`mailu.relay` moved to `egress.relay`".into();
            d.hint = Some(
                "write `egress: {mode: relay, relay: {host: ..., port: ..., secretName: ...}}` \
                 (same keys) and remove `mailu.relay`"
                    .into(),
            );
        }
    }
}

#[cfg(test)]
mod is_private_tests {
    use super::*;

    #[test]
    fn private_ranges_are_never_a_public_sender() {
        let rows = [
            ("10.1.2.3", true),
            ("172.31.0.1", true),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("100.128.0.1", false),
            ("127.0.0.1", true),
            ("169.254.1.1", true),
            ("0.1.2.3", true),
            ("224.0.0.1", true),
            ("203.0.113.10", false),
            ("fd00::1", true),
            ("fe80::1", true),
            ("febf::1", true),
            ("fec0::1", false),
            ("::ffff:203.0.113.10", true),
            ("::1", true),
            ("ff02::1", true),
            ("2001:db8::10", false),
        ];
        for (ip, private) in rows {
            assert_eq!(is_private(ip.parse().expect(ip)), private, "{ip}");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::finding_paths as paths;

    /// A gateway's path is its place in the list, whether or not an earlier one is valid.
    #[test]
    fn extra_gateway_paths_count_every_gateway() {
        let paths = paths(
            "egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', \
             nodeSelector: {a: b}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {}, \
             egressIP: 203.0.113.11}, {nodeSelector: {a: c}, egressIP: 198.51.100.9}]}}\n",
        );
        assert!(paths.contains(&"egress.cilium.extraGateways[0].nodeSelector".to_owned()));
        assert!(
            paths.contains(&"egress.cilium.extraGateways[1].egressIP".to_owned()),
            "{paths:?}"
        );
    }
}
