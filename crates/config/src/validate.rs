//! The one validation pass: [`ConfigFile`] → [`Config`], reporting every problem at once.

use crate::diagnostic::{Code, Diagnostic, join};
use crate::file::{self, ConfigFile, DatabaseKind, WebmailType};
use crate::model::*;
use crate::rules::{self, Problem};

/// Collects findings while building the validated config.
struct Checker {
    findings: Vec<Diagnostic>,
}

impl Checker {
    fn push(&mut self, code: Code, path: &str, value: &str, p: Problem) {
        self.findings.push(
            Diagnostic::error(code, path, p.message)
                .with_value(value)
                .with_hint(p.hint),
        );
    }

    /// Runs a rule; on failure records it and returns `None`.
    fn check<T>(
        &mut self,
        code: Code,
        path: &str,
        value: &str,
        rule: impl FnOnce(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        check_into(&mut self.findings, code, path, value, rule)
    }

    /// A Kubernetes object name (Secret, StorageClass): a DNS-1123 subdomain.
    fn object_name(&mut self, path: &str, value: &str) -> Option<String> {
        self.check(Code::InvalidKubernetesName, path, value, |v| {
            rules::check_dns1123_subdomain(v).map(|()| v.to_owned())
        })
    }

    /// A credentials Secret and the keys holding user name and password, under `base`.
    fn secret_keys(
        &mut self,
        base: &str,
        secret_name: &str,
        keys: &file::PostgresqlSecretKeysFile,
    ) -> Option<SecretKeys> {
        let secret_name = self.object_name(&join(base, "secretName"), secret_name);
        let mut key = |which: &str, value: &str| {
            self.check(
                Code::InvalidKubernetesName,
                &join(base, &format!("secretKeys.{which}")),
                value,
                |v| rules::check_secret_key(v).map(|()| v.to_owned()),
            )
        };
        let username_key = key("username", &keys.username);
        let password_key = key("password", &keys.password);
        Some(SecretKeys {
            secret_name: secret_name?,
            username_key: username_key?,
            password_key: password_key?,
        })
    }

    fn quantity(&mut self, path: &str, value: &str) -> Option<Quantity> {
        self.check(Code::InvalidQuantity, path, value, Quantity::parse)
    }
}

/// Runs `rule` on `value`; on failure records a finding at `path` (with the value and the rule's
/// hint) and returns `None`. Every validation module reports rule failures through this.
pub(crate) fn check_into<T>(
    out: &mut Vec<Diagnostic>,
    code: Code,
    path: &str,
    value: &str,
    rule: impl FnOnce(&str) -> Result<T, Problem>,
) -> Option<T> {
    match rule(value) {
        Ok(v) => Some(v),
        Err(p) => {
            out.push(
                Diagnostic::error(code, path, p.message)
                    .with_value(value)
                    .with_hint(p.hint),
            );
            None
        }
    }
}

/// Validates a structurally sound file. `Err` holds every error found; `Ok` carries warnings.
pub fn validate(file: &ConfigFile) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut c = Checker {
        findings: Vec::new(),
    };

    let namespace = c.check(
        Code::InvalidKubernetesName,
        "namespace",
        &file.namespace,
        |v| rules::check_dns1123_label(v).map(|()| v.to_owned()),
    );
    let cluster_domain = c.check(
        Code::InvalidDnsName,
        "clusterDomain",
        &file.cluster_domain,
        DnsName::parse,
    );
    let domain = c.check(
        Code::InvalidDnsName,
        "domain",
        &file.domain,
        DnsName::parse_fqdn,
    );

