#!/usr/bin/env python3
"""An independent gate: checkov's Kubernetes checks over generated manifests.

Usage: checkov-gate.py ALLOWLIST CHECKOV_JSON

Reads checkov's JSON report and fails (exit 1) on any failed check that the allowlist does not
accept for that component; also fails on an allowlist entry that no longer matches anything
(a stale reason is a wrong statement about the output).
"""
import json
import sys


def component(resource: str) -> str:
    # "Deployment.mailu.mailu-admin" -> "admin"
    name = resource.rsplit(".", 1)[-1]
    return name.removeprefix("mailu-")


def load_allowlist(path):
    allowed = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        check, components, reason = line.split(" ", 2)
        allowed[check] = (set(components.split(",")), reason)
    return allowed


def main():
    allowed = load_allowlist(sys.argv[1])
    reports = json.load(open(sys.argv[2], encoding="utf-8"))
    if isinstance(reports, dict):
        reports = [reports]
    failed, used, passed = [], set(), 0
    for report in reports:
        results = report.get("results", {})
        passed += len(results.get("passed_checks", []))
        for f in results.get("failed_checks", []):
            check, comp = f["check_id"], component(f["resource"])
            ok = allowed.get(check)
            if ok and ("*" in ok[0] or comp in ok[0]):
                used.add(check)
            else:
                failed.append(f"{check} {f['resource']} in {f['file_path']}: {f['check_name']}")
    stale = sorted(set(allowed) - used)
    for line in failed:
        print(f"checkov: not accepted: {line}")
    for check in stale:
        print(f"checkov: allowlist entry {check} matches nothing any more: remove it")
    print(f"checkov: {passed} checks passed, {len(used)} accepted check ids, {len(failed)} failures")
    sys.exit(1 if failed or stale else 0)


if __name__ == "__main__":
    main()
