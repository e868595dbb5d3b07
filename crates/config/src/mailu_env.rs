//! Every environment variable Mailu 2024.06.52 reads, by name. A Mailu container ignores any
//! other name, so `extraEnv` is checked against this list. Kept in step with the project's
//! reference (`shared/reference/mailu-2024.06-env.json`) by a test.

/// Sorted, so lookups can binary-search.
pub const MAILU_ENV: &[&str] = &[
    "ADMIN",
    "ADMIN_ADDRESS",
    "ANTISPAM_ADDRESS",
    "ANTIVIRUS",
    "ANTIVIRUS_ACTION",
    "ANTIVIRUS_ADDRESS",
    "API",
    "API_TOKEN",
    "AUTH_RATELIMIT_EXEMPTION",
    "AUTH_RATELIMIT_EXEMPTION_LENGTH",
    "AUTH_RATELIMIT_IP",
    "AUTH_RATELIMIT_IP_V4_MASK",
    "AUTH_RATELIMIT_IP_V6_MASK",
    "AUTH_RATELIMIT_USER",
    "AUTH_REQUIRE_TOKENS",
    "BABEL_DEFAULT_LOCALE",
    "BABEL_DEFAULT_TIMEZONE",
    "BOOTSTRAP_SERVE_LOCAL",
    "COMPRESSION",
    "COMPRESSION_LEVEL",
    "CPU_COUNT",
    "CREDENTIAL_ROUNDS",
    "DB_FLAVOR",
    "DB_HOST",
    "DB_NAME",
    "DB_PW",
    "DB_USER",
    "DEBUG",
    "DEBUG_ASSETS",
    "DEBUG_PROFILER",
    "DEBUG_TB_INTERCEPT_REDIRECTS",
    "DEFAULT_QUOTA",
    "DEFAULT_SPAM_THRESHOLD",
    "DEFER_ON_TLS_ERROR",
    "DISABLE_STATISTICS",
    "DKIM_PATH",
    "DKIM_SELECTOR",
    "DMARC_RUA",
    "DMARC_RUF",
    "DOCKER_SOCKET",
    "DOMAIN",
    "DOMAIN_REGISTRATION",
    "FETCHMAIL_DELAY",
    "FETCHMAIL_ENABLED",
    "FRONT_ADDRESS",
    "FTS_ATTACHMENTS_ADDRESS",
    "FULL_TEXT_SEARCH",
    "FULL_TEXT_SEARCH_ATTACHMENTS",
    "HOSTNAMES",
    "IMAP_ADDRESS",
    "INBOUND_TLS_ENFORCE",
    "INITIAL_ADMIN_ACCOUNT",
    "INITIAL_ADMIN_DOMAIN",
    "INITIAL_ADMIN_MODE",
    "INITIAL_ADMIN_PW",
    "INSTANCE_ID_PATH",
    "I_KNOW_MY_SETUP_DOESNT_FIT_REQUIREMENTS_AND_WONT_FILE_ISSUES_WITHOUT_PATCHES",
    "LD_PRELOAD",
    "LETSENCRYPT_SHORTCHAIN",
    "LOGO_BACKGROUND",
    "LOGO_URL",
    "LOG_LEVEL",
    "MAILU_HELM_CHART",
    "MAILU_VERSION",
    "MEMORY_SESSIONS",
    "MESSAGE_RATELIMIT",
    "MESSAGE_RATELIMIT_EXEMPTION",
    "MESSAGE_SIZE_LIMIT",
    "OLETOOLS_ADDRESS",
    "OUTBOUND_TLS_LEVEL",
    "PERMANENT_SESSION_LIFETIME",
    "PORTS",
    "POSTFIX_LOG_FILE",
    "POSTMASTER",
    "PROXY_AUTH_CREATE",
    "PROXY_AUTH_HEADER",
    "PROXY_AUTH_LOGOUT_URL",
    "PROXY_AUTH_WHITELIST",
    "PROXY_PROTOCOL",
    "RATELIMIT_STORAGE_URL",
    "REAL_IP_FROM",
    "REAL_IP_HEADER",
    "RECAPTCHA_PRIVATE_KEY",
    "RECAPTCHA_PUBLIC_KEY",
    "RECIPIENT_DELIMITER",
    "REDIS_ADDRESS",
    "REJECT_UNLISTED_RECIPIENT",
    "RELAYHOST",
    "RELAYNETS",
    "RELAYPASSWORD",
    "RELAYUSER",
    "ROUNDCUBE_DB_FLAVOR",
    "ROUNDCUBE_DB_HOST",
    "ROUNDCUBE_DB_NAME",
    "ROUNDCUBE_DB_PW",
    "ROUNDCUBE_DB_USER",
    "ROUNDCUBE_PLUGINS",
    "SCAN_MACROS",
    "SECRET_KEY",
    "SESSION_COOKIE_SECURE",
    "SESSION_KEY_BITS",
    "SESSION_TIMEOUT",
    "SITENAME",
    "SMTP_ADDRESS",
    "SQLALCHEMY_DATABASE_URI",
    "SQLALCHEMY_DATABASE_URI_ROUNDCUBE",
    "SQLALCHEMY_TRACK_MODIFICATIONS",
    "SQLITE_DATABASE_FILE",
    "STATS_ENDPOINT",
    "SUBNET",
    "SUBNET6",
    "TEMPLATES_AUTO_RELOAD",
    "TLS",
    "TLS_CERT_FILENAME",
    "TLS_FLAVOR",
    "TLS_KEYPAIR_FILENAME",
    "TLS_PERMISSIVE",
    "TZ",
    "WEBDAV",
    "WEBDAV_ADDRESS",
    "WEBMAIL",
    "WEBMAIL_ADDRESS",
    "WEBROOT_REDIRECT",
    "WEBSITE",
    "WEB_ADMIN",
    "WEB_API",
    "WEB_WEBMAIL",
    "WELCOME",
    "WELCOME_BODY",
    "WELCOME_SUBJECT",
    "WILDCARD_SENDERS",
];

