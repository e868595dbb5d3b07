//! `components`: the core ones always on, the optional ones with the settings they bring along
//! (`webmail`, `resolver`).

use crate::check::Checker;
use crate::diagnostic::Code;
use crate::file::{self, ConfigFile, WebmailType};
use crate::model::*;
use crate::networks;

/// The core components cannot be switched off; optional ones bring their settings along.
pub(crate) fn validate_components(c: &mut Checker, file: &ConfigFile) -> Option<Components> {
    let k = &file.components;
    c.field("components", |c| check_core_components_on(c, k));
    let webmail = webmail(c, file);
    check_clamav_claim(c, file);
    let resolver = resolver(c, file);
    Some(Components {
        webmail: webmail?,
        clamav: k.clamav,
        fetchmail: k.fetchmail,
        webdav: k.webdav,
        oletools: k.oletools,
        tika: k.tika,
        resolver: resolver?,
    })
}

/// The core components are always on.
fn check_core_components_on(c: &mut Checker, k: &file::ComponentsFile) {
    for (name, value) in [
        ("admin", k.admin),
        ("front", k.front),
        ("postfix", k.postfix),
        ("dovecot", k.dovecot),
        ("rspamd", k.rspamd),
    ] {
        if value == Some(false) {
            c.field(name, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("Mailu cannot run without {name}"),
                    format!("remove `components.{name}`; it is always on"),
                )
                .value("false")
            });
        }
    }
}

/// The webmail and its `webmail` settings; settings for a webmail that is off are refused.
/// `None` after a finding.
fn webmail(c: &mut Checker, file: &ConfigFile) -> Option<Option<Webmail>> {
    let w = &file.webmail;
    if !file.components.webmail {
        if w.roundcube_database.is_some() || w.roundcube_plugins.is_some() {
            c.field("components", |c| {
                c.field("webmail", |c| {
                    c.error(
                        Code::MissingDependency,
                        "`webmail` settings are given but the webmail is off",
                        "set `components.webmail: true`, or remove the `webmail` block",
                    );
                })
            });
        }
        return Some(None);
    }
    let roundcube_database = c.field("webmail", |c| {
        let database = w
            .roundcube_database
            .as_ref()
            .map(|rc| c.field("roundcubeDatabase", |c| roundcube_database(c, file, rc)));
        if let Some(plugins) = &w.roundcube_plugins {
            c.field("roundcubePlugins", |c| check_roundcube_plugins(c, plugins));
        }
        database
    });
    let roundcube_database = match roundcube_database {
        Some(database) => Some(database?),
        None => None,
    };
    Some(Some(Webmail {
        kind: file.mailu.webmail_type,
        roundcube_plugins: w.roundcube_plugins.clone(),
        roundcube_database,
    }))
}

/// `webmail.roundcubeDatabase` (at that path): only for Roundcube; a host (its own or the main
/// PostgreSQL's), a database name and credentials. `None` after a finding.
fn roundcube_database(
    c: &mut Checker,
    file: &ConfigFile,
    rc: &file::RoundcubeDatabaseFile,
) -> Option<RoundcubeDatabase> {
    if file.mailu.webmail_type != WebmailType::Roundcube {
        c.error(
            Code::InvalidValue,
            "a Roundcube database is given but the webmail is SnappyMail",
            "remove `webmail.roundcubeDatabase`, or set `mailu.webmailType: roundcube`",
        );
    }
    let main = file.database.as_ref().and_then(|d| d.postgresql.as_ref());
    let host = match (&rc.host, main) {
        (Some(h), _) => c.leaf_field("host", Code::InvalidDnsName, h),
        (None, Some(pg)) => pg.host.parsed().ok().cloned(),
        (None, None) => {
            c.field("host", |c| {
                c.error(
                    Code::MissingKey,
                    "no PostgreSQL host for Roundcube",
                    "give `host`, or configure `database.postgresql` to share its server",
                );
            });
            None
        }
    };
    let port = rc
        .port
        .or(main.map(|pg| pg.port))
        .unwrap_or_else(file::defaults::postgresql_port);
    let database = c
        .leaf_field("database", Code::InvalidValue, &rc.database)
        .map(String::from);
    let credentials = c.secret_keys(&rc.secret_name, &rc.secret_keys);
    Some(RoundcubeDatabase {
        host: host?,
        port,
        database: database?,
        credentials: credentials?,
    })
}

/// `webmail.roundcubePlugins`: plugin names.
fn check_roundcube_plugins(c: &mut Checker, plugins: &[String]) {
    for (i, p) in plugins.iter().enumerate() {
        let name_ok = !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok {
            c.index(i, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("`{p}` is not a plugin name"),
                    "plugin names are letters, digits, `_` and `-`, e.g. `archive`",
                )
                .value(p)
            });
        }
    }
}

