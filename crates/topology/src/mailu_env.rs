//! Mailu's environment as one table: for every variable mailu-k8s sets, which components read
//! it, which of them break when it is missing, how its value is written for those readers, and
//! where the value comes from.
//!
//! Every earlier bug here was a wrong fact about *who reads what* or *what a missing value
//! renders as*, so the facts live in one place and everything else is computed: the manifests
//! place each value (shared ConfigMap key, one container's env, a Secret reference) from the
//! readers that run; the conformance suite (`tests/conformance/`) cross-checks the readers
//! against Mailu's own templates and start scripts.
//!
//! How Mailu 2024.06.57 reads its environment (paths in Mailu/Mailu at that tag):
//! - front, postfix, dovecot, webmail and rspamd render Jinja templates from their environment;
//!   a missing variable renders as an empty string (`core/base/libs/socrate/socrate/conf.py`).
//!   Only admin has defaults (`core/admin/mailu/configuration.py` `DEFAULT_CONFIG`), and the
//!   base image presets the `*_ADDRESS` names to compose's short host names
//!   (`core/base/Dockerfile` lines 80-93), which do not resolve in Kubernetes.
//! - postfix and dovecot render from `os.environ` (strings: `"false"` is true in Jinja);
//!   front's `config.py`, rspamd and admin coerce `true`/`yes`/`false`/`no` to booleans
//!   (`socrate/system.py` `_coerce_value`, admin `configuration.py` `__coerce_value`).
//! - socrate's `clean_env` removes every `*_KEY` variable before rendering, so only admin and
//!   webmail, which derive their own keys from it, read `SECRET_KEY`.

use mailu_k8s_config::{Config, Database};

use crate::{Component, Topology};

use Component::*;

/// How a boolean reaches a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Free text, passed as is.
    Text,
    /// `true`/`false`: Mailu's Python coerces these (admin, front's `config.py`, rspamd).
    MailuBool,
    /// `yes`/`no`: rendered verbatim into a postfix parameter, which accepts nothing else
    /// (`-o smtpd_reject_unlisted_recipient={{ REJECT_UNLISTED_RECIPIENT }}`, master.cf line 12).
    PostfixYesNo,
    /// `true` or the empty string: a template tests the raw string for truth, so `"false"`
    /// would be true (`{{ 'dane' if DEFER_ON_TLS_ERROR else 'may' }}`, postfix main.cf line 61).
    /// Admin reads the empty string as false too.
    Truthy,
}

/// Where a reader gets a variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A literal, written for the readers' encoding.
    Text(String),
    /// A key of a Secret the operator creates; never inlined.
    Secret { name: String, key: String },
}

/// One Mailu variable.
pub struct Var {
    pub name: &'static str,
    /// Every component that reads it (templates, start scripts, programs).
    pub readers: &'static [Component],
    /// Readers that have no usable default and break or misbehave when it is unset. A test
    /// checks every one of them gets a value whenever it runs.
    pub required_by: &'static [Component],
    pub encoding: Encoding,
    /// The value one reader gets, or `None` to leave it unset (the reader's default applies).
    pub value: fn(&Inputs, Component) -> Option<Value>,
}

/// What values are computed from.
pub struct Inputs<'a> {
    pub config: &'a Config,
    pub topology: &'a Topology,
}

/// Every Mailu image that configures itself through socrate's `set_env` (and so reads
/// `LOG_LEVEL`), plus the images whose libc and logs read `TZ`.
const SOCRATE: &[Component] = &[
    Front, Admin, Postfix, Dovecot, Rspamd, Webmail, Fetchmail, Oletools,
];
const ALL_MAILU_IMAGES: &[Component] = &[
    Front, Admin, Postfix, Dovecot, Rspamd, Webmail, Fetchmail, Oletools, Webdav, Resolver,
];

fn text(v: impl Into<String>) -> Option<Value> {
    Some(Value::Text(v.into()))
}

fn secret(name: &str, key: &str) -> Option<Value> {
    Some(Value::Secret {
        name: name.to_owned(),
        key: key.to_owned(),
    })
}

fn flag(encoding: Encoding, on: bool) -> Option<Value> {
    let s = match (encoding, on) {
        (Encoding::MailuBool | Encoding::Text, true) | (Encoding::Truthy, true) => "true",
        (Encoding::MailuBool | Encoding::Text, false) => "false",
        (Encoding::PostfixYesNo, true) => "yes",
        (Encoding::PostfixYesNo, false) => "no",
        (Encoding::Truthy, false) => "",
    };
    text(s)
}

fn address(i: &Inputs, c: Component) -> Option<Value> {
    i.topology
        .workload(c)
        .map(|_| Value::Text(i.topology.fqdn(c)))
}

/// Mailu's defaults for the web paths (admin's `DEFAULT_CONFIG`); front and webmail have none.
pub const DEFAULT_WEB_ADMIN: &str = "/admin";
pub const DEFAULT_WEB_WEBMAIL: &str = "/webmail";
pub const DEFAULT_WEB_API: &str = "/api";
/// admin's default postmaster local part; dovecot and front have none.
pub const DEFAULT_POSTMASTER: &str = "postmaster";

