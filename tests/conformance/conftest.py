import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sources  # noqa: E402
from mailu import Templates  # noqa: E402

BANNER = "#" * 88


@pytest.fixture(scope="session")
def templates() -> Templates:
    try:
        src = sources.mailu_templates()
    except sources.Unavailable as e:
        msg = f"SKIPPED: Mailu conformance needs Mailu's templates: {e}"
        print(f"\n{BANNER}\n# {msg}\n{BANNER}", file=sys.stderr)
        pytest.skip(msg)
    return Templates(src.path)


@pytest.fixture(scope="session")
def env_json():
    try:
        return sources.env_json().path
    except sources.Unavailable:
        return None


@pytest.fixture(scope="session")
def cli():
    from suite import CLI

    if not CLI.exists():
        pytest.skip(f"SKIPPED: {CLI} is missing: run `cargo build --release` first")
    return CLI
