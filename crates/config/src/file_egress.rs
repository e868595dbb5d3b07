//! The `egress` block of the config file: which address other mail servers see postfix connect
//! from, so that SPF and reverse DNS can vouch for it. Same conventions as `file.rs`: doc comments
//! become the JSON Schema's descriptions; values are unchecked text until `validate_egress`.

use std::collections::BTreeMap;
use std::num::NonZeroU16;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::leaf::{Dns1123Subdomain, Fqdn, Parsed};

/// Outbound mail: the address postfix's connections to other mail servers come from. Receivers
/// check it (SPF must authorise it, its PTR must name a host that resolves back to it), and in
/// Kubernetes it is otherwise the address of whichever node runs postfix. See the README's
/// "Outbound mail" section for which mode to choose.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EgressFile {
    /// How outbound mail gets a stable source address. Default `none`: it leaves from whichever
    /// node runs postfix, and SPF and PTR cannot be guaranteed.
    #[serde(default)]
    pub mode: EgressModeKind,
    /// The public addresses outbound mail leaves from, IPv4 and IPv6: SPF must authorise each and
    /// each needs a PTR record. `cilium`, `antrea`, `ovn`: the egress IPs; `nodeIps`: the public
    /// addresses of every node the sending pods can run on; `static`: the outbound addresses of
    /// the provider's NAT gateway or load balancer. Required for those modes; not used with
    /// `relay` and `none`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    /// Where a gateway's address comes from (`cilium`, `antrea`, `ovn`): `nodeIp`, the gateway
    /// node's own address (replacing the node changes it: update `ips`, SPF and PTR), or
    /// `floatingIp`, an address the provider moves between machines (e.g. a Hetzner Floating IP:
    /// it survives node replacement, but must be bound to the gateway node's interface). Default:
    /// `floatingIp` where the CNI moves the address itself (`ovn`, `antrea` with a pool), else
    /// `nodeIp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_source: Option<IpSource>,
    /// How postfix sends over IPv6 on a dual-stack cluster (`subnet6` set): `gateway` (through
    /// the egress path, with an IPv6 address in `ips`; Cilium ≥ 1.20), `nodeIps` (from the
    /// nodes' own IPv6 addresses, all listed in `ips`), or `disable` (postfix sends over IPv4
    /// only: `inet_protocols = ipv4` in postfix's `postfix.cf`). Default: `gateway` when `ips`
    /// has an IPv6 address and the path carries IPv6, `nodeIps` with `mode: nodeIps`; anything
    /// else must be said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Egress>,
    /// The name postfix says in HELO (`smtp_helo_name`): the name the PTR records of `ips` point
    /// to, whose A/AAAA records hold `ips` (forward-confirmed reverse DNS). Default
    /// `out.<domain>` in the modes with `ips`. Not the MX host: adding the egress addresses to
    /// its A records would send inbound mail to a gateway that does not accept it. Set it to the
    /// first of `hostnames` only when `ips` are also the inbound addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helo_name: Option<String>,
    /// Components besides postfix whose connections to the internet take the same path, e.g.
    /// `fetchmail` (providers that allow-list the fetching address) or `resolver` (DNS blocklists
    /// that count queries per address). postfix is always included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<EgressComponent>,
    /// Pin the sending pods (postfix and `components`) to nodes with these labels, added to their
    /// `nodeSelector`. With `nodeIps`, `ips` then needs only these nodes' addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Settings for `mode: cilium` (a `CiliumEgressGatewayPolicy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cilium: Option<CiliumEgressFile>,
    /// Settings for `mode: antrea` (an Antrea `Egress`, and optionally an `ExternalIPPool`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub antrea: Option<AntreaEgressFile>,
    /// The smarthost for `mode: relay` (Mailu's `RELAYHOST`, `RELAYUSER`, `RELAYPASSWORD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<RelayFile>,
}

/// How outbound mail gets a stable source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum EgressModeKind {
    /// A `CiliumEgressGatewayPolicy`: the sending pods' traffic leaves through a gateway node
    /// with a fixed address. Needs Cilium with the egress gateway enabled.
    #[serde(rename = "cilium")]
    Cilium,
    /// An Antrea `Egress` (and `ExternalIPPool`): Antrea holds the address on one node and moves
    /// it to another when that node fails.
    #[serde(rename = "antrea")]
    Antrea,
    /// An OVN-Kubernetes `EgressIP`: nodes labelled `k8s.ovn.org/egress-assignable: ""` host the
    /// address, which must lie in a node subnet.
    #[serde(rename = "ovn")]
    Ovn,
    /// No gateway: mail leaves from the node running postfix; `ips` lists every such node's
    /// public addresses.
    #[serde(rename = "nodeIps")]
    NodeIps,
    /// Through a smarthost (`egress.relay`), e.g. where the provider blocks port 25.
    #[serde(rename = "relay")]
    Relay,
    /// The provider's NAT gateway or load-balancer outbound rules give a fixed address, declared
    /// in `ips`; mailu-k8s writes no objects for it.
    #[serde(rename = "static")]
    Static,
    /// Nothing: mail leaves from whichever node runs postfix.
    #[default]
    #[serde(rename = "none")]
    None,
}

impl EgressModeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EgressModeKind::Cilium => "cilium",
            EgressModeKind::Antrea => "antrea",
            EgressModeKind::Ovn => "ovn",
            EgressModeKind::NodeIps => "nodeIps",
            EgressModeKind::Relay => "relay",
            EgressModeKind::Static => "static",
            EgressModeKind::None => "none",
        }
    }
}

/// Where a gateway's address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum IpSource {
    /// The gateway node's own address.
    #[serde(rename = "nodeIp")]
    NodeIp,
    /// An address that can move between machines (a cloud floating IP, or one the CNI moves).
    #[serde(rename = "floatingIp")]
    FloatingIp,
}

