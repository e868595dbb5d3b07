"""An emulation of what Mailu 2024.06.57's start scripts do with a container's environment.

Written from reading the programs at tag 2024.06.57 (Mailu/Mailu, MIT; `git show
2024.06.57:<path>`); citations are <path>:<line> at that tag. No Mailu code is copied: each step is
re-implemented and cited. The templates themselves come from the template directory (see
sources.py) and are rendered by render.py like socrate's conf.jinja.

Each `emulate_<component>` returns a ComponentRender: the files the container writes (at their
container paths, inside the container's PodFS), the environment the templates saw, every recorded
use of a variable, and `crash` when the start script would die (KeyError, a jinja2 error...).
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from pathlib import Path

from k8s import Container
from podfs import PodFS, throwaway_certificates
from render import Rendered, Use, render

# Image name (last path segment of the repository) -> component.
COMPONENT_BY_IMAGE = {
    "nginx": "front",
    "admin": "admin",
    "postfix": "postfix",
    "dovecot": "dovecot",
    "rspamd": "rspamd",
    "webmail": "webmail",
    "fetchmail": "fetchmail",
    "unbound": "resolver",
    "radicale": "webdav",
    "oletools": "oletools",
}

LETSENCRYPT_FLAVORS = ("letsencrypt", "mail-letsencrypt")


def component_of(c: Container) -> str | None:
    repo = c.image.split("@")[0]
    last = repo.rsplit("/", 1)[-1]
    name = last.split(":")[0]
    if "/mailu/" not in f"/{repo}" and name not in COMPONENT_BY_IMAGE:
        return None
    return COMPONENT_BY_IMAGE.get(name)


class Crash(Exception):
    """The container's start script would stop here."""


@dataclass
class RenderedFile:
    path: str  # in the container
    template: str  # relative to the template dir
    text: str | None
    error: str | None = None


@dataclass
class ComponentRender:
    component: str
    container: Container
    fs: PodFS
    env: dict  # what Kubernetes gives
    environ: dict = field(default_factory=dict)  # os.environ after the start script's changes
    context: dict = field(default_factory=dict)  # what the templates were rendered with
    files: list[RenderedFile] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    crash: str | None = None
    notes: list[str] = field(default_factory=list)
    missing_templates: list[str] = field(default_factory=list)
    # postfix: override lines applied with postconf -e / postconf -Me (core/postfix/start.py:58-66)
    postconf_e: list[str] = field(default_factory=list)
    postconf_me: list[str] = field(default_factory=list)
    rspamd_overrides: list[tuple[str, str]] = field(default_factory=list)  # (name, copied|ignored)
    state: str = ""  # e.g. front's "first start" for the letsencrypt flavors
    coerced: bool = False  # templates saw socrate's coerced values (front, rspamd)

    def file(self, path: str) -> RenderedFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None


# ---------------------------------------------------------------------------------------------
# socrate (core/base/libs/socrate/socrate/system.py)


def coerce_value(value):
    """system.py:26-31 _coerce_value."""
    if isinstance(value, str) and value.lower() in ("true", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "no"):
        return False
    return value


PROTO_MAIL = ["25", "110", "995", "143", "993", "587", "465", "4190"]
PORTS_REQUIRING_TLS = ["443", "465", "993", "995"]
ALL_PORTS = "25,80,443,465,993,995,4190"
# os.cpu_count() in the container is the node's CPU count (system.py:144-145).
NODE_CPU_COUNT = "64"


