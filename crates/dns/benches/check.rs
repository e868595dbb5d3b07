//! `cargo bench -p mailu-k8s-dns`: one domain's whole live check against NSD on 127.0.0.1 (target
//! ≤ 50 ms; a benchmark, never a timed test). Each iteration starts a fresh resolver, so every
//! answer comes from the server, not a cache. Skips loudly without NSD.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};

use mailu_k8s_dns::dkim::PublicKey;
use mailu_k8s_dns::lookup::HickoryLookup;
use mailu_k8s_dns::plan::{self, DkimKeys};
use mailu_k8s_dns::{check, keygen, write};
use mailu_k8s_topology::Topology;

const CONFIG: &str = mailu_k8s_config::minimal_yaml!(
    "egress: {mode: static, ips: [203.0.113.25]}\n",
    "dns: {inboundIps: [198.51.100.80], mtaSts: {}, tlsRpt: {rua: [tls@example.com]}}\n",
);

fn bench(c: &mut Criterion) {
    if !common::nsd_available("bench dns_check") {
        return;
    }
    let config = mailu_k8s_config::load(CONFIG.as_bytes())
        .expect("config")
        .config;
    let keys: DkimKeys = keygen::generate(&config)
        .expect("keygen")
        .into_iter()
        .map(|k| {
            let key = PublicKey::parse(&k.public_pem, k.key_type).expect("key");
            ((k.domain, k.selector), key)
        })
        .collect();
    let plan = plan::build(&config, &Topology::from_config(&config), &keys).expect("plan");
    let reverse = format!(
        "{}25.113.0.203.in-addr.arpa. 300 IN PTR out.example.com.\n",
        common::zone_header("113.0.203.in-addr.arpa")
    );
    let nsd = common::Nsd::start(&[
        (
            "example.com".to_owned(),
            write::zone(&plan, "example.com", 1),
        ),
        ("113.0.203.in-addr.arpa".to_owned(), reverse),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    c.bench_function("dns_check/one_domain", |b| {
        b.iter(|| {
            rt.block_on(async {
                let dns = HickoryLookup::new(Some(nsd.addr)).expect("resolver");
                let out = check::check(&dns, &plan).await;
                assert!(out.findings.is_empty(), "{:#?}", out.findings);
                out.checked
            })
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
