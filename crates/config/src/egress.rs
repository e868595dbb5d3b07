//! The validated `egress`: how outbound mail gets a source address that SPF and reverse DNS can
//! vouch for. Every value here has been checked (`validate_egress`); the topology's egress model
//! reads it, and nothing past it re-validates.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU16;

pub use crate::file_egress::{EgressComponent, EgressModeKind, IpSource};
use crate::rules::DnsName;

/// postfix parameters the egress settings own, written into postfix's `postfix.cf` override
/// file. Validation refuses a user's `postfix.cf` that sets one of them while mailu-k8s does.
pub mod postfix_params {
    /// postfix's SMTP client services in Mailu's master.cf (core/postfix/conf/master.cf:46,48 at
    /// 2024.06.57: `smtp unix … smtp`, `relay unix … smtp`); `egress.ipv6: disable` gives each
    /// `-o inet_protocols=ipv4`.
    pub const SENDING_SERVICES: [&str; 2] = ["smtp", "relay"];
    /// The name postfix's SMTP client says in HELO/EHLO.
    pub const SMTP_HELO_NAME: &str = "smtp_helo_name";
    /// The override file Mailu's postfix reads line by line (`postconf -e`).
    pub const OVERRIDE_FILE: &str = "postfix.cf";
    /// The transport for mail that matches no other: with a relay on an implicit-TLS port it
    /// names [`RELAY_TLS_SERVICE`], so only the relay connection is wrapped in TLS.
    pub const DEFAULT_TRANSPORT: &str = "default_transport";
    /// The override file Mailu's postfix reads line by line as `master.cf` entries
    /// (`postconf -Me`, core/postfix/start.py:63-66 at 2024.06.57).
    pub const MASTER_OVERRIDE_FILE: &str = "postfix.master";
    /// The `master.cf` service mailu-k8s adds for a relay on an implicit-TLS port.
    pub const RELAY_TLS_SERVICE: &str = "relaysmtps";
    /// The port of SMTP submission over implicit TLS (RFC 8314 §3.3), which postfix's SMTP
    /// client speaks only with `smtp_tls_wrappermode = yes`.
    pub const IMPLICIT_TLS_PORT: u16 = 465;
}

/// A smarthost for outgoing mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub host: DnsName,
    pub port: NonZeroU16,
    /// Secret with keys `username` and `password`.
    pub credentials: Option<String>,
}

/// The validated egress settings.
#[derive(Debug, Clone)]
pub struct Egress {
    pub mode: EgressMode,
    /// The public addresses outbound mail leaves from, as given (empty for `relay` and `none`).
    pub ips: Vec<IpAddr>,
    pub ipv6: Ipv6Path,
    /// Where a gateway's address comes from; `None` where there is no gateway.
    pub ip_source: Option<IpSource>,
    /// The name the DNS plan ties to `ips` (PTR → name → A/AAAA); `None` for `relay` and `none`.
    pub helo_name: Option<DnsName>,
    /// Components besides postfix that send through the same path.
    pub components: Vec<EgressComponent>,
    /// Labels the sending pods are pinned to (merged into their `nodeSelector`); empty: none.
    pub node_selector: BTreeMap<String, String>,
}

impl Egress {
    pub fn kind(&self) -> EgressModeKind {
        match &self.mode {
            EgressMode::None => EgressModeKind::None,
            EgressMode::Cilium(_) => EgressModeKind::Cilium,
            EgressMode::Antrea(_) => EgressModeKind::Antrea,
            EgressMode::Ovn => EgressModeKind::Ovn,
            EgressMode::NodeIps => EgressModeKind::NodeIps,
            EgressMode::Relay(_) => EgressModeKind::Relay,
            EgressMode::Static => EgressModeKind::Static,
        }
    }

    pub fn relay(&self) -> Option<&Relay> {
        match &self.mode {
            EgressMode::Relay(r) => Some(r),
            _ => None,
        }
    }