    let hostnames = if file.hostnames.is_empty() {
        c.findings.push(
            Diagnostic::error(
                Code::EmptyList,
                "hostnames",
                "at least one host name is needed",
            )
            .with_hint("add the mail server's public name, e.g. `mail.example.com`"),
        );
        None
    } else {
        let parsed: Vec<Option<DnsName>> = file
            .hostnames
            .iter()
            .enumerate()
            .map(|(i, h)| {
                c.check(
                    Code::InvalidDnsName,
                    &format!("hostnames[{i}]"),
                    h,
                    DnsName::parse_fqdn,
                )
            })
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for (i, name) in parsed.iter().enumerate() {
            if let Some(name) = name
                && !seen.insert(name.clone())
            {
                c.findings.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("hostnames[{i}]"),
                        format!("`{name}` is listed twice"),
                    )
                    .with_value(name.as_str())
                    .with_hint("list each host name once"),
                );
            }
        }
        parsed
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|mut all| {
                let primary = all.remove(0);
                Hostnames {
                    primary,
                    others: all,
                }
            })
    };

    let subnet = c.check(
        Code::InvalidCidr,
        "subnet",
        &file.subnet,
        Ipv4Cidr::parse_pod_cidr,
    );
    if let Some(net) = &subnet {
        if !rules::is_private_v4(net) {
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidCidr,
                    "subnet",
                    format!("`{net}` is a public range, not a pod network"),
                )
                .with_value(&file.subnet)
                .with_hint("give the cluster's pod CIDR (within 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10); Mailu relays mail for this range"),
            );
        } else if net.prefix < rules::WIDE_POD_PREFIX_V4 {
            c.findings.push(
                Diagnostic::warning(
                    Code::InvalidCidr,
                    "subnet",
                    format!("`{net}` is wider than a pod network needs"),
                )
                .with_value(&file.subnet)
                .with_hint(
                    "Mailu trusts all of it for relaying: give exactly the cluster's pod CIDR",
                ),
            );
        }
    }
    let subnet6 = match &file.subnet6 {
        Some(raw) => c
            .check(Code::InvalidCidr, "subnet6", raw, Ipv6Cidr::parse_pod_cidr)
            .map(Some),
        None => Some(None),
    };
    let timezone = c.check(Code::UnknownTimezone, "timezone", &file.timezone, |v| {
        rules::check_timezone(v).map(|()| v.to_owned())
    });

    let database = validate_database(&mut c, file.database.as_ref());
    let redis = match &file.redis {
        None => Some(Redis::Bundled),
        Some(r) => c
            .check(Code::InvalidDnsName, "redis.host", &r.host, DnsName::parse)
            .map(|host| Redis::External { host, port: r.port }),
    };

    let secrets = c
        .object_name("secrets.mailuSecretKey", &file.secrets.mailu_secret_key)
        .map(|name| Secrets {
            mailu_secret_key: SecretRef {
                name,
                key: secret_keys::SECRET_KEY,
            },
        });

    let storage = validate_storage(&mut c, &file.storage);
    let resources = validate_resources(&mut c, &file.resources);
    let mailu = validate_mailu(&mut c, file, domain.as_ref());
    let components = validate_components(&mut c, file);
    let workloads = crate::validate_workloads::validate_workloads(file, &mut c.findings);
    let images = validate_images(&mut c, &file.images);
    let pod_cidrs: Vec<String> = std::iter::once(file.subnet.clone())
        .chain(file.subnet6.clone())
        .collect();
    let edge =
        crate::validate_edge::validate_edge(file, hostnames.as_ref(), &pod_cidrs, &mut c.findings);
    let network_policies =
        crate::validate_network::validate_network_policies(file, &pod_cidrs, &mut c.findings);
    let egress = crate::validate_egress::validate_egress(
        file,
        domain.as_ref(),
        hostnames.as_ref(),
        &mut c.findings,
    );
    let dns = crate::validate_dns::validate_dns(file, domain.as_ref(), &mut c.findings);
    let mailu = match (mailu, &dns) {
        (Some(mut m), Some(d)) => {
            m.dmarc = d.mailu_dmarc.clone();
            Some(m)
        }
        (m, _) => m,
    };
    let mut workloads = workloads;
    if let (Some(egress), Some(workloads)) = (&egress, workloads.as_mut()) {
        crate::validate_egress::pin_senders(egress, workloads, &mut c.findings);
    }

    if c.findings.iter().any(Diagnostic::is_error) {
        return Err(c.findings);
    }
    // Every `None` above recorded an error, so reaching here means all are `Some`.
    let built = (|| {
        let edge = edge?;
        Some(Config {
            namespace: namespace?,
            create_namespace: file.create_namespace,
            cluster_domain: cluster_domain?,
            domain: domain?,
            hostnames: hostnames?,
            subnet: subnet?,
            subnet6: subnet6?,
            timezone: timezone?,
            database: database?,
            redis: redis?,
            secrets: secrets?,
            storage: storage?,
            resources: resources?,
            components: components?,
            workloads: workloads?,
            mailu: mailu?,
            images: images?,
            tls: edge.tls,
            edge: edge.edge,
            exposure: edge.exposure,
            network_policies: network_policies?,
            egress: egress?,
            dns: dns?.dns,
        })
    })();
    match built {
        Some(config) => Ok((config, c.findings)),
        None => Err(vec![Diagnostic::error(
            Code::InvalidValue,
            "",
            "the configuration could not be built (internal inconsistency)",
        )]),
    }
}