fn web_admin(i: &Inputs) -> String {
    let p = &i.config.mailu.web_paths.admin;
    p.clone().unwrap_or_else(|| DEFAULT_WEB_ADMIN.to_owned())
}

fn web_webmail(i: &Inputs) -> String {
    let p = &i.config.mailu.web_paths.webmail;
    p.clone().unwrap_or_else(|| DEFAULT_WEB_WEBMAIL.to_owned())
}

/// `host`, or `host:port` when the port is not PostgreSQL's default: Mailu builds
/// `postgresql://USER:PW@HOST/NAME` from it (admin `configuration.py` `DB_TEMPLATES`, webmail
/// `start.py`), so the port goes into the host.
fn db_host(host: &mailu_k8s_config::DnsName, port: std::num::NonZeroU16) -> String {
    if port.get() == mailu_k8s_config::file::defaults::POSTGRESQL_PORT {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// Whole CPUs of a component's limit (of its request when the config removed the limit), at
/// least one: front and dovecot start that many login processes (`process_min_avail = {{
/// CPU_COUNT }}`), admin that many gunicorn threads; unset, socrate uses the *node's* CPU count
/// (`system.py` `clean_env`), which on a large node starts more processes than the memory
/// limit allows.
pub fn cpu_count(config: &Config, c: Component) -> u32 {
    let compute = crate::resources(config, c);
    let cpus = compute.limits.cpu.as_ref().unwrap_or(&compute.requests.cpu);
    let cores = cpus.value().ceil();
    // A valid quantity is finite and positive; clamp absurd ones rather than overflow.
    cores.clamp(1.0, 1024.0) as u32
}

/// Keys inside the relay credentials Secret.
pub const RELAY_USERNAME_KEY: &str = "username";
pub const RELAY_PASSWORD_KEY: &str = "password";

/// The table. Readers are cited where the reason is not the obvious template.
pub const TABLE: &[Var] = &[
    // --- identity -----------------------------------------------------------------------
    Var {
        name: "DOMAIN",
        readers: &[Front, Admin, Postfix, Dovecot],
        required_by: &[Front, Postfix, Dovecot],
        encoding: Encoding::Text,
        value: |i, _| text(i.config.domain.to_string()),
    },
    Var {
        name: "HOSTNAMES",
        // fetchmail.py line 77 (the SMTP host when mail is proxied); webmail config.inc.php.
        readers: &[Front, Admin, Postfix, Dovecot, Webmail, Fetchmail],
        required_by: &[Front, Postfix, Dovecot, Webmail, Fetchmail],
        encoding: Encoding::Text,
        value: |i, _| {
            let names: Vec<&str> = i.config.hostnames.all().map(|h| h.as_str()).collect();
            text(names.join(","))
        },
    },
    Var {
        name: "POSTMASTER",
        // dovecot.conf line 6 `postmaster_address = {{ POSTMASTER }}@{{ DOMAIN }}`; front's
        // letsencrypt.py reads os.environ["POSTMASTER"].
        readers: &[Front, Admin, Dovecot],
        required_by: &[Front, Dovecot],
        encoding: Encoding::Text,
        value: |i, _| {
            let p = i.config.mailu.postmaster.as_deref();
            text(p.unwrap_or(DEFAULT_POSTMASTER))
        },
    },
    Var {
        name: "RECIPIENT_DELIMITER",
        readers: &[Front, Admin, Postfix, Dovecot],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.recipient_delimiter.clone().and_then(text),
    },
    Var {
        name: "TZ",
        // The base image's ENV (core/base/Dockerfile line 10): libc and Python read it.
        readers: ALL_MAILU_IMAGES,
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| text(i.config.timezone.clone()),
    },
    Var {
        name: "LOG_LEVEL",
        readers: SOCRATE,
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, c| {
            let own = i.config.workloads.get(c.name()).and_then(|s| s.log_level);
            text(own.unwrap_or(i.config.mailu.log_level).as_str())
        },
    },
    Var {
        name: "CPU_COUNT",
        readers: &[Front, Admin, Dovecot],
        required_by: &[Front, Dovecot],
        encoding: Encoding::Text,
        value: |i, c| text(cpu_count(i.config, c).to_string()),
    },
    // --- trust ---------------------------------------------------------------------------
    Var {
        name: "SUBNET",
        readers: &[Admin, Postfix, Dovecot, Rspamd],
        required_by: &[Postfix, Dovecot, Rspamd],
        encoding: Encoding::Text,
        value: |i, _| text(i.config.subnet.to_string()),
    },
    Var {
        name: "SUBNET6",
        readers: &[Front, Admin, Postfix, Dovecot, Rspamd, Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.subnet6.as_ref().and_then(|s| text(s.to_string())),
    },
    Var {
        name: "RELAYNETS",
        readers: &[Postfix, Rspamd],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let nets = &i.config.mailu.relay_nets;
            (!nets.is_empty()).then(|| nets.join(",")).and_then(text)
        },
    },
    // --- front's listeners ------------------------------------------------------------------
    Var {
        name: "TLS_FLAVOR",
        // front start.py reads os.environ["TLS_FLAVOR"]; admin for secure cookies.
        readers: &[Front, Admin],
        required_by: &[Front],
        encoding: Encoding::Text,
        value: |i, _| text(i.topology.exposure.tls_flavor.as_str()),
    },
    Var {
        name: "TLS_PERMISSIVE",
        // Written even at Mailu's default: front's config.py (line 133) reads an unset value as
        // permissive, so leaving it out would hide the choice (conf/nginx.conf line 343).
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::MailuBool,
        value: |i, _| {
            flag(
                Encoding::MailuBool,
                i.config.mailu.tls_policy.permissive_port25(),
            )
        },
    },
    Var {
        name: "PORTS",
        // admin suggests SRV records from it (core/admin/mailu/models.py line 260).
        readers: &[Front, Admin],
        required_by: &[Front],
        encoding: Encoding::Text,
        value: |i, _| text(i.topology.mailu_ports_env()),
    },
    Var {
        name: "PROXY_PROTOCOL",
        // dovecot.conf line 8 picks `submission_host` from PROXY_PROTOCOL_25; fetchmail.py
        // line 77 its SMTP host.
        readers: &[Front, Dovecot, Fetchmail],
        required_by: &[Front, Dovecot, Fetchmail],
        encoding: Encoding::Text,
        value: |i, _| i.topology.exposure.proxy_protocol_env().and_then(text),
    },
    Var {
        name: "REAL_IP_FROM",
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let from = &i.topology.exposure.real_ip_from;
            (!from.is_empty()).then(|| from.join(",")).and_then(text)
        },
    },
    Var {
        name: "REAL_IP_HEADER",
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.topology.exposure.real_ip_header.clone().and_then(text),
    },
    Var {
        name: "TLS_CERT_FILENAME",
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.tls.secret_name.as_ref().and(text(TLS_CERT_FILE)),
    },
    Var {
        name: "TLS_KEYPAIR_FILENAME",
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.tls.secret_name.as_ref().and(text(TLS_KEY_FILE)),
    },
    Var {
        name: "MESSAGE_SIZE_LIMIT",
        readers: &[Front, Postfix, Webmail],
        required_by: &[Front, Postfix, Webmail],
        encoding: Encoding::Text,
        value: |i, _| text(i.config.mailu.message_size_limit_bytes().to_string()),
    },
    // --- the web UI --------------------------------------------------------------------
    Var {
        name: "ADMIN",
        readers: &[Front, Admin, Webmail],
        required_by: &[Front],
        encoding: Encoding::MailuBool,
        value: |_, _| flag(Encoding::MailuBool, true),
    },
    Var {
        name: "WEB_ADMIN",
        // nginx.conf line 234 `location {{ WEB_ADMIN }} {`: nginx refuses `location  {`.
        readers: &[Front, Admin, Webmail],
        required_by: &[Front, Webmail],
        encoding: Encoding::Text,
        value: |i, _| text(web_admin(i)),
    },
    Var {
        name: "WEB_WEBMAIL",
        readers: &[Front, Admin, Webmail],
        required_by: &[Front, Webmail],
        encoding: Encoding::Text,
        value: |i, _| text(web_webmail(i)),
    },
    Var {
        name: "WEB_API",
        readers: &[Front, Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let p = &i.config.mailu.web_paths.api;
            text(p.clone().unwrap_or_else(|| DEFAULT_WEB_API.to_owned()))
        },
    },
    Var {
        name: "WEBROOT_REDIRECT",
        // nginx.conf lines 191-198: unset, `/` answers 404.
        readers: &[Front],
        required_by: &[Front],
        encoding: Encoding::Text,
        value: |i, _| match i.topology.workload(Webmail) {
            Some(_) => text(web_webmail(i)),
            None => text(web_admin(i)),
        },
    },
    Var {
        name: "WEBMAIL",
        // nginx.conf line 202 `{% if WEBMAIL != 'none' %}`: unset counts as on.
        readers: &[Front, Admin, Webmail],
        required_by: &[Front, Webmail],
        encoding: Encoding::Text,
        value: |i, _| {
            let w = i.config.components.webmail.as_ref();
            text(w.map_or("none", |w| w.kind.as_str()))
        },
    },
    Var {
        name: "WEBDAV",
        // nginx.conf line 251 `{% if WEBDAV != 'none' %}`: unset counts as on.
        readers: &[Front],
        required_by: &[Front],
        encoding: Encoding::Text,
        value: |i, _| {
            text(if i.config.components.webdav {
                "radicale"
            } else {
                "none"
            })
        },
    },
    Var {
        name: "API",
        readers: &[Front, Admin],
        required_by: &[],
        encoding: Encoding::MailuBool,
        value: |i, _| {
            i.config
                .mailu
                .api
                .as_ref()
                .and(flag(Encoding::MailuBool, true))
        },
    },
    // --- secrets -----------------------------------------------------------------------
    Var {
        name: "SECRET_KEY",
        // admin start.py `set_env(['SECRET'])`, webmail start.py `set_env(['ROUNDCUBE',
        // 'SNUFFLEUPAGUS'])`; every other image drops it unread.
        readers: &[Admin, Webmail],
        required_by: &[Admin, Webmail],
        encoding: Encoding::Text,
        value: |i, _| {
            let s = &i.config.secrets.mailu_secret_key;
            secret(&s.name, s.key)
        },
    },
    Var {
        name: "API_TOKEN",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let api = i.config.mailu.api.as_ref()?;
            secret(&api.token.name, api.token.key)
        },
    },
    // --- admin -------------------------------------------------------------------------
    Var {
        name: "MAILU_HELM_CHART",
        // admin start.py `test_unsupported` loops forever without it outside compose.
        readers: &[Admin],
        required_by: &[Admin],
        encoding: Encoding::MailuBool,
        value: |_, _| flag(Encoding::MailuBool, true),
    },
    Var {
        name: "DB_FLAVOR",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| postgresql(i).and(text("postgresql")),
    },
    Var {
        name: "DB_HOST",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| postgresql(i).and_then(|pg| text(db_host(&pg.host, pg.port))),
    },
    Var {
        name: "DB_NAME",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| postgresql(i).and_then(|pg| text(pg.database.clone())),
    },
    Var {
        name: "DB_USER",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let c = &postgresql(i)?.credentials;
            secret(&c.secret_name, &c.username_key)
        },
    },
    Var {
        name: "DB_PW",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let c = &postgresql(i)?.credentials;
            secret(&c.secret_name, &c.password_key)
        },
    },
    Var {
        name: "INITIAL_ADMIN_ACCOUNT",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| initial(i).and_then(|a| text(a.username.clone())),
    },
    Var {
        name: "INITIAL_ADMIN_DOMAIN",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| initial(i).and_then(|a| text(a.domain.to_string())),
    },
    Var {
        name: "INITIAL_ADMIN_MODE",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| initial(i).and_then(|a| text(a.mode.as_str())),
    },
    Var {
        name: "INITIAL_ADMIN_PW",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| initial(i).and_then(|a| secret(&a.password.name, a.password.key)),
    },
    Var {
        name: "FETCHMAIL_ENABLED",
        // Admin shows the fetchmail pages unless told otherwise (DEFAULT_CONFIG: True).
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::MailuBool,
        value: |i, _| flag(Encoding::MailuBool, i.config.components.fetchmail),
    },
    Var {
        name: "MESSAGE_RATELIMIT",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.rate_limits.message.clone().and_then(text),
    },
    Var {
        name: "AUTH_RATELIMIT_IP",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.rate_limits.auth_ip.clone().and_then(text),
    },
    Var {
        name: "AUTH_RATELIMIT_USER",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.rate_limits.auth_user.clone().and_then(text),
    },
    Var {
        name: "DMARC_RUA",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.dmarc.rua.clone().and_then(text),
    },
    Var {
        // The selector the DNS plan publishes; Mailu's own default otherwise.
        name: "DKIM_SELECTOR",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let s = &i.config.dns.dkim.selector;
            (s != mailu_k8s_config::dns::DEFAULT_DKIM_SELECTOR).then(|| Value::Text(s.clone()))
        },
    },
    Var {
        name: "DMARC_RUF",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.dmarc.ruf.clone().and_then(text),
    },
    Var {
        name: "SITENAME",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.branding.site_name.clone().and_then(text),
    },
    Var {
        name: "WEBSITE",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.branding.website.clone().and_then(text),
    },
    Var {
        name: "LOGO_URL",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.config.mailu.branding.logo_url.clone().and_then(text),
    },
    Var {
        name: "LOGO_BACKGROUND",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            i.config
                .mailu
                .branding
                .logo_background
                .clone()
                .and_then(text)
        },
    },
    Var {
        name: "WELCOME",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::MailuBool,
        value: |i, _| {
            i.config
                .mailu
                .welcome
                .as_ref()
                .and(flag(Encoding::MailuBool, true))
        },
    },
    Var {
        name: "WELCOME_SUBJECT",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            i.config
                .mailu
                .welcome
                .as_ref()
                .and_then(|w| text(w.subject.clone()))
        },
    },
    Var {
        name: "WELCOME_BODY",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            i.config
                .mailu
                .welcome
                .as_ref()
                .and_then(|w| text(w.body.clone()))
        },
    },
    Var {
        name: "DEFAULT_QUOTA",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            i.config
                .mailu
                .default_quota_bytes
                .and_then(|q| text(q.to_string()))
        },
    },
    Var {
        name: "DEFAULT_SPAM_THRESHOLD",
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let t = i.config.mailu.default_spam_threshold;
            t.and_then(|t| text(t.to_string()))
        },
    },
    Var {
        name: "INBOUND_TLS_ENFORCE",
        // Read by admin, which hands it to postfix through its policy map lookups; postfix's
        // templates never read it.
        readers: &[Admin],
        required_by: &[],
        encoding: Encoding::MailuBool,
        value: |i, _| {
            let v = i.config.mailu.tls_policy.inbound_enforce?;
            flag(Encoding::MailuBool, v)
        },
    },
    // --- postfix -----------------------------------------------------------------------
    Var {
        name: "DEFER_ON_TLS_ERROR",
        // postfix start.py defaults it to 'True' when unset, so "off" must be the empty
        // string; admin (utils.py line 67) reads the empty string as false too.
        readers: &[Admin, Postfix],
        required_by: &[],
        encoding: Encoding::Truthy,
        value: |i, _| {
            let v = i.config.mailu.tls_policy.defer_on_error?;
            flag(Encoding::Truthy, v)
        },
    },
    Var {
        name: "OUTBOUND_TLS_LEVEL",
        readers: &[Postfix],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let level = i.config.mailu.tls_policy.outbound_level?;
            text(level.as_str())
        },
    },
    Var {
        name: "REJECT_UNLISTED_RECIPIENT",
        readers: &[Postfix],
        required_by: &[],
        encoding: Encoding::PostfixYesNo,
        value: |i, _| {
            let v = i.config.mailu.reject_unlisted_recipient?;
            flag(Encoding::PostfixYesNo, v)
        },
    },
    Var {
        name: "RELAYHOST",
        readers: &[Postfix],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let relay = i.topology.egress.relay()?;
            text(format!("[{}]:{}", relay.host, relay.port))
        },
    },
    Var {
        name: "RELAYUSER",
        readers: &[Postfix],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let name = i.topology.egress.relay()?.credentials.as_ref()?;
            secret(name, RELAY_USERNAME_KEY)
        },
    },
    Var {
        name: "RELAYPASSWORD",
        readers: &[Postfix],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let name = i.topology.egress.relay()?.credentials.as_ref()?;
            secret(name, RELAY_PASSWORD_KEY)
        },
    },
    // --- dovecot, rspamd, webmail, fetchmail ---------------------------------------------
    Var {
        name: "FULL_TEXT_SEARCH",
        readers: &[Dovecot, Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let langs = &i.config.mailu.full_text_search;
            text(if langs.is_empty() {
                "off".to_owned()
            } else {
                langs.join(",")
            })
        },
    },
    Var {
        name: "FULL_TEXT_SEARCH_ATTACHMENTS",
        // dovecot.conf tests the raw string.
        readers: &[Dovecot],
        required_by: &[],
        encoding: Encoding::Truthy,
        value: |i, _| i.topology.workload(Tika).and(flag(Encoding::Truthy, true)),
    },
    Var {
        name: "ANTIVIRUS",
        readers: &[Rspamd],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| i.topology.workload(Clamav).and(text("clamav")),
    },
    Var {
        name: "ANTIVIRUS_ACTION",
        readers: &[Rspamd],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let action = i.config.mailu.antivirus_action.as_str();
            i.topology.workload(Clamav).and(text(action))
        },
    },
    Var {
        name: "SCAN_MACROS",
        readers: &[Rspamd],
        required_by: &[],
        encoding: Encoding::MailuBool,
        value: |i, _| {
            i.topology
                .workload(Oletools)
                .and(flag(Encoding::MailuBool, true))
        },
    },
    Var {
        name: "ROUNDCUBE_PLUGINS",
        readers: &[Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let w = i.config.components.webmail.as_ref()?;
            w.roundcube_plugins.as_ref().and_then(|p| text(p.join(",")))
        },
    },
    Var {
        name: "ROUNDCUBE_DB_FLAVOR",
        readers: &[Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| roundcube_db(i).and(text("postgresql")),
    },
    Var {
        name: "ROUNDCUBE_DB_HOST",
        readers: &[Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| roundcube_db(i).and_then(|db| text(db_host(&db.host, db.port))),
    },
    Var {
        name: "ROUNDCUBE_DB_NAME",
        readers: &[Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| roundcube_db(i).and_then(|db| text(db.database.clone())),
    },
    Var {
        name: "ROUNDCUBE_DB_USER",
        readers: &[Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let c = &roundcube_db(i)?.credentials;
            secret(&c.secret_name, &c.username_key)
        },
    },
    Var {
        name: "ROUNDCUBE_DB_PW",
        readers: &[Webmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| {
            let c = &roundcube_db(i)?.credentials;
            secret(&c.secret_name, &c.password_key)
        },
    },
    Var {
        name: "FETCHMAIL_DELAY",
        readers: &[Fetchmail],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| text(i.config.mailu.fetchmail_delay_seconds.to_string()),
    },
    // --- where the components are (the base image presets compose's host names) ----------
    Var {
        name: "ADMIN_ADDRESS",
        // front nginx.conf and login.lua; postfix, dovecot, rspamd start.py (podop URLs,
        // health check); fetchmail.py lines 65 and 101.
        readers: &[Front, Postfix, Dovecot, Rspamd, Fetchmail],
        required_by: &[Front, Postfix, Dovecot, Rspamd, Fetchmail],
        encoding: Encoding::Text,
        value: |i, _| address(i, Admin),
    },
    Var {
        name: "FRONT_ADDRESS",
        // admin sends welcome mail over LMTP to front:2525 (models.py line 430).
        readers: &[Admin, Postfix, Dovecot, Webmail, Fetchmail],
        required_by: &[Admin, Postfix, Dovecot, Webmail, Fetchmail],
        encoding: Encoding::Text,
        value: |i, _| address(i, Front),
    },
    Var {
        name: "SMTP_ADDRESS",
        // admin's nginx auth answers name postfix (internal/nginx.py lines 152-156); front's
        // dovecot proxy submits to it.
        readers: &[Front, Admin],
        required_by: &[Front, Admin],
        encoding: Encoding::Text,
        value: |i, _| address(i, Postfix),
    },
    Var {
        name: "IMAP_ADDRESS",
        // admin's nginx auth answers name dovecot (internal/nginx.py lines 147-160).
        readers: &[Admin],
        required_by: &[Admin],
        encoding: Encoding::Text,
        value: |i, _| address(i, Dovecot),
    },
    Var {
        name: "ANTISPAM_ADDRESS",
        // front proxies the rspamd UI; postfix's milter; dovecot's spam/ham learning scripts.
        readers: &[Front, Postfix, Dovecot],
        required_by: &[Front, Postfix, Dovecot],
        encoding: Encoding::Text,
        value: |i, _| address(i, Rspamd),
    },
    Var {
        name: "ANTIVIRUS_ADDRESS",
        readers: &[Rspamd],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| address(i, Clamav),
    },
    Var {
        name: "OLETOOLS_ADDRESS",
        readers: &[Rspamd],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| address(i, Oletools),
    },
    Var {
        name: "FTS_ATTACHMENTS_ADDRESS",
        readers: &[Dovecot],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| address(i, Tika),
    },
    Var {
        name: "WEBMAIL_ADDRESS",
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| address(i, Webmail),
    },
    Var {
        name: "WEBDAV_ADDRESS",
        readers: &[Front],
        required_by: &[],
        encoding: Encoding::Text,
        value: |i, _| address(i, Webdav),
    },
    Var {
        name: "REDIS_ADDRESS",
        readers: &[Admin, Rspamd],
        required_by: &[Admin, Rspamd],
        encoding: Encoding::Text,
        value: |i, _| text(i.topology.redis.address()),
    },
];

/// Names of the files front reads its certificate from, as cert-manager and `kubectl create
/// secret tls` name them.
pub const TLS_CERT_FILE: &str = "tls.crt";
pub const TLS_KEY_FILE: &str = "tls.key";

fn postgresql<'a>(i: &Inputs<'a>) -> Option<&'a mailu_k8s_config::Postgresql> {
    match &i.config.database {
        Database::Postgresql(pg) => Some(pg),
        Database::Sqlite => None,
    }
}

fn initial<'a>(i: &Inputs<'a>) -> Option<&'a mailu_k8s_config::InitialAccount> {
    i.config.mailu.initial_account.as_ref()
}

