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

/// `exposure.service.ipFamilyPolicy` reaches the Service with the families it means (issue 21).
#[test]
fn the_given_ip_family_policy_reaches_the_service() {
    let rows: [(&str, &str, &[&str]); 3] = [
        ("subnet6: fd00:10:42::/56\n", "SingleStack", &["IPv4"]),
        (
            "subnet6: fd00:10:42::/56\n",
            "RequireDualStack",
            &["IPv4", "IPv6"],
        ),
        ("", "SingleStack", &["IPv4"]),
    ];
    for (subnet6, policy, families) in rows {
        let config = mailu_k8s_config::testing::config(&format!(
            "{subnet6}exposure: {{service: {{type: LoadBalancer, ipFamilyPolicy: {policy}}}}}\n"
        ));
        let manifest = mailu_k8s_manifests::synthesize(&config);
        let public = manifest
            .get::<Service>("mailu-front-public")
            .expect("public Service");
        let spec = public.spec.as_ref().expect("spec");
        assert_eq!(spec.ip_family_policy.as_deref(), Some(policy), "{subnet6}");
        let want: Vec<String> = families.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(spec.ip_families.as_ref(), Some(&want), "{policy}");
    }
}
