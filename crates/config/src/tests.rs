//! Table-driven tests of `load`: each row is a config edit and the finding it must produce.

use super::*;

const MINIMAL: &str = "\
domain: example.com
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets:
  mailuSecretKey: mailu-secret-key
resolver:
  serviceIP: 10.43.0.53
";

/// Loads `MINIMAL` with `extra` appended (later keys must not repeat earlier ones).
fn load_with(extra: &str) -> Result<Loaded, Vec<Diagnostic>> {
    load(format!("{MINIMAL}{extra}").as_bytes())
}

fn errors_of(text: &str) -> Vec<Diagnostic> {
    match load(text.as_bytes()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

/// The errors' paths and codes, in the order reported (warnings left out).
fn error_paths(errors: &[Diagnostic]) -> Vec<(&str, Code)> {
    errors
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.path.as_str(), d.code))
        .collect()
}

/// `text` must fail with a finding of `code` at `path` whose hint contains `hint`.
fn assert_finding(text: &str, code: Code, path: &str, hint: &str) {
    let errors = match load(text.as_bytes()) {
        Ok(_) => panic!("expected {code:?} at {path} for:\n{text}"),
        Err(e) => e,
    };
    let Some(d) = errors.iter().find(|d| d.path == path && d.code == code) else {
        panic!("expected {code:?} at {path} for:\n{text}\ngot: {errors:#?}");
    };
    let got_hint = d.hint.as_deref().unwrap_or("");
    assert!(
        got_hint.contains(hint),
        "{path}: hint {got_hint:?} lacks {hint:?}"
    );
    assert!(d.is_error(), "{path}: {d:?}");
}

#[test]
fn minimal_config_loads_with_defaults() {
    let loaded = load(MINIMAL.as_bytes()).expect("minimal config");
    let c = loaded.config;
    assert_eq!(c.namespace, "mailu");
    assert_eq!(c.timezone, "Etc/UTC");
    assert_eq!(c.hostnames.primary.as_str(), "mail.example.com");
    assert!(matches!(c.database, Database::Sqlite));
    assert!(matches!(c.redis, Redis::Bundled));
    let dovecot = c
        .storage
        .volume(crate::Component::Dovecot)
        .expect("stateful");
    assert_eq!(dovecot.size.as_str(), "10Gi");
    let rspamd = c.resources.compute(crate::Component::Rspamd);
    assert_eq!(rspamd.requests.cpu.as_str(), "100m");
    assert_eq!(c.mailu.message_size_limit_bytes(), 50_000_000);
    assert_eq!(c.images.tag, "2024.06");
    assert_eq!(c.tls.flavor, TlsFlavor::Cert);
    assert_eq!(c.tls.secret_name.as_deref(), Some("mailu-certificates"));
    assert!(matches!(c.edge, Edge::None));
    let warned: Vec<&str> = loaded.warnings.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        warned,
        ["exposure.service.type"],
        "mail is unreachable from outside"
    );
}

#[test]
fn edge_defaults() {
    let traefik = load_with("ingress:\n  type: traefik\n")
        .expect("traefik")
        .config;
    assert_eq!(
        traefik.tls.flavor,
        TlsFlavor::Mail,
        "an HTTPS ingress means `mail`"
    );
    let Edge::Traefik(t) = &traefik.edge else {
        panic!("traefik edge")
    };
    assert_eq!(t.web_host.as_str(), "mail.example.com");
    assert_eq!(t.web_entry_point, "websecure");
    let mail = t.mail.as_ref().expect("TCP routes on by default");
    assert_eq!(mail.smtp_connection_limit, 15);
    assert_eq!(mail.entry_points[&MailService::Smtp], "smtp");
    assert_eq!(
        traefik.exposure.real_ip_from,
        ["10.42.0.0/16"],
        "PROXY senders default to the pod CIDR"
    );
    assert_eq!(
        traefik.exposure.offered,
        [
            MailService::Smtp,
            MailService::Submissions,
            MailService::Submission,
            MailService::Imaps,
            MailService::Pop3s
        ]
    );

    let disabled = load_with("ingress:\n  enabled: false\n  type: traefik\n")
        .expect("disabled")
        .config;
    assert!(matches!(disabled.edge, Edge::None));

    let lb = load_with("exposure:\n  service:\n    type: LoadBalancer\n").expect("lb");
    assert!(lb.warnings.is_empty());
    assert_eq!(
        lb.config.exposure.service.external_traffic_policy,
        Some(TrafficPolicy::Local)
    );
    assert!(lb.config.exposure.real_ip_from.is_empty());

    let issuer = load_with("ingress:\n  type: traefik\n  traefik: {certIssuer: letsencrypt}\n")
        .expect("issuer")
        .config;
    assert_eq!(
        issuer.tls.issuer,
        Some(Issuer {
            name: "letsencrypt".into(),
            kind: IssuerKind::ClusterIssuer
        })
    );
}

/// Exposure and TLS combinations that must be refused: (appended text, code, path, hint fragment).
const EDGE_RULES: &[(&str, Code, &str, &str)] = &[
    (
        "ingress:\n  type: traefik\n  traefik: {proxyProtocol: false}\n",
        Code::InvalidValue,
        "ingress.traefik.proxyProtocol",
        "open relay",
    ),
    (
        "ingress:\n  type: traefik\nexposure:\n  realIpFrom: []\n",
        Code::MissingDependency,
        "exposure.realIpFrom",
        "pod CIDR",
    ),
    (
        "ingress:\n  type: traefik\nexposure:\n  realIpHeader: X-Forwarded-For\n",
        Code::InvalidValue,
        "exposure.realIpHeader",
        "remove",
    ),
    (
        "exposure:\n  service: {externalTrafficPolicy: Local}\n",
        Code::InvalidValue,
        "exposure.service.externalTrafficPolicy",
        "LoadBalancer",
    ),
    (
        "exposure:\n  service: {type: LoadBalancer, externalTrafficPolicy: Cluster}\n",
        Code::InvalidValue,
        "exposure.service.externalTrafficPolicy",
        "open relay",
    ),
    (
        "exposure:\n  service: {type: NodePort, nodePorts: {smtp: 2525}}\n",
        Code::OutOfRange,
        "exposure.service.nodePorts.smtp",
        "30000 to 32767",
    ),
    (
        "exposure:\n  service: {type: NodePort, nodePorts: {imap: 30143}}\n",
        Code::InvalidValue,
        "exposure.service.nodePorts.imap",
        "exposure.ports.imap",
    ),
    (
        "exposure:\n  service: {type: NodePort, nodePorts: {smtp: 30025, imaps: 30025}}\n",
        Code::InvalidValue,
        "exposure.service.nodePorts.imaps",
        "its own",
    ),
    (
        "exposure:\n  service: {loadBalancerIP: 203.0.113.5}\n",
        Code::InvalidValue,
        "exposure.service.loadBalancerIP",
        "LoadBalancer",
    ),
    (
        "exposure:\n  service: {type: LoadBalancer, loadBalancerIP: 203.0.113}\n",
        Code::InvalidValue,
        "exposure.service.loadBalancerIP",
        "203.0.113.25",
    ),
    (
        "ingress:\n  type: traefik\nexposure:\n  service: {type: LoadBalancer}\n",
        Code::InvalidValue,
        "exposure.service.type",
        "ClusterIP",
    ),
    (
        "ingress:\n  type: traefik\nexposure:\n  ports: {smtp: false, submissions: false, submission: false, imaps: false, pop3s: false}\n",
        Code::InvalidValue,
        "ingress.traefik.enableTcp",
        "exposure.ports",
    ),
    (
        "ingress:\n  type: traefik\ntls:\n  flavor: cert\n",
        Code::InvalidValue,
        "tls.flavor",
        "flavor: mail",
    ),
    (
        "tls:\n  flavor: notls\n",
        Code::MissingDependency,
        "tls.notlsIsForTestingOnly",
        "true",
    ),
    (
        "tls:\n  flavor: notls\n  notlsIsForTestingOnly: true\n  secretName: my-cert\n",
        Code::InvalidValue,
        "tls.flavor",
        "remove `tls.secretName`",
    ),
    (
        "tls:\n  flavor: letsencrypt\n",
        Code::InvalidValue,
        "tls.flavor",
        "LoadBalancer",
    ),
    (
        "ingress:\n  type: traefik\ntls:\n  flavor: mail-letsencrypt\n",
        Code::InvalidValue,
        "tls.flavor",
        "cert-manager",
    ),
    (
        "ingress:\n  type: traefik\n  traefik: {certIssuer: a}\ntls:\n  certificate: {issuerName: b}\n",
        Code::InvalidValue,
        "ingress.traefik.certIssuer",
        "keep one",
    ),
    (
        "ingress:\n  type: gatewayApi\n  gatewayApi: {gatewayName: gw}\n",
        Code::MissingDependency,
        "ingress.gatewayApi.backendSendsProxyProtocol",
        "PROXY v2",
    ),
    (
        "ingress:\n  type: gatewayApi\n",
        Code::MissingDependency,
        "ingress.gatewayApi",
        "gatewayName",
    ),
    (
        "ingress:\n  type: traefik\n  gatewayApi: {gatewayName: gw}\n",
        Code::InvalidValue,
        "ingress.gatewayApi",
        "ingress.type: gatewayApi",
    ),
    (
        "ingress:\n  type: traefik\n  traefik: {entryPoints: {smtp: 'mail smtp'}}\n",
        Code::InvalidValue,
        "ingress.traefik.entryPoints.smtp",
        "entry point",
    ),
    (
        "exposure:\n  daemonSet: {nodeSelector: {}}\n",
        Code::InvalidValue,
        "exposure.daemonSet.nodeSelector",
        "mailu.io/mx",
    ),
    (
        "exposure:\n  hostPort: true\n  realIpFrom: [10.0.0.1/8]\n",
        Code::InvalidCidr,
        "exposure.realIpFrom[0]",
        "10.0.0.0/8",
    ),
    (
        "ingress:\n  type: ingress\nexposure:\n  service: {type: LoadBalancer}\n  ports: {smtp: false, submissions: false, submission: false, imaps: false, pop3s: false}\n",
        Code::InvalidValue,
        "exposure.service.type",
        "ClusterIP",
    ),
    (
        "ingress:\n  type: ingress\n  ingress: {annotations: {'bad key!': x}}\n",
        Code::InvalidKubernetesName,
        "ingress.ingress.annotations.bad key!",
        "prefix/name",
    ),
];

