"""The static audit: required variables, variables nobody reads, cross-component wiring.

(a) Every variable a component's templates or start scripts read without a default is set for it:
    from the uses recorded while rendering (render.py) with the container's real environment, and
    the `os.environ[...]` reads of the start scripts (mailu.py `_required`).
(b) No component gets a Mailu variable it does not read: the container's environment against the
    reader table (readers.py: start scripts cited by line, templates read from the template
    files).
(c) Values of a variable that several components read agree.
(d) Wiring that only shows across components (dovecot/fetchmail submitting to front:25 without
    the PROXY header front demands, webmail's sieve port, CPU_COUNT).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mailu import ComponentRender, Templates, coerce_value
from readers import (ADMIN_DEFAULT_CONFIG, ADMIN_MUST_SET, SCRIPT_READERS, TEMPLATES, UNSET_IS_FINE,
                     inputs_of)
from render import FALSY_LOOKING, REQUIRED_KINDS, referenced_names

# Template reads of upstream files that shared/reference does not carry, used only when the
# template source lacks them (read at tag 2024.06.57).
FALLBACK_TEMPLATE_READS = {
    "core/nginx/dovecot/login.lua": {"ADMIN_ADDRESS": "core/nginx/dovecot/login.lua:22"},
    "core/postfix/conf/sasl_passwd": {n: "core/postfix/conf/sasl_passwd:1" for n in ("RELAYHOST", "RELAYUSER", "RELAYPASSWORD")},
    "core/dovecot/conf/ham.script": {"ANTISPAM_ADDRESS": "core/dovecot/conf/ham.script:2,5"},
    "core/dovecot/conf/spam.script": {"ANTISPAM_ADDRESS": "core/dovecot/conf/spam.script:2,5"},
    "webmails/roundcube/config/config.inc.php": {
        "PERMANENT_SESSION_LIFETIME": "webmails/roundcube/config/config.inc.php:17",
        "WEB_WEBMAIL": "config.inc.php:18", "HOSTNAMES": "config.inc.php:19",
        "FULL_TEXT_SEARCH": "config.inc.php:21", "FRONT_ADDRESS": "config.inc.php:27,35,47",
        "ADMIN": "config.inc.php:59,74", "WEB_ADMIN": "config.inc.php:59-60,74",
        "SECRET_KEY": "config.inc.php:8 (ROUNDCUBE_KEY)",
    },
}

# Per-container by nature: each component may have its own.
EXCLUDED_FROM_CONSISTENCY = {"LOG_LEVEL", "CPU_COUNT", "LD_PRELOAD", "TZ"}
# Defaults the other components apply when a variable is unset.
COMPONENT_DEFAULTS = {
    "postfix": {"DEFER_ON_TLS_ERROR": "True"},  # core/postfix/start.py:49
    "fetchmail": {"FETCHMAIL_ENABLED": True},  # optional/fetchmail/fetchmail.py:121
}
# DEFAULT_CONFIG keys admin loads but never uses (no reference in core/admin outside
# configuration.py at the tag, Flask's own keys excepted): not compared with other readers.
ADMIN_UNUSED = {"FULL_TEXT_SEARCH", "FULL_TEXT_SEARCH_ATTACHMENTS", "TLS_PERMISSIVE",
                "SQLALCHEMY_DATABASE_URI_ROUNDCUBE", "DOCKER_SOCKET"}


@dataclass
class Finding:
    component: str
    check: str
    detail: str
    var: str = ""
    source: str = ""  # template | script | admin | truth | ...


def template_files(tpl: Templates, component: str) -> list[str]:
    files = []
    for pattern in TEMPLATES.get(component, []):
        if pattern.endswith("/*"):
            files += tpl.glob(pattern[:-2], "*")
        else:
            files.append(pattern)
    return files


def reader_table(tpl: Templates) -> dict[str, dict[str, str]]:
    """component -> {variable: where it is read}."""
    table = {c: dict(v) for c, v in SCRIPT_READERS.items()}
    for component in TEMPLATES:
        for rel in template_files(tpl, component):
            if tpl.has(rel):
                source = tpl.read(rel)
                for name in sorted(referenced_names(source)):
                    line = next((i + 1 for i, s in enumerate(source.splitlines()) if name in s), None)
                    for var in inputs_of(name):
                        table[component].setdefault(var, f"{rel}:{line}" if line else rel)
            else:
                for var, where in FALLBACK_TEMPLATE_READS.get(rel, {}).items():
                    table[component].setdefault(var, where + " (read upstream; not in the template source)")
    return table


def mailu_variables(env_json: Path | None, table: dict) -> set[str]:
    names = set()
    for readers in table.values():
        names |= set(readers)
    if env_json is not None:
        names |= {v["name"] for v in json.loads(env_json.read_text())["variables"]}
    return names


def required_findings(r: ComponentRender) -> list[Finding]:
    """(a) for one container."""
    out = []
    seen = set()
    env = r.environ
    for use in r.uses:
        name = use.name
        if (name, use.template) in seen:
            continue
        derived = inputs_of(name) != (name,)
        if use.kind == "required-by-script":
            if name not in env and name not in r.context:
                seen.add((name, use.template))
                out.append(Finding(r.component, "required variable unset",
                                   f"{name} is unset but {use.template} reads it without a default",
                                   name, "script"))
            continue
        if use.kind in REQUIRED_KINDS and not derived and name not in UNSET_IS_FINE:
            if name in env:
                continue
            seen.add((name, use.template))
            out.append(Finding(r.component, "required variable unset",
                               f"{name} is unset but {use.template} uses it ({use.kind}) and has no default "
                               f"there: it renders as an empty/undefined value", name, "template"))
    for use in r.uses:
        if use.kind == "truth-of-value" and isinstance(use.value, str) and use.value.lower() in FALSY_LOOKING:
            key = (use.name, use.template, "truth")
            if key in seen:
                continue
            seen.add(key)
            out.append(Finding(r.component, "string tested for truth",
                               f"{use.name}={use.value!r} is tested for truth in {use.template}:{use.line}; "
                               f"a non-empty string is true, so {use.value!r} acts as true here",
                               use.name, "truth"))
    if r.component == "admin":
        for name, where in ADMIN_MUST_SET.items():
            if name not in r.env:
                out.append(Finding("admin", "required variable unset",
                                   f"{name} is unset: admin falls back to {where}", name, "admin"))
    return out


def unread_findings(r: ComponentRender, table: dict, universe: set[str]) -> list[Finding]:
    """(b) for one container."""
    readers = table.get(r.component, {})
    extra = sorted(n for n in r.env if n in universe and n not in readers)
    out = []
    for n in extra:
        why = "never reads it"
        if r.component == "admin" and n.endswith("_ADDRESS"):
            why = "copies it into its config (configuration.py:132-134) but never uses it"
        out.append(Finding(r.component, "variable it does not read", f"{n} is given to {r.component}, which {why}", n))
    return out


def effective(r: ComponentRender, name: str):
    if name in r.env:
        return r.env[name]
    if r.component == "admin" and name in ADMIN_DEFAULT_CONFIG:
        return ADMIN_DEFAULT_CONFIG[name]
    return COMPONENT_DEFAULTS.get(r.component, {}).get(name)


def consistency_findings(renders: list[ComponentRender], table: dict, universe: set[str]) -> list[Finding]:
    """(c): a variable read by several components must mean the same to each."""
    out = []
    by_component = {}
    for r in renders:
        by_component.setdefault(r.component, r)
    names = sorted({n for r in by_component.values() for n in r.env if n in universe} - EXCLUDED_FROM_CONSISTENCY)
    for name in names:
        readers = [r for c, r in by_component.items() if name in table.get(c, {})
                   and not (c == "admin" and name in ADMIN_UNUSED)]
        values = {}
        for r in readers:
            v = effective(r, name)
            values.setdefault(str(coerce_value(v) if isinstance(v, str) else v), []).append(r.component)
        if len(values) > 1:
            desc = "; ".join(f"{'/'.join(cs)}: {v}" for v, cs in values.items())
            out.append(Finding("*", "components disagree", f"{name} differs between its readers ({desc})"))
    return out


def wiring_findings(renders: list[ComponentRender]) -> list[Finding]:
    """(d)."""
    out = []
    front = next((r for r in renders if r.component == "front"), None)
    if front is None:
        return out
    front_pp25 = bool(front.environ.get("PROXY_PROTOCOL_25"))
    for r in renders:
        if r.component == "dovecot" and front_pp25 and not r.environ.get("PROXY_PROTOCOL_25"):
            out.append(Finding("dovecot", "wiring", (
                "front requires PROXY protocol on port 25 (PROXY_PROTOCOL_25), but dovecot does not get "
                "PROXY_PROTOCOL: core/dovecot/conf/dovecot.conf:8-12 then sets submission_host = "
                f"{r.environ.get('FRONT_ADDRESS', 'FRONT_ADDRESS')} (front:25 without a PROXY header), so "
                "sieve redirects and vacation replies are refused")))
        if r.component == "fetchmail" and front_pp25 and not r.environ.get("PROXY_PROTOCOL_25"):
            out.append(Finding("fetchmail", "wiring", (
                "front requires PROXY protocol on port 25, but fetchmail does not get PROXY_PROTOCOL: "
                "optional/fetchmail/fetchmail.py:77 then delivers scanned mail to FRONT_ADDRESS:25 "
                "without a PROXY header")))
        if r.component in ("front", "dovecot", "admin") and "CPU_COUNT" not in r.env:
            where = {"front": "core/nginx/dovecot/proxy.conf:139-140,171-172,194-195,228-229 process_min_avail/process_limit",
                     "dovecot": "core/dovecot/conf/dovecot.conf:142-143,153-154,181-182 process_min_avail/process_limit",
                     "admin": "core/admin/start.py:67 gunicorn --threads"}[r.component]
            out.append(Finding(r.component, "CPU_COUNT", (
                f"CPU_COUNT is unset, so socrate (system.py:144-145) sets it to the node's CPU count, "
                f"which sizes {where}: derive it from the container's CPU limit")))
    webmail_on = str(front.context.get("WEBMAIL", "none")) != "none" or any(r.component == "webmail" for r in renders)
    proxy = front.file("/etc/dovecot/proxy.conf")
    if webmail_on and proxy is not None and proxy.text is not None and "port = 14190" not in proxy.text:
        out.append(Finding("front", "wiring", (
            "webmail is on, but front has no sieve listener for it on 14190: core/nginx/dovecot/proxy.conf:125-143 "
            "renders it only when 4190 is in PORTS (PORT_4190); Roundcube's managesieve cannot connect")))
    return out
