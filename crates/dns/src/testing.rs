//! An in-memory [`Lookup`] for unit tests: a table of records; names not in it are NXDOMAIN.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::lookup::{Answer, Lookup, Srv, reverse_name};

#[derive(Debug, Default, Clone)]
pub struct Table {
    /// (name, type) → presentation values.
    records: BTreeMap<(String, &'static str), Vec<String>>,
}

impl Table {
    fn add(mut self, name: &str, rtype: &'static str, value: String) -> Self {
        self.records
            .entry((name.to_owned(), rtype))
            .or_default()
            .push(value);
        self
    }
    pub fn txt(self, name: &str, value: &str) -> Self {
        self.add(name, "TXT", value.to_owned())
    }
    pub fn a(self, name: &str, ip: &str) -> Self {
        let t = if ip.contains(':') { "AAAA" } else { "A" };
        self.add(name, t, ip.to_owned())
    }
    pub fn mx(self, name: &str, host: &str) -> Self {
        self.add(name, "MX", host.to_owned())
    }
    pub fn ptr(self, ip: &str, host: &str) -> Self {
        let name = reverse_name(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        self.add(&name, "PTR", host.to_owned())
    }
    pub fn cname(self, name: &str, target: &str) -> Self {
        self.add(name, "CNAME", target.to_owned())
    }
    /// A CAA record in hickory's presentation: `0 issue "letsencrypt.org"`.
    pub fn caa(self, name: &str, presentation: &str) -> Self {
        self.add(name, "CAA", presentation.to_owned())
    }

    fn get<T>(
        &self,
        name: &str,
        rtype: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Answer<T> {
        match self.records.get(&(name.to_owned(), rtype)) {
            Some(v) => Answer::Found(v.iter().filter_map(|s| parse(s)).collect()),
            None if self.records.keys().any(|(n, _)| n == name) => Answer::NoData,
            None => Answer::NxDomain,
        }
    }
}

impl Lookup for Table {
    async fn txt(&self, name: &str) -> Answer<String> {
        self.get(name, "TXT", |s| Some(s.to_owned()))
    }
    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        self.get(name, "A", |s| s.parse().ok())
    }
    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        self.get(name, "AAAA", |s| s.parse().ok())
    }
    async fn mx(&self, name: &str) -> Answer<(u16, String)> {
        self.get(name, "MX", |s| Some((10, s.to_owned())))
    }
    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        self.get(&reverse_name(ip), "PTR", |s| Some(s.to_owned()))
    }
    async fn cname(&self, name: &str) -> Answer<String> {
        self.get(name, "CNAME", |s| Some(s.to_owned()))
    }
    async fn srv(&self, name: &str) -> Answer<Srv> {
        self.get(name, "SRV", |_| None)
    }
    async fn caa(&self, name: &str) -> Answer<String> {
        self.get(name, "CAA", |s| Some(s.to_owned()))
    }
}
