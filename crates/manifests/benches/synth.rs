//! `cargo bench -p mailu-k8s-manifests`: load + validate + synthesize + serialize each example.
//! The whole-process target (≤ 5 ms wall, ≤ 10 MiB peak RSS) is measured by `scripts/bench`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for name in ["quickstart", "production"] {
        let bytes = std::fs::read(examples.join(format!("{name}.yaml"))).expect("example");
        c.bench_function(&format!("synth/{name}"), |b| {
            b.iter(|| {
                let loaded = mailu_k8s_config::load(std::hint::black_box(&bytes)).expect("valid");
                mailu_k8s_manifests::synthesize(&loaded.config).to_yaml()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
