"""Hostile input (issue 6): generated lines, SQL injection, odd Unicode and the transport's limits.

The stream is `Tests/tools/fuzz_tool.py` (see its docstring); its budget is $CREDIT_RPC_FUZZ_LINES
lines (CI: 20,000), its seed $CREDIT_RPC_FUZZ_SEED (printed on failure).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, OPENRPC_PATH, Rpc, RpcError, binary, run_lines

sys.path.insert(0, str(REPO_ROOT / "Tests" / "tools"))
import fuzz_tool  # noqa: E402

LINES = int(os.environ.get("CREDIT_RPC_FUZZ_LINES", "20000"))
SEED = int(os.environ.get("CREDIT_RPC_FUZZ_SEED", "424242"))
CLOCK = fuzz_tool.CLOCK
DOC = json.loads(OPENRPC_PATH.read_text(encoding="utf-8"))
METHODS = {m["name"]: m for m in DOC["methods"]}

#: Known service bugs the stream meets, reported and pinned by a strict xfail test below; the
#: stream tolerates exactly these so that it stays sensitive to anything new.
KNOWN_SCHEMA_ERRORS: list = []


def _unknown_schema_errors(report) -> list:
    return [(m, errs, where) for m, errs, where in report.schema_errors
            if not all(any(k.match(e) for k in KNOWN_SCHEMA_ERRORS) for e in errs)]


def _stream(tmp_path, lines, seed, principal=None):
    try:
        report = fuzz_tool.run(binary(), lines, seed, tmp_path / "fuzz.sqlite", timeout=240, principal=principal)
    except AssertionError as e:
        pytest.fail(f"{e}\n(reproduce: python3 Tests/tools/fuzz_tool.py --seed {seed} --lines {lines}"
                    f"{' --as ' + principal if principal else ''})")
    print(f"fuzz{' as ' + principal if principal else ''}, seed {seed}: {report.summary()}")
    assert not report.internal_errors, \
        f"-32603 internal errors (seed {seed}):\n" + "\n".join(report.internal_errors[:10])
    unknown = _unknown_schema_errors(report)
    assert not unknown, f"results off their openrpc.json schema (seed {seed}):\n" + \
        "\n".join(f"{m}: {errs[:3]}: {where}" for m, errs, where in unknown[:10])
    return report


def _integrity(db: Path) -> None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert [r[0] for r in con.execute("PRAGMA integrity_check")] == ["ok"]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"learners", "courses", "orders", "providers", "provider_secrets", "events"} <= tables, tables
    finally:
        con.close()


# --- the stream ------------------------------------------------------------------------------


def test_fuzz_stream_as_admin(tmp_path):
    report = _stream(tmp_path, LINES, SEED)
    assert report.lines >= LINES
    # The mix must reach every kind of answer, or the generator has gone blind.
    for code in ("result", "-32700", "-32600", "-32601", "-32602", "-32001"):
        assert report.codes.get(code, 0) > 0, report.codes
    _integrity(tmp_path / "fuzz.sqlite")


@pytest.mark.parametrize("principal", ["staff", "learner:fz-ann", "provider:fzp"])
def test_fuzz_stream_as_other_principals(tmp_path, principal):
    _stream(tmp_path, max(500, LINES // 10), SEED + 1, principal)
    _integrity(tmp_path / "fuzz.sqlite")


def test_oracle_agrees_with_the_transport_examples():
    """The oracle that decides how many answers a line is owed, on the cases SPEC section 3 names."""
    o = fuzz_tool.oracle
    assert o(b"").kind == "none" and o(b" \t\r").kind == "none"
    assert o(b'{"jsonrpc":"2.0","method":"x"}').kind == "none"
    assert o(b'[{"jsonrpc":"2.0","method":"x"}]').kind == "none"
    assert o(b"[]").members[0].codes == {-32600}
    assert o(b"[1,2]").kind == "batch" and len(o(b"[1,2]").members) == 2
    assert o(b'{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}').members[0].codes == {-32601}
    assert o(b'{"jsonrpc":"2.0","id":1,"method":"enroll","params":[1]}').members[0].codes == {-32602}
    assert o(b'{"jsonrpc":"2.0","id":1,"method":"enroll","params":[]}').members[0].codes is None
    assert o(b'{"jsonrpc":"2.0","method":"x","params":[]}').kind == "none"
    assert o(b'{"jsonrpc":"2.0","method":"x","params":1}').members[0].codes == {-32600}
    assert o(b'{"jsonrpc":"2.0","id":true,"method":"x"}').members[0].id is None
    assert o(b"[" * 513 + b"]" * 513).members[0].codes == {-32700}
    assert o(b"[" * 512 + b"]" * 512).kind == "batch"
    assert o(b'{"id":NaN}').members[0].codes == {-32700}
    assert o(b"\xff").members[0].codes == {-32700}


# --- SQL injection ---------------------------------------------------------------------------

INJECTION_IDS = [
    "alice'; DROP TABLE learners;--",
    '" OR 1=1 --',
    "' OR '1'='1",
    "x'); DELETE FROM orders; --",
    "1; SELECT secret FROM provider_secrets",
    "' UNION SELECT secret FROM provider_secrets --",
    "Robert'); DROP TABLE students;--",
    "%", "_", "a%", "\\", "?", "?1", ":name", "@p", "$1",
]


def _tables(db: Path) -> list:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(con.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=str)
    finally:
        con.close()


@pytest.mark.sqlite_only
def test_injection_strings_as_ids_are_stored_verbatim(db_path):
    with Rpc(db=str(db_path), test_clock=CLOCK) as r:
        r.call("listCourses")
        schema_before = _tables(db_path)
        for i, lid in enumerate(INJECTION_IDS):
            learner = {"learnerId": lid, "fullName": lid, "email": f"inj{i}@example.org", "country": "US",
                       "mailingAddress": lid}
            assert r.call("createLearner", **learner) == learner
            dash = r.call("getDashboard", learnerId=lid)
            assert dash == {"learnerId": lid, "enrollments": []}
            assert r.call("createLearner", **learner) == learner  # the same data again: stored verbatim
            with pytest.raises(RpcError) as e:
                r.call("createLearner", **{**learner, "fullName": lid + "!"})
            assert e.value.code == -32002, e.value.response
            assert r.call("listNotifications", learnerId=lid) == {"notifications": []}
        # Wildcards match nothing else; case matters.
        with pytest.raises(RpcError) as e:
            r.call("getDashboard", learnerId="%%")
        assert e.value.code == -32001
        with pytest.raises(RpcError) as e:
            r.call("getDashboard", learnerId="A%")
        assert e.value.code == -32001
        # A course, a provider and an exam whose ids and names are injections.
        course = "course-v1:x';DROP+TABLE;--+\"OR'1'='1"
        r.call("createCourse", courseId=course, title="'); DROP TABLE learners; --",
               startsAt="2026-01-01T00:00:00Z", endsAt="2026-12-31T23:59:59Z")
        r.call("createProvider", providerId=INJECTION_IDS[0], displayName='" OR 1=1 --',
               url="https://x.example/'--", secrets=["' OR '1'='1 secret"])
        r.call("offerCredit", courseId=course, providerId=INJECTION_IDS[0], price={"amount": "1", "currency": "USD"})
        r.call("createExam", courseId=course, examId="x' OR 'a'='a", displayName="E", timeLimitMinutes=5,
               passingScore=0.5)
        r.call("setCreditRequirements", courseId=course, requirements=[
            {"kind": "grade", "minGrade": 0.5}, {"kind": "proctoredExam", "examId": "x' OR 'a'='a"}])
        listing = r.call("listCourses")["courses"]
        assert [c["courseId"] for c in listing] == [course]
        assert listing[0]["title"] == "'); DROP TABLE learners; --"
        assert listing[0]["providers"][0]["providerId"] == INJECTION_IDS[0]
        assert listing[0]["providers"][0]["displayName"] == '" OR 1=1 --'
        assert listing[0]["org"] == "x';DROP" and listing[0]["run"] == "\"OR'1'='1"
        r.call("enroll", learnerId=INJECTION_IDS[1], courseId=course, mode="verified")
        status = r.call("getRequirements", learnerId=INJECTION_IDS[1], courseId=course)
        assert [q["requirementId"] for q in status["requirements"]] == ["grade", "proctoredExam:x' OR 'a'='a"]
    # The tables survived, unchanged, and hold exactly what was created.
    assert _tables(db_path) == schema_before
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        ids = sorted(x[0] for x in con.execute("SELECT learner_id FROM learners"))
        assert ids == sorted(INJECTION_IDS)
        assert con.execute("SELECT count(*) FROM courses").fetchone()[0] == 1
    finally:
        con.close()


# --- odd Unicode round trips -----------------------------------------------------------------

ODD_TEXTS = [
    "\u202eright-to-left override\u202c and \u200f mark",
    "emoji \U0001F600 \U0001F469\u200D\U0001F4BB and e\u0301",
    "line\u2028separator\u2029paragraph",
    "BOM\ufeff and \uffff and \U0010FFFF",
    "tab\tand escape \x1b[31m and DEL \x7f",
]


@pytest.mark.parametrize("text", ODD_TEXTS, ids=range(len(ODD_TEXTS)))
def test_odd_unicode_text_round_trips_verbatim(db_path, text):
    with Rpc(db=str(db_path), test_clock=CLOCK) as r:
        course = "course-v1:Uni+U1+2026"
        assert r.call("createCourse", courseId=course, title=text, startsAt="2026-01-01T00:00:00Z",
                      endsAt="2026-12-31T23:59:59Z")["title"] == text
        assert r.call("listCourses")["courses"][0]["title"] == text
        learner = {"learnerId": "uni", "fullName": text, "email": "u@example.org", "country": "JP",
                   "mailingAddress": text}
        assert r.call("createLearner", **learner) == learner
        assert r.call("createLearner", **learner) == learner
        with pytest.raises(RpcError) as e:
            r.call("createLearner", **{**learner, "fullName": text + "x"})
        assert e.value.code == -32002
    # Restarted: the same bytes come back from the file.
    with Rpc(db=str(db_path), test_clock=CLOCK) as r:
        assert r.call("listCourses")["courses"][0]["title"] == text


@pytest.mark.parametrize("field", ["title", "courseId"])
def test_nul_character_is_refused_in_any_string_parameter(field):
    """PostgreSQL text cannot hold U+0000: both engines refuse it in validation (SPEC section 7)."""
    params = {"courseId": "course-v1:Uni+U1+2026", "title": "T", "startsAt": "2026-01-01T00:00:00Z",
              "endsAt": "2026-12-31T23:59:59Z"}
    params[field] = params[field] + "\u0000"
    with Rpc(test_clock=CLOCK) as r:
        with pytest.raises(RpcError) as e:
            r.call("createCourse", **params)
        assert (e.value.code, e.value.reason, e.value.field) == (-32602, "nul_character", field), e.value.response
        with pytest.raises(RpcError) as e:
            r.call("createProvider", providerId="p", displayName="P", url="https://p.example",
                   secrets=["s3cret-key-1", "s3cret-key-2\u0000"])
        assert (e.value.code, e.value.reason, e.value.field) == (-32602, "nul_character", "secrets[1]")
        assert r.call("listCourses")["courses"] == []


def test_lone_surrogate_escape_is_read_as_replacement_character():
    """A lone surrogate written as the escape \\ud800 is valid JSON; the service reads it as U+FFFD
    (as its parser documents) and answers with valid UTF-8."""
    line = ('{"jsonrpc":"2.0","id":1,"method":"createCourse","params":{"courseId":"course-v1:S+S+S",'
            '"title":"a\\ud800b\\udc00c\\ud83d","startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-12-31T23:59:59Z"}}')
    out, err, rc = run_lines([line, '{"jsonrpc":"2.0","id":2,"method":"listCourses"}'])
    assert rc == 0, err
    rs = [json.loads(x) for x in out]
    assert rs[0]["result"]["title"] == "a\ufffdb\ufffdc\ufffd"
    assert rs[1]["result"]["courses"][0]["title"] == "a\ufffdb\ufffdc\ufffd"


def test_control_characters_refused_in_ids():
    with Rpc(test_clock=CLOCK) as r:
        for bad in ["a\u0000b", "\u0000", "a\nb", "a\x7fb", " padded", "padded ", "\t"]:
            with pytest.raises(RpcError) as e:
                r.call("createLearner", learnerId=bad, fullName="X", email="x@example.org", country="US")
            assert e.value.code == -32602 and e.value.field == "learnerId", (bad, e.value.response)


# --- limits ----------------------------------------------------------------------------------


def test_batch_of_10001_is_too_large():
    batch = [{"jsonrpc": "2.0", "id": i, "method": "listCourses"} for i in range(10_001)]
    out, err, rc = run_lines([json.dumps(batch), '{"jsonrpc":"2.0","id":"after","method":"listCourses"}'])
    assert rc == 0 and len(out) == 2, err
    r = json.loads(out[0])
    assert r["id"] is None and r["error"]["code"] == -32600 and r["error"]["data"]["reason"] == "batch_too_large", r
    assert json.loads(out[1])["id"] == "after"


def test_batch_of_10000_answered_in_full(db_path):
    batch = []
    for i in range(10_000):
        if i % 3 == 0:
            batch.append({"jsonrpc": "2.0", "id": i, "method": "createLearner", "params": {
                "learnerId": f"b{i}", "fullName": "Batch", "email": f"b{i}@example.org", "country": "US"}})
        elif i % 3 == 1:
            batch.append({"jsonrpc": "2.0", "id": i, "method": "getDashboard", "params": {"learnerId": f"b{i - 1}"}})
        else:
            batch.append({"jsonrpc": "2.0", "id": i, "method": "nope"})
    batch.append({"jsonrpc": "2.0", "method": "listCourses"})  # a notification: no answer
    batch = batch[:10_000]
    out, err, rc = run_lines([json.dumps(batch)], "--db", str(db_path), timeout=60)
    assert rc == 0 and len(out) == 1, err
    rs = json.loads(out[0])
    assert [r["id"] for r in rs] == list(range(10_000))
    for r in rs:
        i = r["id"]
        if i % 3 == 0:
            assert r["result"]["learnerId"] == f"b{i}", r
        elif i % 3 == 1:
            assert r["result"]["learnerId"] == f"b{i - 1}", r  # sees the write before it in the batch
        else:
            assert r["error"]["code"] == -32601, r


def _string_params():
    """(method, param, maxLength) for every top-level string parameter a line can carry."""
    for m in DOC["methods"]:
        for p in m["params"]:
            s = p["schema"]
            if s.get("type") == "string" and s.get("maxLength", 0) <= 100_000 and "enum" not in s:
                yield m["name"], p["name"], s["maxLength"]


def _valid_params(method: str) -> dict:
    gen = fuzz_tool.Generator(DOC, 1)
    return {p["name"]: gen.value(p["name"], p["schema"]) for p in METHODS[method]["params"] if p.get("required")}


def test_every_string_field_has_its_length_limit():
    lines, expect = [], []
    for i, (method, name, limit) in enumerate(_string_params()):
        params = _valid_params(method)
        params[name] = "a" * (limit + 1)
        lines.append(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}))
        expect.append((method, name))
    assert len(lines) > 30
    out, err, rc = run_lines(lines, "--test-clock", CLOCK)
    assert rc == 0 and len(out) == len(lines), err
    for (method, name), line in zip(expect, out):
        r = json.loads(line)
        e = r.get("error") or {}
        assert e.get("code") == -32602 and e["data"].get("field") == name and e["data"]["reason"] == "too_long", \
            f"{method}.{name} one character over its maxLength: {r}"


def test_image_over_10_mib_refused_clearly():
    image = base64.b64encode(b"\x00" * (10 * 1024 * 1024 + 3)).decode()
    lines = [
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "createLearner", "params": {
            "learnerId": "big", "fullName": "Big", "email": "big@example.org", "country": "US"}}),
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "verifyIdentity", "params": {
            "learnerId": "big", "photoIdImage": image, "faceImage": "aGVsbG8="}}),
    ]
    out, err, rc = run_lines(lines, "--max-line-bytes", str(32 << 20), timeout=60)
    assert rc == 0 and len(out) == 2, err
    e = json.loads(out[1])["error"]
    assert e["code"] == -32602 and e["data"]["reason"] == "image_too_large" and e["data"]["field"] == "photoIdImage", e


def test_huge_strings_in_every_kind_of_field_never_break_the_stream(db_path):
    """100 KB strings (ASCII, multi-byte, quotes) in each method's first string field."""
    lines = []
    chunks = ["A", "\u00e9", "\U0001F600", "'\"\\", "\u0000"]
    for i, (method, name, _) in enumerate(_string_params()):
        params = _valid_params(method)
        c = chunks[i % len(chunks)]
        params[name] = c * (100_000 // len(c.encode()))
        lines.append(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params},
                                ensure_ascii=i % 2 == 0))
    out, err, rc = run_lines(lines, "--db", str(db_path), "--test-clock", CLOCK, timeout=60)
    assert rc == 0 and len(out) == len(lines), err
    for i, line in enumerate(out):
        r = json.loads(line)
        assert r["id"] == i and r.get("error", {}).get("code") != -32603, r
        assert len(line) < 20_000, f"an answer echoes a 100 KB input back: {line[:200]}"


