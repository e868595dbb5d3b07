//! On a dual-stack cluster front's public Service serves both families, so an AAAA record the
//! DNS plan publishes for the mail host is answered; single-stack clusters are left as they are.

mod common;

use mailu_k8s_manifests::k8s_openapi::api::core::v1::Service;

#[test]
fn the_public_service_serves_the_clusters_families() {
    for (name, config) in common::examples() {
        let manifest = mailu_k8s_manifests::synthesize(&config);
        let Some(public) = manifest.get::<Service>("mailu-front-public") else {
            continue;
        };
        let spec = public.spec.as_ref().expect("spec");
        if config.subnet6.is_some() {
            assert_eq!(
                spec.ip_family_policy.as_deref(),
                Some("PreferDualStack"),
                "{name}"
            );
            assert_eq!(
                spec.ip_families.as_deref(),
                Some(&["IPv4".to_owned(), "IPv6".to_owned()][..]),
                "{name}"
            );
        } else {
            assert!(
                spec.ip_family_policy.is_none() && spec.ip_families.is_none(),
                "{name}"
            );
        }
    }
}
