"""Who reads which Mailu variable: our own reading of Mailu 2024.06.57's programs.

This table is an independent cross-check of the Rust code's table (crates/config/src/mailu_env.rs):
it was built from the upstream source (`git show 2024.06.57:<path>` in Mailu/Mailu), never from the
Rust code. Citations are <path>:<line> at that tag.

Template reads are not listed here by hand: they are taken from the templates themselves
(`render.referenced_names` over each component's template files, see TEMPLATES), with the names
socrate derives mapped back to their inputs (DERIVED).
"""
from __future__ import annotations

import re

# Template files each component renders (paths in the Mailu tree; see mailu.py for the order).
TEMPLATES = {
    "front": [
        "core/nginx/conf/nginx.conf", "core/nginx/conf/tls.conf", "core/nginx/conf/proxy.conf",
        "core/nginx/dovecot/proxy.conf", "core/nginx/dovecot/login.lua",
    ],
    "postfix": [
        "core/postfix/conf/main.cf", "core/postfix/conf/master.cf",
        "core/postfix/conf/outclean_header_filter.cf", "core/postfix/conf/mta-sts-daemon.yml",
        "core/postfix/conf/sasl_passwd", "core/postfix/conf/logrotate.conf",
    ],
    "dovecot": [
        "core/dovecot/conf/dovecot.conf", "core/dovecot/conf/auth.conf",
        "core/dovecot/conf/ham.script", "core/dovecot/conf/spam.script",
    ],
    "rspamd": ["core/rspamd/conf/*"],
    "webmail": [
        "webmails/snuffleupagus.rules", "webmails/roundcube/config/config.inc.php",
        "webmails/snappymail/defaults/default.json", "webmails/snappymail/defaults/application.ini",
        "webmails/php.ini", "webmails/nginx-webmail.conf",
    ],
}

# Names the containers compute; a template reading one of them reads the input on the right.
DERIVED = [
    (re.compile(r"^PORT_\d+$"), ("PORTS", "TLS_FLAVOR")),  # socrate system.py:133-138
    (re.compile(r"^TLS_\d+$"), ("TLS", "TLS_FLAVOR")),  # system.py:140-143
    (re.compile(r"^PROXY_PROTOCOL_\d+$"), ("PROXY_PROTOCOL",)),  # system.py:119-127
    (re.compile(r"^CPU_COUNT$"), ("CPU_COUNT",)),  # system.py:144-145 (defaults to the node's)
    (re.compile(r"^(ROUNDCUBE|SNUFFLEUPAGUS|SECRET)_KEY$"), ("SECRET_KEY",)),  # system.py:100-101
    # front config.py:71,76-84,131; webmail start.py:20-65: computed, no input of that name.
    (re.compile(r"^(RESOLVER|TLS|TLS_ERROR|DB_DSNW|PLUGINS|INCLUDES|MAX_FILESIZE)$"), ()),
]


def inputs_of(template_name: str) -> tuple[str, ...]:
    for pattern, inputs in DERIVED:
        if pattern.match(template_name):
            return inputs
    return (template_name,)


# socrate: every image whose start script calls system.set_env() reads these
# (core/base/libs/socrate/socrate/system.py:82 LOG_LEVEL, :85 LD_PRELOAD).
SOCRATE_COMMON = {
    "LOG_LEVEL": "socrate system.py:82",
    "LD_PRELOAD": "socrate system.py:85",
    "TZ": "libc/Python of every image (local time of logs)",
}

