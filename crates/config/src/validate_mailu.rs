//! `mailu`: the initial account, the API and Mailu's own settings, with the Secrets they need.

use std::collections::BTreeMap;

use crate::check::Checker;
use crate::diagnostic::Code;
use crate::file::{self, ConfigFile};
use crate::model::*;
use crate::rules;

/// Validates `mailu` and the `secrets` its features need. `domain` is `None` when invalid
/// (reported elsewhere).
pub(crate) fn validate_mailu(
    c: &mut Checker,
    file: &ConfigFile,
    domain: Option<&DnsName>,
) -> Option<Mailu> {
    let m = &file.mailu;
    let initial_account = initial_account(c, file, domain);
    let api = api(c, file);
    let default_quota_bytes = c.field("mailu", |c| validate_mailu_settings(c, m));
    Some(Mailu {
        log_level: m.log_level,
        message_size_limit_mb: m.message_size_limit.get(),
        initial_account: initial_account?,
        api: api?,
        full_text_search: m.full_text_search.clone(),
        antivirus_action: m.antivirus_action,
        fetchmail_delay_seconds: m.fetchmail_delay.get(),
        rate_limits: m.rate_limits.clone(),
        recipient_delimiter: m.recipient_delimiter.clone(),
        postmaster: m.postmaster.as_ref().map(|p| p.raw().to_owned()),
        dmarc: m.dmarc.clone(),
        welcome: m.welcome.clone(),
        default_spam_threshold: m.default_spam_threshold,
        tls_policy: m.tls_policy.clone(),
        reject_unlisted_recipient: m.reject_unlisted_recipient,
        branding: m.branding.clone(),
        web_paths: m.web_paths.clone(),
        relay_nets: m.relay_nets.iter().map(|n| n.raw().to_owned()).collect(),
        default_quota_bytes: default_quota_bytes?,
    })
}

/// `mailu.initialAccount`: when enabled, a valid username and domain and the password's Secret.
/// `Some(None)` when off, `None` after a finding.
fn initial_account(
    c: &mut Checker,
    file: &ConfigFile,
    domain: Option<&DnsName>,
) -> Option<Option<InitialAccount>> {
    let password_secret = &file.secrets.initial_admin_password;
    let Some(a) = file.mailu.initial_account.as_ref().filter(|a| a.enabled) else {
        if let Some(name) = password_secret {
            c.field("secrets", |c| c.object_name("initialAdminPassword", name));
        }
        return Some(None);
    };
    let (username, account_domain) = c.field("mailu", |c| {
        c.field("initialAccount", |c| {
            let username = c
                .leaf_field("username", Code::InvalidValue, &a.username)
                .map(String::from);
            let account_domain = match &a.domain {
                Some(d) => c
                    .leaf_field("domain", Code::InvalidDnsName, d)
                    .map(DnsName::from),
                None => domain.cloned(),
            };
            (username, account_domain)
        })
    });
    let password = c.field("secrets", |c| match password_secret {
        Some(name) => c.object_name("initialAdminPassword", name),
        None => {
            c.field("initialAdminPassword", |c| {
                c.error(
                    Code::MissingDependency,
                    "`mailu.initialAccount.enabled` needs the Secret holding the admin password",
                    "create a Secret with key `password` and name it in `secrets.initialAdminPassword`",
                );
            });
            None
        }
    });
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

/// `mailu.apiEnabled`: needs the Secret holding the API token. `Some(None)` when off, `None` after
/// a finding.
fn api(c: &mut Checker, file: &ConfigFile) -> Option<Option<Api>> {
    let token = &file.secrets.api_token;
    c.field("secrets", |c| {
        if !file.mailu.api_enabled {
            if let Some(name) = token {
                c.object_name("apiToken", name);
            }
            return Some(None);
        }
        let Some(name) = token else {
            c.field("apiToken", |c| {
                c.error(
                    Code::MissingDependency,
                    "`mailu.apiEnabled` needs the Secret holding the API token",
                    "create a Secret with key `api-token` and name it in `secrets.apiToken`",
                );
            });
            return None;
        };
        let name = c.object_name("apiToken", name)?;
        Some(Some(Api {
            token: SecretRef {
                name,
                key: secret_keys::API_TOKEN,
            },
        }))
    })
}

/// Mailu's own settings (at `mailu`); the default quota in bytes, `None` after a finding.
fn validate_mailu_settings(c: &mut Checker, m: &file::MailuFile) -> Option<Option<u64>> {
    c.field("fullTextSearch", |c| check_full_text_search(c, m));
    c.field("relayNets", |c| check_relay_nets(c, m));
    c.field("rateLimits", |c| check_rate_limits(c, m));
    check_recipient_delimiter(c, m);
    check_local_parts(c, m);
    check_welcome(c, m);
    let default_quota_bytes = default_quota_bytes(c, m);
    c.field("branding", |c| check_branding(c, &m.branding));
    c.field("webPaths", |c| check_web_paths(c, &m.web_paths));
    default_quota_bytes
}

/// `mailu.fullTextSearch`: two-letter language codes.
fn check_full_text_search(c: &mut Checker, m: &file::MailuFile) {
    for (i, lang) in m.full_text_search.iter().enumerate() {
        if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
            c.index(i, |c| {
                c.error(
                    Code::InvalidValue,
                    format!("`{lang}` is not a language code"),
                    "use two-letter ISO 639-1 codes such as `en`, `de`, `fr`; an empty list turns full-text search off",
                )
                .value(lang)
            });
        }
    }
}