    pub fn ipv4(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.ips.iter().filter_map(|ip| match ip {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
    }

    /// The addresses the egress gateway (or NAT) holds: see [`gateway_ips`].
    pub fn gateway_ips(&self) -> Vec<IpAddr> {
        gateway_ips(&self.ips, self.ipv6)
    }

    pub fn ipv6(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.ips.iter().filter_map(|ip| match ip {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        })
    }
}

impl Default for Egress {
    fn default() -> Self {
        Egress {
            mode: EgressMode::None,
            ips: Vec::new(),
            ipv6: Ipv6Path::NotInCluster,
            ip_source: None,
            helo_name: None,
            components: Vec::new(),
            node_selector: BTreeMap::new(),
        }
    }
}

/// The addresses a gateway holds: the IPv4 ones, and the IPv6 ones only when IPv6 goes through
/// it (with `ipv6: nodeIps` the IPv6 ones are the nodes' own).
pub fn gateway_ips(ips: &[IpAddr], ipv6: Ipv6Path) -> Vec<IpAddr> {
    ips.iter()
        .copied()
        .filter(|ip| ip.is_ipv4() || ipv6 == Ipv6Path::Gateway)
        .collect()
}

/// The mode and its own settings.
#[derive(Debug, Clone)]
pub enum EgressMode {
    None,
    Cilium(Cilium),
    Antrea(Antrea),
    Ovn,
    NodeIps,
    Relay(Relay),
    Static,
}

/// How postfix's IPv6 connections leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Path {
    /// The pods have no IPv6 (no `subnet6`).
    NotInCluster,
    /// Through the egress path, from the IPv6 addresses in `ips`.
    Gateway,
    /// From the node running postfix; `ips` lists the nodes' IPv6 addresses.
    NodeIps,
    /// postfix sends over IPv4 only.
    Disabled,
    /// `relay` or `none` on a dual-stack cluster: whatever the pod has; nothing is planned.
    Unplanned,
}

/// A Cilium minor release: the features of `CiliumEgressGatewayPolicy` by release, in one place
/// (read from the CRD at each release, see `shared/reference/crds/SOURCES.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CiliumVersion {
    pub minor: u8,
}

impl CiliumVersion {
    /// The releases mailu-k8s writes policies for.
    pub const OLDEST_MINOR: u8 = 16;
    pub const NEWEST_MINOR: u8 = 20;
    /// `egressGateways` holds at most this many entries (a `maxItems` from 1.20; Cilium's
    /// documented limit before).
    pub const MAX_GATEWAYS: usize = 64;

    /// `selectors[].nodeSelector`.
    pub fn has_source_node_selector(self) -> bool {
        self.minor >= 17
    }
    /// `egressGateways[]`, and IPv6 destination CIDRs.
    pub fn has_egress_gateways(self) -> bool {
        self.minor >= 18
    }
    /// An IPv6 `egressIP`.
    pub fn has_ipv6_egress_ip(self) -> bool {
        self.minor >= 20
    }
}

impl std::fmt::Display for CiliumVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// `mode: cilium`.
#[derive(Debug, Clone)]
pub struct Cilium {
    pub version: CiliumVersion,
    /// The IPv4 policy's gateways; the first is `egressGateway`, all of them `egressGateways`
    /// when there is more than one. Never empty.
    pub gateways: Vec<CiliumGateway>,
    /// The IPv6 policy's gateway (Cilium ≥ 1.20, IPv6 through the gateway).
    pub ipv6_gateway: Option<CiliumGateway>,
    /// `selectors[].nodeSelector`; empty: none.
    pub source_node_selector: BTreeMap<String, String>,
    /// Node addresses the DNS plan also authorises (the programming race).
    pub authorize_node_ips: Vec<IpAddr>,
    /// The cluster's own networks (pod and Service CIDRs, both families), never sent through the
    /// gateway.
    pub excluded_cidrs: Vec<String>,
}

/// One gateway node and the source address it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiliumGateway {
    pub node_selector: BTreeMap<String, String>,
    pub source: GatewaySource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewaySource {
    /// `egressIP`.
    EgressIp(IpAddr),
    /// `interface`.
    Interface(String),
}

/// `mode: antrea`.
#[derive(Debug, Clone)]
pub struct Antrea {
    pub pool: AntreaPool,
}

/// Where an Antrea egress address is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AntreaPool {
    /// No pool: you configure the address on one node; Antrea finds it there.
    None,
    /// mailu-k8s writes one `ExternalIPPool` per address family on these nodes.
    Created {
        node_selector: BTreeMap<String, String>,
    },
    /// An existing `ExternalIPPool`.
    Existing(String),
}