# Variables read by start scripts and programs (not templates), per component.
SCRIPT_READERS: dict[str, dict[str, str]] = {
    "front": {
        "TLS_FLAVOR": "core/nginx/start.py:15,17; config.py:84,123",
        "HOSTNAMES": "core/nginx/letsencrypt.py:11,50",
        "POSTMASTER": "core/nginx/letsencrypt.py:17,32",
        "DOMAIN": "core/nginx/letsencrypt.py:17,32",
        "TLS_PERMISSIVE": "core/nginx/config.py:65,133",
        "TLS_CERT_FILENAME": "core/nginx/config.py:74; certwatcher.py:62",
        "TLS_KEYPAIR_FILENAME": "core/nginx/config.py:75; certwatcher.py:64",
        "LETSENCRYPT_SHORTCHAIN": "core/nginx/config.py:86",
        "PORTS": "socrate system.py:135 (PORT_<n> for the templates)",
        "TLS": "socrate system.py:141 (TLS_<n> for the templates)",
        "PROXY_PROTOCOL": "socrate system.py:119 (PROXY_PROTOCOL_<n> for the templates)",
        "CPU_COUNT": "core/nginx/dovecot/proxy.conf (process_limit)",
        **SOCRATE_COMMON,
    },
    "postfix": {
        "ADMIN_ADDRESS": "core/postfix/start.py:24",
        "DEFER_ON_TLS_ERROR": "core/postfix/start.py:49",
        "RELAYNETS": "core/postfix/start.py:52-53",
        "RELAYUSER": "core/postfix/start.py:84",
        "POSTFIX_LOG_FILE": "core/postfix/start.py:90",
        **SOCRATE_COMMON,
    },
    "dovecot": {
        "ADMIN_ADDRESS": "core/dovecot/start.py:16",
        **SOCRATE_COMMON,
    },
    "rspamd": {
        "ADMIN_ADDRESS": "core/rspamd/start.py:27",
        **SOCRATE_COMMON,
    },
    "webmail": {
        "SECRET_KEY": "webmails/start.py:14 (set_env(['ROUNDCUBE','SNUFFLEUPAGUS']) derives keys, socrate system.py:97,101)",
        "MESSAGE_SIZE_LIMIT": "webmails/start.py:20",
        "SQLALCHEMY_DATABASE_URI_ROUNDCUBE": "webmails/start.py:28",
        "ROUNDCUBE_DB_FLAVOR": "webmails/start.py:29",
        "ROUNDCUBE_DB_USER": "webmails/start.py:34,41",
        "ROUNDCUBE_DB_PW": "webmails/start.py:35,42",
        "ROUNDCUBE_DB_HOST": "webmails/start.py:36,43",
        "ROUNDCUBE_DB_NAME": "webmails/start.py:37,44",
        "ROUNDCUBE_PLUGINS": "webmails/start.py:56",
        **SOCRATE_COMMON,
    },
    "fetchmail": {
        "ADMIN_ADDRESS": "optional/fetchmail/fetchmail.py:65,101",
        "HOSTNAMES": "optional/fetchmail/fetchmail.py:77",
        "FRONT_ADDRESS": "optional/fetchmail/fetchmail.py:77",
        "PROXY_PROTOCOL": "optional/fetchmail/fetchmail.py:77 (PROXY_PROTOCOL_25 after set_env, :115)",
        "FETCHMAIL_DELAY": "optional/fetchmail/fetchmail.py:117",
        "FETCHMAIL_ENABLED": "optional/fetchmail/fetchmail.py:121",
        "DEBUG": "optional/fetchmail/fetchmail.py:125",
        **SOCRATE_COMMON,
    },
    "admin": {
        # core/admin/start.py
        "INITIAL_ADMIN_ACCOUNT": "core/admin/start.py:19",
        "INITIAL_ADMIN_DOMAIN": "core/admin/start.py:20",
        "INITIAL_ADMIN_PW": "core/admin/start.py:21",
        "INITIAL_ADMIN_MODE": "core/admin/start.py:24",
        "MAILU_HELM_CHART": "core/admin/start.py:30 (rot13)",
        "I_KNOW_MY_SETUP_DOESNT_FIT_REQUIREMENTS_AND_WONT_FILE_ISSUES_WITHOUT_PATCHES": "core/admin/start.py:30 (rot13)",
        "CPU_COUNT": "core/admin/start.py:67",
        "SUBNET6": "core/admin/start.py:69",
        # *_ADDRESS: configuration.py:132-134 copies every one; these are used:
        "FRONT_ADDRESS": "core/admin/mailu/models.py:430",
        "IMAP_ADDRESS": "core/admin/mailu/internal/nginx.py:147,149,158,160",
        "SMTP_ADDRESS": "core/admin/mailu/internal/nginx.py:152,154,156",
        "REDIS_ADDRESS": "core/admin/mailu/configuration.py:147,149",
        **SOCRATE_COMMON,
    },
    # oletools: core/oletools/start.py:5 set_env() then olefy.py, which reads OLEFY_* only.
    "oletools": dict(SOCRATE_COMMON),
    # radicale: optional/radicale/Dockerfile CMD runs radicale directly; radicale.conf is static.
    "webdav": {"TZ": SOCRATE_COMMON["TZ"]},
    # resolver: mailu-k8s replaces the image's start.py with its own command and config (a
    # ConfigMap); with Mailu's own start (optional/unbound/start.py:8-10) it would read SUBNET,
    # SUBNET6 (optional/unbound/unbound.conf) and LOG_LEVEL.
    "resolver": {"TZ": SOCRATE_COMMON["TZ"]},
}

