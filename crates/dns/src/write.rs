//! Writers of the plan: a BIND zone file per mail domain (what `nsd-checkzone` and DNS hosting
//! imports read), JSON for tools, and external-dns `DNSEndpoint` objects.

use std::collections::{BTreeMap, HashMap};

use hickory_proto::rr::{Name, RData};
use mailu_k8s_config::FindingCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::plan::{Entry, Plan, txt_value};

/// A record type's mnemonic.
pub fn rtype(data: &RData) -> &'static str {
    match data {
        RData::A(_) => "A",
        RData::AAAA(_) => "AAAA",
        RData::MX(_) => "MX",
        RData::TXT(_) => "TXT",
        RData::SRV(_) => "SRV",
        RData::CNAME(_) => "CNAME",
        RData::CAA(_) => "CAA",
        RData::NS(_) => "NS",
        RData::SOA(_) => "SOA",
        RData::PTR(_) => "PTR",
        RData::TLSA(_) => "TLSA",
        _ => "UNKNOWN",
    }
}

fn fqdn(n: &Name) -> String {
    let s = n.to_ascii();
    if s.ends_with('.') { s } else { format!("{s}.") }
}

/// Name without the trailing dot (external-dns and JSON).
fn bare(n: &Name) -> String {
    let s = n.to_ascii();
    match s.trim_end_matches('.') {
        "" => ".".to_owned(),
        t => t.to_owned(),
    }
}

/// A character-string in zone-file syntax (RFC 1035 §5.1): quoted, `"` and `\` escaped,
/// anything outside printable ASCII as `\DDD`.
fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// The record data in zone-file (presentation) syntax.
pub fn presentation(data: &RData) -> String {
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::MX(mx) => format!("{} {}", mx.preference, fqdn(&mx.exchange)),
        RData::TXT(t) => t
            .txt_data
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(" "),
        RData::SRV(s) => format!("{} {} {} {}", s.priority, s.weight, s.port, fqdn(&s.target)),
        RData::CNAME(c) => fqdn(&c.0),
        RData::NS(n) => fqdn(&n.0),
        RData::PTR(p) => fqdn(&p.0),
        // hickory's Display does not escape the value.
        RData::CAA(c) => format!("{} {} {}", c.flags(), c.tag, quote(&c.value)),
        RData::SOA(s) => format!(
            "{} {} {} {} {} {} {}",
            fqdn(&s.mname),
            fqdn(&s.rname),
            s.serial,
            s.refresh,
            s.retry,
            s.expire,
            s.minimum
        ),
        other => other.to_string(),
    }
}

fn line(e: &Entry) -> String {
    format!(
        "{} {} IN {} {}",
        fqdn(&e.name),
        e.ttl,
        rtype(&e.data),
        presentation(&e.data)
    )
}

/// The zone file of one mail domain: SOA and NS (`serial` in the SOA), every record in the zone,
/// and as comments the records that belong elsewhere, the PTR records to set and the notes.
pub fn zone(plan: &Plan, zone: &str, serial: u32) -> String {
    let sorted = Sorted::of(plan);
    sorted.render(plan, zone, serial)
}

/// Every mail domain's zone file, in the plan's order, as (domain, text): what `-o DIR` writes.
pub fn zones(plan: &Plan, serial: u32) -> Vec<(String, String)> {
    let sorted = Sorted::of(plan);
    plan.domains
        .iter()
        .map(|d| (d.domain.clone(), sorted.render(plan, &d.domain, serial)))
        .collect()
}

/// The plan's records sorted by zone in one pass (looking each record's zone up per zone file
/// made `-o DIR` quadratic in the number of domains).
struct Sorted<'p> {
    /// The records in each zone.
    inside: HashMap<&'p str, Vec<&'p Entry>>,
    /// Records outside every zone named after one (a report authorisation), with their
    /// position in the plan.
    named_after: HashMap<&'p str, Vec<(usize, &'p Entry)>>,
    /// Records outside every zone that concern all of them (host names in another zone).
    shared: Vec<(usize, &'p Entry)>,
}

