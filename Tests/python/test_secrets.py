"""Secrets and personal data (issue 6): provider secrets never leave the database (no response, error,
log line at any level, history or notification holds them); the database files are 0600; logs at
the default level hold no learner names, emails or addresses.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import os
import resource
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import base_env, binary

CLOCK = "2026-06-15T12:00:00Z"
NOW = calendar.timegm(time.strptime(CLOCK, "%Y-%m-%dT%H:%M:%SZ"))
COURSE = "course-v1:SecX+S1+2026_T1"
SECRETS = ["Sx-first-secret-7f3a9c", "Sx-rotated-secret-b41e02"]
REJECTED_SECRETS = ["Sx-other-secret-d00d11", "Sx-tiny", "Sx-" + "long-secret-" * 60]
NAME, EMAIL, ADDRESS = "Zelda Quintessa Marlowe", "zelda.q.marlowe@private.example", "42 Hidden Lane, Gotham"
LEVELS = ["error", "warning", "info", "debug"]


def encodings(secret: str) -> list[str]:
    """A secret as it could leak: raw, hex, base64, JSON-escaped."""
    raw = secret.encode()
    return [secret, raw.hex(), base64.b64encode(raw).decode(), json.dumps(secret)[1:-1]]


def sign(secret: str, params: dict) -> str:
    message = "".join(f"{k}:{params[k]}" for k in sorted(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def call(id, method, **params):
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params})


def run(db: Path, lines: list[str], *args: str, preexec_fn=None, env=None):
    p = subprocess.run([binary(), "--db", str(db), "--test-clock", CLOCK, *args],
                       input=("\n".join(lines) + "\n").encode(), capture_output=True,
                       env=env or base_env(), timeout=60, preexec_fn=preexec_fn)
    return p.stdout.decode(), p.stderr.decode("utf-8", "replace"), p.returncode


def catalog_lines() -> list[str]:
    return [
        call("c1", "createCourse", courseId=COURSE, title="Secrets", startsAt="2026-01-01T00:00:00Z",
             endsAt="2026-12-31T23:59:59Z"),
        call("p1", "createProvider", providerId="sp", displayName="Secret U", url="https://secret.example/credit",
             description="Keeps secrets.", requiresAdditionalSteps=True, secrets=SECRETS),
        call("p2", "createProvider", providerId="sp", displayName="Secret U", url="https://secret.example/credit",
             description="Keeps secrets.", requiresAdditionalSteps=True, secrets=SECRETS),
        # Refused ones: none of these may echo the secret it carries.
        call("p3", "createProvider", providerId="sp", displayName="Secret U", url="https://secret.example/credit",
             secrets=[REJECTED_SECRETS[0]]),
        call("p4", "createProvider", providerId="sp2", displayName="S2", url="https://s2.example",
             secrets=[REJECTED_SECRETS[1]]),
        call("p5", "createProvider", providerId="sp3", displayName="S3", url="https://s3.example",
             secrets=[REJECTED_SECRETS[2]]),
        call("p6", "createProvider", providerId="sp4", displayName="S4", url="https://s4.example",
             secrets=REJECTED_SECRETS[0]),
        call("p7", "createProvider", providerId="sp5", displayName="S5", url="https://s5.example",
             secrets=[REJECTED_SECRETS[0], 5]),
        call("p8", "createProvider", providerId="sp6", displayName="S6", url="not a url",
             secrets=[REJECTED_SECRETS[0]], extra=REJECTED_SECRETS[0]),
        call("o1", "offerCredit", courseId=COURSE, providerId="sp", price={"amount": "150", "currency": "USD"}),
        call("r1", "setCreditRequirements", courseId=COURSE, requirements=[{"kind": "grade", "minGrade": 0.7}]),
    ]


def journey_lines(request_id: str | None) -> list[str]:
    lines = [
        call("l1", "createLearner", learnerId="zelda", fullName=NAME, email=EMAIL, country="US", mailingAddress=ADDRESS),
        call("l2", "createLearner", learnerId="zelda", fullName=NAME + " II", email=EMAIL, country="US"),
        call("e1", "enroll", learnerId="zelda", courseId=COURSE, mode="verified"),
        call("g1", "recordGrade", learnerId="zelda", courseId=COURSE, grade=0.91),
        call("b1", "purchaseCredit", learnerId="zelda", courseId=COURSE, providerId="sp",
             payment={"method": "card", "token": "tok_visa"}, idempotencyKey="buy-1"),
        call("b2", "purchaseCredit", learnerId="zelda", courseId=COURSE, providerId="sp",
             payment={"method": "card", "token": "tok_visa"}, idempotencyKey="buy-1"),
        call("d1", "getDashboard", learnerId="zelda"),
        call("q1", "listCourses"),
        call("q2", "listCourses", creditOnly=True),
        call("n1", "listNotifications", learnerId="zelda"),
        call("h1", "getHistory", learnerId="zelda", courseId=COURSE),
        call("x1", "rpc.discover"),
        call("x2", "noSuchMethod", secret=SECRETS[0]),
    ]
    if request_id:
        good = {"request_uuid": request_id, "status": "approved", "timestamp": NOW}
        lines += [
            call("s0", "getCreditRequest", requestId=request_id),
            # A wrong signature: the answer must not give away the right one.
            call("s1", "submitProviderDecision", providerId="sp", requestId=request_id, status="approved",
                 timestamp=NOW, signature="0" * 64),
            call("s2", "submitProviderDecision", providerId="sp", requestId=request_id, status="approved",
                 timestamp=NOW - 3600, signature=sign(SECRETS[0], {**good, "timestamp": NOW - 3600})),
            # Signed with the rotated (second) secret: accepted.
            call("s3", "submitProviderDecision", providerId="sp", requestId=request_id, status="approved",
                 timestamp=NOW, signature=sign(SECRETS[1], good)),
            call("s4", "submitProviderDecision", providerId="sp", requestId=request_id, status="rejected",
                 timestamp=NOW, signature=sign(SECRETS[0], {**good, "status": "rejected"})),
            call("s5", "getCreditRequest", requestId=request_id),
            call("n2", "listNotifications", learnerId="zelda"),
            call("h2", "getHistory", learnerId="zelda", courseId=COURSE),
            call("d2", "getDashboard", learnerId="zelda"),
        ]
    return lines


@pytest.fixture(scope="module")
def request_id(tmp_path_factory) -> str:
    """The credit request id of the journey (deterministic under the test clock)."""
    db = tmp_path_factory.mktemp("rid") / "rid.sqlite"
    out, err, rc = run(db, catalog_lines() + journey_lines(None))
    assert rc == 0, err
    answers = {a["id"]: a for a in map(json.loads, out.splitlines())}
    purchase = answers["b1"]["result"]
    assert purchase["completeCredit"]["parameters"]["signature"], purchase
    return purchase["creditRequest"]["requestId"]


def assert_no_secret(text: str, where: str, extra: list[str] = ()) -> None:
    for s in SECRETS + REJECTED_SECRETS:
        for form in encodings(s):
            assert form not in text, f"a provider secret ({form[:20]}...) appears in {where}"
    for x in extra:
        assert x not in text, f"{x[:20]}... appears in {where}"


@pytest.mark.parametrize("level", LEVELS)
def test_secrets_in_no_response_and_no_log_line(tmp_path, request_id, level):
    db = tmp_path / "s.sqlite"
    good = {"request_uuid": request_id, "status": "approved", "timestamp": NOW}
    expected_signatures = [sign(s, good) for s in SECRETS]
    out, err, rc = run(db, catalog_lines() + journey_lines(request_id), "--log-level", level)
    assert rc == 0, err
    answers = {a["id"]: a for a in map(json.loads, out.splitlines())}
    # The journey really went through the code that reads the secrets.
    assert "result" in answers["p1"] and "secrets" not in answers["p1"]["result"]
    assert answers["p3"]["error"]["code"] == -32002, answers["p3"]
    assert all(answers[k]["error"]["code"] == -32602 for k in ("p4", "p5", "p6", "p7", "p8")), answers
    assert answers["s1"]["error"]["code"] == -32008 and answers["s2"]["error"]["code"] == -32008
    assert answers["s3"]["result"]["status"] == "approved", answers["s3"]
    assert answers["s4"]["error"]["code"] == -32003, answers["s4"]
    assert answers["b1"]["result"] == answers["b2"]["result"]
    # Nowhere: not in a response (results, errors, history, notifications), not in a log line; the
    # wrong-signature answer does not tell the right signature.
    assert_no_secret(out, "stdout", expected_signatures)
    assert_no_secret(err, f"stderr at --log-level {level}", expected_signatures)


def test_secrets_not_shown_to_a_provider_or_a_learner(tmp_path, request_id):
    db = tmp_path / "p.sqlite"
    out, err, rc = run(db, catalog_lines() + journey_lines(None))
    assert rc == 0, err
    for principal, lines in [
        ("provider:sp", [call(1, "getCreditRequest", requestId=request_id), call(2, "listCourses"),
                         call(3, "createProvider", providerId="sp", displayName="x", url="https://x.example",
                              secrets=[SECRETS[0]])]),
        ("learner:zelda", [call(1, "getCreditRequest", requestId=request_id), call(2, "getDashboard", learnerId="zelda"),
                           call(3, "listCourses")]),
        ("staff", [call(1, "getCreditRequest", requestId=request_id), call(2, "listCourses")]),
    ]:
        out, err, rc = run(db, lines, "--as", principal, "--log-level", "debug")
        assert rc == 0, err
        assert "result" in json.loads(out.splitlines()[0]), out
        assert_no_secret(out, f"answers to {principal}")
        assert_no_secret(err, f"stderr of {principal}")


def test_trace_sql_file_holds_no_secret(tmp_path):
    db = tmp_path / "t.sqlite"
    trace = tmp_path / "trace.sql"
    out, err, rc = run(db, catalog_lines() + journey_lines(None), "--trace-sql", str(trace))
    assert rc == 0, err
    text = trace.read_text(errors="replace")
    assert "INSERT" in text, "the trace is empty: nothing to check"
    assert_no_secret(text, "the --trace-sql file")


# --- files ---------------------------------------------------------------------------------------


def _modes(db: Path) -> dict:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in db.parent.iterdir() if p.name.startswith(db.name)}


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_database_files_are_0600(tmp_path, umask):
    db = tmp_path / "m.sqlite"

    def pre():
        os.umask(umask)
    out, err, rc = run(db, catalog_lines() + journey_lines(None), preexec_fn=pre)
    assert rc == 0, err
    # A clean exit checkpoints the WAL into the file and removes -wal and -shm.
    assert set(_modes(db)) == {"m.sqlite"}, _modes(db)
    assert all(m == 0o600 for m in _modes(db).values()), {k: oct(v) for k, v in _modes(db).items()}
    # While a process has the file open, the -wal and -shm it makes are 0600 too.
    p = subprocess.Popen([binary(), "--db", str(db), "--test-clock", CLOCK], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env(), preexec_fn=pre)
    try:
        p.stdin.write((call(1, "createLearner", learnerId="again", fullName="A", email="a@x.example",
                            country="US") + "\n").encode())
        p.stdin.flush()
        assert b'"result"' in p.stdout.readline()
        modes = _modes(db)
        assert {"m.sqlite", "m.sqlite-wal", "m.sqlite-shm"} <= set(modes), modes
        assert all(m == 0o600 for m in modes.values()), {k: oct(v) for k, v in modes.items()}
    finally:
        p.stdin.close()
        assert p.wait(timeout=20) == 0
        p.stdout.close()
        p.stderr.close()


def test_existing_world_readable_database_is_tightened(tmp_path):
    db = tmp_path / "open.sqlite"
    run(db, [call(1, "listCourses")])
    os.chmod(db, 0o644)
    out, err, rc = run(db, [call(1, "listCourses")])
    assert rc == 0, err
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_default_path_folders_are_private(tmp_path):
    xdg = tmp_path / "xdg"
    env = base_env(XDG_DATA_HOME=str(xdg), HOME=str(tmp_path / "home"))
    p = subprocess.run([binary()], input=(call(1, "listCourses") + "\n").encode(), capture_output=True,
                       env=env, timeout=60, preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stderr
    folder = xdg / "credit-rpc"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700, oct(folder.stat().st_mode)
    assert stat.S_IMODE((folder / "credit.sqlite").stat().st_mode) == 0o600


# --- personal data in logs -----------------------------------------------------------------------


def personal(text: str) -> list[str]:
    found = []
    for x in (NAME, "Zelda", "Marlowe", EMAIL, "private.example", ADDRESS, "Hidden Lane"):
        if x in text:
            found.append(x)
    return found


@pytest.mark.parametrize("args", [(), ("--log-level", "info"), ("--log-level", "warning"), ("--log-level", "error")],
                         ids=["default", "info", "warning", "error"])
def test_logs_at_default_and_quieter_levels_hold_no_personal_data(tmp_path, request_id, args):
    db = tmp_path / "pd.sqlite"
    lines = catalog_lines() + journey_lines(request_id)
    lines += [call("bad1", "createLearner", learnerId="zelda", fullName=NAME, email="not-an-email", country="US"),
              call("bad2", "createLearner", learnerId="x y", fullName=NAME, email=EMAIL, country="USA"),
              "{not json " + NAME, '{"jsonrpc":"2.0","id":"q","method":"getDashboard","params":{"learnerId":"' + EMAIL + '"}}']
    out, err, rc = run(db, lines, *args)
    assert rc == 0, err
    assert not personal(err), f"stderr ({' '.join(args) or 'default level'}) holds personal data: {personal(err)}: {err[-1500:]}"


def test_storage_failure_logs_hold_no_personal_data_or_secret(tmp_path):
    """A full disk makes the service log storage failures at the default level: SQL, never values."""
    db = tmp_path / "full.sqlite"
    run(db, [call(0, "listCourses")])

    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
    lines = [call(f"p{i}", "createProvider", providerId=f"fp{i}", displayName="Full", url="https://full.example",
                  secrets=[SECRETS[0] + "-" + "z" * 400]) for i in range(300)]
    lines += [call(f"l{i}", "createLearner", learnerId=f"z{i}", fullName=NAME, email=EMAIL, country="US",
                   mailingAddress=ADDRESS + " " + "x" * 1500) for i in range(300)]
    out, err, rc = run(db, lines, preexec_fn=pre)
    assert rc == 0, err
    answers = [json.loads(x) for x in out.splitlines()]
    failed = [a for a in answers if a.get("error", {}).get("code") == -32010]
    assert failed and "credit-rpc error" in err, f"the disk never filled: {err[-500:]}"
    assert_no_secret(err, "storage failure logs")
    assert not personal(err), personal(err)