/// How postfix sends over IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Ipv6Egress {
    /// Through the egress path, from the IPv6 address in `ips`.
    #[serde(rename = "gateway")]
    Gateway,
    /// From the IPv6 address of the node running postfix; `ips` lists every such node's.
    #[serde(rename = "nodeIps")]
    NodeIps,
    /// Not at all: postfix sends over IPv4 only.
    #[serde(rename = "disable")]
    Disable,
}

/// A component that can send through the egress path besides postfix.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EgressComponent {
    /// Fetches users' external mailboxes.
    Fetchmail,
    /// rspamd's map downloads.
    Rspamd,
    /// ClamAV's signature downloads.
    Clamav,
    /// Mailu's resolver: every DNS query Mailu makes, including rspamd's blocklist lookups.
    Resolver,
}

impl EgressComponent {
    /// The component's name, as in `components` and `workloads`.
    pub fn name(self) -> &'static str {
        match self {
            EgressComponent::Fetchmail => "fetchmail",
            EgressComponent::Rspamd => "rspamd",
            EgressComponent::Clamav => "clamav",
            EgressComponent::Resolver => "resolver",
        }
    }
}

/// `mode: cilium`: one `CiliumEgressGatewayPolicy` per address family, shaped for the Cilium
/// release that runs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CiliumEgressFile {
    /// The Cilium release, quoted: `"1.16"` to `"1.20"` (a patch release such as `"1.18.4"` is
    /// accepted). It decides the policy's shape, and settings the release lacks are refused:
    /// `sourceNodeSelector` needs 1.17, `extraGateways` 1.18, `egressIPv6` (IPv6 through the
    /// gateway) 1.20.
    pub version: String,
    /// Labels of the gateway node (`egressGateway.nodeSelector`). Required, not empty: select
    /// exactly the node that holds the egress address (with several matches Cilium takes the
    /// first by name; with none, matching traffic is dropped and postfix queues the mail).
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// The IPv4 source address on the gateway (`egressGateway.egressIP`). Default: the IPv4
    /// address in `egress.ips`. Set it only when the gateway's own address is not the public one
    /// (behind a provider's 1:1 NAT). Not together with `interface`.
    #[serde(rename = "egressIP", default, skip_serializing_if = "Option::is_none")]
    pub egress_ip: Option<String>,
    /// The IPv6 source address on the gateway, for the separate IPv6 policy (Cilium ≥ 1.20).
    /// Default: the IPv6 address in `egress.ips`.
    #[serde(
        rename = "egressIPv6",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub egress_ipv6: Option<String>,
    /// The gateway's network interface (`egressGateway.interface`): Cilium uses its first IPv4
    /// address. Not together with `egressIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// More gateways (`egressGateways`, Cilium ≥ 1.18), each with its own address in
    /// `egress.ips`. Cilium spreads the sending pods over all gateways by hashing: this is not
    /// failover. When one gateway node fails, the pods hashed to it lose their outbound
    /// connections until the node returns or the policy changes; every gateway's address must be
    /// in SPF and have a PTR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_gateways: Vec<CiliumGatewayFile>,
    /// Apply the policy only to sending pods on nodes with these labels
    /// (`selectors[].nodeSelector`, Cilium ≥ 1.17). The sending pods must then be pinned to
    /// those nodes (`egress.nodeSelector` with the same labels): anywhere else they would send
    /// with their node's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_node_selector: Option<BTreeMap<String, String>>,
    /// The public addresses of every node the sending pods can run on. A new postfix pod can send
    /// with its node's address until Cilium has programmed the policy for it (a few seconds);
    /// listing those addresses here puts them in the DNS plan (SPF and PTR), so mail sent in that
    /// window still passes. Trade-off: SPF then authorises those nodes for any traffic from them.
    /// Pin the sending pods (`egress.nodeSelector`) to keep the list short.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorize_node_ips: Vec<String>,
}

/// One more Cilium gateway.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CiliumGatewayFile {
    /// Labels of the gateway node. Required, not empty.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Its IPv4 source address. Either this or `interface` is required.
    #[serde(rename = "egressIP", default, skip_serializing_if = "Option::is_none")]
    pub egress_ip: Option<String>,
    /// Its network interface (Cilium uses its first IPv4 address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

/// `mode: antrea`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AntreaEgressFile {
    /// Nodes that may hold the egress address: mailu-k8s writes an `ExternalIPPool` per address
    /// family holding `ips` and these nodes (`{}`: every node). Antrea assigns the address to one
    /// of them and moves it to another when that node fails (announced by gratuitous ARP / NDP,
    /// so the nodes must share a layer-2 network that routes the address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// An existing `ExternalIPPool` that holds the address in `ips` (one address family).
    #[serde(
        rename = "externalIPPool",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_ip_pool: Option<Parsed<Dns1123Subdomain>>,
}

/// A smarthost for outgoing mail.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayFile {
    /// Host name of the smarthost (`RELAYHOST`).
    pub host: Parsed<Fqdn>,
    /// Its port (587 for submission with authentication is common). postfix's NetworkPolicy
    /// opens this port to the internet instead of 25.
    #[serde(default = "default_relay_port")]
    pub port: NonZeroU16,
    /// Secret with keys `username` and `password` for SMTP authentication (`RELAYUSER`,
    /// `RELAYPASSWORD`, given to postfix only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<Parsed<Dns1123Subdomain>>,
}

/// SMTP's own port: a relay without `port` is reached where MX hosts are.
fn default_relay_port() -> NonZeroU16 {
    NonZeroU16::new(25).unwrap_or(NonZeroU16::MIN)
}