fn validate_database(c: &mut Checker, db: Option<&file::DatabaseFile>) -> Option<Database> {
    let Some(db) = db else {
        return Some(Database::Sqlite);
    };
    match (db.kind, &db.postgresql) {
        (DatabaseKind::Sqlite, None) => Some(Database::Sqlite),
        (DatabaseKind::Sqlite, Some(_)) => {
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    "database.postgresql",
                    "`postgresql` is given but `type` is `sqlite`",
                )
                .with_hint("set `database.type: postgresql`, or remove the `postgresql` block"),
            );
            None
        }
        (DatabaseKind::Postgresql, None) => {
            c.findings.push(
                Diagnostic::error(
                    Code::MissingDependency,
                    "database.postgresql",
                    "`type: postgresql` needs a `postgresql` block",
                )
                .with_hint("add `postgresql: {host: ..., secretName: ...}` under `database`"),
            );
            None
        }
        (DatabaseKind::Postgresql, Some(pg)) => {
            let host = c.check(
                Code::InvalidDnsName,
                "database.postgresql.host",
                &pg.host,
                DnsName::parse,
            );
            let database = c.check(
                Code::InvalidValue,
                "database.postgresql.database",
                &pg.database,
                |v| rules::check_database_name(v).map(|()| v.to_owned()),
            );
            let credentials =
                c.secret_keys("database.postgresql", &pg.secret_name, &pg.secret_keys);
            Some(Database::Postgresql(Postgresql {
                host: host?,
                port: pg.port,
                database: database?,
                credentials: credentials?,
            }))
        }
    }
}

fn validate_storage(c: &mut Checker, s: &file::StorageFile) -> Option<Storage> {
    let default_class = storage_class(c, "storage.storageClass", &s.storage_class)?;
    use component_defaults as d;
    let front = volume(c, "front", &s.front, d::FRONT_VOLUME, &default_class);
    let admin = volume(c, "admin", &s.admin, d::ADMIN_VOLUME, &default_class);
    let postfix = volume(c, "postfix", &s.postfix, d::POSTFIX_VOLUME, &default_class);
    let dovecot = volume(c, "dovecot", &s.dovecot, d::DOVECOT_VOLUME, &default_class);
    let rspamd = volume(c, "rspamd", &s.rspamd, d::RSPAMD_VOLUME, &default_class);
    let redis = volume(c, "redis", &s.redis, d::REDIS_VOLUME, &default_class);
    let webmail = volume(c, "webmail", &s.webmail, d::WEBMAIL_VOLUME, &default_class);
    let webdav = volume(c, "webdav", &s.webdav, d::WEBDAV_VOLUME, &default_class);
    let fetchmail = volume(
        c,
        "fetchmail",
        &s.fetchmail,
        d::FETCHMAIL_VOLUME,
        &default_class,
    );
    let clamav = volume(c, "clamav", &s.clamav, d::CLAMAV_VOLUME, &default_class);
    Some(Storage {
        webmail: webmail?,
        webdav: webdav?,
        fetchmail: fetchmail?,
        clamav: clamav?,
        front: front?,
        admin: admin?,
        postfix: postfix?,
        dovecot: dovecot?,
        rspamd: rspamd?,
        redis: redis?,
    })
}

/// A `storageClass`: `Some(None)` when not given, `None` after a finding.
fn storage_class(c: &mut Checker, path: &str, v: &Option<String>) -> Option<Option<String>> {
    match v {
        None => Some(None),
        Some(name) => c.object_name(path, name).map(Some),
    }
}

/// `storage.<name>`: a size, a class (by default `default_class`), access modes, or an existing
/// claim alone.
fn volume(
    c: &mut Checker,
    name: &str,
    given: &Option<file::VolumeFile>,
    default_size: &str,
    default_class: &Option<String>,
) -> Option<Volume> {
    let path = join("storage", name);
    let given = given.clone().unwrap_or_default();
    let size = c.quantity(
        &join(&path, "size"),
        given.size.as_deref().unwrap_or(default_size),
    );
    let own_class = storage_class(c, &join(&path, "storageClass"), &given.storage_class);
    let existing_claim = match &given.existing_claim {
        Some(claim) => {
            if given.size.is_some() || given.storage_class.is_some() || given.access_modes.is_some()
            {
                c.findings.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        join(&path, "existingClaim"),
                        "`existingClaim` together with `size`, `storageClass` or `accessModes`",
                        )
                        .with_hint("an existing claim already has those; remove them, or remove `existingClaim`"),
                );
            }
            Some(c.object_name(&join(&path, "existingClaim"), claim))
        }
        None => None,
    };
    let access_modes = given
        .access_modes
        .clone()
        .unwrap_or_else(|| vec![AccessMode::ReadWriteOnce]);
    if access_modes.is_empty() {
        c.findings.push(
            Diagnostic::error(
                Code::EmptyList,
                join(&path, "accessModes"),
                "no access mode given",
            )
            .with_hint(
                "use `[ReadWriteOnce]` (the default), or `[ReadWriteMany]` for shared storage",
            ),
        );
    }
    Some(Volume {
        size: size?,
        storage_class: own_class?.or_else(|| default_class.clone()),
        access_modes,
        existing_claim: match existing_claim {
            Some(claim) => Some(claim?),
            None => None,
        },
    })
}