fn roundcube_db<'a>(i: &Inputs<'a>) -> Option<&'a mailu_k8s_config::RoundcubeDatabase> {
    let w = i.config.components.webmail.as_ref()?;
    w.roundcube_database.as_ref()
}

/// The variable of that name.
pub fn var(name: &str) -> Option<&'static Var> {
    TABLE.iter().find(|v| v.name == name)
}

/// One variable as one running reader gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: &'static str,
    pub value: Value,
    /// Every running reader gets this same value: it can live in the shared ConfigMap.
    pub shared: bool,
}

/// Every running component's Mailu variables, from [`Topology::mailu_envs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailuEnvs(Vec<(Component, Vec<Assignment>)>);

impl MailuEnvs {
    /// What [`Topology::mailu_env`] gives `component`; nothing when it does not run.
    pub fn of(&self, component: Component) -> &[Assignment] {
        (self.0.iter())
            .find(|(c, _)| *c == component)
            .map_or(&[], |(_, env)| env.as_slice())
    }

    /// Every running component's variables, in the order the topology lists its workloads.
    pub fn all(&self) -> impl Iterator<Item = &Assignment> {
        self.0.iter().flat_map(|(_, env)| env)
    }
}

impl Topology {
    /// The Mailu variables `component` gets, in table order. A variable goes to the shared
    /// ConfigMap when at least two running components read it and all get the same text.
    pub fn mailu_env(&self, config: &Config, component: Component) -> Vec<Assignment> {
        let inputs = Inputs {
            config,
            topology: self,
        };
        TABLE
            .iter()
            .filter(|v| v.readers.contains(&component))
            .filter_map(|v| {
                let value = (v.value)(&inputs, component)?;
                Some(Assignment {
                    name: v.name,
                    shared: self.is_shared(&inputs, v, &value),
                    value,
                })
            })
            .collect()
    }

