//! The one validation pass: [`ConfigFile`] → [`Config`], reporting every problem at once.
//!
//! Each section's validator takes the one [`Checker`] and steps into the fields it checks; this
//! module runs them in the order findings are reported and assembles the result.

use std::collections::BTreeSet;

use crate::check::Checker;
use crate::diagnostic::{Code, Diagnostic};
use crate::file::{self, ConfigFile, DatabaseKind};
use crate::leaf::{Fqdn, Parsed};
use crate::model::*;
use crate::rules;
use crate::validate_components::validate_components;
use crate::validate_dns::validate_dns;
use crate::validate_edge::validate_edge;
use crate::validate_egress::{pin_senders, validate_egress};
use crate::validate_mailu::validate_mailu;
use crate::validate_network::validate_network_policies;
use crate::validate_storage::{validate_resources, validate_storage};
use crate::validate_workloads::validate_workloads;

/// Validates a structurally sound file. `Err` holds every error found; `Ok` carries warnings.
pub fn validate(file: &ConfigFile) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut c = Checker::default();
    let config = sections(&mut c, file);
    let findings = c.into_findings();
    if findings.iter().any(Diagnostic::is_error) {
        return Err(findings);
    }
    // Every `None` recorded an error, so reaching here means the config was built.
    match config {
        Some(config) => Ok((config, findings)),
        None => Err(vec![Diagnostic::error(
            Code::InvalidValue,
            "",
            "the configuration could not be built (internal inconsistency)",
        )]),
    }
}

/// Every section, in the order findings are reported; `None` after any error.
fn sections(c: &mut Checker, file: &ConfigFile) -> Option<Config> {
    let top = top_level(c, file);
    let database = c.field("database", |c| validate_database(c, file.database.as_ref()));
    let redis = redis(c, file.redis.as_ref());
    let secrets = c.field("secrets", |c| {
        c.object_name("mailuSecretKey", &file.secrets.mailu_secret_key)
    });
    let storage = c.field("storage", |c| validate_storage(c, &file.storage));
    let resources = c.field("resources", |c| validate_resources(c, &file.resources));
    let mailu = validate_mailu(c, file, top.domain.as_ref());
    let components = validate_components(c, file);
    let workloads = validate_workloads(c, file);
    let images = c.field("images", |c| validate_images(c, &file.images));
    let pod_cidrs: Vec<String> = std::iter::once(file.subnet.raw())
        .chain(file.subnet6.as_ref().map(Parsed::raw))
        .map(str::to_owned)
        .collect();
    let edge = validate_edge(c, file, top.hostnames.as_ref(), &pod_cidrs);
    let network_policies = validate_network_policies(c, file, &pod_cidrs);
    let egress = validate_egress(c, file, top.domain.as_ref(), top.hostnames.as_ref());
    let dns = validate_dns(c, file, top.domain.as_ref());
    let mut workloads = workloads;
    if let (Some(egress), Some(workloads)) = (&egress, workloads.as_mut()) {
        pin_senders(c, egress, workloads);
    }
    if let Some(subnet6) = &top.subnet6 {
        let given = file.exposure.service.ip_family_policy;
        let policy = IpFamilyPolicy::of_front(given, subnet6.is_some());
        refuse_dual_stack_without_ipv6_pods(c, given, subnet6.is_some());
        if let Some(edge) = &edge
            && !policy.is_some_and(IpFamilyPolicy::is_dual_stack)
        {
            refuse_ipv6_inbound_on_single_stack(c, file, &edge.edge);
        }
    }
    let (mut mailu, dns, edge) = (mailu?, dns?, edge?);
    mailu.dmarc = dns.mailu_dmarc;
    Some(Config {
        namespace: top.namespace?,
        create_namespace: file.create_namespace,
        cluster_domain: top.cluster_domain?,
        domain: top.domain?,
        hostnames: top.hostnames?,
        subnet: top.subnet?,
        subnet6: top.subnet6?,
        timezone: top.timezone?,
        database: database?,
        redis: redis?,
        secrets: Secrets {
            mailu_secret_key: SecretRef {
                name: secrets?,
                key: secret_keys::SECRET_KEY,
            },
        },
        storage: storage?,
        resources: resources?,
        components: components?,
        workloads: workloads?,
        mailu,
        images: images?,
        tls: edge.tls,
        edge: edge.edge,
        exposure: edge.exposure,
        network_policies: network_policies?,
        egress: egress?,
        dns: dns.dns,
    })
}