def clean_env(environ: dict):
    """system.py:110-145 clean_env, on a dict standing for os.environ."""
    for key in list(environ):  # system.py:112
        if key.endswith("_KEY"):
            del environ[key]
    all_but_http = PROTO_MAIL + ["443"]  # system.py:115-118
    all_ports = all_but_http + ["80"]
    for item in environ.get("PROXY_PROTOCOL", "").split(","):  # system.py:119-131
        if item.isdigit():
            environ[f"PROXY_PROTOCOL_{item}"] = "True"
        elif item == "mail":
            for p in PROTO_MAIL:
                environ[f"PROXY_PROTOCOL_{p}"] = "True"
        elif item == "all-but-http":
            for p in all_but_http:
                environ[f"PROXY_PROTOCOL_{p}"] = "True"
        elif item == "all":
            for p in all_ports:
                environ[f"PROXY_PROTOCOL_{p}"] = "True"
        elif item == "":
            pass
        else:
            # system.py:131 logs with `args`, a name that does not exist in clean_env: NameError.
            raise Crash(
                f"socrate system.py:131: PROXY_PROTOCOL item {item!r} is not a port, 'mail', "
                "'all-but-http' or 'all' (and the error path itself raises NameError)"
            )
    for item in environ.get("PORTS", ALL_PORTS).split(","):  # system.py:133-138
        if item in PORTS_REQUIRING_TLS and environ.get("TLS_FLAVOR", "") == "notls":
            continue
        environ[f"PORT_{item}"] = "True"
    if environ.get("TLS_FLAVOR", "") != "notls":  # system.py:140-143
        for item in environ.get("TLS", ALL_PORTS).split(","):
            if item in PORTS_REQUIRING_TLS:
                environ[f"TLS_{item}"] = "True"
    if "CPU_COUNT" not in environ:  # system.py:144-145
        environ["CPU_COUNT"] = NODE_CPU_COUNT


def set_env(environ: dict, required_secrets=()) -> dict:
    """system.py:78-108 set_env: returns the coerced `args` dict and updates `environ`.

    Not emulated: LD_PRELOAD (system.py:85-87, set when the CPU has AVX2; no template reads it),
    SECRET_KEY_FILE (system.py:90-95; mailu-k8s passes Secrets as env), the pid-file cleanup."""
    secret_key = environ.get("SECRET_KEY")  # system.py:97
    clean_env(environ)  # system.py:98
    for secret in required_secrets:  # system.py:100-101
        if secret_key is None:
            raise Crash(f"socrate system.py:101: SECRET_KEY is unset (bytearray(None) -> TypeError) "
                        f"while deriving {secret}_KEY")
        environ[f"{secret}_KEY"] = hmac.new(
            bytearray(secret_key, "utf-8"), bytearray(secret, "utf-8"), "sha256"
        ).hexdigest()
    return {k: coerce_value(v) for k, v in environ.items()}  # system.py:105-108


def first_nameserver(fs: PodFS) -> str:
    """core/nginx/config.py:68-71 and webmails/start.py:23-26: the word after the first
    `nameserver` of /etc/resolv.conf, bracketed when it is IPv6."""
    content = fs.read("/etc/resolv.conf").split()
    try:
        resolver = content[content.index("nameserver") + 1]
    except (ValueError, IndexError) as e:
        raise Crash(f"/etc/resolv.conf has no nameserver ({e})")
    return f"[{resolver}]" if ":" in resolver else resolver


# ---------------------------------------------------------------------------------------------