#[test]
fn edge_rules_table() {
    for (extra, code, path, hint) in EDGE_RULES {
        assert_finding(&format!("{MINIMAL}{extra}"), *code, path, hint);
    }
}

/// Component and Mailu-setting rules: (appended text, code, path, hint fragment).
const COMPONENT_RULES: &[(&str, Code, &str, &str)] = &[
    (
        "components:\n  postfix: false\n",
        Code::InvalidValue,
        "components.postfix",
        "always on",
    ),
    (
        "webmail:\n  roundcubePlugins: [archive]\n",
        Code::MissingDependency,
        "components.webmail",
        "components.webmail: true",
    ),
    (
        "components: {webmail: true}\nmailu: {webmailType: snappymail}\nwebmail:\n  roundcubeDatabase: {host: pg, secretName: rc}\n",
        Code::InvalidValue,
        "webmail.roundcubeDatabase",
        "webmailType: roundcube",
    ),
    (
        "components: {webmail: true}\nwebmail:\n  roundcubeDatabase: {secretName: rc}\n",
        Code::MissingKey,
        "webmail.roundcubeDatabase.host",
        "database.postgresql",
    ),
    (
        "components: {webmail: true}\nwebmail:\n  roundcubePlugins: ['bad plugin']\n",
        Code::InvalidValue,
        "webmail.roundcubePlugins[0]",
        "archive",
    ),
    (
        "resolver: {serviceIP: 10.43.0}\n",
        Code::InvalidValue,
        "resolver.serviceIP",
        "10.43.0.53",
    ),
    (
        "components: {resolver: false}\n",
        Code::InvalidValue,
        "resolver.serviceIP",
        "remove it",
    ),
    (
        "components: {clamav: true}\nstorage: {clamav: {existingClaim: old}}\n",
        Code::InvalidValue,
        "storage.clamav.existingClaim",
        "remove `existingClaim`",
    ),
    (
        "storage: {admin: {existingClaim: old, size: 1Gi}}\n",
        Code::InvalidValue,
        "storage.admin.existingClaim",
        "already has those",
    ),
    (
        "storage: {admin: {accessModes: []}}\n",
        Code::EmptyList,
        "storage.admin.accessModes",
        "ReadWriteOnce",
    ),
    (
        "mailu: {fullTextSearch: [english]}\n",
        Code::InvalidValue,
        "mailu.fullTextSearch[0]",
        "ISO 639-1",
    ),
    (
        "egress: {mode: relay, relay: {host: relay}}\n",
        Code::InvalidDnsName,
        "egress.relay.host",
        "full name",
    ),
    (
        "mailu: {relayNets: [192.168.1.1/24]}\n",
        Code::InvalidCidr,
        "mailu.relayNets[0]",
        "192.168.1.0/24",
    ),
    (
        "mailu: {rateLimits: {message: 200 per day}}\n",
        Code::InvalidValue,
        "mailu.rateLimits.message",
        "200/day",
    ),
    (
        "mailu: {recipientDelimiter: '@'}\n",
        Code::InvalidValue,
        "mailu.recipientDelimiter",
        "`+`",
    ),
    (
        "mailu: {dmarc: {rua: 'a@b'}}\n",
        Code::InvalidValue,
        "mailu.dmarc.rua",
        "before `@`",
    ),
    (
        "mailu: {welcome: {subject: '', body: hi}}\n",
        Code::InvalidValue,
        "mailu.welcome.subject",
        "remove `mailu.welcome`",
    ),
    (
        "mailu: {defaultQuota: '1.5'}\n",
        Code::InvalidQuantity,
        "mailu.defaultQuota",
        "5Gi",
    ),
    (
        "mailu: {defaultSpamThreshold: 101}\n",
        Code::OutOfRange,
        "mailu.defaultSpamThreshold",
        "100",
    ),
    (
        "mailu: {tlsPolicy: {outboundLevel: dane}}\n",
        Code::InvalidEnumValue,
        "mailu.tlsPolicy.outboundLevel",
        "encrypt",
    ),
    (
        "mailu: {branding: {logoBackground: red}}\n",
        Code::InvalidValue,
        "mailu.branding.logoBackground",
        "#2b2b2b",
    ),
    (
        "mailu: {branding: {website: example.com}}\n",
        Code::InvalidValue,
        "mailu.branding.website",
        "https://",
    ),
    // Mailu's admin pastes SITENAME into the Apple mail profile's XML unescaped.
    (
        "mailu: {branding: {siteName: 'Mail</string><key>PayloadType</key><string>x'}}\n",
        Code::InvalidValue,
        "mailu.branding.siteName",
        "Apple mail profile",
    ),
    (
        "mailu: {branding: {siteName: \"Tom & Jerry\"}}\n",
        Code::InvalidValue,
        "mailu.branding.siteName",
        "`&`",
    ),
    (
        "mailu: {branding: {siteName: \"Mail\\u0001\"}}\n",
        Code::InvalidValue,
        "mailu.branding.siteName",
        "control characters",
    ),
    // Roundcube's database name ends up in a single-quoted PHP string (config.inc.php).
    (
        "components: {webmail: true}\nwebmail:\n  roundcubeDatabase: {host: pg, secretName: rc, database: \"roundcube';system('id');//\"}\n",
        Code::InvalidValue,
        "webmail.roundcubeDatabase.database",
        "PHP",
    ),
    (
        "components: {webmail: true}\nwebmail:\n  roundcubeDatabase: {host: pg, secretName: rc, database: 'rc\\'}\n",
        Code::InvalidValue,
        "webmail.roundcubeDatabase.database",
        "letters, digits",
    ),
    (
        "database: {type: postgresql, postgresql: {host: pg, secretName: db, database: 'mailu%2Fx'}}\n",
        Code::InvalidValue,
        "database.postgresql.database",
        "URI",
    ),
];

