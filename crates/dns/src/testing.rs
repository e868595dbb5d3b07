//! An in-memory [`Lookup`] for unit tests: a table of records; names not in it are NXDOMAIN;
//! queries can be made to fail (SERVFAIL) and are counted. Also the property tests that every
//! parser of DNS data takes arbitrary input without panicking.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use crate::lookup::{Answer, Lookup, Srv, reverse_name};

/// The plan for `config`, with no DKIM keys.
pub(crate) fn plan_of(config: &mailu_k8s_config::Config) -> crate::plan::Plan {
    let topology = mailu_k8s_topology::Topology::from_config(config);
    crate::plan::build(config, &topology, &Default::default()).expect("plan")
}

#[derive(Debug, Default, Clone)]
pub struct Table {
    /// (name, type) → presentation values.
    records: BTreeMap<(String, &'static str), Vec<String>>,
    /// (name, type) whose queries fail.
    failing: BTreeSet<(String, &'static str)>,
    /// Queries asked so far.
    asked: Rc<Cell<usize>>,
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
        self.mx_pref(name, 10, host)
    }
    pub fn mx_pref(self, name: &str, preference: u16, host: &str) -> Self {
        self.add(name, "MX", format!("{preference} {host}"))
    }
    /// Queries of `rtype` at `name` fail, as on SERVFAIL.
    pub fn fail(mut self, name: &str, rtype: &'static str) -> Self {
        self.failing.insert((name.to_owned(), rtype));
        self
    }
    /// How many queries were asked.
    pub fn asked(&self) -> usize {
        self.asked.get()
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
        self.asked.set(self.asked.get() + 1);
        if self.failing.contains(&(name.to_owned(), rtype)) {
            return Answer::Failed("the server answered SERVFAIL".into());
        }
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
        self.get(name, "MX", |s| {
            let (p, h) = s.split_once(' ')?;
            Some((p.parse().ok()?, h.to_owned()))
        })
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

/// Every parser of DNS data takes whatever a server sends: arbitrary bytes, and strings close to
/// valid records (the edges parsers trip on: multi-byte characters where ASCII is expected, a
/// no-break space, U+FFFD from invalid UTF-8, unterminated macros, huge numbers). None may
/// panic. `scripts/test` pins `PROPTEST_RNG_SEED`; the case counts keep this to seconds.
mod props {
    use std::net::IpAddr;

    use proptest::prelude::*;

    use super::Table;
    use crate::check::{self, Scope};
    use crate::dkim::{KeyType, PublicKey, record_tags};
    use crate::lookup::{self, txt_string};
    use crate::spf::{self, Query, Spf, SpfResult};

    /// Pieces of almost-valid records.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("v=spf1".to_owned()),
            Just("v=DMARC1".to_owned()),
            Just("v=DMARC".to_owned()),
            Just("v=DKIM1".to_owned()),
            Just("v=STSv1".to_owned()),
            Just("v=TLSRPTv1".to_owned()),
            Just("p=".to_owned()),
            Just("k=ed25519".to_owned()),
            Just("id=".to_owned()),
            Just("rua=mailto:".to_owned()),
            Just("ip4:".to_owned()),
            Just("ip6:".to_owned()),
            Just("include:".to_owned()),
            Just("include:a.example.net".to_owned()),
            Just("redirect=".to_owned()),
            Just("redirect=a.example.net".to_owned()),
            Just("exists:".to_owned()),
            Just("a".to_owned()),
            Just("mx".to_owned()),
            Just("ptr".to_owned()),
            Just("all".to_owned()),
            Just("-all".to_owned()),
            Just("%{".to_owned()),
            Just("%{o}".to_owned()),
            Just("%{S}".to_owned()),
            Just("%{i99r-}".to_owned()),
            Just("%{d0}".to_owned()),
            Just("%".to_owned()),
            Just("/".to_owned()),
            Just("//".to_owned()),
            Just(":".to_owned()),
            Just("=".to_owned()),
            Just(";".to_owned()),
            Just(" ".to_owned()),
            Just("\"".to_owned()),
            Just("é".to_owned()),
            Just("\u{a0}".to_owned()),
            Just("\u{fffd}".to_owned()),
            Just("\u{1b}[2J".to_owned()),
            Just("\r\n".to_owned()),
            Just("\0".to_owned()),
            "[0-9]{1,25}",
            "[0-9a-f:./]{0,12}",
            any::<String>(),
        ]
    }

    fn near_valid() -> impl Strategy<Value = String> {
        prop::collection::vec(piece(), 0..24).prop_map(|p| p.concat())
    }

    /// A TXT record off the wire: up to a few strings of arbitrary bytes, or near-valid text
    /// split at arbitrary byte positions (so multi-byte characters are cut in two).
    fn txt_bytes() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop_oneof![
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..4),
            (near_valid(), any::<prop::sample::Index>()).prop_map(|(s, cut)| {
                let b = s.into_bytes();
                let at = if b.is_empty() { 0 } else { cut.index(b.len()) };
                vec![b[..at].to_vec(), b[at..].to_vec()]
            }),
        ]
    }

    /// Every text parser of the checker and the SPF evaluator's helpers.
    fn parse_everything(text: &str) {
        let _ = check::is_dmarc(text);
        let _ = check::is_mta_sts(text);
        let _ = check::is_tls_rpt(text);
        let _ = check::starts_like(text, "v=DMARC");
        let _ = check::tags(text);
        let _ = spf::is_spf(text);
        if let Ok(record) = Spf::parse(text) {
            let _ = record.own_lookups();
            // What parses prints and parses again.
            assert!(
                Spf::parse(&record.to_string()).is_ok(),
                "{text:?} → {record}"
            );
        }
        for ip in ["203.0.113.25", "2001:db8::25"] {
            let ip: IpAddr = ip.parse().expect("ip");
            let q = Query {
                ip,
                local_part: text.to_owned(),
                sender_domain: "example.com".into(),
                helo: text.to_owned(),
            };
            let out = spf::expand(text, &q, "example.com");
            // A macro's expansion fits a domain name, unless one label alone is longer.
            assert!(
                !text.contains('%') || out.len() <= spf::MAX_DOMAIN_LEN || !out.contains('.'),
                "{} characters",
                out.len()
            );
            let _ = check::not_authorised_hint(text, ip, &SpfResult::Fail);
            let _ = check::not_authorised_hint(text, ip, &SpfResult::PermError(text.into()));
        }
        let _ = record_tags(text);
        let _ = PublicKey::parse(text, KeyType::Rsa);
        let _ = PublicKey::parse(text, KeyType::Ed25519);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn txt_bytes_through_every_parser(strings in txt_bytes()) {
            parse_everything(&txt_string(&strings));
        }

        #[test]
        fn near_valid_text_through_every_parser(text in near_valid()) {
            parse_everything(&text);
        }

        /// Record data as it comes off the wire, each type the checker asks for.
        #[test]
        fn record_data_decodes_or_is_refused(
            bytes in prop::collection::vec(any::<u8>(), 0..300),
            rtype in prop::sample::select(vec![
                hickory_proto::rr::RecordType::TXT,
                hickory_proto::rr::RecordType::CAA,
                hickory_proto::rr::RecordType::MX,
                hickory_proto::rr::RecordType::SRV,
                hickory_proto::rr::RecordType::PTR,
                hickory_proto::rr::RecordType::CNAME,
                hickory_proto::rr::RecordType::A,
                hickory_proto::rr::RecordType::AAAA,
            ]),
        ) {
            if let Some(lookup::Value::Txt(t) | lookup::Value::Caa(t)) = lookup::decode(rtype, &bytes) {
                parse_everything(&t);
            }
        }

        /// CAA data built as a server may send it: flags, a tag, a value of any bytes.
        #[test]
        fn caa_of_any_value_decodes_or_is_refused(
            flags in any::<u8>(),
            tag in prop::sample::select(vec!["issue", "issuewild", "iodef", "tbs", "x"]),
            value in prop::collection::vec(any::<u8>(), 0..80),
        ) {
            let mut rdata = vec![flags, tag.len() as u8];
            rdata.extend_from_slice(tag.as_bytes());
            rdata.extend_from_slice(&value);
            let _ = lookup::decode(hickory_proto::rr::RecordType::CAA, &rdata);
        }
    }

    fn plan() -> crate::plan::Plan {
        let config = mailu_k8s_config::testing::config(
            "egress: {mode: static, ips: [203.0.113.25]}\ndns:\n  inboundIps: [198.51.100.10]\n  dkim: {ed25519Selector: ed}\n  dmarc: {rua: [d@reports.example.net]}\n  mtaSts: {}\n  tlsRpt: {rua: [tls@example.com]}\n  caa: [letsencrypt.org]\n",
        );
        super::plan_of(&config)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The whole check over a zone where every TXT, MX, PTR and CAA value is hostile.
        #[test]
        fn the_whole_check_takes_any_answers(
            txt in prop::collection::vec(txt_bytes(), 11),
            names in prop::collection::vec(near_valid(), 3),
        ) {
            let plan = plan();
            let report = plan.domains[0].report_authorizations[0].clone();
            let txt_names = [
                "example.com",
                "_dmarc.example.com",
                "dkim._domainkey.example.com",
                "ed._domainkey.example.com",
                "_mta-sts.example.com",
                "_smtp._tls.example.com",
                "out.example.com",
                "a.example.net",
                report.as_str(),
                "example.com",
                "_dmarc.example.com",
            ];
            let mut t = Table::default()
                .mx("example.com", &names[0])
                .ptr("203.0.113.25", &names[1])
                .add("example.com", "CAA", names[2].clone());
            for (name, strings) in txt_names.iter().zip(&txt) {
                t = t.txt(name, &txt_string(strings));
            }
            let out = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(check::check_scoped(&t, &plan, &Scope::all()));
            prop_assert!(out.checked > 0);
            prop_assert!(t.asked() < 400, "{} queries", t.asked());
        }
    }
}
