//! The cluster's own networks as the config writes them: the pod networks (`subnet`,
//! `subnet6`) and the Service CIDRs (`networkPolicies.serviceCidrs`), for rules that ask "is this
//! address the cluster's". A network that is not a valid CIDR is left out: it is reported where
//! it is written.

use ipnet::IpNet;

use crate::file::ConfigFile;
use crate::leaf::Parsed;
use crate::rules;

/// A network of the cluster, with its text as written (for messages and emitted lists).
pub(crate) struct Network {
    pub(crate) net: IpNet,
    pub(crate) text: String,
}

impl Network {
    fn parse(raw: &str) -> Option<Network> {
        rules::check_cidr(raw).ok()?;
        Some(Network {
            net: raw.parse().ok()?,
            text: raw.to_owned(),
        })
    }
}

/// `subnet` and `subnet6`.
pub(crate) fn pods(file: &ConfigFile) -> Vec<Network> {
    std::iter::once(file.subnet.raw())
        .chain(file.subnet6.as_ref().map(Parsed::raw))
        .filter_map(Network::parse)
        .collect()
}

/// `networkPolicies.serviceCidrs`.
pub(crate) fn services(file: &ConfigFile) -> Vec<Network> {
    let cidrs = file.network_policies.service_cidrs.iter();
    cidrs
        .filter_map(|cidr| Network::parse(cidr.raw()))
        .collect()
}

/// The pod networks and the Service CIDRs, each once.
pub(crate) fn cluster(file: &ConfigFile) -> Vec<Network> {
    let mut all = pods(file);
    all.extend(services(file));
    all.dedup_by(|a, b| a.text == b.text);
    all
}