/// What Mailu's templates carry safely is still accepted.
#[test]
fn plain_site_names_and_database_names_load() {
    let text = format!(
        "{MINIMAL}components: {{webmail: true}}\nmailu: {{branding: {{siteName: \"Acme Mail — \\\"Post\\\" (EU)\"}}}}\nwebmail:\n  roundcubeDatabase: {{host: pg, secretName: rc, database: rc_db-1.main}}\nnetworkPolicies: {{database: {{cidrs: [10.0.5.0/24]}}}}\n"
    );
    let c = load(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .config;
    assert_eq!(
        c.components
            .webmail
            .as_ref()
            .and_then(|w| w.roundcube_database.as_ref())
            .map(|d| d.database.as_str()),
        Some("rc_db-1.main")
    );
}

#[test]
fn component_rules_table() {
    for (extra, code, path, hint) in COMPONENT_RULES {
        // Rows that set `resolver:` themselves replace MINIMAL's.
        let base = if extra.starts_with("resolver:") {
            MINIMAL.replace("resolver:\n  serviceIP: 10.43.0.53\n", "")
        } else {
            MINIMAL.to_owned()
        };
        assert_finding(&format!("{base}{extra}"), *code, path, hint);
    }
}

/// `pods` and `workloads` rules: (appended text, code, path, hint fragment).
const WORKLOAD_RULES: &[(&str, Code, &str, &str)] = &[
    (
        "workloads: {postfix: {replicas: 2}}\n",
        Code::InvalidValue,
        "workloads.postfix.replicas",
        "queue",
    ),
    (
        "workloads: {dovecot: {replicas: 2}}\n",
        Code::InvalidValue,
        "workloads.dovecot.replicas",
        "indexes",
    ),
    (
        "workloads: {admin: {replicas: 2}}\n",
        Code::MissingDependency,
        "workloads.admin.replicas",
        "postgresql",
    ),
    (
        "components: {webmail: true}\nworkloads: {webmail: {replicas: 2}}\n",
        Code::MissingDependency,
        "workloads.webmail.replicas",
        "ReadWriteMany",
    ),
    (
        "exposure: {hostPort: true}\nworkloads: {front: {replicas: 2}}\n",
        Code::InvalidValue,
        "workloads.front.replicas",
        "exposure.daemonSet",
    ),
    (
        "workloads: {tika: {replicas: 2}}\n",
        Code::MissingDependency,
        "workloads.tika",
        "components.tika: true",
    ),
    (
        "workloads: {clamav: {logLevel: DEBUG}, }\ncomponents: {clamav: true}\n",
        Code::InvalidValue,
        "workloads.clamav.logLevel",
        "extraEnv",
    ),
    // Pod security and image pinning.
    (
        "workloads: {admin: {image: {digest: 'sha256:abc'}}}\n",
        Code::InvalidValue,
        "workloads.admin.image.digest",
        "64 lower-case hex digits",
    ),
    (
        "workloads: {admin: {securityContext: {runAsUsr: 1000}}}\n",
        Code::UnknownKey,
        "workloads.admin.securityContext.runAsUsr",
        "kubectl explain pod.spec.containers.securityContext",
    ),
    (
        "workloads: {admin: {securityContext: {privileged: maybe}}}\n",
        Code::WrongType,
        "workloads.admin.securityContext",
        "kubectl explain",
    ),
    (
        "workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: r, key: k}, configMapKeyRef: {name: r, key: k}}}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.RECAPTCHA_PRIVATE_KEY",
        "mailu-recaptcha",
    ),
    (
        "workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: Bad_Name, key: k}}}}}\n",
        Code::InvalidKubernetesName,
        "workloads.admin.extraEnv.RECAPTCHA_PRIVATE_KEY.secretKeyRef.name",
        "",
    ),
    (
        "workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: r, key: 'a/b'}}}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.RECAPTCHA_PRIVATE_KEY.secretKeyRef.key",
        "letters, digits",
    ),
    // NetworkPolicies need to know where the outside parties are.
    (
        "ingress: {type: ingress}\n",
        Code::MissingDependency,
        "networkPolicies.edge",
        "ingress-nginx",
    ),
    (
        "redis: {host: redis.cache}\n",
        Code::MissingDependency,
        "networkPolicies.redis",
        "cidrs",
    ),
    (
        "database: {type: postgresql, postgresql: {host: pg.db, secretName: db}}\n",
        Code::MissingDependency,
        "networkPolicies.database",
        "namespace",
    ),
    (
        "networkPolicies: {redis: {namespace: cache}}\n",
        Code::InvalidValue,
        "networkPolicies.redis",
        "remove",
    ),
    (
        "networkPolicies: {edge: {namespace: traefik}}\n",
        Code::InvalidValue,
        "networkPolicies.edge",
        "configure `ingress`",
    ),
    (
        "networkPolicies: {submissionFrom: [{namespace: apps, cidrs: [10.0.0.0/8]}]}\n",
        Code::InvalidValue,
        "networkPolicies.submissionFrom[0]",
        "not both",
    ),
    (
        "networkPolicies: {serviceCidrs: [10.43.0.1/16]}\n",
        Code::InvalidCidr,
        "networkPolicies.serviceCidrs[0]",
        "10.43.0.0/16",
    ),
    (
        "networkPolicies: {submissionFrom: [{namespace: Apps}]}\n",
        Code::InvalidKubernetesName,
        "networkPolicies.submissionFrom[0].namespace",
        "",
    ),
    // Dangerous values (issue 9): trust must not reach public or all addresses.
    (
        "mailu: {relayNets: [0.0.0.0/0]}\n",
        Code::InvalidCidr,
        "mailu.relayNets[0]",
        "private networks",
    ),
    (
        "mailu: {relayNets: ['::/0']}\n",
        Code::InvalidCidr,
        "mailu.relayNets[0]",
        "private networks",
    ),
    (
        "mailu: {relayNets: [203.0.113.0/24]}\n",
        Code::InvalidCidr,
        "mailu.relayNets[0]",
        "private networks",
    ),
    (
        "mailu: {relayNets: ['::ffff:10.0.0.0/104']}\n",
        Code::InvalidCidr,
        "mailu.relayNets[0]",
        "IPv4 network itself",
    ),
    (
        "exposure: {realIpFrom: [0.0.0.0/0], service: {type: LoadBalancer}}\n",
        Code::InvalidCidr,
        "exposure.realIpFrom[0]",
        "private networks",
    ),
    (
        "subnet6: '2001:db8::/56'\n",
        Code::InvalidCidr,
        "subnet6",
        "unique-local",
    ),
    (
        "workloads: {admin: {extraEnv: {PROXY_AUTH_WHITELIST: 10.0.0.0/8}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.PROXY_AUTH_WHITELIST",
        "single sign-on",
    ),
    (
        "workloads: {admin: {extraEnv: {PROXY_AUTH_HEADER: X-Auth}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.PROXY_AUTH_HEADER",
        "single sign-on",
    ),
    (
        "workloads: {admin: {extraEnv: {AUTH_RATELIMIT_EXEMPTION: 0.0.0.0/0}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.AUTH_RATELIMIT_EXEMPTION",
        "private networks",
    ),
    (
        "workloads: {admin: {extraEnv: {DEBUG: 'True'}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.DEBUG",
        "logLevel",
    ),
    (
        "workloads: {front: {extraEnv: {TLS_PERMISSIVE: 'true'}}}\n",
        Code::InvalidValue,
        "workloads.front.extraEnv.TLS_PERMISSIVE",
        "mailu.tlsPolicy.permissivePort25",
    ),
    (
        "workloads: {admin: {extraEnv: {SESSION_COOKIE_SECURE: 'false'}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.SESSION_COOKIE_SECURE",
        "TLS flavor",
    ),
    (
        "workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: s3cret}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.RECAPTCHA_PRIVATE_KEY",
        "secretKeyRef",
    ),
    (
        "workloads: {admin: {extraEnv: {SQLALCHEMY_DATABASE_URI: 'postgresql://u:p@db/mailu'}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.SQLALCHEMY_DATABASE_URI",
        "secretKeyRef",
    ),
    (
        "mailu: {messageSizeLimit: 5000000}\n",
        Code::OutOfRange,
        "mailu.messageSizeLimit",
        "",
    ),
    (
        "mailu: {defaultQuota: 100Ei}\n",
        Code::OutOfRange,
        "mailu.defaultQuota",
        "50Gi",
    ),
    (
        "workloads: {front: {extraEnv: {WEBROOT_REDIREKT: /webmail}}}\n",
        Code::UnknownKey,
        "workloads.front.extraEnv.WEBROOT_REDIREKT",
        "WEBROOT_REDIRECT",
    ),
    (
        "workloads: {admin: {extraEnv: {DOMAIN: x.org}}}\n",
        Code::InvalidValue,
        "workloads.admin.extraEnv.DOMAIN",
        "`domain`",
    ),
    (
        "workloads: {admin: {extraEnv: {INITIAL_ADMIN_PASSWORD: x}}}\n",
        Code::UnknownKey,
        "workloads.admin.extraEnv.INITIAL_ADMIN_PASSWORD",
        "INITIAL_ADMIN_PW",
    ),
    (
        "workloads: {postfix: {extraEnv: {POSTFIX_MYNETWORKS: x}}}\n",
        Code::UnknownKey,
        "workloads.postfix.extraEnv.POSTFIX_MYNETWORKS",
        "overrides",
    ),
    (
        "workloads: {front: {extraEnv: {lower: x}}}\n",
        Code::InvalidValue,
        "workloads.front.extraEnv.lower",
        "upper-case",
    ),
    (
        "workloads: {admin: {overrides: {a.conf: x}}}\n",
        Code::InvalidValue,
        "workloads.admin.overrides",
        "postfix",
    ),
    (
        "components: {fetchmail: true}\n\
         workloads: {fetchmail: {serviceAnnotations: {a.example/b: c}}}\n",
        Code::InvalidValue,
        "workloads.fetchmail.serviceAnnotations",
        "apply to the pods",
    ),
    (
        "components: {fetchmail: true}\nworkloads: {fetchmail: {serviceLabels: {a: b}}}\n",
        Code::InvalidValue,
        "workloads.fetchmail.serviceLabels",
        "apply to the pods",
    ),
    (
        "workloads: {postfix: {overrides: {'../x': y}}}\n",
        Code::InvalidValue,
        "workloads.postfix.overrides.../x",
        "letters",
    ),
    (
        "pods: {labels: {app.kubernetes.io/name: x}}\n",
        Code::InvalidValue,
        "pods.labels.app.kubernetes.io/name",
        "own prefix",
    ),
    (
        "pods: {tolerations: [{key: a, operator: Exists, value: b}]}\n",
        Code::InvalidValue,
        "pods.tolerations[0]",
        "remove `value`",
    ),
    (
        "pods: {tolerations: [{key: a, value: b, tolerationSeconds: 30}]}\n",
        Code::InvalidValue,
        "pods.tolerations[0]",
        "NoExecute",
    ),
    (
        "workloads: {front: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: 'not a key', whenUnsatisfiable: DoNotSchedule}]}}\n",
        Code::InvalidValue,
        "workloads.front.topologySpreadConstraints[0].topologyKey",
        "kubernetes.io/hostname",
    ),
    (
        "pods: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, valuez: [b]}]}]}}}}\n",
        Code::UnknownKey,
        "pods.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].valuez",
        "kubectl explain pod.spec.affinity",
    ),
    (
        "workloads: {admin: {affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: heavy}]}}}}\n",
        Code::WrongType,
        "workloads.admin.affinity",
        "kubectl explain pod.spec.affinity",
    ),
    (
        "workloads: {front: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {a: b}, matchLabel: {}}}]}}\n",
        Code::UnknownKey,
        "workloads.front.topologySpreadConstraints[0].labelSelector.matchLabel",
        "labelSelector",
    ),
    (
        "workloads: {tika: {replicas: 2147483648}}\n",
        Code::OutOfRange,
        "workloads.tika.replicas",
        "",
    ),
    (
        "pods: {priorityClassName: High}\n",
        Code::InvalidKubernetesName,
        "pods.priorityClassName",
        "lower-case",
    ),
    (
        "images: {pullSecrets: [Reg]}\n",
        Code::InvalidKubernetesName,
        "images.pullSecrets[0]",
        "lower-case",
    ),
    (
        "workloads: {front: {image: {tag: 'v1 '}}}\n",
        Code::InvalidValue,
        "workloads.front.image.tag",
        "2024.06",
    ),
    (
        "workloads: {front: {allowUnknownEnv: true}}\n",
        Code::InvalidValue,
        "workloads.front.allowUnknownEnv",
        "remove",
    ),
];

#[test]
fn workload_rules_table() {
    for (extra, code, path, hint) in WORKLOAD_RULES {
        assert_finding(&format!("{MINIMAL}{extra}"), *code, path, hint);
    }
}

/// `affinity` and a spread constraint's `labelSelector` reach the model as Kubernetes types, with
/// every field the config gives.
#[test]
fn kubernetes_values_are_typed_as_given() {
    let c = load_with(
        "pods:\n  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n        - weight: 10\n          preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}\nworkloads:\n  front:\n    topologySpreadConstraints:\n      - {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: front}}}\n",
    )
    .expect("valid")
    .config;
    let affinity = c.workloads["admin"]
        .affinity
        .as_ref()
        .expect("global affinity");
    let preferred = affinity
        .node_affinity
        .as_ref()
        .and_then(|n| {
            n.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .expect("preferred");
    assert_eq!(preferred[0].weight, 10);
    let spread = &c.workloads["front"].topology_spread[0];
    assert_eq!(spread.max_skew.get(), 2);
    let selector = spread.label_selector.as_ref().expect("selector");
    assert_eq!(
        selector.match_labels.as_ref().map(|m| m["app"].as_str()),
        Some("front")
    );
    assert!(c.workloads["resolver"].topology_spread.is_empty());
}

#[test]
fn workload_settings_merge_over_pods() {
    let c = load_with(
        "pods: {nodeSelector: {pool: mail}, annotations: {a: '1'}, labels: {team: mail}}\nworkloads:\n  front: {nodeSelector: {pool: edge}, annotations: {b: '2'}, replicas: 2}\n  admin: {extraEnv: {CREDENTIAL_ROUNDS: '14', NEW_THING: x}, allowUnknownEnv: true}\n",
    )
    .expect("valid")
    .config;
    let front = &c.workloads["front"];
    assert_eq!(
        front.node_selector["pool"], "edge",
        "the component's replaces the global one"
    );
    assert_eq!(front.pod_annotations.len(), 2, "annotations merge");
    assert_eq!(front.pod_labels["team"], "mail");
    assert_eq!(front.replicas, 2);
    assert_eq!(c.workloads["postfix"].node_selector["pool"], "mail");
    assert_eq!(
        c.workloads["admin"].extra_env["NEW_THING"],
        ExtraEnv::Text("x".into()),
        "allowUnknownEnv lets it through"
    );
}

#[test]
fn resolver_needs_its_address() {
    let errors = errors_of(&MINIMAL.replace("resolver:\n  serviceIP: 10.43.0.53\n", ""));
    let d = errors
        .iter()
        .find(|d| d.path == "resolver.serviceIP")
        .expect("finding");
    assert_eq!(d.code, Code::MissingKey);
    assert!(
        d.hint
            .as_deref()
            .unwrap_or("")
            .contains("components.resolver: false")
    );
    let off = load(
        MINIMAL
            .replace(
                "resolver:\n  serviceIP: 10.43.0.53\n",
                "components: {resolver: false}\n",
            )
            .as_bytes(),
    )
    .expect("cluster DNS");
    assert!(off.config.components.resolver.is_none());
}

#[test]
fn plain_http_web_ui_is_warned_about() {
    let loaded = load_with("tls: {flavor: mail}\nexposure: {service: {type: LoadBalancer}}\n")
        .expect("warning only");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|d| d.path == "tls.flavor" && d.message.contains("plain HTTP"))
    );
}

#[test]
fn subnet_must_be_a_private_pod_network() {
    let errors = errors_of(&MINIMAL.replace("10.42.0.0/16", "8.8.0.0/16"));
    assert!(
        errors
            .iter()
            .any(|d| d.path == "subnet" && d.code == Code::InvalidCidr)
    );
    // The resolver's Service address moves out of the wide pod network, where it cannot be.
    let wide_config = MINIMAL
        .replace("10.42.0.0/16", "10.0.0.0/8")
        .replace("10.43.0.53", "192.168.0.53");
    let wide = load(wide_config.as_bytes()).expect("wide is a warning");
    assert!(
        wide.warnings
            .iter()
            .any(|d| d.path == "subnet" && d.severity == Severity::Warning)
    );
}

/// (config text appended to MINIMAL, expected code, expected path, text the hint must contain)
const VALUE_RULES: &[(&str, Code, &str, &str)] = &[
    (
        "namespace: Mailu_NS\n",
        Code::InvalidKubernetesName,
        "namespace",
        "mailu-ns",
    ),
    (
        "timezone: Europe/Berln\n",
        Code::UnknownTimezone,
        "timezone",
        "Europe/Berlin",
    ),
    (
        "subnet6: fd00::1/64\n",
        Code::InvalidCidr,
        "subnet6",
        "fd00::/64",
    ),
    (
        "subnet6: 10.0.0.0/8\n",
        Code::InvalidCidr,
        "subnet6",
        "subnet",
    ),
    (
        "clusterDomain: bad_domain\n",
        Code::InvalidDnsName,
        "clusterDomain",
        "letters",
    ),
    (
        "storage:\n  dovecot:\n    size: 50GB\n",
        Code::InvalidQuantity,
        "storage.dovecot.size",
        "`50G`",
    ),
    (
        "storage:\n  admin:\n    size: abc\n",
        Code::InvalidQuantity,
        "storage.admin.size",
        "512Mi",
    ),
    (
        "storage:\n  storageClass: Fast_SSD\n",
        Code::InvalidKubernetesName,
        "storage.storageClass",
        "lower-case",
    ),
    (
        "resources:\n  admin:\n    requests:\n      memory: 1Gi\n",
        Code::RequestExceedsLimit,
        "resources.admin.requests.memory",
        "resources.admin.limits.memory",
    ),
    (
        "resources:\n  front:\n    limits:\n      cpu: 10m\n",
        Code::RequestExceedsLimit,
        "resources.front.limits.cpu",
        "at least 50m",
    ),
    (
        "resources:\n  dovecot:\n    limits:\n      cpu: one\n",
        Code::InvalidQuantity,
        "resources.dovecot.limits.cpu",
        "1.5",
    ),
    (
        "database:\n  type: postgresql\n",
        Code::MissingDependency,
        "database.postgresql",
        "postgresql",
    ),
    (
        "database:\n  type: sqlite\n  postgresql: {host: pg, secretName: pg}\n",
        Code::InvalidValue,
        "database.postgresql",
        "type: postgresql",
    ),
    (
        "database:\n  type: postgresql\n  postgresql: {host: pg, secretName: Bad_Name}\n",
        Code::InvalidKubernetesName,
        "database.postgresql.secretName",
        "lower-case",
    ),
    (
        "database:\n  type: postgresql\n  postgresql: {host: pg, secretName: pg, secretKeys: {username: a/b, password: p}}\n",
        Code::InvalidKubernetesName,
        "database.postgresql.secretKeys.username",
        "letters",
    ),
    (
        "database:\n  type: postgresql\n  postgresql: {host: 'pg host', secretName: pg}\n",
        Code::InvalidDnsName,
        "database.postgresql.host",
        "letters",
    ),
    (
        "redis:\n  host: redis..svc\n",
        Code::InvalidDnsName,
        "redis.host",
        "extra dot",
    ),
    (
        "mailu:\n  initialAccount:\n    enabled: true\n",
        Code::MissingDependency,
        "secrets.initialAdminPassword",
        "password",
    ),
    (
        "mailu:\n  apiEnabled: true\n",
        Code::MissingDependency,
        "secrets.apiToken",
        "api-token",
    ),
    (
        "mailu:\n  initialAccount:\n    enabled: true\n    username: 'a b'\n",
        Code::InvalidValue,
        "mailu.initialAccount.username",
        "before `@`",
    ),
    (
        "images:\n  tag: 'v 1'\n",
        Code::InvalidValue,
        "images.tag",
        "2024.06",
    ),
    (
        "images:\n  tag: 2024.06-\n",
        Code::InvalidValue,
        "images.tag",
        "ending",
    ),
    (
        "images:\n  tag: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        Code::InvalidValue,
        "images.tag",
        "at most 63",
    ),
    (
        "images:\n  registry: GHCR.io/\n",
        Code::InvalidValue,
        "images.registry",
        "ghcr.io",
    ),
    (
        "tls:\n  secretName: My.Cert\n",
        Code::InvalidKubernetesName,
        "tls.secretName",
        "lower-case",
    ),
];

#[test]
fn value_rules_table() {
    for (extra, code, path, hint) in VALUE_RULES {
        assert_finding(&format!("{MINIMAL}{extra}"), *code, path, hint);
    }
}

/// Whole documents that must fail, with the code and path of one expected finding.
const DOCUMENT_RULES: &[(&str, Code, &str)] = &[
    ("domain: [unclosed\n", Code::YamlSyntax, ""),
    ("", Code::NotAMapping, ""),
    ("# only a comment\n", Code::NotAMapping, ""),
    ("- a\n- b\n", Code::NotAMapping, ""),
    ("just a string\n", Code::NotAMapping, ""),
    ("a: 1\n---\nb: 2\n", Code::YamlSyntax, ""),
    (
        "domain: example.com\nhostnames: []\nsubnet: 10.42.0.0/16\nsecrets: {mailuSecretKey: s}\n",
        Code::EmptyList,
        "hostnames",
    ),
    (
        "domain: example\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\nsecrets: {mailuSecretKey: s}\n",
        Code::InvalidDnsName,
        "domain",
    ),
    (
        "domain: example.com\nhostnames: [mail.example.com, 'bad host']\nsubnet: 10.42.0.0/16\nsecrets: {mailuSecretKey: s}\n",
        Code::InvalidDnsName,
        "hostnames[1]",
    ),
    (
        "domain: example.com\nhostnames: [mail.example.com, MAIL.example.com]\nsubnet: 10.42.0.0/16\nsecrets: {mailuSecretKey: s}\n",
        Code::InvalidValue,
        "hostnames[1]",
    ),
    (
        "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 0.0.0.0/0\nsecrets: {mailuSecretKey: s}\n",
        Code::InvalidCidr,
        "subnet",
    ),
    (
        "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\nsecrets: {mailuSecretKey: S}\n",
        Code::InvalidKubernetesName,
        "secrets.mailuSecretKey",
    ),
];

#[test]
fn document_rules_table() {
    for (text, code, path) in DOCUMENT_RULES {
        let errors = errors_of(text);
        assert!(
            errors.iter().any(|d| d.code == *code && d.path == *path),
            "expected {code:?} at {path:?} for {text:?}, got {errors:#?}"
        );
    }
}

/// Structural problems: (appended text, code, path, hint fragment).
const STRUCTURE_RULES: &[(&str, Code, &str, &str)] = &[
    (
        "hostname: mail.example.com\n",
        Code::UnknownKey,
        "hostname",
        "`hostnames`",
    ),
    (
        "storage:\n  dovcot: {size: 1Gi}\n",
        Code::UnknownKey,
        "storage.dovcot",
        "`dovecot`",
    ),
    (
        "storage:\n  dovecot: {size: 1Gi, storage_class: x}\n",
        Code::UnknownKey,
        "storage.dovecot.storage_class",
        "`storageClass`",
    ),
    (
        "database:\n  type: postgres\n",
        Code::InvalidEnumValue,
        "database.type",
        "`postgresql`",
    ),
    (
        "images:\n  pullPolicy: always\n",
        Code::InvalidEnumValue,
        "images.pullPolicy",
        "`Always`",
    ),
    (
        "mailu:\n  logLevel: verbose\n",
        Code::InvalidEnumValue,
        "mailu.logLevel",
        "`CRITICAL`",
    ),
    (
        "images:\n  tag: 2024.06\n",
        Code::WrongType,
        "images.tag",
        "quote the value",
    ),
    (
        "mailu:\n  apiEnabled: 'yes'\n",
        Code::WrongType,
        "mailu.apiEnabled",
        "true",
    ),
    (
        "mailu:\n  messageSizeLimit: 0\n",
        Code::OutOfRange,
        "mailu.messageSizeLimit",
        "from 1",
    ),
    (
        "redis:\n  host: r\n  port: 70000\n",
        Code::OutOfRange,
        "redis.port",
        "65535",
    ),
    (
        "redis:\n  host: r\n  port: 0\n",
        Code::OutOfRange,
        "redis.port",
        "from 1",
    ),
    (
        "redis:\n  port: 6380\n",
        Code::MissingKey,
        "redis.host",
        "Host name",
    ),
    ("storage: []\n", Code::WrongType, "storage", "mapping"),
    ("timezone:\n", Code::WrongType, "timezone", "remove it"),
    (
        "mailu:\n  messageSizeLimit: 1.5\n",
        Code::WrongType,
        "mailu.messageSizeLimit",
        "whole number",
    ),
];

#[test]
fn structure_rules_table() {
    for (extra, code, path, hint) in STRUCTURE_RULES {
        assert_finding(&format!("{MINIMAL}{extra}"), *code, path, hint);
    }
}

#[test]
fn yaml_1_1_booleans_stay_strings() {
    let loaded = load_with("pods:\n  nodeSelector: {mx: y, edge: no, dmz: on}\n").expect("strings");
    let sel = &loaded.config.workloads["front"].node_selector;
    assert_eq!(sel["mx"], "y");
    assert_eq!(sel["edge"], "no");
    assert_eq!(sel["dmz"], "on");
}

#[test]
fn missing_required_keys_are_all_reported() {
    let errors = errors_of("namespace: mailu\n");
    let mut missing: Vec<&str> = errors
        .iter()
        .filter(|d| d.code == Code::MissingKey)
        .map(|d| d.path.as_str())
        .collect();
    missing.sort_unstable();
    // The four the schema requires, and, found by the value rules despite them (issue 20), the
    // resolver address this config needs.
    assert_eq!(
        missing,
        [
            "domain",
            "hostnames",
            "resolver.serviceIP",
            "secrets",
            "subnet"
        ]
    );
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    // Three structural problems in different places: all three come back together (with the
    // warnings the value rules have about the rest).
    let errors = errors_of(&format!(
        "{MINIMAL}hostname: x\nstorage:\n  dovcot: {{}}\nimages:\n  pullPolicy: sometimes\n"
    ));
    let errors: Vec<_> = errors.into_iter().filter(Diagnostic::is_error).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    // And value problems too, once the structure is sound.
    let errors = errors_of(
        "domain: example\nhostnames: ['a b']\nsubnet: 10.42.0.1/16\ntimezone: Nowhere/Land\nsecrets: {mailuSecretKey: S}\nstorage: {dovecot: {size: 5GB}}\n",
    );
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    for want in [
        "domain",
        "hostnames[0]",
        "subnet",
        "timezone",
        "secrets.mailuSecretKey",
        "storage.dovecot.size",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
}

/// An IPv6 inbound address needs the IPv6 pod network that makes front's Service dual-stack,
/// unless an ingress carries the mail ports (issue 21).
#[test]
fn ipv6_inbound_addresses_need_a_dual_stack_front() {
    let v6 = "dns: {inboundIps: [203.0.113.5, '2001:db8::5']}\n";
    let errors = errors_of(&format!(
        "{MINIMAL}exposure: {{service: {{type: LoadBalancer}}}}\n{v6}"
    ));
    let found = error_paths(&errors);
    assert_eq!(found, [("dns.inboundIps[1]", Code::MissingDependency)]);
    load_with(&format!(
        "subnet6: fd00:10:42::/56\nexposure: {{service: {{type: LoadBalancer}}}}\n{v6}"
    ))
    .expect("dual-stack");
    load_with(&format!(
        "ingress: {{type: traefik, traefik: {{enableTcp: true}}}}\nnetworkPolicies: {{edge: {{namespace: traefik, podLabels: {{app: traefik}}}}}}\n{v6}"
    ))
    .expect("traefik's Service serves the mail ports");
    // A single-stack policy on a dual-stack cluster serves IPv4 only, too.
    assert_finding(
        &format!(
            "{MINIMAL}subnet6: fd00:10:42::/56\nexposure: {{service: {{type: LoadBalancer, ipFamilyPolicy: SingleStack}}}}\n{v6}"
        ),
        Code::MissingDependency,
        "dns.inboundIps[1]",
        "subnet6",
    );
    // And a dual-stack policy needs the IPv6 pod network.
    assert_finding(
        &format!(
            "{MINIMAL}exposure: {{service: {{type: LoadBalancer, ipFamilyPolicy: RequireDualStack}}}}\n"
        ),
        Code::MissingDependency,
        "exposure.service.ipFamilyPolicy",
        "subnet6",
    );
}

/// One existing claim named by two components is said (issue 21), at the second one.
#[test]
fn a_shared_existing_claim_is_warned_about() {
    let loaded = load_with(
        "storage:\n  admin: {existingClaim: old-mailu}\n  dovecot: {existingClaim: old-mailu}\n  postfix: {existingClaim: queue}\n",
    )
    .expect("loads");
    let shared: Vec<&str> = loaded
        .warnings
        .iter()
        .filter(|d| d.path.ends_with("existingClaim"))
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(shared, ["storage.dovecot.existingClaim"]);
}

/// What Kubernetes accepts, we accept (issue 20): CPU and memory as YAML numbers, a limit
/// removed with `null` (CPU_COUNT then follows the request), and memory without a unit, which
/// counts bytes, passes with a warning.
#[test]
fn resources_as_kubernetes_takes_them() {
    use crate::Component::{Admin, Front};
    let loaded = load_with(
        "resources:\n  admin: {requests: {cpu: 1, memory: 1073741824}, limits: {cpu: 2.5, memory: 2Gi}}\n\
         \x20 front: {limits: {cpu: null, memory: null}}\n",
    )
    .expect("loads");
    let admin = loaded.config.resources.compute(Admin);
    assert_eq!(admin.requests.cpu.as_str(), "1");
    assert_eq!(admin.requests.memory.as_str(), "1073741824");
    assert_eq!(admin.limits.cpu.as_ref().map(|q| q.as_str()), Some("2.5"));
    let front = loaded.config.resources.compute(Front);
    assert!(front.limits.cpu.is_none() && front.limits.memory.is_none());
    assert_eq!(
        front.requests.cpu.as_str(),
        "50m",
        "the request keeps its default"
    );

    let loaded = load_with("resources:\n  admin: {requests: {memory: \"256\"}}\n").expect("loads");
    let warning = loaded
        .warnings
        .iter()
        .find(|d| d.path == "resources.admin.requests.memory")
        .expect("a warning for 256 bytes");
    assert_eq!(warning.code, Code::InvalidQuantity);
    assert!(
        warning.hint.as_deref().unwrap_or("").contains("256Mi"),
        "{warning:?}"
    );
    // 1Mi and more is a deliberate amount.
    let loaded = load_with("resources:\n  admin: {requests: {memory: 1048576}}\n").expect("loads");
    assert!(
        loaded
            .warnings
            .iter()
            .all(|d| !d.path.starts_with("resources"))
    );
    // `null` means "no limit" for limits only: a request is always there.
    assert_finding(
        &format!("{MINIMAL}resources:\n  admin: {{requests: {{cpu: null}}}}\n"),
        Code::WrongType,
        "resources.admin.requests.cpu",
        "remove it",
    );
}

/// Structural findings do not hide value findings (issue 20). The issue's own example: a
/// misspelt `secrets`, host bits in `subnet` and an unknown time zone give every finding, in
/// the order of the file.
#[test]
fn structural_findings_do_not_hide_value_findings() {
    let errors = errors_of(
        "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.1/16\n\
         secretz:\n  mailuSecretKey: s\ntimezone: Europe/Berln\nresolver: {serviceIP: 10.43.0.53}\n",
    );
    let found = error_paths(&errors);
    assert_eq!(
        found,
        [
            ("secrets", Code::MissingKey),
            ("subnet", Code::InvalidCidr),
            ("secretz", Code::UnknownKey),
            ("timezone", Code::UnknownTimezone),
        ],
        "{errors:#?}"
    );
}

/// A value of the wrong type takes its default for the value rules, which can change what its
/// siblings mean: findings in its mapping are left out, findings elsewhere are kept.
#[test]
fn a_repaired_mapping_keeps_its_findings_to_itself() {
    let errors = errors_of(&format!(
        "{MINIMAL}storage:\n  postfix: {{size: 7}}\n  dovecot: {{size: 5GB}}\n\
         resources:\n  admin: {{requests: {{memory: 1Gi}}, limits: 5}}\n"
    ));
    let found = error_paths(&errors);
    assert_eq!(
        found,
        [
            ("storage.postfix.size", Code::WrongType),
            ("storage.dovecot.size", Code::InvalidQuantity),
            ("resources.admin.limits", Code::WrongType),
        ],
        "{errors:#?}"
    );
}

#[test]
fn every_finding_names_its_line() {
    let errors = errors_of(&format!(
        "{MINIMAL}storage:\n  dovecot:\n    size: 50GB\nhostname: x\n"
    ));
    let lines: Vec<(String, u64)> = errors
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.path.clone(), d.location.expect("located").line))
        .collect();
    // MINIMAL is seven lines; `hostname` is on the eleventh.
    assert!(lines.contains(&("hostname".to_owned(), 11)), "{lines:?}");
    let errors = errors_of(&format!("{MINIMAL}storage:\n  dovecot:\n    size: 50GB\n"));
    let size = errors
        .iter()
        .find(|d| d.path == "storage.dovecot.size")
        .expect("size");
    assert_eq!(size.location.map(|l| (l.line, l.column)), Some((10, 11)));
    // A finding about a key's name points at the key.
    let errors = errors_of(&format!(
        "{MINIMAL}workloads:\n  admin:\n    extraEnv:\n      TIMEZONE: x\n"
    ));
    let tz = errors
        .iter()
        .find(|d| d.path.ends_with("TIMEZONE"))
        .expect("finding");
    assert_eq!(tz.location.map(|l| (l.line, l.column)), Some((11, 7)));
}

