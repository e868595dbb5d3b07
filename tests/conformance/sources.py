"""Where the upstream inputs of the test suite come from.

Upstream files (Mailu's templates, custom-resource JSON schemas) are never committed here. Each is
taken, in this order, from:

1. an explicit location (`MAILU_SRC`: a Mailu checkout at tag 2024.06.57);
2. `../shared/reference/` beside this repository, when present;
3. the ignored cache `.cache/reference/`, filled by downloading the pinned upstream files and
   checking each against the SHA-256 recorded in `pins/*.sha256`.

When none works the caller gets `Unavailable`, whose message says loudly how to provide the input;
the suite then skips just those checks (never a silent pass, never a failure of the whole run).

`mailu-2024.06-env.json` was written by this project's own research ("derived here" in
shared/reference/README.md): it has no upstream URL, so without ../shared it is simply unavailable.
"""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "reference"
CACHE = REPO / ".cache" / "reference"
PINS = HERE / "pins"

MAILU_TAG = "2024.06.57"
MAILU_RAW = f"https://raw.githubusercontent.com/Mailu/Mailu/{MAILU_TAG}/"
DATREE_COMMIT = "7b1e26ef9deea49293714d204c1a2270aab1178f"
DATREE_RAW = f"https://raw.githubusercontent.com/datreeio/CRDs-catalog/{DATREE_COMMIT}/"
DOWNLOAD_TIMEOUT = 15


class Unavailable(Exception):
    """An upstream input could not be found or downloaded; the message says how to provide it."""


@dataclass
class Source:
    path: Path
    origin: str  # human-readable: where it came from
    missing: tuple[str, ...] = ()  # pinned files that are absent (partial sources)


def read_pins(name: str) -> list[tuple[str, str, bool]]:
    """(sha256, relative path, in_shared) from pins/<name>.sha256 (sha256sum format, # comments).

    Files after the `# not in shared/reference:` marker are upstream files that
    shared/reference does not carry; a source without them is still complete."""
    rows = []
    in_shared = True
    for line in (PINS / f"{name}.sha256").read_text().splitlines():
        if line.startswith("# not in shared/reference"):
            in_shared = False
        if not line.strip() or line.startswith("#"):
            continue
        digest, path = line.split(None, 1)
        rows.append((digest, path.strip(), in_shared))
    return rows


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verify(root: Path, pins, require_all: bool) -> tuple[list[str], list[str]]:
    """(mismatched, missing) pinned files under root."""
    mismatched, missing = [], []
    for digest, rel, in_shared in pins:
        f = root / rel
        if not f.is_file():
            if require_all or in_shared:
                missing.append(rel)
            continue
        if sha256(f) != digest:
            mismatched.append(rel)
    return mismatched, missing


def _download(base_url: str, pins, dest: Path) -> list[str]:
    """Download every pinned file that the cache lacks; verify each; return what failed."""
    failed = []
    for digest, rel, _ in pins:
        target = dest / rel
        if target.is_file() and sha256(target) == digest:
            continue
        url = base_url + rel
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp:
                data = resp.read()
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            failed.append(f"{rel}: {e}")
            # The network is down or the host unreachable: don't try every file.
            if not failed[:-1]:
                failed.append("(stopped after the first download failure)")
                break
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            failed.append(f"{rel}: SHA-256 mismatch (expected {digest})")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return failed


def mailu_templates(download: bool = True) -> Source:
    """Mailu's configuration templates at tag 2024.06.57."""
    pins = read_pins(f"mailu-{MAILU_TAG}")
    env_src = os.environ.get("MAILU_SRC")
    if env_src:
        root = Path(env_src).resolve()
        if not (root / "core/nginx/conf/nginx.conf").is_file():
            raise Unavailable(f"MAILU_SRC={env_src} is not a Mailu checkout (no core/nginx/conf/nginx.conf)")
        mismatched, missing = _verify(root, pins, require_all=False)
        if mismatched:
            print(
                f"WARNING: MAILU_SRC={env_src} differs from Mailu {MAILU_TAG} in {len(mismatched)} "
                f"file(s): {', '.join(mismatched[:5])}; check out tag {MAILU_TAG}",
                file=sys.stderr,
            )
        return Source(root, f"MAILU_SRC={root}", tuple(missing))
    shared = SHARED / f"mailu-{MAILU_TAG}"
    if shared.is_dir():
        mismatched, missing = _verify(shared, pins, require_all=False)
        if not mismatched and not missing:
            return Source(shared, f"shared reference {shared}")
        print(
            f"WARNING: {shared} does not match the pinned Mailu {MAILU_TAG} files "
            f"(changed: {mismatched[:5]}, missing: {missing[:5]}); using the download cache instead",
            file=sys.stderr,
        )
    cache = CACHE / f"mailu-{MAILU_TAG}"
    mismatched, missing = _verify(cache, pins, require_all=True)
    if not mismatched and not missing:
        return Source(cache, f"download cache {cache}")
    if download:
        failed = _download(MAILU_RAW, pins, cache)
        if not failed:
            return Source(cache, f"downloaded into {cache}")
        detail = "; ".join(failed[:3])
    else:
        detail = "downloads disabled"
    raise Unavailable(
        f"Mailu {MAILU_TAG}'s templates are not available ({detail}). Provide them with "
        f"MAILU_SRC=<a Mailu checkout at tag {MAILU_TAG}>, or put shared/reference beside this "
        f"repository, or allow downloads from {MAILU_RAW}"
    )


def jsonschemas(download: bool = True) -> Source:
    """JSON schemas of the custom resources (datreeio/CRDs-catalog layout). May be partial."""
    shared = SHARED / "jsonschema"
    if shared.is_dir():
        return Source(shared, f"shared reference {shared}")
    pins = read_pins("jsonschema")
    cache = CACHE / "jsonschema"
    failed: list[str] = []
    if download:
        failed = _download(DATREE_RAW, pins, cache)
    mismatched, missing = _verify(cache, pins, require_all=True)
    for rel in mismatched:
        (cache / rel).unlink()
    missing = sorted(set(missing) | set(mismatched))
    if len(missing) == len(pins):
        detail = "; ".join(failed[:3]) or "downloads disabled"
        raise Unavailable(
            f"no custom-resource JSON schemas ({detail}). Put shared/reference beside this "
            f"repository or allow downloads from {DATREE_RAW}"
        )
    return Source(cache, f"download cache {cache}", tuple(missing))


def env_json() -> Source:
    """shared/reference/mailu-2024.06-env.json: derived here, no upstream to download."""
    path = SHARED / "mailu-2024.06-env.json"
    if path.is_file():
        return Source(path, f"shared reference {path}")
    raise Unavailable(
        f"{path} is missing: it was written by this project's research and has no upstream "
        "URL. Put shared/reference beside this repository"
    )


def main(argv: list[str]) -> int:
    """scripts/fetch-reference WHAT: print the directory of WHAT (mailu | jsonschema | env-json)."""
    what = argv[1] if len(argv) > 1 else ""
    finders = {"mailu": mailu_templates, "jsonschema": jsonschemas, "env-json": env_json}
    if what not in finders:
        print(f"usage: fetch-reference {{{'|'.join(finders)}}}", file=sys.stderr)
        return 64
    try:
        src = finders[what]()
    except Unavailable as e:
        print(f"UNAVAILABLE: {e}", file=sys.stderr)
        return 3
    if src.missing:
        print(f"note: {what} from {src.origin} lacks {len(src.missing)} pinned file(s): "
              f"{', '.join(src.missing)}", file=sys.stderr)
    print(src.path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