# --- bugs the fuzzing found (strict xfail: they pass once fixed) ------------------------------


def test_requirements_changed_event_detail_is_null_or_non_empty():
    with Rpc(test_clock=CLOCK) as r:
        c = "course-v1:E+E+E"
        r.call("createCourse", courseId=c, title="E", startsAt="2026-01-01T00:00:00Z", endsAt="2026-12-31T23:59:59Z")
        r.call("createLearner", learnerId="e", fullName="E", email="e@example.org", country="US")
        r.call("enroll", learnerId="e", courseId=c, mode="verified")
        r.call("setCreditRequirements", courseId=c, requirements=[{"kind": "grade", "minGrade": 0.5}])
        r.call("setCreditRequirements", courseId=c, requirements=[])
        events = r.call("getHistory", learnerId="e", courseId=c)["events"]
        assert all(e["detail"] is None or e["detail"] != "" for e in events), events


RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_clock_never_runs_backwards_past_year_9999():
    # The test clock stops a year short of 9999-12-31 (room for 365-day approvals).
    out, err, rc = run_lines([], "--test-clock", "9999-12-31T23:59:59Z")
    assert rc == 2 and "--test-clock" in err and out == []
    with Rpc(test_clock="9998-12-31T23:59:59Z") as r:
        for method, params in [("clock.advance", {"seconds": 1}), ("clock.set", {"now": "9999-12-31T23:59:59Z"}),
                               ("clock.set", {"now": "9998-12-31T23:59:59-23:59"})]:
            try:
                now = r.call(method, **params)["now"]
            except RpcError as e:
                assert e.code == -32602  # refusing an instant it cannot write is fine
                continue
            assert RFC3339_UTC.match(now) and now >= "9998-12-31T23:59:59Z", f"{method} {params} answered {now}"


def test_purchase_deadline_after_year_9999_is_not_written_as_year_0000():
    with Rpc(test_clock=CLOCK) as r:
        c = "course-v1:Far+F+F"
        try:
            r.call("createCourse", courseId=c, title="Forever", startsAt="2026-01-01T00:00:00Z",
                   endsAt="9999-12-31T23:59:59Z")
        except RpcError as e:
            assert e.code == -32602
            return
        r.call("setCreditRequirements", courseId=c, requirements=[{"kind": "grade", "minGrade": 0.5}])
        r.call("createLearner", learnerId="f", fullName="F", email="f@example.org", country="US")
        r.call("enroll", learnerId="f", courseId=c, mode="verified")
        status = r.call("recordGrade", learnerId="f", courseId=c, grade=0.9)
        assert status["eligibility"] == "eligible"
        deadline = status["purchaseDeadline"]
        assert RFC3339_UTC.match(deadline) and deadline >= "9999-12-31T23:59:59Z", \
            f"purchase deadline of a course ending 9999-12-31T23:59:59Z: {deadline}"