#[test]
fn yaml_syntax_errors_carry_line_and_column() {
    let errors = errors_of("domain: example.com\nhostnames: [a\nsubnet: x\n");
    let d = &errors[0];
    assert_eq!(d.code, Code::YamlSyntax);
    let loc = d.location.expect("location");
    assert!(loc.line >= 2, "{loc:?}");
}

#[test]
fn parser_exhaustion_fails_fast() {
    // Billion laughs.
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..10 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!(
            "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let errors = errors_of(&bomb);
    assert_eq!(errors[0].code, Code::InputLimit, "{errors:#?}");

    // Deep nesting.
    let deep = format!("domain: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let errors = errors_of(&deep);
    assert!(
        matches!(errors[0].code, Code::InputLimit | Code::YamlSyntax),
        "{errors:#?}"
    );

    // Multi-megabyte file.
    let big = format!("{MINIMAL}# {}\n", "x".repeat(2 * MAX_CONFIG_BYTES));
    let errors = errors_of(&big);
    assert_eq!(errors[0].code, Code::InputLimit);

    // Not UTF-8.
    let errors = load(b"domain: \xff\xfe\n").expect_err("binary");
    assert_eq!(errors[0].code, Code::YamlSyntax);
}

#[test]
fn schema_is_draft07_and_documents_every_key() {
    let schema = json_schema();
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-07/schema#",
        "yaml-language-server needs draft-07"
    );
    let props = schema["properties"].as_object().expect("properties");
    for (key, prop) in props {
        let has_doc = prop.get("description").is_some()
            || prop
                .get("$ref")
                .and_then(|r| r.as_str())
                .and_then(|r| schema.pointer(r.trim_start_matches('#')))
                .is_some_and(|d| d.get("description").is_some());
        assert!(has_doc, "`{key}` has no description");
    }
    assert_eq!(schema["additionalProperties"], false);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn yaml_scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9./:_-]{0,12}",
            Just("~".to_owned()),
            Just("true".to_owned()),
            Just("-1".to_owned()),
            Just("1e400".to_owned()),
            Just("'quoted'".to_owned()),
            Just("*ref".to_owned()),
            Just("&ref x".to_owned()),
            Just("!!binary aGk=".to_owned()),
        ]
    }

    fn yaml_tree() -> impl Strategy<Value = String> {
        let keys = prop_oneof![
            Just("domain"),
            Just("hostnames"),
            Just("subnet"),
            Just("storage"),
            Just("dovecot"),
            Just("size"),
            Just("resources"),
            Just("requests"),
            Just("database"),
            Just("type"),
            Just("postgresql"),
            Just("x"),
        ];
        let leaf = yaml_scalar();
        leaf.prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                prop::collection::vec((keys.clone(), inner), 0..4).prop_map(|pairs| {
                    let body: Vec<String> = pairs
                        .into_iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    format!("{{{}}}", body.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = load(&bytes);
        }

        #[test]
        fn arbitrary_yaml(tree in yaml_tree()) {
            let _ = load(tree.as_bytes());
            let _ = load(format!("{MINIMAL}storage: {tree}\n").as_bytes());
            let _ = load(format!("{MINIMAL}resources: {{admin: {tree}}}\n").as_bytes());
        }
    }
}

/// `egress` rules (issue 10): (appended text, code, path, hint fragment).
const CILIUM: &str = "egress:\n  mode: cilium\n  ips: [203.0.113.10]\n";
const DUAL: &str = "subnet6: fd00:42::/56\n";
const EGRESS_RULES: &[(&str, Code, &str, &str)] = &[
    // Cilium: what the policy cannot express, or what a release lacks.
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, interface: eth1}}\n",
        Code::InvalidValue,
        "egress.cilium.interface",
        "keep one",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.16', nodeSelector: {gw: a}, sourceNodeSelector: {mail: a}}}\n",
        Code::InvalidValue,
        "egress.cilium.sourceNodeSelector",
        "\"1.17\"",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.17', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}, egressIP: 203.0.113.11}]}}\n",
        Code::InvalidValue,
        "egress.cilium.extraGateways",
        "\"1.18\"",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: nodeIps, cilium: {version: '1.19', nodeSelector: {gw: a}, egressIP: '2001:db8::10'}}\n",
        Code::InvalidValue,
        "egress.cilium.egressIP",
        "1.20",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: nodeIps, cilium: {version: '1.19', nodeSelector: {gw: a}, egressIPv6: '2001:db8::10'}}\n",
        Code::InvalidValue,
        "egress.cilium.egressIPv6",
        "\"1.20\"",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: gateway, cilium: {version: '1.19', nodeSelector: {gw: a}}}\n",
        Code::InvalidValue,
        "egress.ipv6",
        "\"1.20\"",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], cilium: {version: '1.20', nodeSelector: {gw: a}, egressIP: '2001:db8::10'}}\n",
        Code::InvalidValue,
        "egress.cilium.egressIP",
        "egressIPv6",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18'}}\n",
        Code::MissingKey,
        "egress.cilium.nodeSelector",
        "kubernetes.io/hostname",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {}}}\n",
        Code::MissingKey,
        "egress.cilium.nodeSelector",
        "empty selector",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}}]}}\n",
        Code::MissingKey,
        "egress.cilium.extraGateways[0]",
        "egressIP",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', nodeSelector: {gw: a}}}\n",
        Code::MissingDependency,
        "egress.cilium.egressIP",
        "egress.cilium.egressIP",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 198.51.100.7}}\n",
        Code::InvalidValue,
        "egress.cilium.egressIP",
        "add `198.51.100.7` to `egress.ips`",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}, interface: eth1}]}}\n",
        Code::MissingDependency,
        "egress.ips",
        "every gateway",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, interface: 'eth 1'}}\n",
        Code::InvalidValue,
        "egress.cilium.interface",
        "eth1",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.15', nodeSelector: {gw: a}}}\n",
        Code::InvalidValue,
        "egress.cilium.version",
        "upgrade Cilium",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.21', nodeSelector: {gw: a}}}\n",
        Code::InvalidValue,
        "egress.cilium.version",
        "\"1.20\"",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: 1.20, nodeSelector: {gw: a}}}\n",
        Code::WrongType,
        "egress.cilium.version",
        "reads `1.20` as the number 1.2",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10]}\n",
        Code::MissingDependency,
        "egress.cilium",
        "nodeSelector",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.17', nodeSelector: {gw: a}, sourceNodeSelector: {mail: a}}}\n",
        Code::InvalidValue,
        "egress.cilium.sourceNodeSelector",
        "egress.nodeSelector",
    ),
    // Addresses: public, outside the cluster, declared where a mode needs them.
    (
        "egress: {mode: static, ips: [10.42.7.7]}\n",
        Code::InvalidValue,
        "egress.ips[0]",
        "never a pod or Service address",
    ),
    (
        "networkPolicies: {serviceCidrs: [10.43.0.0/16]}\negress: {mode: static, ips: [10.43.0.99]}\n",
        Code::InvalidValue,
        "egress.ips[0]",
        "never a pod or Service address",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.0/24]}\n",
        Code::InvalidValue,
        "egress.ips[0]",
        "without a prefix",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10, 203.0.113.10]}\n",
        Code::InvalidValue,
        "egress.ips[1]",
        "once",
    ),
    (
        "egress: {mode: nodeIps}\n",
        Code::EmptyList,
        "egress.ips",
        "every node",
    ),
    (
        "egress: {mode: static}\n",
        Code::EmptyList,
        "egress.ips",
        "NAT gateway",
    ),
    (
        "egress: {ips: [203.0.113.10]}\n",
        Code::InvalidValue,
        "egress.ips",
        "mode: static",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10, '2001:db8::10']}\n",
        Code::InvalidValue,
        "egress.ips[1]",
        "subnet6",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: static, ips: ['2001:db8::10']}\n",
        Code::MissingDependency,
        "egress.ips",
        "IPv4 address",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}, egressIP: 203.0.113.10}]}}\n",
        Code::InvalidValue,
        "egress.cilium.extraGateways[0].egressIP",
        "its own address",
    ),
    (
        "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, authorizeNodeIps: ['2001:db8::7']}}\n",
        Code::InvalidValue,
        "egress.cilium.authorizeNodeIps[0]",
        "subnet6",
    ),
    // IPv6: never left to chance on a dual-stack cluster.
    (
        "subnet6: fd00:42::/56\negress: {mode: static, ips: [203.0.113.10]}\n",
        Code::MissingDependency,
        "egress.ipv6",
        "egress.ipv6: disable",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], cilium: {version: '1.18', nodeSelector: {gw: a}}}\n",
        Code::MissingDependency,
        "egress.ipv6",
        "egress.ipv6: nodeIps",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: nodeIps, ips: [203.0.113.10]}\n",
        Code::MissingDependency,
        "egress.ipv6",
        "disable",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: static, ips: [203.0.113.10, '2001:db8::10'], ipv6: disable}\n",
        Code::InvalidValue,
        "egress.ipv6",
        "remove the IPv6 addresses",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10], ipv6: gateway}\n",
        Code::InvalidValue,
        "egress.ipv6",
        "subnet6",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: relay, relay: {host: smtp.relay.example}, ipv6: nodeIps}\n",
        Code::InvalidValue,
        "egress.ipv6",
        "disable",
    ),
    // Relay: one place for it.
    (
        "egress: {mode: relay, relay: {port: 587}}\n",
        Code::MissingKey,
        "egress.relay.host",
        "Host name",
    ),
    (
        "egress: {mode: relay}\n",
        Code::MissingDependency,
        "egress.relay",
        "smtp.relay.example",
    ),
    (
        "mailu: {relay: {host: smtp.relay.example}}\n",
        Code::UnknownKey,
        "mailu.relay",
        "egress: {mode: relay",
    ),
    (
        "egress: {relay: {host: smtp.relay.example}}\n",
        Code::InvalidValue,
        "egress.relay",
        "egress.mode: relay",
    ),
    (
        "egress: {mode: relay, relay: {host: smtp.relay.example, secretName: Relay}}\n",
        Code::InvalidKubernetesName,
        "egress.relay.secretName",
        "lower-case",
    ),
    (
        "egress: {mode: relay, relay: {host: smtp.relay.example}, ips: [203.0.113.10]}\n",
        Code::InvalidValue,
        "egress.ips",
        "relay's operator",
    ),
    // HELO, postfix's own settings, and who sends.
    (
        "egress: {heloName: out.example.com}\n",
        Code::InvalidValue,
        "egress.heloName",
        "remove `egress.heloName`",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10], heloName: 'out example'}\n",
        Code::InvalidDnsName,
        "egress.heloName",
        "",
    ),
    (
        "subnet6: fd00:42::/56\negress: {mode: static, ips: [203.0.113.10], ipv6: disable}\nworkloads: {postfix: {overrides: {postfix.master: \"smtp/unix = smtp unix - - n - - smtp -o smtp_bind_address6=::1\\n\"}}}\n",
        Code::InvalidValue,
        "workloads.postfix.overrides.postfix.master",
        "mailu-k8s writes the service",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10]}\nworkloads: {postfix: {overrides: {postfix.cf: \"smtp_helo_name=mx.example.com\\n\"}}}\n",
        Code::InvalidValue,
        "workloads.postfix.overrides.postfix.cf",
        "remove the `smtp_helo_name` line",
    ),
    (
        "egress: {mode: relay, relay: {host: smtp.relay.example, port: 465}}\nworkloads: {postfix: {overrides: {postfix.cf: \"default_transport = smtp\\n\"}}}\n",
        Code::InvalidValue,
        "workloads.postfix.overrides.postfix.cf",
        "remove the `default_transport` line",
    ),
    (
        "egress: {mode: relay, relay: {host: smtp.relay.example, port: 465}}\nworkloads: {postfix: {overrides: {postfix.master: \"relaysmtps/unix = relaysmtps unix - - n - - smtp\\n\"}}}\n",
        Code::InvalidValue,
        "workloads.postfix.overrides.postfix.master",
        "mailu-k8s writes the service",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10], components: [fetchmail]}\n",
        Code::MissingDependency,
        "egress.components[0]",
        "components.fetchmail: true",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10], components: [postfix]}\n",
        Code::InvalidEnumValue,
        "egress.components[0]",
        "",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10], nodeSelector: {pool: egress}}\nworkloads: {postfix: {nodeSelector: {pool: mail}}}\n",
        Code::InvalidValue,
        "egress.nodeSelector.pool",
        "agree",
    ),
    (
        "egress: {mode: none, nodeSelector: {pool: egress}}\n",
        Code::InvalidValue,
        "egress.nodeSelector",
        "mode: nodeIps",
    ),
    (
        "egress: {mode: ovn, ips: [203.0.113.10], ipSource: nodeIp}\n",
        Code::InvalidValue,
        "egress.ipSource",
        "floatingIp",
    ),
    (
        "egress: {mode: static, ips: [203.0.113.10], ipSource: floatingIp}\n",
        Code::InvalidValue,
        "egress.ipSource",
        "cilium",
    ),
    // Antrea.
    (
        "egress: {mode: antrea, ips: [203.0.113.10], antrea: {nodeSelector: {a: b}, externalIPPool: pool}}\n",
        Code::InvalidValue,
        "egress.antrea.externalIPPool",
        "keep `nodeSelector`",
    ),
    (
        "egress: {mode: antrea, ips: [203.0.113.10, 203.0.113.11]}\n",
        Code::InvalidValue,
        "egress.ips",
        "one IPv4",
    ),
    (
        "egress: {mode: antrea, ips: [203.0.113.10], ipSource: nodeIp, antrea: {nodeSelector: {a: b}}}\n",
        Code::InvalidValue,
        "egress.ipSource",
        "floatingIp",
    ),
];

