//! `dns.dane` keeps front's private key across renewals: the TLSA record holds the key's digest,
//! so cert-manager must not make a new key each time (`rotationPolicy: Never`, whose meaning the
//! cert-manager v1.21 CRD gives as "a private key will only be generated if one does not already
//! exist in the target `spec.secretName`").

fn certificate(extra: &str) -> serde_json::Value {
    let config = mailu_k8s_config::testing::config(&format!(
        "tls: {{certificate: {{issuerName: letsencrypt}}}}\n{extra}"
    ));
    mailu_k8s_manifests::synthesize(&config)
        .values()
        .into_iter()
        .find(|o| o["kind"] == "Certificate")
        .expect("a Certificate")
}

#[test]
fn dane_keeps_the_key_on_renewal() {
    let plain = certificate("");
    assert_eq!(plain["spec"]["privateKey"]["rotationPolicy"], "Always");
    let dane = certificate("dns: {dane: {}}\n");
    assert_eq!(dane["spec"]["privateKey"]["rotationPolicy"], "Never");
    // Nothing else about the certificate changes.
    let mut same = dane.clone();
    same["spec"]["privateKey"]["rotationPolicy"] = "Always".into();
    assert_eq!(same, plain);
}