# admin: configuration.py:6-97 DEFAULT_CONFIG: every key is read from the environment
# (configuration.py:136-139, optionally from KEY_FILE, :112-119), with these defaults.
ADMIN_DEFAULT_CONFIG = {
    "DOCKER_SOCKET": "unix:///var/run/docker.sock", "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC", "BOOTSTRAP_SERVE_LOCAL": True, "RATELIMIT_STORAGE_URL": "",
    "DEBUG": False, "DEBUG_PROFILER": False, "DEBUG_TB_INTERCEPT_REDIRECTS": False, "DEBUG_ASSETS": "",
    "DOMAIN_REGISTRATION": False, "TEMPLATES_AUTO_RELOAD": True, "MEMORY_SESSIONS": False,
    "FETCHMAIL_ENABLED": True, "MAILU_VERSION": "unknown", "DB_FLAVOR": None, "DB_USER": "mailu",
    "DB_PW": None, "DB_HOST": "database", "DB_NAME": "mailu", "SQLITE_DATABASE_FILE": "data/main.db",
    "SQLALCHEMY_DATABASE_URI": "sqlite:////data/main.db",
    "SQLALCHEMY_DATABASE_URI_ROUNDCUBE": "sqlite:////data/roundcube.db",
    "SQLALCHEMY_TRACK_MODIFICATIONS": False, "INSTANCE_ID_PATH": "/data/instance",
    "STATS_ENDPOINT": "202406.{}.stats.mailu.io", "SECRET_KEY": "changeMe", "DOMAIN": "mailu.io",
    "HOSTNAMES": "mail.mailu.io,alternative.mailu.io,yetanother.mailu.io", "POSTMASTER": "postmaster",
    "WILDCARD_SENDERS": "", "TLS_FLAVOR": "cert", "INBOUND_TLS_ENFORCE": False,
    "DEFER_ON_TLS_ERROR": True, "AUTH_RATELIMIT_IP": "5/hour", "AUTH_RATELIMIT_IP_V4_MASK": 24,
    "AUTH_RATELIMIT_IP_V6_MASK": 48, "AUTH_RATELIMIT_USER": "50/day", "AUTH_RATELIMIT_EXEMPTION": "",
    "AUTH_RATELIMIT_EXEMPTION_LENGTH": 86400, "DISABLE_STATISTICS": False, "DMARC_RUA": None,
    "DMARC_RUF": None, "WELCOME": False, "WELCOME_SUBJECT": "Dummy welcome topic",
    "WELCOME_BODY": "Dummy welcome body", "DKIM_SELECTOR": "dkim",
    "DKIM_PATH": "/dkim/{domain}.{selector}.key", "DEFAULT_QUOTA": 1000000000,
    "MESSAGE_RATELIMIT": "200/day", "MESSAGE_RATELIMIT_EXEMPTION": "", "RECIPIENT_DELIMITER": "",
    "SITENAME": "Mailu", "WEBSITE": "https://mailu.io", "ADMIN": "none", "WEB_ADMIN": "/admin",
    "WEB_WEBMAIL": "/webmail", "WEBMAIL": "none", "RECAPTCHA_PUBLIC_KEY": "", "RECAPTCHA_PRIVATE_KEY": "",
    "LOGO_URL": None, "LOGO_BACKGROUND": None, "AUTH_REQUIRE_TOKENS": False, "API": False,
    "WEB_API": "/api", "API_TOKEN": None, "FULL_TEXT_SEARCH": "en", "FULL_TEXT_SEARCH_ATTACHMENTS": False,
    "LOG_LEVEL": "INFO", "SESSION_KEY_BITS": 128, "SESSION_TIMEOUT": 3600,
    "PERMANENT_SESSION_LIFETIME": 30 * 24 * 3600, "SESSION_COOKIE_SECURE": None, "CREDENTIAL_ROUNDS": 12,
    "TLS_PERMISSIVE": True, "TZ": "Etc/UTC", "DEFAULT_SPAM_THRESHOLD": 80,
    "PORTS": "25,80,443,465,993,995,4190", "PROXY_AUTH_WHITELIST": "", "PROXY_AUTH_HEADER": "X-Auth-Email",
    "PROXY_AUTH_CREATE": False, "PROXY_AUTH_LOGOUT_URL": None, "SUBNET": "192.168.203.0/24",
    "SUBNET6": None,
}
for _k in ADMIN_DEFAULT_CONFIG:
    SCRIPT_READERS["admin"].setdefault(_k, "core/admin/mailu/configuration.py:6-97 DEFAULT_CONFIG")