/// clamav creates its own signature volumes: no `existingClaim`.
fn check_clamav_claim(c: &mut Checker, file: &ConfigFile) {
    let claimed = file
        .storage
        .clamav
        .as_ref()
        .is_some_and(|v| v.existing_claim.is_some());
    if file.components.clamav && claimed {
        c.field("storage", |c| {
            c.field("clamav", |c| {
                c.field("existingClaim", |c| {
                    c.error(
                        Code::InvalidValue,
                        "clamav keeps one signature volume per replica and creates them itself",
                        "remove `existingClaim`; the signatures are downloaded again when needed",
                    );
                })
            })
        });
    }
}

/// Whether the resolver's Service address can be a Service address at all: the API server
/// refuses a `clusterIP` outside the cluster's Service range ("provided IP is not in the valid
/// range"), so one inside the pod network (`subnet`, `subnet6`), or outside
/// `networkPolicies.serviceCidrs` when they are given, would pass `check` and fail at apply.
/// Networks that do not parse are reported where they are written.
fn service_ip_placement(c: &mut Checker, file: &ConfigFile, ip: std::net::IpAddr) -> bool {
    if let Some(pods) = networks::pods(file)
        .into_iter()
        .find(|n| n.net.contains(&ip))
    {
        c.error(
            Code::InvalidValue,
            format!(
                "`{ip}` is inside the pod network `{}`; a Service address comes from the Service CIDR",
                pods.text
            ),
            "pick a free address in the cluster's Service CIDR (k3s: 10.43.0.0/16, kubeadm: 10.96.0.0/12)",
        )
        .value(ip.to_string());
        return false;
    }
    let services = networks::services(file);
    let outside = !services.is_empty() && !services.iter().any(|n| n.net.contains(&ip));
    if file.network_policies.enabled && outside {
        let list = services.iter().map(|n| n.text.as_str()).collect::<Vec<_>>();
        c.error(
            Code::InvalidValue,
            format!("`{ip}` is outside `networkPolicies.serviceCidrs` ({})", list.join(", ")),
            "pick a free address inside the Service CIDR, or correct `networkPolicies.serviceCidrs`",
        )
        .value(ip.to_string());
        return false;
    }
    true
}

/// The resolver's fixed Service address, required when it runs and refused when it does not.
/// `None` after a finding.
fn resolver(c: &mut Checker, file: &ConfigFile) -> Option<Option<Resolver>> {
    let runs = file.components.resolver.unwrap_or(true);
    let service_ip = &file.resolver.service_ip;
    c.field("resolver", |c| {
        c.field("serviceIP", |c| match (runs, service_ip) {
            (true, None) => {
                c.error(
                    Code::MissingKey,
                    "the resolver needs a fixed Service address",
                    "pick a free address in the cluster's Service CIDR (k3s: 10.43.0.0/16, kubeadm: 10.96.0.0/12), e.g. `10.43.0.53`; or set `components.resolver: false` to use the cluster's DNS",
                );
                None
            }
            (true, Some(ip)) => {
                let service_ip = c.leaf(Code::InvalidValue, ip)?.0;
                service_ip_placement(c, file, service_ip).then_some(Some(Resolver { service_ip }))
            }
            (false, Some(_)) => {
                c.error(
                    Code::InvalidValue,
                    "given, but the resolver is off",
                    "remove it, or remove `components.resolver: false`",
                );
                Some(None)
            }
            (false, None) => Some(None),
        })
    })
}

#[cfg(test)]
mod tests {
    /// A config with `resolver.serviceIP` set to `ip` and `extra` keys after it.
    fn with_service_ip(ip: &str, extra: &str) -> String {
        crate::testing::MINIMAL.replace("10.43.0.53", ip) + extra
    }

    /// `resolver.serviceIP` must be where the API server takes a Service address (issue 20).
    #[test]
    fn the_resolver_address_is_a_service_address() {
        let services = "networkPolicies: {serviceCidrs: [10.43.0.0/16, fd00:43::/112]}\n";
        let dual = "subnet6: fd00:42::/56\n";
        let rows: [(&str, &str, Option<&str>); 7] = [
            ("10.43.0.53", "", None),
            ("10.96.0.53", "", None), // no Service CIDRs given: any address off the pod network
            ("10.43.0.53", services, None),
            ("fd00:43::53", services, None),
            (
                "10.42.0.53",
                "",
                Some("inside the pod network `10.42.0.0/16`"),
            ),
            (
                "fd00:42::53",
                dual,
                Some("inside the pod network `fd00:42::/56`"),
            ),
            (
                "10.96.0.53",
                services,
                Some("outside `networkPolicies.serviceCidrs`"),
            ),
        ];
        for (ip, extra, refused) in rows {
            let text = with_service_ip(ip, extra);
            match (crate::load(text.as_bytes()), refused) {
                (Ok(_), None) => {}
                (Err(findings), Some(message)) => {
                    let f = findings
                        .iter()
                        .find(|f| f.path == "resolver.serviceIP")
                        .unwrap_or_else(|| panic!("{ip}: {findings:#?}"));
                    assert!(f.message.contains(message), "{ip}: {}", f.message);
                    assert_eq!(f.value.as_deref(), Some(ip));
                }
                (result, _) => panic!("{ip} with {extra:?}: {result:#?}"),
            }
        }
    }
}
