#!/usr/bin/env python3
"""An independent SPF analysis for the DNS tests: checkdmarc (PyPI) against a given server.

Usage: spf-oracle.py DOMAIN SERVER_IP PORT
Prints one JSON object: {"lookups": N, "void_lookups": N, "valid": bool, "error": null | "..."}.
"""
import json
import sys

import dns.resolver
import checkdmarc.spf as spf


def main() -> int:
    domain, server, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server]
    resolver.port = port
    resolver.lifetime = 5.0
    r = spf.check_spf(domain, resolver=resolver, timeout=5.0)
    result = {
        "lookups": r.get("dns_lookups"),
        "void_lookups": r.get("void_dns_lookups"),
        "valid": r.get("valid"),
        "error": r.get("error"),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