class Templates:
    def __init__(self, root: Path):
        self.root = root

    def has(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text()

    def glob(self, rel_dir: str, pattern: str) -> list[str]:
        d = self.root / rel_dir
        return sorted(f"{rel_dir}/{p.name}" for p in d.glob(pattern) if p.is_file())


def _render_into(r: ComponentRender, tpl: Templates, rel: str, context: dict, dest: str):
    """conf.jinja(source, context, dest) (socrate conf.py:5-22)."""
    if not tpl.has(rel):
        r.missing_templates.append(rel)
        return None
    result: Rendered = render(tpl.read(rel), context, rel)
    r.uses.extend(result.uses)
    r.files.append(RenderedFile(dest, rel, result.text, result.error))
    if result.error is not None:
        raise Crash(f"rendering {rel}: {result.error}")
    r.fs.write(dest, result.text)
    return result.text


def _required(r: ComponentRender, environ: dict, name: str, where: str):
    """An `os.environ[name]` read without a default: KeyError when unset."""
    r.uses.append(Use(name, "required-by-script", where))
    if name not in environ:
        raise Crash(f"{where}: os.environ[{name!r}] -> KeyError ({name} is unset)")


# ---------------------------------------------------------------------------------------------
# front: core/nginx/start.py, config.py, letsencrypt.py


def front_tls_files(args: dict) -> tuple | None:
    """config.py:74-84: the certificate and key paths of each flavor."""
    cert_name = args.get("TLS_CERT_FILENAME", "cert.pem")
    keypair_name = args.get("TLS_KEYPAIR_FILENAME", "key.pem")
    le = (
        "/certs/letsencrypt/live/mailu/nginx-chain.pem",
        "/certs/letsencrypt/live/mailu/privkey.pem",
        "/certs/letsencrypt/live/mailu-ecdsa/nginx-chain.pem",
        "/certs/letsencrypt/live/mailu-ecdsa/privkey.pem",
    )
    table = {
        "cert": (f"/certs/{cert_name}", f"/certs/{keypair_name}"),
        "letsencrypt": le,
        "mail": (f"/certs/{cert_name}", f"/certs/{keypair_name}"),
        "mail-letsencrypt": le,
        "notls": None,
    }
    flavor = args["TLS_FLAVOR"]
    if flavor not in table:
        raise Crash(f"core/nginx/config.py:76-84: TLS_FLAVOR={flavor!r} is not a flavor (KeyError)")
    return table[flavor]


def stub_certbot_state(fs: PodFS, workdir: str):
    """What certbot leaves in /certs after a successful run (letsencrypt flavors), for the
    "with certificates" state: live/mailu (RSA) and live/mailu-ecdsa (ECDSA)."""
    certs = throwaway_certificates(workdir)
    for name, kind in (("mailu", "rsa"), ("mailu-ecdsa", "ecdsa")):
        crt, key = certs[kind]
        fs.write(f"/certs/letsencrypt/live/{name}/fullchain.pem", crt)
        fs.write(f"/certs/letsencrypt/live/{name}/privkey.pem", key)


def emulate_front(c: Container, env: dict, fs: PodFS, tpl: Templates, state: str = "") -> ComponentRender:
    r = ComponentRender("front", c, fs, env, state=state, coerced=True)
    try:
        environ = dict(env)
        set_env(environ)  # start.py:7
        r.environ = environ
        _required(r, environ, "TLS_FLAVOR", "core/nginx/start.py:15")
        if environ["TLS_FLAVOR"] in LETSENCRYPT_FLAVORS:
            # start.py:15-16 starts letsencrypt.py as a separate process: a KeyError there kills
            # certbot's loop (no certificate, ever) while front itself goes on starting.
            for name, where in (("HOSTNAMES", "core/nginx/letsencrypt.py:11"),
                                ("POSTMASTER", "core/nginx/letsencrypt.py:17"),
                                ("DOMAIN", "core/nginx/letsencrypt.py:17")):
                try:
                    _required(r, environ, name, where)
                except Crash as e:
                    r.notes.append(f"front: letsencrypt.py dies, certbot never runs: {e}")
        # start.py:20 runs config.py, a new process with the cleaned environment.
        args = set_env(dict(environ))  # config.py:62
        args["TLS_PERMISSIVE"] = str(args.get("TLS_PERMISSIVE")).lower() not in ("false", "no")  # :65
        args["RESOLVER"] = first_nameserver(fs)  # config.py:68-71
        _required(r, args, "TLS_FLAVOR", "core/nginx/config.py:84")
        args["TLS"] = front_tls_files(args)  # config.py:74-84
        if args["TLS_FLAVOR"] in LETSENCRYPT_FLAVORS:  # config.py:123-127 format_for_nginx
            for name in ("mailu", "mailu-ecdsa"):
                full = f"/certs/letsencrypt/live/{name}/fullchain.pem"
                if fs.isfile(full):  # config.py:88-89 returns when fullchain.pem is missing
                    # config.py:90-121 rewrites the verified chain; the test chain is one
                    # self-signed certificate, written as is.
                    fs.write(f"/certs/letsencrypt/live/{name}/nginx-chain.pem", fs.read(full))
                    fs.write(f"/certs/letsencrypt/live/{name}/DANE-chain.pem", fs.read(full))
        if args["TLS"] and not all(fs.exists(p) for p in args["TLS"]):  # config.py:129-131
            args["TLS_ERROR"] = "yes"
            r.notes.append("front: a certificate or key file is missing: config.py:129-131 sets "
                           "TLS_ERROR (TLS off, web answers 403 except certbot)")
        args["TLS_PERMISSIVE"] = str(args.get("TLS_PERMISSIVE")).lower() not in ("false", "no")  # :133
        r.context = args
        _render_into(r, tpl, "core/nginx/conf/tls.conf", args, "/etc/nginx/tls.conf")  # :136
        _render_into(r, tpl, "core/nginx/conf/proxy.conf", args, "/etc/nginx/proxy.conf")  # :137
        _render_into(r, tpl, "core/nginx/conf/nginx.conf", args, "/etc/nginx/nginx.conf")  # :138
        _render_into(r, tpl, "core/nginx/dovecot/login.lua", args, "/etc/dovecot/login.lua")  # :139
        _render_into(r, tpl, "core/nginx/dovecot/proxy.conf", args, "/etc/dovecot/proxy.conf")  # :140
    except Crash as e:
        r.crash = str(e)
    return r


# ---------------------------------------------------------------------------------------------
# postfix: core/postfix/start.py


def _postconf_lines(text: str) -> list[str]:
    """start.py:44-46,59-61: strip the file, split on newlines, skip comments and empty lines."""
    return [line for line in text.strip().split("\n") if not line.startswith("#") and line != ""]


def emulate_postfix(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
    r = ComponentRender("postfix", c, fs, env)
    try:
        environ = dict(env)
        set_env(environ)  # start.py:13 (return value unused: templates get os.environ, :56)
        # start.py:49: DEFER_ON_TLS_ERROR defaults to the string 'True'.
        environ["DEFER_ON_TLS_ERROR"] = environ.get("DEFER_ON_TLS_ERROR", "True")
        if "RELAYNETS" in environ:  # start.py:52-53: bracket IPv6 networks
            environ["RELAYNETS"] = re.sub(r"([0-9a-fA-F]+:[0-9a-fA-F:]+)/", "[\\1]/", environ["RELAYNETS"])
        r.environ = r.context = environ
        for rel in tpl.glob("core/postfix/conf", "*.cf"):  # start.py:55-56
            _render_into(r, tpl, rel, environ, f"/etc/postfix/{Path(rel).name}")
        if fs.isfile("/overrides/postfix.cf"):  # start.py:58-61
            r.postconf_e = _postconf_lines(fs.read("/overrides/postfix.cf"))
        if fs.isfile("/overrides/postfix.master"):  # start.py:63-66
            r.postconf_me = _postconf_lines(fs.read("/overrides/postfix.master"))
        for m in fs.glob("/overrides", "*.map"):  # start.py:68-72 (postmap; not checked here)
            r.notes.append(f"postfix: {m} is compiled with postmap at start (not checked)")
        if fs.isfile("/overrides/mta-sts-daemon.yml"):  # start.py:74-77
            fs.write("/etc/mta-sts-daemon.yml", fs.read("/overrides/mta-sts-daemon.yml"))
        else:
            _render_into(r, tpl, "core/postfix/conf/mta-sts-daemon.yml", environ, "/etc/mta-sts-daemon.yml")
        if "RELAYUSER" in environ:  # start.py:84-87
            _render_into(r, tpl, "core/postfix/conf/sasl_passwd", environ, "/etc/postfix/sasl_passwd")
        if environ.get("POSTFIX_LOG_FILE"):  # start.py:90-94
            _render_into(r, tpl, "core/postfix/conf/logrotate.conf", environ, "/etc/logrotate.d/postfix.conf")
        _required(r, environ, "ADMIN_ADDRESS", "core/postfix/start.py:24")  # podop's URL
    except Crash as e:
        r.crash = str(e)
    return r


# ---------------------------------------------------------------------------------------------
# dovecot: core/dovecot/start.py


def emulate_dovecot(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
    r = ComponentRender("dovecot", c, fs, env)
    try:
        environ = dict(env)
        set_env(environ)  # start.py:10 (templates get os.environ, :25)
        r.environ = r.context = environ
        for rel in tpl.glob("core/dovecot/conf", "*.conf"):  # start.py:24-25
            _render_into(r, tpl, rel, environ, f"/etc/dovecot/{Path(rel).name}")
        for rel in tpl.glob("core/dovecot/conf", "*.script"):  # start.py:28-31
            _render_into(r, tpl, rel, environ, f"/conf/bin/{Path(rel).name.replace('.script', '')}")
        if not tpl.glob("core/dovecot/conf", "*.script"):
            r.missing_templates.append("core/dovecot/conf/*.script")
        _required(r, environ, "ADMIN_ADDRESS", "core/dovecot/start.py:16")  # podop's URL
    except Crash as e:
        r.crash = str(e)
    return r


# ---------------------------------------------------------------------------------------------
# rspamd: core/rspamd/start.py


def emulate_rspamd(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
    r = ComponentRender("rspamd", c, fs, env, coerced=True)
    try:
        environ = dict(env)
        args = set_env(environ)  # start.py:12: templates get the coerced dict
        r.environ, r.context = environ, args
        config_files = []
        for rel in tpl.glob("core/rspamd/conf", "*"):  # start.py:17-20 (the image's /conf/*)
            name = Path(rel).name
            _render_into(r, tpl, rel, args, f"/etc/rspamd/local.d/{name}")
            if name != "forbidden_file_extension.map":
                config_files.append(name)
        for ov in fs.glob("/overrides", "*"):  # start.py:22-24
            name = Path(ov).name
            if not fs.isfile(ov):
                continue
            if name not in config_files:
                fs.write(f"/etc/rspamd/local.d/{name}", fs.read(ov))
                r.rspamd_overrides.append((name, "copied"))
            else:
                r.rspamd_overrides.append((name, "ignored"))
        _required(r, args, "ADMIN_ADDRESS", "core/rspamd/start.py:27")
    except Crash as e:
        r.crash = str(e)
    return r


# ---------------------------------------------------------------------------------------------
# webmail: webmails/start.py

WEBMAIL_TEMPLATES = [
    # (template, destination), in start.py's order
    ("webmails/snuffleupagus.rules", "/etc/snuffleupagus.rules"),  # start.py:52 (Dockerfile:89)
    ("webmails/roundcube/config/config.inc.php", "/var/www/roundcube/config/config.inc.php"),  # :68
    ("webmails/snappymail/defaults/default.json", "/data/_data_/_default_/domains/default.json"),  # :78
    ("webmails/snappymail/defaults/application.ini", "/data/_data_/_default_/configs/application.ini"),  # :79
    ("webmails/php.ini", "/etc/php83/php.ini"),  # :80
    ("webmails/nginx-webmail.conf", "/etc/nginx/http.d/webmail.conf"),  # :116
]


def emulate_webmail(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
    r = ComponentRender("webmail", c, fs, env)
    try:
        environ = dict(env)
        set_env(environ, ["ROUNDCUBE", "SNUFFLEUPAGUS"])  # start.py:14
        context = dict(environ)  # start.py:17-18
        r.environ, r.context = environ, context
        try:  # start.py:20
            context["MAX_FILESIZE"] = str(int(int(environ.get("MESSAGE_SIZE_LIMIT", "50000000")) * 0.66 / 1048576))
        except ValueError as e:
            raise Crash(f"webmails/start.py:20: MESSAGE_SIZE_LIMIT is not an integer ({e})")
        context["RESOLVER"] = first_nameserver(fs)  # start.py:23-26
        db_uri = environ.get("SQLALCHEMY_DATABASE_URI_ROUNDCUBE", "sqlite:////data/roundcube.db")  # :28
        flavor = environ.get("ROUNDCUBE_DB_FLAVOR")  # :29
        if flavor == "sqlite":
            context["DB_DSNW"] = "sqlite:////data/roundcube.db"
        elif flavor in ("mysql", "postgresql"):  # start.py:32-45
            if "ROUNDCUBE_DB_PW" not in environ:
                r.uses.append(Use("ROUNDCUBE_DB_PW", "required-by-script", "webmails/start.py:35,42"))
            scheme = "mysql" if flavor == "mysql" else "pgsql"
            context["DB_DSNW"] = "%s://%s:%s@%s/%s" % (
                scheme,
                environ.get("ROUNDCUBE_DB_USER", "roundcube"),
                environ.get("ROUNDCUBE_DB_PW"),
                environ.get("ROUNDCUBE_DB_HOST", "database"),
                environ.get("ROUNDCUBE_DB_NAME", "roundcube"),
            )
        elif db_uri:
            context["DB_DSNW"] = db_uri
        # start.py:56-62: plugins that exist in the image (assumed: all requested ones do).
        plugins = [p for p in environ.get("ROUNDCUBE_PLUGINS", "").replace(" ", "").split(",") if p]
        plugins = list(dict.fromkeys(plugins))
        if plugins:
            plugins = list(dict.fromkeys(plugins + ["mailu"]))
        else:
            plugins = ["archive", "zipdownload", "markasjunk", "managesieve", "enigma", "carddav", "mailu"]
        context["PLUGINS"] = ",".join(f"'{p}'" for p in plugins)
        context["INCLUDES"] = sorted(  # start.py:65
            inc for inc in fs.listdir("/overrides") if inc.endswith((".inc", ".inc.php"))
        ) if fs.exists("/overrides") else []
        for rel, dest in WEBMAIL_TEMPLATES:
            _render_into(r, tpl, rel, context, dest)
    except Crash as e:
        r.crash = str(e)
    return r


# ---------------------------------------------------------------------------------------------
# fetchmail: optional/fetchmail/fetchmail.py (no templates)


def emulate_fetchmail(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
    r = ComponentRender("fetchmail", c, fs, env)
    try:
        environ = dict(env)
        config = set_env(environ)  # fetchmail.py:115
        r.environ, r.context = environ, config
        try:
            int(environ.get("FETCHMAIL_DELAY", 60))  # fetchmail.py:117
        except ValueError as e:
            raise Crash(f"optional/fetchmail/fetchmail.py:117: FETCHMAIL_DELAY is not an integer ({e})")
        _required(r, environ, "ADMIN_ADDRESS", "optional/fetchmail/fetchmail.py:65")
        # fetchmail.py:77: where fetched mail is delivered (scan=True: SMTP, else LMTP 2525).
        if environ.get("PROXY_PROTOCOL_25", False):
            _required(r, environ, "HOSTNAMES", "optional/fetchmail/fetchmail.py:77")
            r.context = {**config, "_SMTPHOST": environ["HOSTNAMES"].split(",")[0]}
        else:
            _required(r, environ, "FRONT_ADDRESS", "optional/fetchmail/fetchmail.py:77")
            r.context = {**config, "_SMTPHOST": environ["FRONT_ADDRESS"]}
    except Crash as e:
        r.crash = str(e)
    return r


# ---------------------------------------------------------------------------------------------
# admin: core/admin/start.py and mailu/configuration.py (no templates at start)


def emulate_admin(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
    r = ComponentRender("admin", c, fs, env)
    try:
        environ = dict(env)
        set_env(environ, ["SECRET"])  # start.py:14
        r.environ = environ
        # configuration.py:132-139: *_ADDRESS variables, then DEFAULT_CONFIG keys, coerced.
        from readers import ADMIN_DEFAULT_CONFIG

        config = {k: v for k, v in environ.items() if k.endswith("_ADDRESS")}
        config.update({k: coerce_value(environ.get(k, v)) for k, v in ADMIN_DEFAULT_CONFIG.items()})
        r.context = config
        if config["DB_FLAVOR"]:  # configuration.py:142-144
            if config["DB_FLAVOR"] not in ("sqlite", "postgresql", "mysql"):
                raise Crash(f"core/admin/mailu/configuration.py:143: DB_FLAVOR={config['DB_FLAVOR']!r} (KeyError)")
            if config["DB_FLAVOR"] != "sqlite" and "DB_PW" not in environ:
                r.uses.append(Use("DB_PW", "required-by-script", "core/admin/mailu/configuration.py:105,144"))
        _required(r, config, "REDIS_ADDRESS", "core/admin/mailu/configuration.py:147,149")
        # start.py:19-26: the initial account is created only when all three are set.
        initial = [k for k in ("INITIAL_ADMIN_ACCOUNT", "INITIAL_ADMIN_DOMAIN", "INITIAL_ADMIN_PW") if k in environ]
        if initial and len(initial) < 3:
            for k in ("INITIAL_ADMIN_ACCOUNT", "INITIAL_ADMIN_DOMAIN", "INITIAL_ADMIN_PW"):
                r.uses.append(Use(k, "required-by-script", "core/admin/start.py:23"))
    except Crash as e:
        r.crash = str(e)
    return r


def emulate_nothing(component):
    def run(c: Container, env: dict, fs: PodFS, tpl: Templates) -> ComponentRender:
        r = ComponentRender(component, c, fs, env)
        r.environ = r.context = dict(env)
        return r

    return run


EMULATORS = {
    "front": emulate_front,
    "postfix": emulate_postfix,
    "dovecot": emulate_dovecot,
    "rspamd": emulate_rspamd,
    "webmail": emulate_webmail,
    "fetchmail": emulate_fetchmail,
    "admin": emulate_admin,
    "webdav": emulate_nothing("webdav"),
    "oletools": emulate_nothing("oletools"),
    "resolver": emulate_nothing("resolver"),
}