    /// [`Topology::mailu_env`] of every running component at once, each variable's value
    /// computed once per running reader: asked one component at a time, deciding whether a value
    /// is shared computes every other reader's value again, and the manifests need each
    /// component's environment three times (its container, its pods' checksum, the shared
    /// ConfigMap).
    pub fn mailu_envs(&self, config: &Config) -> MailuEnvs {
        let inputs = Inputs {
            config,
            topology: self,
        };
        let mut envs: Vec<(Component, Vec<Assignment>)> = self
            .workloads
            .iter()
            .map(|w| (w.component, Vec::new()))
            .collect();
        for v in TABLE {
            let values: Vec<(usize, Option<Value>)> = (envs.iter().enumerate())
                .filter(|(_, (c, _))| v.readers.contains(c))
                .map(|(i, (c, _))| (i, (v.value)(&inputs, *c)))
                .collect();
            // What `is_shared` asks of each reader's value: two or more running readers, all
            // with this same text.
            let shared = values.len() >= 2
                && values.iter().all(|(_, value)| {
                    matches!(value, Some(Value::Text(_))) && *value == values[0].1
                });
            for (i, value) in values {
                if let Some(value) = value {
                    envs[i].1.push(Assignment {
                        name: v.name,
                        value,
                        shared,
                    });
                }
            }
        }
        MailuEnvs(envs)
    }

