"""Mailu conformance tests (run with pytest from the repository's .venv).

* every example and every matrix config: Mailu's templates rendered with each container's
  environment check out with the real daemons, and the audit finds nothing;
* mutation checks: breaking the environment on purpose makes the suite fail;
* negative controls: each daemon check rejects a configuration broken on purpose;
* unit tests of the emulation (Kubernetes' $(VAR) expansion, socrate's clean_env, the recorder).
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import daemons
import matrix
import mutate
from k8s import Manifest, expand
from mailu import EMULATORS, Templates, clean_env, component_of, set_env
from podfs import Pod
from render import render
from suite import REPO, run_manifest

EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
FRONT_REPAIR = [("WEB_ADMIN", "/admin"), ("WEB_WEBMAIL", "/webmail"), ("POSTMASTER", "postmaster")]
MATRIX = matrix.configs()


def _synth(cli: Path, config: Path, out: Path) -> Manifest:
    p = subprocess.run([str(cli), "synth", str(config), "-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return Manifest.load(out)


def _synth_config(cli: Path, config: dict, tmp_path: Path) -> Manifest:
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return _synth(cli, path, tmp_path / "out.yaml")


# The mutation checks and negative controls use configs of their own, not the examples (which
# change with the project): mail direct with `cert`, and mail proxied through Traefik.
DIRECT = matrix.merge(matrix.merge(matrix.BASE, matrix.VARIATION_BASES["direct"]),
                      {"components": {"webmail": True}})
PROXIED = matrix.merge(matrix.BASE, matrix.VARIATION_BASES["proxied"])


def _explain(report) -> str:
    lines = [f"{len(report.failures)} failed check(s) for {report.target}:"]
    for r in report.failures:
        lines.append(f"- {r.component}: {r.check}")
        lines += [f"    {d}" for d in r.detail.splitlines()[:12]]
    return "\n".join(lines)


def _report(manifest: Manifest, templates, env_json, tmp_path: Path, target: str):
    return run_manifest(manifest, templates, target, tmp_path / "work", env_json)


# ---------------------------------------------------------------------------------------------
# positive: examples and the matrix


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_conforms(example, cli, templates, env_json, tmp_path):
    m = _synth(cli, example, tmp_path / "out.yaml")
    report = _report(m, templates, env_json, tmp_path, f"examples/{example.name}")
    assert not report.failures, _explain(report)


@pytest.mark.parametrize("name,config", MATRIX, ids=[n for n, _ in MATRIX])
def test_matrix_config_conforms(name, config, cli, templates, env_json, tmp_path):
    import yaml

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    chk = subprocess.run([str(cli), "check", str(path)], capture_output=True, text=True)
    if chk.returncode != 0:
        first = (chk.stderr or chk.stdout).strip().splitlines()[0]
        pytest.skip(f"invalid combination, refused by `mailu-k8s check`: {first}")
    m = _synth(cli, path, tmp_path / "out.yaml")
    report = _report(m, templates, env_json, tmp_path, f"matrix/{name}")
    assert not report.failures, _explain(report)


# ---------------------------------------------------------------------------------------------
# mutation checks: the suite must fail when the environment is broken on purpose


def _result(report, component_prefix: str, check_prefix: str):
    found = [r for r in report.results if r.component.startswith(component_prefix) and r.check.startswith(check_prefix)]
    assert found, f"no {component_prefix}/{check_prefix} result in {[(r.component, r.check) for r in report.results]}"
    return found[0]


def _repair_front(m: Manifest) -> Manifest:
    """What front needs for nginx -t whatever the state of the generator (issue 7, item 1)."""
    env = mutate.env_of(m, "front")
    for name, default in FRONT_REPAIR:
        m = mutate.set_env(m, "front", name, env.get(name) or default)
    return m


def test_mutation_dropping_web_admin_fails_nginx(cli, templates, env_json, tmp_path):
    m = _synth_config(cli, DIRECT, tmp_path)
    good = _repair_front(m)
    base = _report(good, templates, env_json, tmp_path / "base", "baseline")
    assert _result(base, "front", "nginx -t").status == "pass", _explain(base)
    bad = mutate.drop_env(good, "front", "WEB_ADMIN")
    assert "WEB_ADMIN" not in mutate.env_of(bad, "front")
    report = _report(bad, templates, env_json, tmp_path / "mutant", "without WEB_ADMIN")
    nginx = _result(report, "front", "nginx -t")
    assert nginx.status == "fail" and 'invalid number of arguments in "location"' in nginx.detail, nginx
    audit = _result(report, "front", "audit: required variables are set")
    assert audit.status == "fail" and "WEB_ADMIN" in audit.detail


@pytest.mark.parametrize("value", ["true", "True", "false"])
def test_mutation_postfix_boolean_true_fails(value, cli, templates, env_json, tmp_path):
    m = _synth_config(cli, DIRECT, tmp_path)
    good = mutate.set_env(m, "postfix", "REJECT_UNLISTED_RECIPIENT", "yes")
    base = _report(good, templates, env_json, tmp_path / "base", "baseline")
    assert _result(base, "postfix", "postfix booleans").status == "pass", _explain(base)
    bad = mutate.set_env(m, "postfix", "REJECT_UNLISTED_RECIPIENT", value)
    report = _report(bad, templates, env_json, tmp_path / "mutant", f"REJECT_UNLISTED_RECIPIENT={value}")
    booleans = _result(report, "postfix", "postfix booleans")
    assert booleans.status == "fail" and f"smtpd_reject_unlisted_recipient={value}" in booleans.detail, booleans


def test_mutation_withholding_proxy_protocol_from_dovecot_fails(cli, templates, env_json, tmp_path):
    # mail through Traefik with PROXY protocol, port 25 included
    m = _synth_config(cli, PROXIED, tmp_path)
    front_pp = mutate.env_of(m, "front").get("PROXY_PROTOCOL", "")
    assert "25" in front_pp.split(",") or front_pp in ("mail", "all", "all-but-http"), front_pp
    good = mutate.set_env(m, "dovecot", "PROXY_PROTOCOL", front_pp)
    base = _report(good, templates, env_json, tmp_path / "base", "baseline")
    wiring = _result(base, "*", "audit: wiring")
    assert "submission_host" not in wiring.detail, wiring.detail
    bad = mutate.drop_env(good, "dovecot", "PROXY_PROTOCOL")
    report = _report(bad, templates, env_json, tmp_path / "mutant", "dovecot without PROXY_PROTOCOL")
    wiring = _result(report, "*", "audit: wiring")
    assert wiring.status == "fail" and "submission_host" in wiring.detail, wiring


def test_mutation_dropping_postmaster_fails_audit(cli, templates, env_json, tmp_path):
    m = _synth_config(cli, DIRECT, tmp_path)
    good = mutate.set_env(m, "dovecot", "POSTMASTER", "postmaster")
    base = _report(good, templates, env_json, tmp_path / "base", "baseline")
    assert "POSTMASTER" not in _result(base, "dovecot", "audit: required").detail
    bad = mutate.drop_env(good, "dovecot", "POSTMASTER")
    report = _report(bad, templates, env_json, tmp_path / "mutant", "dovecot without POSTMASTER")
    audit = _result(report, "dovecot", "audit: required variables are set")
    assert audit.status == "fail" and "POSTMASTER" in audit.detail


def test_mutation_unread_variable_is_reported(cli, templates, env_json, tmp_path):
    m = _synth_config(cli, DIRECT, tmp_path)
    bad = mutate.set_env(m, "rspamd", "API_TOKEN", "x")
    report = _report(bad, templates, env_json, tmp_path / "mutant", "rspamd with API_TOKEN")
    unread = _result(report, "rspamd", "audit: only variables it reads")
    assert unread.status == "fail" and "API_TOKEN is given to rspamd" in unread.detail


# ---------------------------------------------------------------------------------------------
# negative controls: each daemon check rejects a configuration broken on purpose


def _render(cli, templates, tmp_path, component, repair=()):
    m = _synth_config(cli, DIRECT, tmp_path)
    for comp, name, value in repair:
        m = mutate.set_env(m, comp, name, value)
    from k8s import container_env

    c = next(c for c in m.containers(include_init=False) if component_of(c) == component)
    env, _ = container_env(m, c)
    pod = Pod(m, c, tmp_path / "pod", tmp_path)
    fs = pod.container_fs(c)
    r = EMULATORS[component](c, env, fs, templates)
    assert r.crash is None, r.crash
    return r




def test_nginx_check_passes_repaired_and_rejects_broken(cli, templates, tmp_path):
    r = _render(cli, templates, tmp_path, "front", repair=[("front", n, v) for n, v in FRONT_REPAIR])
    assert daemons.check_nginx(r, templates, tmp_path / "ok").status == "pass"
    r.fs.write("/etc/nginx/proxy.conf", r.fs.read("/etc/nginx/proxy.conf") + "\nproxy_no_such_directive on;\n")
    chk = daemons.check_nginx(r, templates, tmp_path / "broken")
    assert chk.status == "fail" and "proxy_no_such_directive" in chk.detail, chk


def test_doveconf_check_rejects_broken(cli, templates, tmp_path):
    r = _render(cli, templates, tmp_path, "dovecot", repair=[("dovecot", "POSTMASTER", "postmaster")])
    assert daemons.check_doveconf(r, "/etc/dovecot/dovecot.conf", tmp_path / "ok", "ok").status == "pass"
    r.fs.write("/etc/dovecot/dovecot.conf", r.fs.read("/etc/dovecot/dovecot.conf") + "\nno_such_setting = 1\n")
    chk = daemons.check_doveconf(r, "/etc/dovecot/dovecot.conf", tmp_path / "broken", "broken")
    assert chk.status == "fail" and "no_such_setting" in chk.detail, chk


def test_front_without_its_certificate_is_reported(cli, templates, env_json, tmp_path):
    """config.py:129-131: a missing certificate file turns TLS off (TLS_ERROR)."""
    m = _repair_front(_synth_config(cli, DIRECT, tmp_path))
    base = _report(m, templates, env_json, tmp_path / "base", "baseline")
    assert not [r for r in base.results if r.check == "certificate files exist"], _explain(base)
    bad = mutate.set_env(m, "front", "TLS_CERT_FILENAME", "no-such-file.pem")
    report = _report(bad, templates, env_json, tmp_path / "mutant", "wrong certificate file name")
    chk = _result(report, "front", "certificate files exist")
    assert chk.status == "fail" and "no-such-file.pem" in chk.detail, chk


def test_postfix_checks_reject_broken(cli, templates, tmp_path):
    r = _render(cli, templates, tmp_path, "postfix", repair=[("postfix", "REJECT_UNLISTED_RECIPIENT", "yes")])
    assert [c.status for c in daemons.check_postfix(r, tmp_path / "ok")] == ["pass"] * 4
    master_cf, main_cf = r.fs.read("/etc/postfix/master.cf"), r.fs.read("/etc/postfix/main.cf")
    # An SMTPS relay without a wrapping transport: postfix would defer every message.
    r.fs.write("/etc/postfix/main.cf", main_cf + "\nrelayhost = [smtp.relay.example]:465\n")
    *_, relay = daemons.check_postfix(r, tmp_path / "smtps-relay")
    assert relay.status == "fail" and "smtp_tls_wrappermode=no" in relay.detail, relay
    r.fs.write("/etc/postfix/main.cf", main_cf + "\nsmtpd_delay_reject = true\nno_such_parameter = 1\n")
    main, master, booleans, _ = daemons.check_postfix(r, tmp_path / "broken-main")
    assert main.status == "fail" and "no_such_parameter" in main.detail, main
    assert booleans.status == "fail" and "smtpd_delay_reject = true" in booleans.detail, booleans
    r.fs.write("/etc/postfix/master.cf", master_cf + "\nbroken inet n\n")
    main, master, booleans, _ = daemons.check_postfix(r, tmp_path / "broken-master")
    assert master.status == "fail" and "bad field count" in master.detail, master


def test_rspamd_check_rejects_broken(cli, templates, tmp_path):
    r = _render(cli, templates, tmp_path, "rspamd")
    chk = daemons.check_rspamd(r, tmp_path / "ok")
    if chk.status == "skip":
        pytest.skip(chk.detail)
    assert chk.status == "pass", chk
    r.fs.write("/etc/rspamd/local.d/options.inc", r.fs.read("/etc/rspamd/local.d/options.inc") + "\nbroken = {\n")
    chk = daemons.check_rspamd(r, tmp_path / "broken")
    assert chk.status == "fail" and "options.inc" in chk.detail, chk


def test_unbound_check_rejects_broken(tmp_path):
    if not daemons.which("unbound-checkconf"):
        pytest.skip("unbound-checkconf is not installed")
    root = tmp_path / "root"
    conf = root / "etc/unbound/unbound.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('server:\n  directory: "/etc/unbound"\n  username: ""\n  chroot: ""\n')
    assert daemons.check_unbound(conf, root).status == "pass"
    conf.write_text(conf.read_text() + "  no-such-option: yes\n")
    assert daemons.check_unbound(conf, root).status == "fail"


# ---------------------------------------------------------------------------------------------
# unit tests of the emulation


@pytest.mark.parametrize("value,expected", [
    ("$(A)-$(B)", "1-$(B)"),  # undefined references stay verbatim
    ("$$(A)", "$(A)"),  # $$ escapes
    ("$$$(A)", "$1"),
    ("a$b", "a$b"),  # $ not followed by ( is kept
    ("$(A", "$(A"),  # unterminated
    ("tail$", "tail$"),
])
def test_kubernetes_expansion(value, expected):
    assert expand(value, {"A": "1"}) == expected


def test_clean_env_expands_ports_and_proxy_protocol():
    env = {"PROXY_PROTOCOL": "mail", "PORTS": "25,443,993", "TLS_FLAVOR": "notls", "SECRET_KEY": "s", "X_KEY": "k"}
    clean_env(env)
    assert env["PROXY_PROTOCOL_4190"] == "True" and "PROXY_PROTOCOL_80" not in env
    assert env["PORT_25"] == "True" and "PORT_443" not in env and "PORT_993" not in env  # notls
    assert not any(k.startswith("TLS_") and k[4:].isdigit() for k in env)
    assert "SECRET_KEY" not in env and "X_KEY" not in env
    assert env["CPU_COUNT"]  # the node's count when unset


def test_set_env_coerces_and_derives_keys():
    env = {"SECRET_KEY": "s", "ADMIN": "true", "API": "No", "WEBMAIL": "none"}
    args = set_env(env, ["ROUNDCUBE"])
    assert args["ADMIN"] is True and args["API"] is False and args["WEBMAIL"] == "none"
    assert len(env["ROUNDCUBE_KEY"]) == 64 and "SECRET_KEY" not in env


def test_recorder_classifies_uses():
    source = "{% if A %}{{ B }}{% endif %}{% if C is defined %}{% endif %}{{ D|default('x') }}{% if E == 'x' %}{% endif %}{% if F %}{% endif %}"
    res = render(source, {"A": True, "F": "false"}, "t")
    kinds = {(u.name, u.kind) for u in res.uses}
    assert ("B", "printed") in kinds and ("E", "compared") in kinds
    assert not any(n in ("C", "D") for n, _ in kinds)
    assert ("F", "truth-of-value") in kinds


def test_render_crashes_like_socrate_on_attribute_of_unset():
    res = render("{{ HOSTNAMES.split(',')[0] }}", {}, "t")
    assert res.text is None and "HOSTNAMES" in res.error
    assert any(u.name == "HOSTNAMES" and u.kind == "attribute" for u in res.uses)


def test_rendering_matches_plain_jinja(templates):
    """The recording environment renders exactly what jinja2.Template (socrate) renders."""
    import jinja2

    ctx = {"HOSTNAMES": "mail.example.com", "DOMAIN": "example.com", "POSTMASTER": "pm", "SUBNET": "10.0.0.0/8",
           "PROXY_PROTOCOL_25": "True", "CPU_COUNT": "2", "FRONT_ADDRESS": "front", "RECIPIENT_DELIMITER": "+"}
    src = templates.read("core/dovecot/conf/dovecot.conf")
    assert render(src, ctx, "dovecot.conf").text == jinja2.Template(src).render(ctx)


def test_matrix_covers_every_flavor_edge_and_webmail():
    names = [n for n, _ in MATRIX]
    for flavor in matrix.FLAVORS:
        for edge in matrix.EDGES:
            assert any(n.startswith(f"{flavor}--{edge}--") for n in names)
    for webmail in matrix.WEBMAILS:
        assert any(n.endswith(f"webmail-{webmail}") for n in names)
    assert re.search(r"notls", " ".join(names))


def test_mutation_false_string_tested_for_truth_fails(cli, templates, env_json, tmp_path):
    """core/postfix/conf/main.cf:61 tests DEFER_ON_TLS_ERROR for truth on a raw string (issue 7, item 7)."""
    m = _synth_config(cli, DIRECT, tmp_path)
    bad = mutate.set_env(m, "postfix", "DEFER_ON_TLS_ERROR", "false")
    report = _report(bad, templates, env_json, tmp_path / "mutant", "DEFER_ON_TLS_ERROR=false")
    audit = _result(report, "postfix", "audit: required variables are set")
    assert audit.status == "fail" and "DEFER_ON_TLS_ERROR='false' is tested for truth" in audit.detail, audit
    harmless = mutate.set_env(m, "postfix", "REJECT_UNLISTED_RECIPIENT", "no")  # renders 'no' either way
    report = _report(harmless, templates, env_json, tmp_path / "harmless", "REJECT_UNLISTED_RECIPIENT=no")
    assert "REJECT_UNLISTED_RECIPIENT" not in _result(report, "postfix", "audit: required").detail