fn validate_resources(c: &mut Checker, r: &file::ResourcesFile) -> Option<Resources> {
    use component_defaults as d;
    let front = validate_compute(c, "front", r.front.as_ref(), d::FRONT);
    let admin = validate_compute(c, "admin", r.admin.as_ref(), d::ADMIN);
    let postfix = validate_compute(c, "postfix", r.postfix.as_ref(), d::POSTFIX);
    let dovecot = validate_compute(c, "dovecot", r.dovecot.as_ref(), d::DOVECOT);
    let rspamd = validate_compute(c, "rspamd", r.rspamd.as_ref(), d::RSPAMD);
    let redis = validate_compute(c, "redis", r.redis.as_ref(), d::REDIS);
    let webmail = validate_compute(c, "webmail", r.webmail.as_ref(), d::WEBMAIL);
    let clamav = validate_compute(c, "clamav", r.clamav.as_ref(), d::CLAMAV);
    let fetchmail = validate_compute(c, "fetchmail", r.fetchmail.as_ref(), d::FETCHMAIL);
    let webdav = validate_compute(c, "webdav", r.webdav.as_ref(), d::WEBDAV);
    let oletools = validate_compute(c, "oletools", r.oletools.as_ref(), d::OLETOOLS);
    let tika = validate_compute(c, "tika", r.tika.as_ref(), d::TIKA);
    let resolver = validate_compute(c, "resolver", r.resolver.as_ref(), d::RESOLVER);
    Some(Resources {
        webmail: webmail?,
        clamav: clamav?,
        fetchmail: fetchmail?,
        webdav: webdav?,
        oletools: oletools?,
        tika: tika?,
        resolver: resolver?,
        front: front?,
        admin: admin?,
        postfix: postfix?,
        dovecot: dovecot?,
        rspamd: rspamd?,
        redis: redis?,
    })
}

/// Merges the given values over the defaults and checks requests ≤ limits.
fn validate_compute(
    c: &mut Checker,
    component: &str,
    given: Option<&file::ComputeFile>,
    defaults: [&str; 4],
) -> Option<Compute> {
    let base = join("resources", component);
    let requests = given.and_then(|g| g.requests.clone()).unwrap_or_default();
    let limits = given.and_then(|g| g.limits.clone()).unwrap_or_default();
    let mut field = |section: &str, kind: &str, v: &Option<String>, default: &str| {
        let path = join(&join(&base, section), kind);
        let explicit = v.is_some();
        let q = c.quantity(&path, v.as_deref().unwrap_or(default));
        (q, path, explicit)
    };
    let (req_cpu, req_cpu_path, req_cpu_set) = field("requests", "cpu", &requests.cpu, defaults[0]);
    let (req_mem, req_mem_path, req_mem_set) =
        field("requests", "memory", &requests.memory, defaults[1]);
    let (lim_cpu, lim_cpu_path, lim_cpu_set) = field("limits", "cpu", &limits.cpu, defaults[2]);
    let (lim_mem, lim_mem_path, lim_mem_set) =
        field("limits", "memory", &limits.memory, defaults[3]);

    let mut ordered = true;
    for (req, lim, req_path, lim_path, req_set, lim_set) in [
        (
            &req_cpu,
            &lim_cpu,
            &req_cpu_path,
            &lim_cpu_path,
            req_cpu_set,
            lim_cpu_set,
        ),
        (
            &req_mem,
            &lim_mem,
            &req_mem_path,
            &lim_mem_path,
            req_mem_set,
            lim_mem_set,
        ),
    ] {
        if let (Some(req), Some(lim)) = (req, lim)
            && req.value() > lim.value()
        {
            {
                ordered = false;
                // Point at the values the user wrote (either may be the mistake): the request,
                // the limit, or both; a default is never blamed.
                let blamed = [
                    (req_set || !lim_set).then_some((req_path.as_str(), req.as_str())),
                    lim_set.then_some((lim_path.as_str(), lim.as_str())),
                ];
                for (path, value) in blamed.into_iter().flatten() {
                    c.findings.push(
                        Diagnostic::error(
                            Code::RequestExceedsLimit,
                            path,
                            format!("request {req} is larger than limit {lim}"),
                        )
                        .with_value(value)
                        .with_hint(format!(
                            "raise `{lim_path}` to at least {req}, or lower `{req_path}`"
                        )),
                    );
                }
            }
        }
    }
    if !ordered {
        return None;
    }
    Some(Compute {
        requests: CpuMemory {
            cpu: req_cpu?,
            memory: req_mem?,
        },
        limits: CpuMemory {
            cpu: lim_cpu?,
            memory: lim_mem?,
        },
    })
}

