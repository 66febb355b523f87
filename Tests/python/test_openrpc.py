"""Protocol/openrpc.json: valid OpenRPC, identical to what the binary's rpc.discover returns, and
true of the examples in Protocol/examples/.

When the committed document and the code differ: python3 Tests/python/regenerate_openrpc.py
"""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from conftest import EXAMPLE_CLOCK, OPENRPC_PATH, VENDOR_DIR, run_raw
from regenerate_examples import example_files, expected_path
from regenerate_openrpc import REGENERATE_COMMAND, discover, render

META_DIR = VENDOR_DIR / "openrpc"

#: The first column of SPEC section 3's method table (the SPEC lives outside this repository; keep
#: this list in step with it).
SPEC_METHODS = [
    "createCourse", "createProvider", "offerCredit", "createExam", "setCreditRequirements", "listCourses",
    "createLearner", "enroll", "verifyIdentity", "reviewVerification", "reverify", "declineRequirement",
    "startExam", "submitExam", "reviewExam", "recordGrade", "getRequirements", "getDashboard",
    "purchaseCredit", "getCreditRequest", "submitProviderDecision", "extendPurchaseDeadline",
    "grantExamTime", "resetExamAttempt", "listNotifications", "getHistory", "rpc.discover", "clock.set",
    "clock.advance",
]


@pytest.fixture(scope="module")
def committed() -> dict:
    assert OPENRPC_PATH.exists(), f"Protocol/openrpc.json is missing: run {REGENERATE_COMMAND}"
    return json.loads(OPENRPC_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def live() -> dict:
    return discover("--test-clock", EXAMPLE_CLOCK)


@pytest.fixture(scope="module")
def live_without_clock() -> dict:
    return discover()


def meta_validator() -> Draft7Validator:
    assert (META_DIR / "meta-schema.json").exists(), f"the vendored OpenRPC meta-schema is missing from {META_DIR}"
    meta = json.loads((META_DIR / "meta-schema.json").read_text())
    tools = json.loads((META_DIR / "json-schema-tools-meta.json").read_text())
    registry = Registry().with_resources([
        ("https://meta.json-schema.tools", DRAFT7.create_resource(tools)),
        ("https://meta.json-schema.tools/", DRAFT7.create_resource(tools)),
    ])
    return Draft7Validator(meta, registry=registry)


def schema_errors(document: dict, schema: dict, instance) -> list[str]:
    """Validates `instance` against `schema`, whose `$ref`s point into the document's components."""
    root = {"components": document.get("components", {}), "allOf": [schema]}
    validator = Draft7Validator(root, format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(instance)]


def params_schema(method: dict) -> dict:
    """The by-name params of a method as one object schema."""
    return {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in method["params"]},
        "required": [p["name"] for p in method["params"] if p.get("required")],
        "additionalProperties": False,
    }


def methods_by_name(document: dict) -> dict[str, dict]:
    return {m["name"]: m for m in document["methods"]}


# --- the document itself -----------------------------------------------------------------------


def test_committed_document_is_valid_openrpc(committed):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
              for e in meta_validator().iter_errors(committed)]
    assert not errors, "Protocol/openrpc.json is not valid OpenRPC:\n" + "\n".join(errors[:20])


def test_live_document_without_clock_is_valid_openrpc(live_without_clock):
    errors = [e.message[:300] for e in meta_validator().iter_errors(live_without_clock)]
    assert not errors, errors[:20]


def test_rpc_discover_returns_the_committed_document(committed, live):
    if live != committed:
        live_names = [m["name"] for m in live["methods"]]
        old_names = [m["name"] for m in committed["methods"]]
        changed = [n for n in live_names if n in old_names
                   and methods_by_name(live)[n] != methods_by_name(committed)[n]]
        pytest.fail(
            "Protocol/openrpc.json differs from rpc.discover (with --test-clock): regenerate it with\n"
            f"    {REGENERATE_COMMAND}\n"
            f"methods added: {sorted(set(live_names) - set(old_names))}, "
            f"removed: {sorted(set(old_names) - set(live_names))}, changed: {changed}, "
            f"components differ: {live.get('components') != committed.get('components')}, "
            f"info differs: {live.get('info') != committed.get('info')}")


def test_committed_document_is_formatted_as_regenerated(live):
    if OPENRPC_PATH.read_text(encoding="utf-8") != render(live):
        pytest.fail(f"Protocol/openrpc.json is not byte for byte what {REGENERATE_COMMAND} writes "
                    "(formatting, key order or content): run it")


def test_without_test_clock_no_clock_methods(live, live_without_clock):
    names = [m["name"] for m in live_without_clock["methods"]]
    assert not [n for n in names if n.startswith("clock.")], names
    # Otherwise the same methods as with the test clock.
    expected = [m for m in live["methods"] if not m["name"].startswith("clock.")]
    assert [m["name"] for m in live_without_clock["methods"]] == [m["name"] for m in expected]
    assert live_without_clock["methods"] == expected