#[test]
fn egress_rules_table() {
    for (extra, code, path, hint) in EGRESS_RULES {
        assert_finding(&format!("{MINIMAL}{extra}"), *code, path, hint);
    }
}

#[test]
fn egress_defaults() {
    let none = load(MINIMAL.as_bytes()).expect("minimal").config.egress;
    assert!(matches!(none.mode, crate::egress::EgressMode::None));
    assert!(none.helo_name.is_none() && none.ips.is_empty());

    let cilium = load_with(&format!(
        "{CILIUM}  cilium: {{version: 'v1.18.4', nodeSelector: {{gw: a}}}}\n"
    ))
    .expect("cilium")
    .config;
    let e = &cilium.egress;
    assert_eq!(
        e.helo_name.as_ref().map(DnsName::as_str),
        Some("out.example.com")
    );
    assert_eq!(e.ip_source, Some(crate::egress::IpSource::NodeIp));
    assert_eq!(e.ipv6, crate::egress::Ipv6Path::NotInCluster);
    let crate::egress::EgressMode::Cilium(c) = &e.mode else {
        panic!("cilium")
    };
    assert_eq!(c.version.minor, 18, "a patch release names its minor");
    assert_eq!(
        c.gateways[0].source,
        crate::egress::GatewaySource::EgressIp("203.0.113.10".parse().expect("ip")),
        "the egress address defaults to the one in `ips`"
    );
    assert_eq!(c.excluded_cidrs, ["10.42.0.0/16"]);

    // The relay moved without changing its keys or defaults.
    let relay = load_with("egress: {mode: relay, relay: {host: smtp.relay.example}}\n")
        .expect("relay")
        .config;
    let r = relay.egress.relay().expect("relay");
    assert_eq!((r.host.as_str(), r.port.get()), ("smtp.relay.example", 25));
    assert!(relay.egress.helo_name.is_none());

    // Dual-stack: IPv6 through the gateway when the release carries it.
    let dual = load_with(&format!(
        "{DUAL}egress: {{mode: cilium, ips: [203.0.113.10, '2001:db8::10'], cilium: {{version: '1.20', nodeSelector: {{gw: a}}}}}}\n"
    ))
    .expect("dual")
    .config;
    assert_eq!(dual.egress.ipv6, crate::egress::Ipv6Path::Gateway);
    let dual_nodes = load_with(&format!(
        "{DUAL}egress: {{mode: nodeIps, ips: [203.0.113.10, '2001:db8::10']}}\n"
    ))
    .expect("nodeIps")
    .config;
    assert_eq!(dual_nodes.egress.ipv6, crate::egress::Ipv6Path::NodeIps);
}