/// Whether Mailu reads `name`.
pub fn is_mailu_env(name: &str) -> bool {
    MAILU_ENV.binary_search(&name).is_ok()
}

/// Variables mailu-k8s derives from the config. Setting one through `extraEnv` would create a
/// second source of truth, so it is refused with a pointer to the config key.
pub const MANAGED_ENV: &[(&str, &str)] = &[
    ("ADMIN", "always on"),
    ("ADMIN_ADDRESS", "derived from the topology"),
    ("ANTISPAM_ADDRESS", "derived from the topology"),
    ("ANTIVIRUS", "components.clamav"),
    ("ANTIVIRUS_ACTION", "mailu.antivirusAction"),
    ("ANTIVIRUS_ADDRESS", "derived from the topology"),
    ("API", "mailu.apiEnabled"),
    ("API_TOKEN", "secrets.apiToken"),
    ("AUTH_RATELIMIT_IP", "mailu.rateLimits.authIp"),
    ("AUTH_RATELIMIT_USER", "mailu.rateLimits.authUser"),
    ("CPU_COUNT", "resources.<component>.limits.cpu"),
    ("DB_FLAVOR", "database"),
    ("DB_HOST", "database.postgresql.host"),
    ("DB_NAME", "database.postgresql.database"),
    ("DB_PW", "database.postgresql.secretName"),
    ("DB_USER", "database.postgresql.secretName"),
    ("DEFAULT_QUOTA", "mailu.defaultQuota"),
    ("DEFAULT_SPAM_THRESHOLD", "mailu.defaultSpamThreshold"),
    ("DEFER_ON_TLS_ERROR", "mailu.tlsPolicy.deferOnError"),
    ("DKIM_SELECTOR", "dns.dkim.selector"),
    ("DMARC_RUA", "dns.dmarc.rua (or mailu.dmarc.rua)"),
    ("DMARC_RUF", "dns.dmarc.ruf (or mailu.dmarc.ruf)"),
    ("DOMAIN", "domain"),
    ("FETCHMAIL_DELAY", "mailu.fetchmailDelay"),
    ("FETCHMAIL_ENABLED", "components.fetchmail"),
    ("FRONT_ADDRESS", "derived from the topology"),
    ("FTS_ATTACHMENTS_ADDRESS", "derived from the topology"),
    ("FULL_TEXT_SEARCH", "mailu.fullTextSearch"),
    ("FULL_TEXT_SEARCH_ATTACHMENTS", "components.tika"),
    ("HOSTNAMES", "hostnames"),
    ("IMAP_ADDRESS", "derived from the topology"),
    ("INBOUND_TLS_ENFORCE", "mailu.tlsPolicy.inboundEnforce"),
    ("INITIAL_ADMIN_ACCOUNT", "mailu.initialAccount.username"),
    ("INITIAL_ADMIN_DOMAIN", "mailu.initialAccount.domain"),
    ("INITIAL_ADMIN_MODE", "mailu.initialAccount.mode"),
    ("INITIAL_ADMIN_PW", "secrets.initialAdminPassword"),
    ("LOGO_BACKGROUND", "mailu.branding.logoBackground"),
    ("LOGO_URL", "mailu.branding.logoUrl"),
    (
        "LOG_LEVEL",
        "mailu.logLevel or workloads.<component>.logLevel",
    ),
    ("MAILU_HELM_CHART", "always set"),
    ("MESSAGE_RATELIMIT", "mailu.rateLimits.message"),
    ("MESSAGE_SIZE_LIMIT", "mailu.messageSizeLimit"),
    ("OLETOOLS_ADDRESS", "derived from the topology"),
    ("OUTBOUND_TLS_LEVEL", "mailu.tlsPolicy.outboundLevel"),
    ("PORTS", "exposure.ports"),
    ("POSTMASTER", "mailu.postmaster"),
    ("PROXY_PROTOCOL", "ingress and exposure"),
    ("REAL_IP_FROM", "exposure.realIpFrom"),
    ("REAL_IP_HEADER", "exposure.realIpHeader"),
    ("RECIPIENT_DELIMITER", "mailu.recipientDelimiter"),
    ("REDIS_ADDRESS", "redis"),
    ("REJECT_UNLISTED_RECIPIENT", "mailu.rejectUnlistedRecipient"),
    ("RELAYHOST", "egress.relay"),
    ("RELAYNETS", "mailu.relayNets"),
    ("RELAYPASSWORD", "egress.relay.secretName"),
    ("RELAYUSER", "egress.relay.secretName"),
    ("ROUNDCUBE_DB_FLAVOR", "webmail.roundcubeDatabase"),
    ("ROUNDCUBE_DB_HOST", "webmail.roundcubeDatabase.host"),
    ("ROUNDCUBE_DB_NAME", "webmail.roundcubeDatabase.database"),
    ("ROUNDCUBE_DB_PW", "webmail.roundcubeDatabase.secretName"),
    ("ROUNDCUBE_DB_USER", "webmail.roundcubeDatabase.secretName"),
    ("ROUNDCUBE_PLUGINS", "webmail.roundcubePlugins"),
    ("SCAN_MACROS", "components.oletools"),
    ("SECRET_KEY", "secrets.mailuSecretKey"),
    ("SITENAME", "mailu.branding.siteName"),
    ("SMTP_ADDRESS", "derived from the topology"),
    ("SUBNET", "subnet"),
    ("SUBNET6", "subnet6"),
    ("TLS_CERT_FILENAME", "tls"),
    ("TLS_FLAVOR", "tls.flavor"),
    ("TLS_KEYPAIR_FILENAME", "tls"),
    ("TLS_PERMISSIVE", "mailu.tlsPolicy.permissivePort25"),
    ("TZ", "timezone"),
    ("WEBDAV", "components.webdav"),
    ("WEB_ADMIN", "mailu.webPaths.admin"),
    ("WEB_API", "mailu.webPaths.api"),
    ("WEB_WEBMAIL", "mailu.webPaths.webmail"),
    ("WEBDAV_ADDRESS", "derived from the topology"),
    ("WEBMAIL", "components.webmail and mailu.webmailType"),
    ("WEBMAIL_ADDRESS", "derived from the topology"),
    (
        "WEBROOT_REDIRECT",
        "mailu.webPaths (webmail's path, else admin's)",
    ),
    ("WEBSITE", "mailu.branding.website"),
    ("WELCOME", "mailu.welcome"),
    ("WELCOME_BODY", "mailu.welcome.body"),
    ("WELCOME_SUBJECT", "mailu.welcome.subject"),
];

