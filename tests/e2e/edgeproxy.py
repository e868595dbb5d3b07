"""A TCP edge stand-in (Traefik's IngressRouteTCP, a Gateway's TCPRoute/TLSRoute passthrough):
accepts on each listen port and forwards the bytes to a backend, first sending a PROXY protocol
v2 header with the client's address when the route's transport asks for it (Traefik
`ServersTransportTCP.spec.proxyProtocol.version: 2`).

    python3 edgeproxy.py ROUTES_JSON      [{"listen": "ip", "port": 25, "backend": "ip", "backend_port": 25, "proxy": 2}]
"""
from __future__ import annotations

import asyncio
import json
import sys

from client import proxy_v2


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def handler(route):
    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        sock = writer.get_extra_info("sockname")
        try:
            br, bw = await asyncio.open_connection(route["backend"], route["backend_port"])
        except OSError:
            writer.close()
            return
        if route.get("proxy") == 2:
            bw.write(proxy_v2(peer[0], sock[0], peer[1], sock[1]))
        await asyncio.gather(pipe(reader, bw), pipe(br, writer))
    return handle


async def main(routes):
    servers = [await asyncio.start_server(handler(r), r["listen"], r["port"], reuse_address=True) for r in routes]
    print(f"listening on {[r['port'] for r in routes]}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(json.loads(open(sys.argv[1]).read())))