#[test]
fn an_unknown_cilium_release_still_gets_every_other_check() {
    let errors = errors_of(&format!(
        "{MINIMAL}{CILIUM}  cilium: {{version: '2.0', egressIP: 203.0.113.10, interface: eth0}}\n"
    ));
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    for want in [
        "egress.cilium.version",
        "egress.cilium.nodeSelector",
        "egress.cilium.interface",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
}

#[test]
fn egress_pins_the_sending_pods() {
    let c = load_with(
        "components: {fetchmail: true}\npods: {nodeSelector: {pool: mail}}\negress: {mode: nodeIps, ips: [203.0.113.10], nodeSelector: {egress: 'yes'}, components: [fetchmail]}\n",
    )
    .expect("valid")
    .config;
    for sender in ["postfix", "fetchmail"] {
        let sel = &c.workloads[sender].node_selector;
        assert_eq!(sel["egress"], "yes", "{sender}");
        assert_eq!(sel["pool"], "mail", "{sender} keeps the global selector");
    }
    assert!(!c.workloads["admin"].node_selector.contains_key("egress"));
}

#[test]
fn egress_warnings() {
    let private = load_with("egress: {mode: static, ips: [192.168.1.10]}\n").expect("warning");
    assert!(
        private
            .warnings
            .iter()
            .any(|d| d.path == "egress.ips[0]" && d.severity == Severity::Warning),
        "{:#?}",
        private.warnings
    );
    // A private gateway address is fine: it is translated by a 1:1 NAT.
    let nat = load_with(&format!(
        "{CILIUM}  cilium: {{version: '1.18', nodeSelector: {{gw: a}}, egressIP: 10.0.0.5}}\n"
    ))
    .expect("NAT");
    assert!(
        nat.warnings.iter().all(|d| !d.path.starts_with("egress")),
        "{:#?}",
        nat.warnings
    );
    let unpinned = load_with(&format!(
        "{CILIUM}  cilium: {{version: '1.18', nodeSelector: {{gw: a}}, authorizeNodeIps: [198.51.100.1]}}\n"
    ))
    .expect("warning");
    assert!(
        unpinned
            .warnings
            .iter()
            .any(|d| d.path == "egress.cilium.authorizeNodeIps"),
        "{:#?}",
        unpinned.warnings
    );
}

#[test]
fn helo_name_is_not_another_inbound_host() {
    let text = MINIMAL.replace(
        "hostnames: [mail.example.com]",
        "hostnames: [mail.example.com, webmail.example.com]",
    );
    assert_finding(
        &format!(
            "{text}egress: {{mode: static, ips: [203.0.113.10], heloName: webmail.example.com}}\n"
        ),
        Code::InvalidValue,
        "egress.heloName",
        "out.<domain>",
    );
    // The primary host is allowed: it says the egress address is also the inbound one.
    let same = load(
        format!(
            "{text}egress: {{mode: static, ips: [203.0.113.10], heloName: mail.example.com}}\n"
        )
        .as_bytes(),
    )
    .expect("primary");
    assert_eq!(
        same.config
            .egress
            .helo_name
            .map(|h| h.to_string())
            .as_deref(),
        Some("mail.example.com")
    );
}

/// Mailu serves webmail at the site's root when `WEB_WEBMAIL` is `/` (front's nginx.conf tests
/// for it); no other web UI may take the root.
#[test]
fn webmail_may_take_the_whole_site() {
    let ok = load_with("components: {webmail: true}\nmailu: {webPaths: {webmail: /}}\n");
    assert!(ok.is_ok(), "{ok:?}");
    let refused = load_with("mailu: {webPaths: {admin: /}}\n");
    assert!(refused.is_err());
}