fn validate_mailu(c: &mut Checker, file: &ConfigFile, domain: Option<&DnsName>) -> Option<Mailu> {
    let m = &file.mailu;
    // An invalid initial account stops here, before the API and the other `mailu` settings.
    let initial_account = initial_account(c, file, domain)?;
    let api = api(c, file);
    let settings = validate_mailu_settings(c, m);
    Some(Mailu {
        log_level: m.log_level,
        message_size_limit_mb: m.message_size_limit.get(),
        initial_account,
        api: api?,
        full_text_search: m.full_text_search.clone(),
        antivirus_action: m.antivirus_action,
        fetchmail_delay_seconds: m.fetchmail_delay.get(),
        rate_limits: m.rate_limits.clone(),
        recipient_delimiter: m.recipient_delimiter.clone(),
        postmaster: m.postmaster.clone(),
        dmarc: m.dmarc.clone(),
        welcome: m.welcome.clone(),
        default_spam_threshold: m.default_spam_threshold,
        tls_policy: m.tls_policy.clone(),
        reject_unlisted_recipient: m.reject_unlisted_recipient,
        branding: m.branding.clone(),
        web_paths: m.web_paths.clone(),
        relay_nets: m.relay_nets.clone(),
        default_quota_bytes: settings.default_quota_bytes?,
    })
}

/// `mailu.initialAccount`: when enabled, a valid username and domain and the password's Secret.
/// `Some(None)` when off, `None` after a finding (which ends `validate_mailu`).
fn initial_account(
    c: &mut Checker,
    file: &ConfigFile,
    domain: Option<&DnsName>,
) -> Option<Option<InitialAccount>> {
    match &file.mailu.initial_account {
        Some(a) if a.enabled => {
            let username = c.check(
                Code::InvalidValue,
                "mailu.initialAccount.username",
                &a.username,
                |v| rules::check_local_part(v).map(|()| v.to_owned()),
            );
            let account_domain = match &a.domain {
                Some(d) => c.check(
                    Code::InvalidDnsName,
                    "mailu.initialAccount.domain",
                    d,
                    DnsName::parse_fqdn,
                ),
                None => domain.cloned(),
            };
            let password = match &file.secrets.initial_admin_password {
                Some(name) => c.object_name("secrets.initialAdminPassword", name),
                None => {
                    c.findings.push(
                        Diagnostic::error(
                            Code::MissingDependency,
                            "secrets.initialAdminPassword",
                            "`mailu.initialAccount.enabled` needs the Secret holding the admin password",
                        )
                        .with_hint(
                            "create a Secret with key `password` and name it in `secrets.initialAdminPassword`",
                        ),
                    );
                    None
                }
            };
            Some(Some(InitialAccount {
                username: username?,
                domain: account_domain?,
                mode: a.mode,
                password: SecretRef {
                    name: password?,
                    key: secret_keys::INITIAL_ADMIN_PASSWORD,
                },
            }))
        }
        _ => {
            if let Some(name) = &file.secrets.initial_admin_password {
                c.object_name("secrets.initialAdminPassword", name);
            }
            Some(None)
        }
    }
}

/// `mailu.apiEnabled`: needs the Secret holding the API token. `Some(None)` when off, `None` after
/// a finding.
fn api(c: &mut Checker, file: &ConfigFile) -> Option<Option<Api>> {
    if file.mailu.api_enabled {
        match &file.secrets.api_token {
            Some(name) => c.object_name("secrets.apiToken", name).map(|name| {
                Some(Api {
                    token: SecretRef {
                        name,
                        key: secret_keys::API_TOKEN,
                    },
                })
            }),
            None => {
                c.findings.push(
                    Diagnostic::error(
                        Code::MissingDependency,
                        "secrets.apiToken",
                        "`mailu.apiEnabled` needs the Secret holding the API token",
                    )
                    .with_hint(
                        "create a Secret with key `api-token` and name it in `secrets.apiToken`",
                    ),
                );
                None
            }
        }
    } else {
        if let Some(name) = &file.secrets.api_token {
            c.object_name("secrets.apiToken", name);
        }
        Some(None)
    }
}

struct MailuSettings {
    default_quota_bytes: Option<Option<u64>>,
}

fn validate_mailu_settings(c: &mut Checker, m: &file::MailuFile) -> MailuSettings {
    check_full_text_search(c, m);
    check_relay_nets(c, m);
    check_rate_limits(c, m);
    check_recipient_delimiter(c, m);
    check_local_parts(c, m);
    check_welcome(c, m);
    let default_quota_bytes = default_quota_bytes(c, m);
    check_branding(c, m);
    check_web_paths(c, m);
    MailuSettings {
        default_quota_bytes,
    }
}