/// A dual-stack policy for front's Service without `subnet6`: front has no IPv6 address to
/// serve the Service's IPv6 side from.
fn refuse_dual_stack_without_ipv6_pods(c: &mut Checker, given: Option<IpFamilyPolicy>, v6: bool) {
    let Some(policy) = given.filter(|p| p.is_dual_stack() && !v6) else {
        return;
    };
    c.fields(&["exposure", "service", "ipFamilyPolicy"], |c| {
        c.error(
            Code::MissingDependency,
            format!("`{}` needs an IPv6 pod network", policy.as_str()),
            "set `subnet6` to the cluster's IPv6 pod CIDR, or use `SingleStack`",
        )
        .value(policy.as_str());
    });
}

/// An IPv6 `dns.inboundIps` address while front's Service is single-stack (issue 21): the plan
/// would publish an AAAA record for the mail host that nothing answers on (without `subnet6`
/// front has no IPv6 address), so IPv6 senders would time out. Not when an ingress carries the
/// mail ports: its own Service's families are outside the config.
fn refuse_ipv6_inbound_on_single_stack(c: &mut Checker, file: &ConfigFile, edge: &Edge) {
    if edge.carries_mail() {
        return;
    }
    c.fields(&["dns", "inboundIps"], |c| {
        for (i, raw) in file.dns.inbound_ips.iter().enumerate() {
            let Ok(ip) = raw.parsed().map(|ip| ip.0) else {
                continue;
            };
            if ip.is_ipv6() {
                c.index(i, |c| {
                    c.error(
                        Code::MissingDependency,
                        format!("`{ip}` is IPv6, but front's Service serves IPv4 only"),
                        "set `subnet6` to the cluster's IPv6 pod CIDR (front's Service becomes \
                         dual-stack; not with `ipFamilyPolicy: SingleStack`), or remove the \
                         address: senders that find an AAAA record nothing answers on time out",
                    )
                    .value(raw.raw());
                });
            }
        }
    });
}

/// The top-level keys every other section builds on.
struct TopLevel {
    namespace: Option<String>,
    cluster_domain: Option<DnsName>,
    domain: Option<DnsName>,
    hostnames: Option<Hostnames>,
    subnet: Option<Ipv4Cidr>,
    subnet6: Option<Option<Ipv6Cidr>>,
    timezone: Option<String>,
}

fn top_level(c: &mut Checker, file: &ConfigFile) -> TopLevel {
    let namespace = c
        .leaf_field("namespace", Code::InvalidKubernetesName, &file.namespace)
        .map(String::from);
    let cluster_domain = c.leaf_field("clusterDomain", Code::InvalidDnsName, &file.cluster_domain);
    let domain = c
        .leaf_field("domain", Code::InvalidDnsName, &file.domain)
        .map(DnsName::from);
    let hostnames = c.field("hostnames", |c| hostnames(c, &file.hostnames));
    let subnet = c.field("subnet", |c| subnet(c, &file.subnet));
    let subnet6 = match &file.subnet6 {
        Some(leaf) => c.leaf_field("subnet6", Code::InvalidCidr, leaf).map(Some),
        None => Some(None),
    };
    let timezone = c
        .leaf_field("timezone", Code::UnknownTimezone, &file.timezone)
        .map(String::from);
    TopLevel {
        namespace,
        cluster_domain,
        domain,
        hostnames,
        subnet,
        subnet6,
        timezone,
    }
}