def test_with_test_clock_lists_clock_methods(live):
    names = {m["name"] for m in live["methods"]}
    assert {"clock.set", "clock.advance", "rpc.discover"} <= names


def test_method_names_unique(live):
    names = [m["name"] for m in live["methods"]]
    assert len(names) == len(set(names)), names


def test_refs_resolve(live):
    schemas = live.get("components", {}).get("schemas", {})
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(live)))
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, f"{ref} does not resolve"


# --- the document against the SPEC and the binary ----------------------------------------------


def spec_method_names() -> list[str]:
    """Every method named in SPEC section 3's method table."""
    return list(SPEC_METHODS)


def registered(names: list[str]) -> set[str]:
    """The names the binary (with --test-clock) answers with anything but -32601."""
    batch = [{"jsonrpc": "2.0", "id": i, "method": n, "params": {}} for i, n in enumerate(names)]
    p = run_raw((json.dumps(batch) + "\n").encode(), "--db", ":memory:", "--test-clock", EXAMPLE_CLOCK)
    assert p.returncode == 0, p.stderr
    answers = {r["id"]: r for r in json.loads(p.stdout)}
    return {n for i, n in enumerate(names) if answers[i].get("error", {}).get("code") != -32601}


def test_spec_table_parsed():
    names = spec_method_names()
    assert {"createCourse", "listCourses", "purchaseCredit", "rpc.discover", "clock.set", "clock.advance"} <= set(names)
    assert len(names) >= 28, names


def test_every_registered_spec_method_is_documented(live):
    names = spec_method_names()
    documented = {m["name"] for m in live["methods"]}
    missing = sorted(registered(names) - documented)
    assert not missing, f"methods the binary serves but rpc.discover does not list: {missing}"


def test_every_documented_method_is_served(live):
    documented = [m["name"] for m in live["methods"]]
    not_served = sorted(set(documented) - registered(documented))
    assert not not_served, f"rpc.discover lists methods that answer -32601: {not_served}"


# --- the examples against the document ---------------------------------------------------------


def example_pairs():
    """(file name, request, response) for every response line of every example."""
    pairs = []
    for requests in example_files():
        by_id = {}
        for line in requests.read_text(encoding="utf-8").splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            for m in msg if isinstance(msg, list) else [msg]:
                if isinstance(m, dict) and "id" in m:
                    by_id[json.dumps(m["id"])] = m
        for line in expected_path(requests).read_text(encoding="utf-8").splitlines():
            out = json.loads(line)
            for r in out if isinstance(out, list) else [out]:
                pairs.append((requests.name, by_id.get(json.dumps(r.get("id"))), r))
    return pairs


PAIRS = example_pairs()


def test_examples_have_results_and_errors():
    assert sum(1 for _, _, r in PAIRS if "result" in r) >= 20
    assert sum(1 for _, _, r in PAIRS if "error" in r) >= 5


@pytest.mark.parametrize("name,req,resp", [p for p in PAIRS if "result" in p[2]],
                         ids=[f"{p[0]}:{p[2]['id']}" for p in PAIRS if "result" in p[2]])
def test_example_result_matches_schema(committed, name, req, resp):
    assert req is not None, f"{name}: no request with id {resp['id']}"
    method = methods_by_name(committed).get(req["method"])
    assert method is not None, f"{name}: {req['method']} is not in Protocol/openrpc.json"
    errors = schema_errors(committed, method["result"]["schema"], resp["result"])
    assert not errors, f"{name} id {resp['id']} ({req['method']}) result:\n" + "\n".join(errors)
    errors = schema_errors(committed, params_schema(method), req.get("params") or {})
    assert not errors, f"{name} id {resp['id']} ({req['method']}) params:\n" + "\n".join(errors)


@pytest.mark.parametrize("name,req,resp", [p for p in PAIRS if "error" in p[2]],
                         ids=[f"{p[0]}:{p[2]['id']}" for p in PAIRS if "error" in p[2]])
def test_example_error_is_documented(committed, name, req, resp):
    error = resp["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", error["data"]["reason"]), error
    if req is None or req.get("method") not in methods_by_name(committed):
        return
    method = methods_by_name(committed)[req["method"]]
    assert error["code"] in {e["code"] for e in method.get("errors", [])}, (
        f"{name}: error {error['code']} of {req['method']} is not among its documented errors")
    if error["data"]["reason"] in {"unknown_field", "missing_field"}:
        # The schema alone tells a client that these params are wrong.
        assert schema_errors(committed, params_schema(method), req.get("params") or {}), (
            f"{name} id {resp['id']}: params rejected by the service pass the documented schema")