/// `mailu.relayNets`: private CIDRs.
fn check_relay_nets(c: &mut Checker, m: &file::MailuFile) {
    for (i, net) in m.relay_nets.iter().enumerate() {
        // postfix relays for these without authentication (`mynetworks`, main.cf line 18).
        c.index(i, |c| c.private_cidr(net));
    }
}

/// `mailu.rateLimits`: Mailu's rate-limit syntax.
fn check_rate_limits(c: &mut Checker, m: &file::MailuFile) {
    for (key, value) in [
        ("message", &m.rate_limits.message),
        ("authIp", &m.rate_limits.auth_ip),
        ("authUser", &m.rate_limits.auth_user),
    ] {
        if let Some(v) = value {
            c.check_field(key, Code::InvalidValue, v, rules::check_rate_limit);
        }
    }
}

/// `mailu.recipientDelimiter`: a few of the characters postfix accepts.
fn check_recipient_delimiter(c: &mut Checker, m: &file::MailuFile) {
    if let Some(d) = &m.recipient_delimiter
        && (d.is_empty() || d.len() > 4 || !d.chars().all(|ch| "+-_.=#".contains(ch)))
    {
        c.field("recipientDelimiter", |c| {
            c.error(
                Code::InvalidValue,
                "not a recipient delimiter",
                "use one or a few of `+ - _ . = #`, typically `+`",
            )
            .value(d)
        });
    }
}

/// `mailu.postmaster` and the older `mailu.dmarc` addresses: local parts.
fn check_local_parts(c: &mut Checker, m: &file::MailuFile) {
    if let Some(v) = &m.postmaster {
        c.leaf_field("postmaster", Code::InvalidValue, v);
    }
    c.field("dmarc", |c| {
        for (key, value) in [("rua", &m.dmarc.rua), ("ruf", &m.dmarc.ruf)] {
            if let Some(v) = value {
                c.check_field(key, Code::InvalidValue, v, rules::check_local_part);
            }
        }
    });
}

/// `mailu.welcome`: a subject and a body.
fn check_welcome(c: &mut Checker, m: &file::MailuFile) {
    let Some(w) = &m.welcome else {
        return;
    };
    c.field("welcome", |c| {
        for (key, v) in [("subject", &w.subject), ("body", &w.body)] {
            if v.trim().is_empty() {
                c.field(key, |c| {
                    c.error(
                        Code::InvalidValue,
                        "the welcome message needs a subject and a body",
                        "write the text, or remove `mailu.welcome`",
                    );
                });
            }
        }
    });
}

