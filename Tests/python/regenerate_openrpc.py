#!/usr/bin/env python3
"""Writes Protocol/openrpc.json from the service's own `rpc.discover`.

    python3 Tests/python/regenerate_openrpc.py

Runs credit-rpc with `--test-clock 2026-01-01T00:00:00Z` so that the clock methods are listed too,
and writes the document pretty-printed with 2-space indentation, keys in the service's order, and a
trailing newline. Tests/python/test_openrpc.py fails when the committed file drifts from the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import EXAMPLE_CLOCK, OPENRPC_PATH, run_raw  # noqa: E402

REGENERATE_COMMAND = "python3 Tests/python/regenerate_openrpc.py"


def discover(*extra: str) -> dict:
    """The result of rpc.discover, keys in the service's order."""
    line = b'{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}\n'
    p = run_raw(line, "--db", ":memory:", *extra, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"credit-rpc exited {p.returncode}: {p.stderr.decode()}")
    response = json.loads(p.stdout)
    if "result" not in response:
        raise RuntimeError(f"rpc.discover failed: {response}")
    return response["result"]


def render(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    text = render(discover("--test-clock", EXAMPLE_CLOCK))
    old = OPENRPC_PATH.read_text(encoding="utf-8") if OPENRPC_PATH.exists() else None
    OPENRPC_PATH.write_text(text, encoding="utf-8")
    print(f"Protocol/openrpc.json: {'unchanged' if old == text else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
