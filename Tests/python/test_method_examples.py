"""The OpenRPC examples (Sources/CreditRPC/MethodExamples.swift) come from the replayed examples."""

import json
import subprocess
import sys

from conftest import OPENRPC_PATH, REPO_ROOT


def test_method_examples_are_generated_from_the_current_example_files():
    p = subprocess.run([sys.executable, str(REPO_ROOT / "Tests/python/regenerate_method_examples.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


def test_every_method_in_the_document_has_an_example():
    doc = json.loads(OPENRPC_PATH.read_text())
    missing = [m["name"] for m in doc["methods"] if m["name"] != "rpc.discover" and not m.get("examples")]
    assert missing == []