    fn is_shared(&self, inputs: &Inputs, v: &Var, value: &Value) -> bool {
        if matches!(value, Value::Secret { .. }) {
            return false;
        }
        let running: Vec<Component> = v
            .readers
            .iter()
            .copied()
            .filter(|c| self.workload(*c).is_some())
            .collect();
        running.len() >= 2
            && running
                .iter()
                .all(|c| (v.value)(inputs, *c).as_ref() == Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal config with `extra` appended; `extra` may give its own `secrets`.
    fn topology(extra: &str) -> (Config, Topology) {
        let secrets = if extra.contains("secrets:") {
            ""
        } else {
            "secrets: {mailuSecretKey: k}\n"
        };
        let text = format!(
            "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\n{secrets}resolver: {{serviceIP: 10.43.0.53}}\n{extra}"
        );
        let loaded = mailu_k8s_config::load(text.as_bytes()).expect("valid config");
        let t = Topology::from_config(&loaded.config);
        (loaded.config, t)
    }

    fn get(env: &[Assignment], name: &str) -> Option<Value> {
        env.iter().find(|a| a.name == name).map(|a| a.value.clone())
    }

    fn text_of(env: &[Assignment], name: &str) -> Option<String> {
        match get(env, name)? {
            Value::Text(t) => Some(t),
            Value::Secret { .. } => None,
        }
    }

    #[test]
    fn names_are_unique_mailu_names_with_mailu_readers() {
        let mut names: Vec<&str> = TABLE.iter().map(|v| v.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a variable appears twice");
        for v in TABLE {
            assert!(
                mailu_k8s_config::mailu_env::is_mailu_env(v.name),
                "{}",
                v.name
            );
            assert!(!v.readers.is_empty(), "{}", v.name);
            for r in v.required_by {
                assert!(
                    v.readers.contains(r),
                    "{}: {r:?} requires but does not read",
                    v.name
                );
            }
            assert!(
                mailu_k8s_config::mailu_env::managed_by(v.name).is_some(),
                "{} is derived but extraEnv could set it again: add it to MANAGED_ENV",
                v.name
            );
        }
    }

    /// The class of bug behind WEB_ADMIN and POSTMASTER: a reader without a default must get
    /// a value in every configuration.
    #[test]
    fn every_required_variable_reaches_every_running_reader() {
        for extra in [
            "",
            "components: {webmail: true, webdav: true, clamav: true, oletools: true, tika: true, fetchmail: true}\n",
            "ingress: {type: traefik, traefik: {enableTcp: true}}\n",
            "tls: {flavor: notls, notlsIsForTestingOnly: true}\n",
        ] {
            let (config, t) = topology(extra);
            for v in TABLE {
                for r in v.required_by {
                    if t.workload(*r).is_none() {
                        continue;
                    }
                    let env = t.mailu_env(&config, *r);
                    let needs_value =
                        v.name != "PROXY_PROTOCOL" || t.exposure.proxy_protocol_env().is_some();
                    if needs_value {
                        assert!(
                            get(&env, v.name).is_some(),
                            "{} for {r:?} with {extra}",
                            v.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn booleans_are_written_the_way_each_reader_parses_them() {
        let (config, t) =
            topology("mailu: {rejectUnlistedRecipient: true, tlsPolicy: {deferOnError: false}}\n");
        let postfix = t.mailu_env(&config, Postfix);
        assert_eq!(
            text_of(&postfix, "REJECT_UNLISTED_RECIPIENT").as_deref(),
            Some("yes")
        );
        assert_eq!(text_of(&postfix, "DEFER_ON_TLS_ERROR").as_deref(), Some(""));
        let (config, t) = topology("mailu: {rejectUnlistedRecipient: false}\n");
        let postfix = t.mailu_env(&config, Postfix);
        assert_eq!(
            text_of(&postfix, "REJECT_UNLISTED_RECIPIENT").as_deref(),
            Some("no")
        );
    }

    #[test]
    fn secrets_reach_only_their_readers() {
        let (config, t) = topology(
            "components: {webmail: true, fetchmail: true}\nmailu: {apiEnabled: true}\nsecrets: {mailuSecretKey: k, apiToken: api}\n",
        );
        for w in &t.workloads {
            let env = t.mailu_env(&config, w.component);
            let has = |n: &str| get(&env, n).is_some();
            assert_eq!(
                has("SECRET_KEY"),
                matches!(w.component, Admin | Webmail),
                "{w:?}"
            );
            assert_eq!(has("API_TOKEN"), w.component == Admin, "{w:?}");
        }
    }

    #[test]
    fn webroot_redirect_and_paths_default_to_mailu_defaults() {
        let (config, t) = topology("");
        let front = t.mailu_env(&config, Front);
        assert_eq!(text_of(&front, "WEB_ADMIN").as_deref(), Some("/admin"));
        assert_eq!(
            text_of(&front, "WEBROOT_REDIRECT").as_deref(),
            Some("/admin")
        );
        assert_eq!(text_of(&front, "POSTMASTER").as_deref(), Some("postmaster"));
        let (config, t) = topology("components: {webmail: true}\n");
        let front = t.mailu_env(&config, Front);
        assert_eq!(
            text_of(&front, "WEBROOT_REDIRECT").as_deref(),
            Some("/webmail")
        );
    }

    /// Always written (issue 21): unset, front's config.py would read permissive anyway.
    #[test]
    fn tls_permissive_is_always_written() {
        let (config, t) = topology("");
        let front = t.mailu_env(&config, Front);
        assert_eq!(text_of(&front, "TLS_PERMISSIVE").as_deref(), Some("true"));
        let (config, t) = topology("mailu: {tlsPolicy: {permissivePort25: false}}\n");
        let front = t.mailu_env(&config, Front);
        assert_eq!(text_of(&front, "TLS_PERMISSIVE").as_deref(), Some("false"));
        assert_eq!(
            text_of(&t.mailu_env(&config, Admin), "TLS_PERMISSIVE"),
            None
        );
    }

    #[test]
    fn cpu_count_follows_the_cpu_limit() {
        let (config, t) = topology("resources: {front: {limits: {cpu: 1500m}}}\n");
        assert_eq!(
            text_of(&t.mailu_env(&config, Front), "CPU_COUNT").as_deref(),
            Some("2")
        );
        let (config, t) = topology("resources: {dovecot: {limits: {cpu: 100m}}}\n");
        assert_eq!(
            text_of(&t.mailu_env(&config, Dovecot), "CPU_COUNT").as_deref(),
            Some("1")
        );
        // No limit: the request, not the node's CPU count.
        let (config, t) =
            topology("resources: {front: {requests: {cpu: 2500m}, limits: {cpu: null}}}\n");
        assert_eq!(
            text_of(&t.mailu_env(&config, Front), "CPU_COUNT").as_deref(),
            Some("3")
        );
    }

    #[test]
    fn proxy_protocol_reaches_dovecot_and_fetchmail() {
        let (config, t) = topology(
            "ingress: {type: traefik, traefik: {enableTcp: true}}\ncomponents: {fetchmail: true}\n",
        );
        for c in [Front, Dovecot, Fetchmail] {
            assert!(
                get(&t.mailu_env(&config, c), "PROXY_PROTOCOL").is_some(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn a_value_is_shared_only_when_every_running_reader_gets_it() {
        let (config, t) = topology("workloads: {postfix: {logLevel: DEBUG}}\n");
        let postfix = t.mailu_env(&config, Postfix);
        let level = postfix
            .iter()
            .find(|a| a.name == "LOG_LEVEL")
            .expect("LOG_LEVEL");
        assert!(!level.shared);
        let domain = postfix.iter().find(|a| a.name == "DOMAIN").expect("DOMAIN");
        assert!(domain.shared);
        let relay = t.mailu_env(&config, Admin);
        assert!(
            relay
                .iter()
                .filter(|a| a.name == "MAILU_HELM_CHART")
                .all(|a| !a.shared)
        );
    }

    /// The one-pass form the manifests use gives every running component what asking for it
    /// alone gives, sharing included.
    #[test]
    fn every_environment_at_once_is_each_alone() {
        for extra in [
            "",
            "components: {webmail: true, webdav: true, clamav: true, oletools: true, tika: true, fetchmail: true}\n",
            "ingress: {type: traefik, traefik: {enableTcp: true}}\n",
            "workloads: {postfix: {logLevel: DEBUG}}\n",
            "resources: {front: {limits: {cpu: 1500m}}}\n",
        ] {
            let (config, t) = topology(extra);
            let envs = t.mailu_envs(&config);
            for w in &t.workloads {
                assert_eq!(
                    envs.of(w.component),
                    t.mailu_env(&config, w.component),
                    "{extra}"
                );
            }
            assert_eq!(
                envs.all().count(),
                (t.workloads.iter())
                    .map(|w| t.mailu_env(&config, w.component).len())
                    .sum::<usize>()
            );
        }
    }
}