/// `mailu.fullTextSearch`: two-letter language codes.
fn check_full_text_search(c: &mut Checker, m: &file::MailuFile) {
    for (i, lang) in m.full_text_search.iter().enumerate() {
        if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
            c.findings.push(
                Diagnostic::error(Code::InvalidValue, format!("mailu.fullTextSearch[{i}]"), format!("`{lang}` is not a language code"))
                    .with_value(lang)
                    .with_hint("use two-letter ISO 639-1 codes such as `en`, `de`, `fr`; an empty list turns full-text search off"),
            );
        }
    }
}

/// `mailu.relayNets`: private CIDRs.
fn check_relay_nets(c: &mut Checker, m: &file::MailuFile) {
    for (i, net) in m.relay_nets.iter().enumerate() {
        // postfix relays for these without authentication (`mynetworks`, main.cf line 18).
        if let Err(p) = rules::check_private_cidr(net) {
            c.push(Code::InvalidCidr, &format!("mailu.relayNets[{i}]"), net, p);
        }
    }
}

/// `mailu.rateLimits`: Mailu's rate-limit syntax.
fn check_rate_limits(c: &mut Checker, m: &file::MailuFile) {
    for (key, value) in [
        ("message", &m.rate_limits.message),
        ("authIp", &m.rate_limits.auth_ip),
        ("authUser", &m.rate_limits.auth_user),
    ] {
        if let Some(v) = value
            && let Err(p) = rules::check_rate_limit(v)
        {
            c.push(Code::InvalidValue, &format!("mailu.rateLimits.{key}"), v, p);
        }
    }
}

/// `mailu.recipientDelimiter`: a few of the characters postfix accepts.
fn check_recipient_delimiter(c: &mut Checker, m: &file::MailuFile) {
    if let Some(d) = &m.recipient_delimiter
        && (d.is_empty() || d.len() > 4 || !d.chars().all(|ch| "+-_.=#".contains(ch)))
    {
        c.findings.push(
            Diagnostic::error(
                Code::InvalidValue,
                "mailu.recipientDelimiter",
                "not a recipient delimiter",
            )
            .with_value(d)
            .with_hint("use one or a few of `+ - _ . = #`, typically `+`"),
        );
    }
}

/// `mailu.postmaster` and the older `mailu.dmarc` addresses: local parts.
fn check_local_parts(c: &mut Checker, m: &file::MailuFile) {
    for (path, value) in [
        ("mailu.postmaster", &m.postmaster),
        ("mailu.dmarc.rua", &m.dmarc.rua),
        ("mailu.dmarc.ruf", &m.dmarc.ruf),
    ] {
        if let Some(v) = value {
            c.check(Code::InvalidValue, path, v, rules::check_local_part);
        }
    }
}

/// `mailu.welcome`: a subject and a body.
fn check_welcome(c: &mut Checker, m: &file::MailuFile) {
    if let Some(w) = &m.welcome {
        for (key, v) in [("subject", &w.subject), ("body", &w.body)] {
            if v.trim().is_empty() {
                c.findings.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("mailu.welcome.{key}"),
                        "the welcome message needs a subject and a body",
                    )
                    .with_hint("write the text, or remove `mailu.welcome`"),
                );
            }
        }
    }
}

/// `mailu.branding`: XML-safe site name, a CSS hex colour, http(s) URLs.
fn check_branding(c: &mut Checker, m: &file::MailuFile) {
    if let Some(name) = &m.branding.site_name {
        c.check(
            Code::InvalidValue,
            "mailu.branding.siteName",
            name,
            rules::check_xml_text,
        );
    }
    if let Some(bg) = &m.branding.logo_background
        && !(bg.starts_with('#')
            && matches!(bg.len(), 4 | 7)
            && bg[1..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        c.findings.push(
            Diagnostic::error(
                Code::InvalidValue,
                "mailu.branding.logoBackground",
                "not a CSS hex colour",
            )
            .with_value(bg)
            .with_hint("e.g. `#2b2b2b`"),
        );
    }
    for (key, url) in [
        ("website", &m.branding.website),
        ("logoUrl", &m.branding.logo_url),
    ] {
        if let Some(u) = url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("mailu.branding.{key}"),
                    "not an http(s) URL",
                )
                .with_value(u)
                .with_hint("write the full URL, e.g. `https://example.com/logo.png`"),
            );
        }
    }
}

