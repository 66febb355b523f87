"""Replays every Protocol/examples/NAME.jsonl and compares the responses with expected/NAME.jsonl.

Both sides are parsed as JSON and compared as values, line by line. To rewrite the expected files
after an intended change: `python3 Tests/python/regenerate_examples.py` (then read the diff).
"""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES_DIR
from regenerate_examples import example_files, expected_path, run_example

EXAMPLES = example_files()

# The same answers on both engines, byte for byte (SPEC section 7).
pytestmark = pytest.mark.both_engines


def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"01-catalog.jsonl", "02-errors.jsonl", "03-grade-to-eligible.jsonl"} <= names, names
    for p in EXAMPLES:
        assert expected_path(p).exists(), f"{expected_path(p).name} is missing: run Tests/python/regenerate_examples.py"


@pytest.mark.parametrize("requests", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_replays_exactly(requests):
    expected_bytes = expected_path(requests).read_bytes()
    actual_bytes = run_example(requests)
    expected_lines = expected_bytes.decode("utf-8").splitlines()
    actual_lines = actual_bytes.decode("utf-8").splitlines()
    request_lines = [x for x in requests.read_text(encoding="utf-8").splitlines() if x.strip(" \t\r")]
    for i, (want, got) in enumerate(zip(expected_lines, actual_lines), start=1):
        if json.loads(want) != json.loads(got):
            pytest.fail(
                f"{requests.name}: response line {i} differs from {expected_path(requests).name}\n"
                f"  request (if one per line): {request_lines[i - 1] if i <= len(request_lines) else '?'}\n"
                f"  expected: {want}\n"
                f"  actual:   {got}\n"
                "If the change is intended: python3 Tests/python/regenerate_examples.py, then review the diff.")
    assert len(actual_lines) == len(expected_lines), (
        f"{requests.name}: {len(actual_lines)} response lines, expected {len(expected_lines)}")
    assert actual_bytes == expected_bytes, f"{requests.name}: the same values, but not byte for byte"


def test_every_expected_file_has_requests():
    for p in (EXAMPLES_DIR / "expected").glob("*.jsonl"):
        requests = EXAMPLES_DIR / p.name
        assert requests.exists(), f"{p.name} has no request file {requests.name}"


@pytest.mark.parametrize("requests", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_starts_with_clock_set(requests):
    first = json.loads(requests.read_text(encoding="utf-8").splitlines()[0])
    assert first["method"] == "clock.set", "an example sets its clock first, so that it is self-contained"