# RECAPTCHA_*_KEY end in _KEY: socrate's clean_env (system.py:112), run by admin's start.py:14
# before gunicorn starts the app, removes them, so admin never sees them.
for _k in ("RECAPTCHA_PUBLIC_KEY", "RECAPTCHA_PRIVATE_KEY"):
    SCRIPT_READERS["admin"][_k] += " (but removed by clean_env, system.py:112, before the app reads it)"

# Required reads the template render does not reveal: admin's defaults are placeholders that
# would silently run a different site (DOMAIN mailu.io, SUBNET 192.168.203.0/24, SECRET_KEY
# changeMe...), and admin's internal endpoints index app.config[...] without a default.
ADMIN_MUST_SET = {
    "SECRET_KEY": "core/admin/mailu/configuration.py:36 default 'changeMe'",
    "DOMAIN": "configuration.py:37 default 'mailu.io'",
    "HOSTNAMES": "configuration.py:38 default 'mail.mailu.io,...'",
    "SUBNET": "configuration.py:95 default '192.168.203.0/24' (admin trusts it: internal/views/dovecot.py)",
    "TLS_FLAVOR": "configuration.py:41 default 'cert' (session cookies, autoconfig)",
    "FRONT_ADDRESS": "core/admin/mailu/models.py:430 app.config['FRONT_ADDRESS']",
    "IMAP_ADDRESS": "core/admin/mailu/internal/nginx.py:147 app.config['IMAP_ADDRESS']",
    "SMTP_ADDRESS": "core/admin/mailu/internal/nginx.py:152 app.config['SMTP_ADDRESS']",
    "REDIS_ADDRESS": "core/admin/mailu/configuration.py:147,149",
}

# Variables a template prints or compares while an unset value is nevertheless what Mailu means
# (an empty setting or "feature off"); everything else printed/compared while unset is a finding.
UNSET_IS_FINE = {
    "SUBNET6": "no IPv6 (dovecot.conf:23 `{{ SUBNET6 }}`, rspamd local_subnet.map:2 render empty)",
    "RELAYHOST": "postfix main.cf:35 `relayhost =` (empty: deliver directly)",
    "RECIPIENT_DELIMITER": "main.cf:44 / dovecot.conf:161 / front dovecot/proxy.conf:199 empty: no extension delimiter",
    "COMPRESSION": "dovecot.conf:81 `COMPRESSION in [...]`: unset = no compression",
    "ANTIVIRUS": "rspamd antivirus.conf:1 `ANTIVIRUS == 'clamav'`: unset = no antivirus",
    "OUTBOUND_TLS_LEVEL": "main.cf:60 |default('dane')",
}
