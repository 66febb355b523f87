#!/usr/bin/env python3
"""Regenerates Protocol/examples/expected/NAME.jsonl from the requests in Protocol/examples/NAME.jsonl.

    python3 Tests/python/regenerate_examples.py            # every example
    python3 Tests/python/regenerate_examples.py 03-grade   # those whose name starts so

Each NAME.jsonl is piped through `credit-rpc --db :memory: --test-clock 2026-01-01T00:00:00Z`
and the exact stdout is written to expected/NAME.jsonl. Read every changed response and check it
against the SPEC before committing: the expected files are the contract's worked examples, not a
snapshot of whatever the binary happens to print. Tests/python/test_examples.py replays them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import EXAMPLE_CLOCK, EXAMPLES_DIR, run_raw  # noqa: E402


def example_files() -> list[Path]:
    """Every request file (NAME.jsonl), sorted by name."""
    return sorted(EXAMPLES_DIR.glob("*.jsonl"))


def expected_path(requests: Path) -> Path:
    return requests.parent / "expected" / requests.name


def run_example(requests: Path) -> bytes:
    """The service's exact stdout for one request file."""
    p = run_raw(requests.read_bytes(), "--db", ":memory:", "--test-clock", EXAMPLE_CLOCK, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"{requests.name}: credit-rpc exited {p.returncode}: {p.stderr.decode()}")
    return p.stdout


def main(prefixes: list[str]) -> int:
    for requests in example_files():
        if prefixes and not any(requests.name.startswith(x) for x in prefixes):
            continue
        out = run_example(requests)
        target = expected_path(requests)
        old = target.read_bytes() if target.exists() else None
        target.write_bytes(out)
        print(f"{target.relative_to(EXAMPLES_DIR.parent.parent)}: {'unchanged' if old == out else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