/// `hostnames`: at least one, each a full name, each once. The first is the primary.
fn hostnames(c: &mut Checker, given: &[Parsed<Fqdn>]) -> Option<Hostnames> {
    if given.is_empty() {
        c.error(
            Code::EmptyList,
            "at least one host name is needed",
            "add the mail server's public name, e.g. `mail.example.com`",
        );
        return None;
    }
    let parsed: Vec<Option<DnsName>> = given
        .iter()
        .enumerate()
        .map(|(i, h)| c.index(i, |c| c.leaf(Code::InvalidDnsName, h).map(DnsName::from)))
        .collect();
    let mut seen = BTreeSet::new();
    for (i, name) in parsed.iter().enumerate() {
        if let Some(name) = name
            && !seen.insert(name.clone())
        {
            c.index(i, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("`{name}` is listed twice"),
                    "list each host name once",
                )
                .value(name.as_str())
            });
        }
    }
    let mut all = parsed.into_iter().collect::<Option<Vec<_>>>()?;
    let primary = all.remove(0);
    Some(Hostnames {
        primary,
        others: all,
    })
}

/// `subnet`: the private IPv4 pod network, which Mailu trusts for relaying.
fn subnet(c: &mut Checker, given: &Parsed<Ipv4Cidr>) -> Option<Ipv4Cidr> {
    let net = c.leaf(Code::InvalidCidr, given)?;
    let raw = given.raw();
    if !rules::is_private_v4(&net) {
        c.error(
            Code::InvalidCidr,
            format!("`{net}` is a public range, not a pod network"),
            "give the cluster's pod CIDR (within 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10); Mailu relays mail for this range",
        )
        .value(raw);
    } else if net.prefix < rules::WIDE_POD_PREFIX_V4 {
        c.warning(
            Code::InvalidCidr,
            format!("`{net}` is wider than a pod network needs"),
            "Mailu trusts all of it for relaying: give exactly the cluster's pod CIDR",
        )
        .value(raw);
    }
    Some(net)
}

/// `database` (at that path): SQLite by default, or an external PostgreSQL.
fn validate_database(c: &mut Checker, db: Option<&file::DatabaseFile>) -> Option<Database> {
    let Some(db) = db else {
        return Some(Database::Sqlite);
    };
    c.field("postgresql", |c| match (db.kind, &db.postgresql) {
        (DatabaseKind::Sqlite, None) => Some(Database::Sqlite),
        (DatabaseKind::Sqlite, Some(_)) => {
            c.error(
                Code::InvalidValue,
                "`postgresql` is given but `type` is `sqlite`",
                "set `database.type: postgresql`, or remove the `postgresql` block",
            );
            None
        }
        (DatabaseKind::Postgresql, None) => {
            c.error(
                Code::MissingDependency,
                "`type: postgresql` needs a `postgresql` block",
                "add `postgresql: {host: ..., secretName: ...}` under `database`",
            );
            None
        }
        (DatabaseKind::Postgresql, Some(pg)) => postgresql(c, pg).map(Database::Postgresql),
    })
}

/// `database.postgresql` (at that path): host, database name and credentials.
fn postgresql(c: &mut Checker, pg: &file::PostgresqlFile) -> Option<Postgresql> {
    let host = c.leaf_field("host", Code::InvalidDnsName, &pg.host);
    let database = c
        .leaf_field("database", Code::InvalidValue, &pg.database)
        .map(String::from);
    let credentials = c.secret_keys(&pg.secret_name, &pg.secret_keys);
    Some(Postgresql {
        host: host?,
        port: pg.port,
        database: database?,
        credentials: credentials?,
    })
}

/// `redis`: the bundled one, or an external host.
fn redis(c: &mut Checker, given: Option<&file::RedisFile>) -> Option<Redis> {
    match given {
        None => Some(Redis::Bundled),
        Some(r) => c
            .field("redis", |c| {
                c.leaf_field("host", Code::InvalidDnsName, &r.host)
            })
            .map(|host| Redis::External { host, port: r.port }),
    }
}

/// `images` (at that path): a registry path and a tag a container runtime accepts.
fn validate_images(c: &mut Checker, i: &file::ImagesFile) -> Option<Images> {
    let registry = c.leaf_field("registry", Code::InvalidValue, &i.registry);
    let tag = c.leaf_field("tag", Code::InvalidValue, &i.tag);
    Some(Images {
        registry: registry?.into(),
        tag: tag?.into(),
        pull_policy: i.pull_policy,
        pull_secrets: i.pull_secrets.iter().map(|s| s.raw().to_owned()).collect(),
    })
}