impl<'p> Sorted<'p> {
    fn of(plan: &'p Plan) -> Sorted<'p> {
        let mut sorted = Sorted {
            inside: HashMap::new(),
            named_after: HashMap::new(),
            shared: Vec::new(),
        };
        for (i, e) in plan.entries.iter().enumerate() {
            let n = e.name.to_ascii();
            match (plan.zone_of(&n), plan.named_after(&n)) {
                (Some(z), _) => sorted.inside.entry(z).or_default().push(e),
                (None, Some(z)) => sorted.named_after.entry(z).or_default().push((i, e)),
                (None, None) => sorted.shared.push((i, e)),
            }
        }
        sorted
    }

    fn render(&self, plan: &Plan, zone: &str, serial: u32) -> String {
        let mut out = format!(
            "; The mail DNS of {zone}, planned by mailu-k8s {} from the config.\n\
             ; Generated: change the config and run `mailu-k8s dns plan` again.\n",
            env!("CARGO_PKG_VERSION"),
        );
        if plan.domains.len() > 1 {
            out.push_str(&format!(
                "; One of {} mail domains, each with a zone file of its own (`mailu-k8s dns plan -o DIR` writes them all).\n",
                plan.domains.len()
            ));
        }
        out.push_str(&format!("$ORIGIN {zone}.\n$TTL {}\n", plan.ttl));
        let mut last = "";
        let apex = plan.apex(zone, serial);
        let inside = self.inside.get(zone).map(Vec::as_slice).unwrap_or_default();
        for e in apex.iter().chain(inside.iter().copied()) {
            if e.purpose != last {
                out.push_str(&format!("; {}\n", e.purpose));
                last = e.purpose;
            }
            out.push_str(&line(e));
            out.push('\n');
        }
        let mut elsewhere: Vec<(usize, &Entry)> = self.shared.clone();
        elsewhere.extend(self.named_after.get(zone).into_iter().flatten().copied());
        elsewhere.sort_by_key(|(i, _)| *i);
        if !elsewhere.is_empty() {
            out.push_str(
                "\n; Records of names outside the mail domains: publish them in their own zones.\n",
            );
            for (_, e) in elsewhere {
                out.push_str(&format!(";   {}    ; {}\n", line(e), e.purpose));
            }
        }
        trailer(plan, zone, &mut out);
        out
    }
}

/// The comments after the records: PTR instructions, the MTA-STS policy, the notes.
fn trailer(plan: &Plan, zone: &str, out: &mut String) {
    if !plan.ptr.is_empty() {
        out.push_str("\n; Reverse DNS: the provider of each address sets its PTR record.\n");
        for p in &plan.ptr {
            out.push_str(&format!(
                ";   {}. PTR {}.    ; {}\n",
                p.reverse_name, p.name, p.how
            ));
        }
    }
    if let Some(policy) = &plan.mta_sts_policy {
        out.push_str(&format!(
            "\n; The MTA-STS policy front serves at https://{}.{zone}{}:\n",
            mailu_k8s_topology::mail_dns::MTA_STS_HOST_LABEL,
            mailu_k8s_topology::mail_dns::MTA_STS_PATH
        ));
        for l in policy.lines() {
            out.push_str(&format!(";   {l}\n"));
        }
    }
    if !plan.notes.is_empty() {
        out.push_str("\n; What this plan cannot promise:\n");
        for n in &plan.notes {
            out.push_str(&format!(";   {}: {}\n", n.code.id(), n.message));
            if let Some(h) = &n.hint {
                out.push_str(&format!(";     hint: {h}\n"));
            }
        }
    }
}

/// One record of the JSON plan. Records and SPF lists are written as they are serialised,
/// not built as `serde_json::Value` trees first (19,800 domains took 1 GB that way).
#[derive(Serialize)]
struct Record<'a> {
    name: String,
    #[serde(rename = "type")]
    rtype: &'static str,
    ttl: u32,
    data: String,
    zone: Option<&'a str>,
    purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strings: Option<Vec<String>>,
}

fn record<'a>(plan: &'a Plan, e: &Entry) -> Record<'a> {
    let txt = match &e.data {
        RData::TXT(t) => Some(t),
        _ => None,
    };
    Record {
        name: bare(&e.name),
        rtype: rtype(&e.data),
        ttl: e.ttl,
        data: presentation(&e.data),
        zone: plan.zone_of(&e.name.to_ascii()),
        purpose: e.purpose,
        value: txt.map(txt_value),
        strings: txt.map(|t| {
            t.txt_data
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        }),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpfRecord<'a> {
    name: &'a str,
    record: String,
    lookups: u32,
    void_lookups: u32,
}

fn spf_record<'a>(name: &'a str, spf: &crate::spf::Spf) -> SpfRecord<'a> {
    SpfRecord {
        name,
        record: spf.to_string(),
        lookups: spf.own_lookups(),
        void_lookups: 0,
    }
}