/// `mailu.webPaths`: paths front can serve, each its own.
fn check_web_paths(c: &mut Checker, m: &file::MailuFile) {
    let mut seen_paths = std::collections::BTreeMap::new();
    for (key, path) in [
        ("admin", &m.web_paths.admin),
        ("webmail", &m.web_paths.webmail),
        ("api", &m.web_paths.api),
    ] {
        let Some(p) = path else { continue };
        let field = format!("mailu.webPaths.{key}");
        // Webmail may take the whole site: front's nginx.conf serves it at `/` then
        // (lines 191, 204, 214 test `WEB_WEBMAIL != '/'`).
        let whole_site = key == "webmail" && p == "/";
        let ok = whole_site
            || p.len() > 1
                && p.starts_with('/')
                && !p.ends_with('/')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
        if !ok {
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    &field,
                    format!("`{p}` is not a URL path front can serve"),
                )
                .with_value(p)
                .with_hint(
                    "start with `/`, no trailing `/`, letters, digits, `-`, `_`, `.`, e.g. `/mail`",
                ),
            );
        } else if let Some(other) = seen_paths.insert(p.clone(), key) {
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    &field,
                    format!("`{p}` is also the {other} path"),
                )
                .with_value(p)
                .with_hint("give each web UI its own path"),
            );
        }
    }
}

/// `mailu.defaultQuota`: a whole number of bytes below 2^63; `Some(None)` when not given,
/// `None` after a finding.
fn default_quota_bytes(c: &mut Checker, m: &file::MailuFile) -> Option<Option<u64>> {
    match &m.default_quota {
        None => Some(None),
        Some(q) => c.quantity("mailu.defaultQuota", q).and_then(|q| {
            // Stored in a signed 64-bit database column; larger values would saturate.
            if q.value() >= 2f64.powi(63) {
                c.findings.push(
                    Diagnostic::error(
                        Code::OutOfRange,
                        "mailu.defaultQuota",
                        "larger than any mailbox can be (2^63 bytes)",
                    )
                    .with_value(q.as_str())
                    .with_hint("e.g. `1G` or `50Gi`"),
                );
                None
            } else if q.value() < 1.0 || q.value().fract() != 0.0 {
                c.findings.push(
                    Diagnostic::error(
                        Code::InvalidQuantity,
                        "mailu.defaultQuota",
                        "a quota is a whole number of bytes",
                    )
                    .with_value(q.as_str())
                    .with_hint("e.g. `1G` or `5Gi`"),
                );
                None
            } else {
                Some(Some(q.value() as u64))
            }
        }),
    }
}

/// The core components cannot be switched off; optional ones bring their settings along.
fn validate_components(c: &mut Checker, file: &ConfigFile) -> Option<Components> {
    let k = &file.components;
    check_core_components_on(c, k);
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
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("components.{name}"),
                    format!("Mailu cannot run without {name}"),
                )
                .with_value("false")
                .with_hint(format!("remove `components.{name}`; it is always on")),
            );
        }
    }
}

/// The webmail and its `webmail` settings; settings for a webmail that is off are refused.
/// `None` after a finding.
fn webmail(c: &mut Checker, file: &ConfigFile) -> Option<Option<Webmail>> {
    if file.components.webmail {
        let roundcube_database = roundcube_database(c, file);
        check_roundcube_plugins(c, file);
        roundcube_database.map(|roundcube_database| {
            Some(Webmail {
                kind: file.mailu.webmail_type,
                roundcube_plugins: file.webmail.roundcube_plugins.clone(),
                roundcube_database,
            })
        })
    } else {
        if file.webmail.roundcube_database.is_some() || file.webmail.roundcube_plugins.is_some() {
            c.findings.push(
                Diagnostic::error(
                    Code::MissingDependency,
                    "components.webmail",
                    "`webmail` settings are given but the webmail is off",
                )
                .with_hint("set `components.webmail: true`, or remove the `webmail` block"),
            );
        }
        Some(None)
    }
}

/// `webmail.roundcubeDatabase`: only for Roundcube; a host (its own or the main PostgreSQL's), a
/// database name and credentials. `Some(None)` when not given, `None` after a finding.
fn roundcube_database(c: &mut Checker, file: &ConfigFile) -> Option<Option<RoundcubeDatabase>> {
    match &file.webmail.roundcube_database {
        None => Some(None),
        Some(rc) => {
            if file.mailu.webmail_type != WebmailType::Roundcube {
                c.findings.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        "webmail.roundcubeDatabase",
                        "a Roundcube database is given but the webmail is SnappyMail",
                    )
                    .with_hint(
                        "remove `webmail.roundcubeDatabase`, or set `mailu.webmailType: roundcube`",
                    ),
                );
            }
            let main = file.database.as_ref().and_then(|d| d.postgresql.as_ref());
            let host = match (&rc.host, main) {
                (Some(h), _) => c.check(
                    Code::InvalidDnsName,
                    "webmail.roundcubeDatabase.host",
                    h,
                    DnsName::parse,
                ),
                (None, Some(pg)) => DnsName::parse(&pg.host).ok(),
                (None, None) => {
                    c.findings.push(
                        Diagnostic::error(
                            Code::MissingKey,
                            "webmail.roundcubeDatabase.host",
                            "no PostgreSQL host for Roundcube",
                        )
                        .with_hint(
                            "give `host`, or configure `database.postgresql` to share its server",
                        ),
                    );
                    None
                }
            };
            let port = rc
                .port
                .or(main.map(|pg| pg.port))
                .unwrap_or_else(file::defaults::postgresql_port);
            let database = c.check(
                Code::InvalidValue,
                "webmail.roundcubeDatabase.database",
                &rc.database,
                |v| rules::check_database_name(v).map(|()| v.to_owned()),
            );
            let credentials = c.secret_keys(
                "webmail.roundcubeDatabase",
                &rc.secret_name,
                &rc.secret_keys,
            );
            match (host, credentials, database) {
                (Some(host), Some(credentials), Some(database)) => Some(Some(RoundcubeDatabase {
                    host,
                    port,
                    database,
                    credentials,
                })),
                _ => None,
            }
        }
    }
}

