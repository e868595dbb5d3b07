#!/usr/bin/env python3
"""Validate every custom resource in generated manifests against the upstream JSON schemas.

kubernetes-validate skips custom resources, so this checks them: each document whose apiVersion is
not a built-in Kubernetes group is validated against
<schemas>/<group>/<kind lowercased>_<version>.json (the layout of shared/reference/jsonschema, or
of the pinned datreeio/CRDs-catalog download that scripts/fetch-reference caches).
A custom resource without an upstream schema fails the run, except the kinds listed in
NO_UPSTREAM_SCHEMA, which are reported as skipped. With --allow-missing (a partial download), a
missing schema file is reported as SKIPPED instead of failing.

usage: validate-custom-resources.py [--allow-missing] SCHEMA_DIR MANIFEST...
"""
import json
import os
import sys

import jsonschema
import yaml

BUILT_IN_GROUPS = {"", "apps", "networking.k8s.io", "policy", "batch", "rbac.authorization.k8s.io"}
# Kinds we emit whose schema is not in shared/reference (reported, never silently passed).
# HTTPRoute's schema is there now (gateway.networking.k8s.io/httproute_v1.json).
NO_UPSTREAM_SCHEMA: set[tuple[str, str]] = set()
# A CiliumEgressGatewayPolicy's shape follows the Cilium release it targets (annotated by
# mailu-k8s); each release's schema lives in ../jsonschema-cilium/<tag>/ beside jsonschema/.
CILIUM_VERSION_ANNOTATION = "mailu-k8s.io/cilium-version"
CILIUM_TAGS = {"1.16": "v1.16.17", "1.17": "v1.17.14", "1.18": "v1.18.10", "1.19": "v1.19.4",
               "1.20": "v1.20.0-pre.4"}


def main() -> int:
    args = sys.argv[1:]
    allow_missing = "--allow-missing" in args
    args = [a for a in args if a != "--allow-missing"]
    schema_dir, manifests = args[0], args[1:]
    failures = checked = skipped = 0
    for path in manifests:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            group, _, version = doc["apiVersion"].rpartition("/")
            kind = doc["kind"]
            name = f'{path}: {kind}/{doc["metadata"]["name"]}'
            if group in BUILT_IN_GROUPS:
                continue
            if (group, kind) in NO_UPSTREAM_SCHEMA:
                print(f"SKIPPED (no upstream schema in reference): {name}")
                skipped += 1
                continue
            schema_path = os.path.join(schema_dir, group, f"{kind.lower()}_{version}.json")
            release = (doc["metadata"].get("annotations") or {}).get(CILIUM_VERSION_ANNOTATION)
            if group == "cilium.io" and release is not None:
                schema_path = os.path.join(schema_dir, os.pardir, "jsonschema-cilium",
                                           CILIUM_TAGS.get(release, "unknown-" + release),
                                           group, f"{kind.lower()}_{version}.json")
            if not os.path.exists(schema_path) and allow_missing:
                print(f"SKIPPED (schema not downloaded: {schema_path}): {name}")
                skipped += 1
                continue
            if not os.path.exists(schema_path):
                print(f"FAIL {name}: no schema at {schema_path}")
                failures += 1
                continue
            with open(schema_path) as f:
                schema = json.load(f)
            errors = sorted(
                jsonschema.Draft7Validator(
                    schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
                ).iter_errors(doc),
                key=lambda e: list(e.path),
            )
            checked += 1
            for e in errors:
                where = ".".join(str(p) for p in e.path) or "(root)"
                print(f"FAIL {name}: {where}: {e.message}")
                failures += 1
    print(f"custom resources: {checked} checked, {failures} failure(s), {skipped} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
