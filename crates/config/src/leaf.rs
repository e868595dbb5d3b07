//! Typed leaves: config values that parse themselves (`TryFrom<String>`, so serde's
//! `try_from = "String"` reads them) and describe themselves in the JSON Schema.
//!
//! The file types hold a leaf as [`Parsed<T>`]: while serde reads the file it runs `T`'s parser,
//! and keeps an invalid value with its problem instead of stopping, so validation still reports
//! every bad leaf in one pass, each at the path the checker computes, with the
//! parser's own message and hint (`Checker::leaf`).

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rules::{self, DnsName, Ipv4Cidr, Ipv6Cidr, Problem};

mod names;
pub use names::*;
#[cfg(test)]
mod schema_tests;

/// A leaf as the file gives it: the text, and what `T`'s parser made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    raw: String,
    parsed: Result<T, Problem>,
}

impl<T> Parsed<T> {
    /// The value as written.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The parsed value, or why it is not one.
    pub fn parsed(&self) -> Result<&T, &Problem> {
        self.parsed.as_ref()
    }
}

impl<T: TryFrom<String, Error = Problem>> From<String> for Parsed<T> {
    fn from(raw: String) -> Self {
        let parsed = T::try_from(raw.clone());
        Parsed { raw, parsed }
    }
}

impl<'de, T: TryFrom<String, Error = Problem>> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Parsed::from)
    }
}

impl<T> Serialize for Parsed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

/// The schema of `T`, inlined where the leaf is used (so a field keeps its own description).
impl<T: JsonSchema> JsonSchema for Parsed<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl TryFrom<String> for DnsName {
    type Error = Problem;

    fn try_from(raw: String) -> Result<Self, Problem> {
        DnsName::parse(&raw)
    }
}

impl From<DnsName> for String {
    fn from(name: DnsName) -> String {
        name.as_str().to_owned()
    }
}

impl JsonSchema for DnsName {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "DnsName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// A fully qualified DNS name: at least two labels (`example.com`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fqdn(DnsName);

impl Fqdn {
    pub fn as_dns_name(&self) -> &DnsName {
        &self.0
    }
}

impl From<Fqdn> for DnsName {
    fn from(name: Fqdn) -> DnsName {
        name.0
    }
}

impl TryFrom<String> for Fqdn {
    type Error = Problem;

    fn try_from(raw: String) -> Result<Self, Problem> {
        DnsName::parse_fqdn(&raw).map(Fqdn)
    }
}

impl From<Fqdn> for String {
    fn from(name: Fqdn) -> String {
        name.0.into()
    }
}

impl JsonSchema for Fqdn {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Fqdn".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

impl TryFrom<String> for Ipv4Cidr {
    type Error = Problem;

    fn try_from(raw: String) -> Result<Self, Problem> {
        Ipv4Cidr::parse_pod_cidr(&raw)
    }
}

impl From<Ipv4Cidr> for String {
    fn from(cidr: Ipv4Cidr) -> String {
        cidr.to_string()
    }
}

impl JsonSchema for Ipv4Cidr {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Ipv4PodCidr".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

impl TryFrom<String> for Ipv6Cidr {
    type Error = Problem;

    fn try_from(raw: String) -> Result<Self, Problem> {
        Ipv6Cidr::parse_pod_cidr(&raw)
    }
}

impl JsonSchema for Ipv6Cidr {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Ipv6PodCidr".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// A network of either family with no host bits set (`10.0.5.0/24`, `fd00::/8`): NetworkPolicy
/// peers and the networks Mailu trusts. Whether it must be private is the field's rule, checked
/// where it is used ([`rules::check_private_net`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpCidr(IpNet);

impl IpCidr {
    pub fn net(&self) -> IpNet {
        self.0
    }
}

impl TryFrom<String> for IpCidr {
    type Error = Problem;

    fn try_from(raw: String) -> Result<Self, Problem> {
        rules::parse_cidr(&raw).map(IpCidr)
    }
}

impl JsonSchema for IpCidr {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "IpCidr".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// An IP address of either family, as `std` reads it. Each field says in its hint what address
/// it wants, so each has its own type.
macro_rules! ip_leaf {
    ($(#[$doc:meta])* $name:ident, $hint:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub IpAddr);

        impl TryFrom<String> for $name {
            type Error = Problem;

            fn try_from(raw: String) -> Result<Self, Problem> {
                raw.parse().map($name).map_err(|_| Problem {
                    message: format!("`{raw}` is not an IP address"),
                    hint: $hint.into(),
                })
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            // Not `format`: either family is allowed, and `ipv4`/`ipv6` each name one.
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string" })
            }
        }
    };
}

ip_leaf!(
    /// The resolver's Service address (`resolver.serviceIP`).
    ServiceIp,
    "e.g. `10.43.0.53`, inside the cluster's Service CIDR"
);

ip_leaf!(
    /// The address a `LoadBalancer` asks for (`exposure.service.loadBalancerIP`).
    LoadBalancerIp,
    "write the address the load balancer should use, e.g. `203.0.113.25`"
);

ip_leaf!(
    /// An address clients reach the mail server at (`dns.inboundIps`).
    InboundIp,
    "write an IPv4 or IPv6 address, e.g. `203.0.113.10`"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_keeps_an_invalid_value_with_its_problem() {
        let bad: Parsed<Fqdn> = serde_json::from_str("\"example\"").expect("a string reads");
        assert_eq!(bad.raw(), "example");
        let problem = bad.parsed().expect_err("one label");
        assert!(problem.message.contains("not a fully qualified name"));
        let good: Parsed<Fqdn> = serde_json::from_str("\"Mail.Example.com\"").expect("reads");
        let name = good.parsed().expect("valid").as_dns_name();
        assert_eq!(name.as_str(), "mail.example.com");
        assert_eq!(
            serde_json::to_string(&good).expect("writes"),
            "\"Mail.Example.com\""
        );
        // The leaf alone refuses what it cannot parse.
        assert!(serde_json::from_str::<Fqdn>("\"example\"").is_err());
    }
}