/// A sequence serialised from the plan as it is written.
struct Seq<'a, T>(&'a Plan, fn(&'a Plan) -> Box<dyn Iterator<Item = T> + 'a>);

impl<T: Serialize> Serialize for Seq<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.1)(self.0))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    domains: Seq<'a, &'a str>,
    mail_host: &'a str,
    ttl: u32,
    records: Seq<'a, Record<'a>>,
    ptr: &'a [crate::plan::PtrInstruction],
    spf: Seq<'a, SpfRecord<'a>>,
    mta_sts_policy: &'a Option<String>,
    notes: &'a [crate::finding::Finding],
}

/// The plan as one JSON document.
pub fn json(plan: &Plan) -> String {
    let doc = Document {
        domains: Seq(plan, |p| {
            Box::new(p.domains.iter().map(|d| d.domain.as_str()))
        }),
        mail_host: &plan.mail_host,
        ttl: plan.ttl,
        records: Seq(plan, |p| {
            Box::new(p.entries.iter().map(move |e| record(p, e)))
        }),
        ptr: &plan.ptr,
        spf: Seq(plan, |p| {
            Box::new(
                p.domains
                    .iter()
                    .map(|d| spf_record(&d.domain, &d.spf))
                    .chain(p.helo_spf.iter().map(|(n, s)| spf_record(n, s))),
            )
        }),
        mta_sts_policy: &plan.mta_sts_policy,
        notes: &plan.notes,
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// The comment above `--format external-dns` output.
pub const EXTERNAL_DNS_HEADER: &str = concat!(
    "# Generated by mailu-k8s ",
    env!("CARGO_PKG_VERSION"),
    " from a validated config. Do not edit: change the config and run `mailu-k8s dns plan` again.\n"
);

/// The name of the `DNSEndpoint` object.
pub const DNS_ENDPOINT_NAME: &str = "mailu-dns";

/// Why TXT records are left out of `DNSEndpoint`s unless asked for, written into the output.
pub const EXTERNAL_DNS_TXT_NOTE: &str = "external-dns keeps ownership TXT records of its own (its TXT registry) and manages only the records it owns: SPF, DKIM and DMARC TXT records at names where you or your provider already publish TXT records (the domain's apex holds verification records too) would be taken over, or its registry records would sit beside your SPF at the same name. Publish TXT records yourself from `--format zone`, or pass `--with-txt` when external-dns owns those names alone (with its TXT registry prefixed, `--txt-prefix`).";

/// `externaldns.k8s.io/v1alpha1` `DNSEndpoint` with the A/AAAA/MX/SRV/CNAME records (and TXT with
/// `with_txt`). CAA is left out: few external-dns providers support it.
pub fn dns_endpoint(plan: &Plan, namespace: &str, with_txt: bool) -> Value {
    let mut grouped: BTreeMap<(String, &'static str), (u32, Vec<String>)> = BTreeMap::new();
    let mut order = Vec::new();
    for e in &plan.entries {
        let t = rtype(&e.data);
        let target = match &e.data {
            RData::A(_) | RData::AAAA(_) => presentation(&e.data),
            RData::MX(mx) => format!("{} {}", mx.preference, bare(&mx.exchange)),
            RData::SRV(s) => format!("{} {} {} {}", s.priority, s.weight, s.port, bare(&s.target)),
            RData::CNAME(c) => bare(&c.0),
            RData::TXT(txt) if with_txt => txt_value(txt),
            _ => continue,
        };
        let key = (bare(&e.name), t);
        if !grouped.contains_key(&key) {
            order.push(key.clone());
        }
        grouped
            .entry(key)
            .or_insert((e.ttl, Vec::new()))
            .1
            .push(target);
    }
    let endpoints: Vec<Value> = order
        .iter()
        .filter_map(|k| {
            let (ttl, targets) = grouped.get(k)?;
            Some(json!({ "dnsName": k.0, "recordType": k.1, "recordTTL": ttl, "targets": targets }))
        })
        .collect();
    json!({
        "apiVersion": "externaldns.k8s.io/v1alpha1",
        "kind": "DNSEndpoint",
        "metadata": {
            "name": DNS_ENDPOINT_NAME,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "mailu",
                "app.kubernetes.io/instance": "mailu",
                "app.kubernetes.io/part-of": "mailu",
                "app.kubernetes.io/managed-by": "mailu-k8s",
            },
        },
        "spec": { "endpoints": endpoints },
    })
}