/// `mailu.branding`: XML-safe site name, a CSS hex colour, http(s) URLs.
fn check_branding(c: &mut Checker, b: &Branding) {
    if let Some(name) = &b.site_name {
        c.check_field("siteName", Code::InvalidValue, name, rules::check_xml_text);
    }
    if let Some(bg) = &b.logo_background
        && !(bg.starts_with('#')
            && matches!(bg.len(), 4 | 7)
            && bg[1..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        c.field("logoBackground", |c| {
            c.error(Code::InvalidValue, "not a CSS hex colour", "e.g. `#2b2b2b`")
                .value(bg)
        });
    }
    for (key, url) in [("website", &b.website), ("logoUrl", &b.logo_url)] {
        if let Some(u) = url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            c.field(key, |c| {
                c.error(
                    Code::InvalidValue,
                    "not an http(s) URL",
                    "write the full URL, e.g. `https://example.com/logo.png`",
                )
                .value(u)
            });
        }
    }
}

/// `mailu.webPaths`: paths front can serve, each its own.
fn check_web_paths(c: &mut Checker, w: &WebPaths) {
    let mut seen_paths = BTreeMap::new();
    for (key, path) in [
        ("admin", &w.admin),
        ("webmail", &w.webmail),
        ("api", &w.api),
    ] {
        let Some(p) = path else { continue };
        c.field(key, |c| {
            if !is_web_path(key, p) {
                c.error(
                    Code::InvalidValue,
                    format!("`{p}` is not a URL path front can serve"),
                    "start with `/`, no trailing `/`, letters, digits, `-`, `_`, `.`, e.g. `/mail`",
                )
                .value(p);
            } else if let Some(other) = seen_paths.insert(p.clone(), key) {
                c.error(
                    Code::InvalidValue,
                    format!("`{p}` is also the {other} path"),
                    "give each web UI its own path",
                )
                .value(p);
            }
        });
    }
}

/// A path front can serve the web UI `key` at.
fn is_web_path(key: &str, p: &str) -> bool {
    // Webmail may take the whole site: front's nginx.conf serves it at `/` then
    // (lines 191, 204, 214 test `WEB_WEBMAIL != '/'`).
    let whole_site = key == "webmail" && p == "/";
    whole_site
        || p.len() > 1
            && p.starts_with('/')
            && !p.ends_with('/')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
}

/// `mailu.defaultQuota`: a whole number of bytes below 2^63; `Some(None)` when not given,
/// `None` after a finding.
fn default_quota_bytes(c: &mut Checker, m: &file::MailuFile) -> Option<Option<u64>> {
    let Some(q) = &m.default_quota else {
        return Some(None);
    };
    c.field("defaultQuota", |c| {
        let q = c.check(Code::InvalidQuantity, q, Quantity::parse)?;
        // Stored in a signed 64-bit database column; larger values would saturate.
        if q.value() >= 2f64.powi(63) {
            c.error(
                Code::OutOfRange,
                "larger than any mailbox can be (2^63 bytes)",
                "e.g. `1G` or `50Gi`",
            )
            .value(q.as_str());
            None
        } else if q.value() < 1.0 || q.value().fract() != 0.0 {
            c.error(
                Code::InvalidQuantity,
                "a quota is a whole number of bytes",
                "e.g. `1G` or `5Gi`",
            )
            .value(q.as_str());
            None
        } else {
            Some(Some(q.value() as u64))
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::finding_paths as paths;

    /// An invalid initial account stops neither the API's checks nor the other settings'.
    #[test]
    fn an_invalid_initial_account_hides_no_other_finding() {
        let paths = paths(
            "mailu: {initialAccount: {enabled: true, username: 'bad user'}, apiEnabled: true, \
             recipientDelimiter: xx}\n",
        );
        for path in [
            "mailu.initialAccount.username",
            "secrets.apiToken",
            "mailu.recipientDelimiter",
        ] {
            assert!(paths.contains(&path.to_owned()), "{path}: {paths:?}");
        }
    }
}