/// `webmail.roundcubePlugins`: plugin names.
fn check_roundcube_plugins(c: &mut Checker, file: &ConfigFile) {
    if let Some(plugins) = &file.webmail.roundcube_plugins {
        for (i, p) in plugins.iter().enumerate() {
            if p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                c.findings.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("webmail.roundcubePlugins[{i}]"),
                        format!("`{p}` is not a plugin name"),
                    )
                    .with_value(p)
                    .with_hint("plugin names are letters, digits, `_` and `-`, e.g. `archive`"),
                );
            }
        }
    }
}

/// clamav creates its own signature volumes: no `existingClaim`.
fn check_clamav_claim(c: &mut Checker, file: &ConfigFile) {
    let k = &file.components;
    if k.clamav
        && file
            .storage
            .clamav
            .as_ref()
            .is_some_and(|v| v.existing_claim.is_some())
    {
        c.findings.push(
            Diagnostic::error(
                Code::InvalidValue,
                "storage.clamav.existingClaim",
                "clamav keeps one signature volume per replica and creates them itself",
            )
            .with_hint("remove `existingClaim`; the signatures are downloaded again when needed"),
        );
    }
}

/// The resolver's fixed Service address, required when it runs and refused when it does not.
/// `None` after a finding.
fn resolver(c: &mut Checker, file: &ConfigFile) -> Option<Option<Resolver>> {
    if file.components.resolver.unwrap_or(true) {
        match &file.resolver.service_ip {
            None => {
                c.findings.push(
                    Diagnostic::error(Code::MissingKey, "resolver.serviceIP", "the resolver needs a fixed Service address")
                        .with_hint("pick a free address in the cluster's Service CIDR (k3s: 10.43.0.0/16, kubeadm: 10.96.0.0/12), e.g. `10.43.0.53`; or set `components.resolver: false` to use the cluster's DNS"),
                );
                None
            }
            Some(ip) => match ip.parse::<std::net::IpAddr>() {
                Ok(service_ip) => Some(Some(Resolver { service_ip })),
                Err(_) => {
                    c.findings.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            "resolver.serviceIP",
                            format!("`{ip}` is not an IP address"),
                        )
                        .with_value(ip)
                        .with_hint("e.g. `10.43.0.53`, inside the cluster's Service CIDR"),
                    );
                    None
                }
            },
        }
    } else {
        if file.resolver.service_ip.is_some() {
            c.findings.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    "resolver.serviceIP",
                    "given, but the resolver is off",
                )
                .with_hint("remove it, or remove `components.resolver: false`"),
            );
        }
        Some(None)
    }
}

fn validate_images(c: &mut Checker, i: &file::ImagesFile) -> Option<Images> {
    // An image reference is `registry[/path]:tag`; reject what a container runtime would reject.
    let registry_ok = !i.registry.is_empty()
        && !i.registry.ends_with('/')
        && i.registry
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/:".contains(&b));
    if !registry_ok {
        c.findings.push(
            Diagnostic::error(
                Code::InvalidValue,
                "images.registry",
                "not a valid image registry path",
            )
            .with_value(&i.registry)
            .with_hint("e.g. `ghcr.io/mailu` (lower case, no trailing `/`)"),
        );
    }
    let tag_ok = match rules::check_image_tag(&i.tag) {
        Ok(()) => true,
        Err(p) => {
            c.push(Code::InvalidValue, "images.tag", &i.tag, p);
            false
        }
    };
    (registry_ok && tag_ok).then(|| Images {
        registry: i.registry.clone(),
        tag: i.tag.clone(),
        pull_policy: i.pull_policy,
        pull_secrets: i.pull_secrets.clone(),
    })
}