/// Names other deployers set that Mailu 2024.06 never reads, with what to do instead.
pub fn known_mistake(name: &str) -> Option<&'static str> {
    Some(match name {
        "TIMEZONE" => "Mailu reads `TZ`; set `timezone`",
        "INITIAL_ADMIN_PASSWORD" => {
            "Mailu reads `INITIAL_ADMIN_PW`; set `secrets.initialAdminPassword`"
        }
        "SUBMISSION_ADDRESS" => "Mailu has no submission service; front handles submission",
        "KUBERNETES_INGRESS" => "Mailu does not read it; configure `ingress` and `tls.flavor`",
        "QUOTA_STORAGE_URL" => "Mailu 2024.06 keeps quotas in dovecot; remove it",
        "DB_APPENDIX" => "Mailu 2024.06 does not read it; remove it",
        n if n.starts_with("POSTFIX_") => {
            "postfix settings go into `workloads.postfix.overrides` (`postfix.cf`), not env"
        }
        _ => return None,
    })
}

/// Values that, given through `extraEnv`, hand Mailu's trust to the wrong party or put a
/// secret in plain text: `(message, hint)`. Read from admin's `configuration.py` and front's
/// `config.py` at 2024.06.57.
pub fn dangerous(name: &str, value: &str) -> Option<(String, String)> {
    let lower = value.trim().to_ascii_lowercase();
    let truthy = matches!(lower.as_str(), "true" | "yes" | "1" | "on");
    let falsy = matches!(lower.as_str(), "false" | "no" | "0" | "off");
    let everyone = value
        .split(',')
        .map(str::trim)
        .any(|c| c.ends_with("/0") || crate::rules::check_private_cidr(c).is_err());
    let (message, hint) = match name {
        "PROXY_AUTH_WHITELIST" | "PROXY_AUTH_HEADER" | "PROXY_AUTH_CREATE" => (
            format!("`{name}` lets a request carrying a header log in as any user"),
            "header-based single sign-on trusts everything that reaches admin; mailu-k8s does not \
             support it",
        ),
        "AUTH_RATELIMIT_EXEMPTION" if everyone => (
            "exempts public or all addresses from the login rate limit".to_owned(),
            "list only private networks of trusted clients, or use `mailu.rateLimits`",
        ),
        "DEBUG" if truthy => (
            "Flask's debug mode shows internals (and secrets) on error pages".to_owned(),
            "remove it; raise `logLevel` instead",
        ),
        "SESSION_COOKIE_SECURE" if falsy => (
            "sends admin and webmail session cookies over plain HTTP".to_owned(),
            "remove it: Mailu sets it from the TLS flavor",
        ),
        _ if is_secret_name(name) || (name == "SQLALCHEMY_DATABASE_URI" && value.contains('@')) => {
            (
                format!("`{name}` holds a secret, which would be written into the manifests"),
                "keep secrets out of the config: reference a Secret with \
             `{secretKeyRef: {name: SECRET, key: KEY}}` (or use the `secrets`, `database` or \
             `egress.relay` keys)",
            )
        }
        _ => return None,
    };
    Some((message, hint.to_owned()))
}

/// Names that carry secrets by Mailu's conventions.
fn is_secret_name(name: &str) -> bool {
    name != "RECAPTCHA_PUBLIC_KEY"
        && ["_PASSWORD", "_PW", "_KEY", "_TOKEN", "_SECRET"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// The config key that sets a managed variable, if it is one.
pub fn managed_by(name: &str) -> Option<&'static str> {
    MANAGED_ENV
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, key)| *key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_managed_names_are_mailu_names() {
        assert!(MAILU_ENV.windows(2).all(|w| w[0] < w[1]));
        for (name, _) in MANAGED_ENV {
            assert!(is_mailu_env(name), "{name}");
        }
    }

    #[test]
    fn matches_the_reference_when_present() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/mailu-2024.06-env.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            // Upstream data is not ours to commit: without ../shared this check cannot run.
            eprintln!(
                "SKIPPED: {} is missing (../shared/reference)",
                path.display()
            );
            return;
        };
        let doc: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
        let mut names: Vec<&str> = doc["variables"]
            .as_array()
            .expect("variables")
            .iter()
            .map(|v| v["name"].as_str().expect("name"))
            .collect();
        names.sort_unstable();
        assert_eq!(names, MAILU_ENV);
    }
}
