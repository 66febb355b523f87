"""Concurrent processes on one database file (issue 6, SPEC section 3: "Several processes may serve
the same database file at once; none loses another's update").

The racing scenario runs $CREDIT_RPC_CONCURRENCY_RUNS times (CI: 20), seeded by
$CREDIT_RPC_CONCURRENCY_SEED (printed on failure).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import os
import random
import re
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, base_env, binary, current_engine, engine_db, pg_cluster

sys.path.insert(0, str(REPO_ROOT / "Tests" / "tools"))
from harness import Piped, request_line, run_piped  # noqa: E402

RUNS = int(os.environ.get("CREDIT_RPC_CONCURRENCY_RUNS", "20"))
SEED = int(os.environ.get("CREDIT_RPC_CONCURRENCY_SEED", "6006"))
PROCESSES = 8
CLOCK = "2026-03-01T12:00:00Z"
COURSE = "course-v1:RaceX+CONC8+2026_T1"
BUYERS = [f"buyer{k}" for k in range(4)]
GRADED = "graded"
GRADES_PER_PROCESS = 12
TIMEOUT = 60.0
NOW = calendar.timegm(time.strptime(CLOCK, "%Y-%m-%dT%H:%M:%SZ"))
SECRET = "race-secret"


def sign(params: dict) -> str:
    message = "".join(f"{k}:{params[k]}" for k in sorted(params))
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def learner(lid):
    return {"learnerId": lid, "fullName": f"Racing {lid}", "email": f"{lid}@race.example", "country": "SE"}


def setup_catalog(db: Path) -> None:
    lines = [
        request_line(1, "createCourse", {"courseId": COURSE, "title": "Racing", "startsAt": "2026-01-01T00:00:00Z",
                                         "endsAt": "2026-12-31T23:59:59Z"}),
        request_line(2, "createProvider", {"providerId": "race", "displayName": "Race U",
                                           "url": "https://race.example/credit", "secrets": [SECRET]}),
        request_line(3, "offerCredit", {"courseId": COURSE, "providerId": "race",
                                        "price": {"amount": "100", "currency": "USD"}}),
        request_line(4, "setCreditRequirements", {"courseId": COURSE,
                                                  "requirements": [{"kind": "grade", "minGrade": 0.8}]}),
    ]
    out, err, rc, _ = run_piped(binary(), ["--db", engine_db(db), "--test-clock", CLOCK], b"".join(lines), TIMEOUT)
    assert rc == 0 and len(out) == 4 and all(b'"result"' in x for x in out), (out, err)


def grade_value(p: int, i: int) -> float:
    """A distinct grade below the minimum for process p, step i (5 decimals, increasing in i)."""
    return round(0.1 + (p * 100 + i) / 100000, 5)


def script(p: int, rng: random.Random) -> list[tuple[str, dict]]:
    s: list[tuple[str, dict]] = []
    order = BUYERS + [GRADED]
    rng.shuffle(order)
    s += [("createLearner", learner(lid)) for lid in order]
    s += [("enroll", {"learnerId": lid, "courseId": COURSE, "mode": "verified"}) for lid in order]
    buyers = BUYERS[:]
    rng.shuffle(buyers)
    for lid in buyers:
        s.append(("recordGrade", {"learnerId": lid, "courseId": COURSE, "grade": round(0.8 + p / 100, 2)}))
        s.append(("purchaseCredit", {
            "learnerId": lid, "courseId": COURSE, "providerId": "race",
            "payment": {"method": "card", "token": "tok_visa"},
            # Processes p and p + 5 share a key (same parameters: a replay); the others differ.
            "idempotencyKey": f"key-{lid}-{p % 5}"}))
    for i in range(GRADES_PER_PROCESS):
        s.append(("recordGrade", {"learnerId": GRADED, "courseId": COURSE, "grade": grade_value(p, i)}))
        s.append(("getRequirements", {"learnerId": GRADED, "courseId": COURSE}))
    s.append(("getDashboard", {"learnerId": GRADED}))
    return s


def _drive(p: Piped, lines: list[bytes], interactive: bool, rng: random.Random, go: threading.Event,
           out: list) -> threading.Thread:
    """Feeds one process: interactive (one request, wait for its answer, the next: one transaction
    each, the most interleaving) or piped in bursts (answered in groups). Answers go to `out`."""
    pauses = [rng.choice([0, 0, 0.0005, 0.002]) for _ in lines]

    def run():
        go.wait(10)
        deadline = time.monotonic() + TIMEOUT
        try:
            if interactive:
                for line, pause in zip(lines, pauses):
                    os.write(p.proc.stdin.fileno(), line)
                    answer = p.read_line(max(0.0, deadline - time.monotonic()))
                    if answer is None:
                        break
                    out.append(answer)
                    if pause:
                        time.sleep(pause)
                p.proc.stdin.close()
            else:
                for line, pause in zip(lines, pauses):
                    os.write(p.proc.stdin.fileno(), line)
                    if pause:
                        time.sleep(pause)
                p.proc.stdin.close()
                out.extend(p.read_available(deadline))
        except OSError as e:
            p.write_error = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


CURRENT = re.compile(r"Current grade ([0-9.]+);")


def race_once(db: Path, seed: int) -> None:
    rng = random.Random(seed)
    setup_catalog(db)
    scripts = [script(p, rng) for p in range(PROCESSES)]
    procs = [Piped(binary(), ["--db", engine_db(db), "--test-clock", CLOCK], env=base_env()) for _ in range(PROCESSES)]
    try:
        # Every process has opened the file before the race starts.
        for p in procs:
            p.proc.stdin.write(request_line("ready", "listCourses"))
            p.proc.stdin.flush()
        for p in procs:
            line = p.read_line(TIMEOUT)
            assert line is not None and b'"ready"' in line, p.stderr()
        go = threading.Event()
        outs: list[list[bytes]] = [[] for _ in procs]
        drivers = [_drive(p, [request_line(i, m, prm) for i, (m, prm) in enumerate(s)], k % 2 == 0, rng, go, o)
                   for k, (p, s, o) in enumerate(zip(procs, scripts, outs))]
        go.set()
        answers = []
        for d in drivers:
            d.join(TIMEOUT + 5)
        for k, p in enumerate(procs):
            rc = p.wait(TIMEOUT)
            assert rc == 0, f"process {k} exited {rc} (None: hang); stderr: {p.stderr()}"
            lines = outs[k]
            assert len(lines) == len(scripts[k]), f"process {k}: {len(lines)} answers to {len(scripts[k])}"
            rs = [json.loads(x) for x in lines]
            assert [r["id"] for r in rs] == list(range(len(scripts[k])))
            answers.append(rs)
    finally:
        for p in procs:
            p.cleanup()

    recorded = {grade_value(p, i) for p in range(PROCESSES) for i in range(GRADES_PER_PROCESS)}
    successes = {lid: [] for lid in BUYERS}
    for k, (s, rs) in enumerate(zip(scripts, answers)):
        for (method, params), r in zip(s, rs):
            where = f"process {k}: {method} {json.dumps(params)} -> {json.dumps(r)}"
            if method == "purchaseCredit":
                if "result" in r:
                    successes[params["learnerId"]].append((params["idempotencyKey"], r["result"]))
                else:
                    e = r["error"]
                    assert e["code"] == -32009 and e["data"]["reason"] == "already_purchased", where
            else:
                assert "result" in r, where  # duplicates of the same data all succeed; no busy error
            if method == "recordGrade" and params["learnerId"] in BUYERS:
                assert r["result"]["eligibility"] == "eligible", where
            if method == "getRequirements":
                status = r["result"]["requirements"][0]
                assert status["status"] == "pending", where
                m = CURRENT.search(status["reason"] or "")
                # A reader sees a grade somebody recorded (or none yet), never anything else.
                if m:
                    assert float(m.group(1)) in recorded, where

    if current_engine() == "postgresql":
        c = pg_cluster()
        keys = dict(c.in_schema(db, "SELECT learner_id, idempotency_key FROM orders"))
        n_orders = [(a, int(b)) for a, b in c.in_schema(db, "SELECT learner_id, count(*) FROM orders GROUP BY learner_id")]
        n_learners = int(c.in_schema(db, "SELECT count(*) FROM learners")[0][0])
        n_enroll = int(c.in_schema(db, "SELECT count(*) FROM enrollments")[0][0])
    else:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            assert [r[0] for r in con.execute("PRAGMA integrity_check")] == ["ok"]
            keys = dict(con.execute("SELECT learner_id, idempotency_key FROM orders").fetchall())
            n_orders = con.execute("SELECT learner_id, count(*) FROM orders GROUP BY learner_id").fetchall()
            n_learners = con.execute("SELECT count(*) FROM learners").fetchone()[0]
            n_enroll = con.execute("SELECT count(*) FROM enrollments").fetchone()[0]
        finally:
            con.close()
    assert n_learners == len(BUYERS) + 1 and n_enroll == len(BUYERS) + 1
    assert sorted(n_orders) == [(lid, 1) for lid in BUYERS], f"one purchase per learner: {n_orders}"
    for lid in BUYERS:
        wins = successes[lid]
        assert wins, f"no purchase of {lid} succeeded"
        assert {k for k, _ in wins} == {keys[lid]}, f"{lid}: successes under keys {[k for k, _ in wins]}, stored {keys[lid]}"
        # Every process that used the winning key got the same answer, word for word.
        assert all(res == wins[0][1] for _, res in wins), f"{lid}: replays differ: {wins}"
        expected_winners = sum(1 for p in range(PROCESSES) if f"key-{lid}-{p % 5}" == keys[lid])
        assert len(wins) == expected_winners, f"{lid}: {len(wins)} successes, {expected_winners} processes used the key"

    # Read back through the service: emails, history and the last grade.
    lines = []
    for i, lid in enumerate(BUYERS + [GRADED]):
        lines.append(request_line(2 * i, "listNotifications", {"learnerId": lid}))
        lines.append(request_line(2 * i + 1, "getHistory", {"learnerId": lid, "courseId": COURSE}))
    lines.append(request_line("req", "getRequirements", {"learnerId": GRADED, "courseId": COURSE}))
    out, err, rc, _ = run_piped(binary(), ["--db", engine_db(db), "--test-clock", CLOCK], b"".join(lines), TIMEOUT)
    assert rc == 0 and len(out) == len(lines), err
    rs = [json.loads(x) for x in out]
    for i, lid in enumerate(BUYERS):
        kinds = [n["kind"] for n in rs[2 * i]["result"]["notifications"]]
        events = [e["kind"] for e in rs[2 * i + 1]["result"]["events"]]
        assert kinds.count("creditEligible") == 1, f"{lid}: eligibility emails {kinds}"
        assert kinds.count("purchaseReceipt") == 1, f"{lid}: receipts {kinds}"
        assert events.count("creditPurchased") == 1, f"{lid}: events {events}"
        assert events.count("enrolled") == 1, f"{lid}: duplicate enrollments recorded as new: {events}"
        assert events.count("gradeRecorded") == PROCESSES, f"{lid}: grades lost: {events}"
    g = len(BUYERS)
    events = rs[2 * g + 1]["result"]["events"]
    grades = [e["to"] for e in events if e["kind"] == "gradeRecorded"]
    assert len(grades) == PROCESSES * GRADES_PER_PROCESS, f"grades lost: {len(grades)} recorded events"
    assert sorted(float(x) for x in grades) == sorted(recorded)
    # Each process's grades are committed in its own order ...
    for p in range(PROCESSES):
        mine = [float(x) for x in grades if float(x) in {grade_value(p, i) for i in range(GRADES_PER_PROCESS)}]
        assert mine == sorted(mine), f"process {p}'s grades committed out of order: {mine}"
    # ... and the last one committed is the one the requirement shows.
    last = float(grades[-1])
    assert last in {grade_value(p, GRADES_PER_PROCESS - 1) for p in range(PROCESSES)}, grades
    reason = rs[-1]["result"]["requirements"][0]["reason"]
    m = CURRENT.search(reason)
    assert m and float(m.group(1)) == last, f"the last recorded grade is {last}, the requirement says {reason!r}"

    race_decisions(db, {lid: wins[0][1]["creditRequest"]["requestId"]
                        for lid, wins in successes.items()}, rng)


def race_decisions(db: Path, requests: dict, rng: random.Random) -> None:
    """8 processes send each request's signed decision at once, half approved, half rejected:
    exactly one decision is stored, its senders succeed (the same decision again is idempotent),
    the others get -32003; one creditDecision email each."""
    scripts = []
    for p in range(PROCESSES):
        lines = []
        for lid in rng.sample(sorted(requests), len(requests)):
            status = "approved" if (p + len(lid)) % 2 else "rejected"
            signed = {"request_uuid": requests[lid], "status": status, "timestamp": NOW}
            lines.append((lid, status, request_line(len(lines), "submitProviderDecision", {
                "providerId": "race", "requestId": requests[lid], "status": status, "timestamp": NOW,
                "signature": sign(signed)})))
        scripts.append(lines)
    procs = [Piped(binary(), ["--db", engine_db(db), "--test-clock", CLOCK, "--as", "provider:race"], env=base_env())
             for _ in range(PROCESSES)]
    try:
        go = threading.Event()
        outs: list[list[bytes]] = [[] for _ in procs]
        drivers = [_drive(p, [x[2] for x in s], k % 2 == 0, rng, go, o)
                   for k, (p, s, o) in enumerate(zip(procs, scripts, outs))]
        go.set()
        for d in drivers:
            d.join(TIMEOUT + 5)
        for k, p in enumerate(procs):
            assert p.wait(TIMEOUT) == 0, p.stderr()
            assert len(outs[k]) == len(scripts[k]), (k, outs[k], p.stderr())
    finally:
        for p in procs:
            p.cleanup()
    outcomes = {lid: [] for lid in requests}
    for s, out in zip(scripts, outs):
        for (lid, status, line), raw in zip(s, out):
            outcomes[lid].append((status, json.loads(raw)))
    lines = [request_line(lid, "getCreditRequest", {"requestId": rid}) for lid, rid in requests.items()]
    lines += [request_line("n-" + lid, "listNotifications", {"learnerId": lid}) for lid in requests]
    out, err, rc, _ = run_piped(binary(), ["--db", engine_db(db), "--test-clock", CLOCK], b"".join(lines), TIMEOUT)
    assert rc == 0, err
    answers = {a["id"]: a for a in map(json.loads, out)}
    for lid in requests:
        stored = answers[lid]["result"]["status"]
        assert stored in ("approved", "rejected"), answers[lid]
        for status, r in outcomes[lid]:
            if status == stored:
                assert "result" in r and r["result"]["status"] == stored, (lid, status, r)
            else:
                assert r.get("error", {}).get("code") == -32003, f"{lid}: {status} after {stored}: {r}"
        kinds = [n["kind"] for n in answers["n-" + lid]["result"]["notifications"]]
        assert kinds.count("creditDecision") == 1, f"{lid}: decision emails {kinds}"


@pytest.mark.parametrize("run", range(RUNS))
def test_eight_processes_race_on_the_same_learners(tmp_path, run):
    seed = SEED + run
    try:
        race_once(tmp_path / "race.sqlite", seed)
    except AssertionError as e:
        raise AssertionError(f"racing run {run}, seed {seed} (CREDIT_RPC_CONCURRENCY_SEED={SEED}): {e}") from None


PG_RUNS = int(os.environ.get("CREDIT_RPC_CONCURRENCY_RUNS_PG", "3"))


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("run", range(PG_RUNS))
def test_eight_processes_race_on_the_same_learners_on_postgresql(tmp_path, run, engine):
    """The same race across processes on PostgreSQL (advisory locks per learner, no file lock):
    one purchase per learner, no lost grade, one email ($CREDIT_RPC_CONCURRENCY_RUNS_PG runs)."""
    seed = SEED + 1000 + run
    try:
        race_once(tmp_path / "race.sqlite", seed)
    except AssertionError as e:
        raise AssertionError(f"racing run {run} on PostgreSQL, seed {seed}: {e}") from None


def advisory_key(text: str) -> int:
    """PostgreSQL.Connection.advisoryKey: FNV-1a of the UTF-8 bytes, as a signed 64-bit integer."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= 1 << 63 else h


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_postgresql_writers_of_other_learners_do_not_wait(tmp_path, engine):
    """While another session holds learner A's lock, writes for B are served at once, reads too,
    and a write for A waits for the lock timeout (5 s) and is answered database_busy, unstored."""
    db = tmp_path / "locks.sqlite"
    _migrated(db)
    c = pg_cluster()
    holder = c.sql  # the cluster's psql session holds the locks (session-level, same key space)
    holder(f"SELECT pg_advisory_lock_shared({advisory_key('credit-rpc:everything')}), "
           f"pg_advisory_lock({advisory_key('credit-rpc:learner:held')})")
    try:
        with Piped(binary(), ["--db", engine_db(db)], env=base_env()) as p:
            for i in range(3):
                r, took = _send(p, _create(i, f"free{i}"))
                assert "result" in r and took < 3, (r, took)
            r, took = _send(p, {"jsonrpc": "2.0", "id": 9, "method": "listCourses"})
            assert "result" in r, r
            r, took = _send(p, _create(10, "held"))
            assert r["error"]["code"] == -32010 and r["error"]["data"]["reason"] == "database_busy", r
            assert 4.0 <= took <= 15, took
            p.close_stdin()
            assert p.wait(TIMEOUT) == 0, p.stderr()
    finally:
        holder("SELECT pg_advisory_unlock_all()")
    assert c.in_schema(db, "SELECT learner_id FROM learners ORDER BY learner_id") == [["free0"], ["free1"], ["free2"]]


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_eight_processes_create_and_migrate_a_new_postgresql_database_at_once(tmp_path, engine):
    """All start on an empty database: one migrates (under an advisory lock), none fails."""
    c = pg_cluster()
    for trial in range(3):
        db = tmp_path / f"new{trial}.sqlite"
        procs = [Piped(binary(), ["--db", engine_db(db)], env=base_env()) for _ in range(PROCESSES)]
        try:
            for k, p in enumerate(procs):
                p.feed(request_line(k, "createLearner", learner(f"p{k}")) + request_line("l", "listCourses"))
            for k, p in enumerate(procs):
                lines = p.read_available(time.monotonic() + TIMEOUT)
                assert p.wait(TIMEOUT) == 0, f"process {k} on a new database: {p.stderr()}"
                rs = [json.loads(x) for x in lines]
                assert len(rs) == 2 and all("result" in r for r in rs), (k, rs, p.stderr())
        finally:
            for p in procs:
                p.cleanup()
        assert c.in_schema(db, "SELECT count(*) FROM learners") == [[str(PROCESSES)]]
        assert c.in_schema(db, "SELECT version FROM schema_migrations ORDER BY version") == [["1"], ["2"], ["3"]]


# --- A lock held past the busy timeout --------------------------------------------------------


def _migrated(db: Path) -> None:
    out, err, rc, _ = run_piped(binary(), ["--db", engine_db(db)], request_line(1, "listCourses"), TIMEOUT)
    assert rc == 0 and out, err


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(db), isolation_level=None, timeout=0, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    return con


def _send(p: Piped, msg) -> tuple[dict, float]:
    t = time.monotonic()
    p.proc.stdin.write((json.dumps(msg) + "\n").encode())
    p.proc.stdin.flush()
    line = p.read_line(TIMEOUT)
    assert line is not None, f"no answer within {TIMEOUT}s; stderr: {p.stderr()}"
    return json.loads(line), time.monotonic() - t


def _create(id, lid):
    return {"jsonrpc": "2.0", "id": id, "method": "createLearner", "params": learner(lid)}


@pytest.mark.sqlite_only
def test_lock_held_past_busy_timeout_gives_unavailable(tmp_path):
    db = tmp_path / "busy.sqlite"
    _migrated(db)
    with Piped(binary(), ["--db", engine_db(db)], env=base_env()) as p:
        r, _ = _send(p, _create(1, "before"))
        assert "result" in r, r
        lock = _hold_write_lock(db)
        try:
            # Readers are not blocked by a writer (WAL).
            r, took = _send(p, {"jsonrpc": "2.0", "id": 2, "method": "getDashboard", "params": {"learnerId": "before"}})
            assert "result" in r and took < 3, (r, took)
            # A write waits for the busy timeout (5 s), then gives up cleanly.
            r, took = _send(p, _create(3, "blocked"))
            assert r["id"] == 3 and "error" in r, r
            assert r["error"]["code"] == -32010 and r["error"]["data"]["reason"] == "database_busy", r
            assert 4.0 <= took <= 15, f"answered after {took:.1f}s, expected about the 5 s busy timeout"
            # Still alive and still reading while the lock is held.
            r, _ = _send(p, {"jsonrpc": "2.0", "id": 4, "method": "listCourses"})
            assert "result" in r, r
        finally:
            lock.rollback()
            lock.close()
        # Works again once the lock is gone; the refused write changed nothing.
        r, _ = _send(p, {"jsonrpc": "2.0", "id": 5, "method": "getDashboard", "params": {"learnerId": "blocked"}})
        assert r["error"]["code"] == -32001, r
        r, _ = _send(p, _create(6, "blocked"))
        assert "result" in r, r
        p.close_stdin()
        assert p.wait(TIMEOUT) == 0, p.stderr()


@pytest.mark.sqlite_only
def test_busy_batch_fails_whole_and_changes_nothing(tmp_path):
    """A group that cannot get the lock answers every member, each with an error or a correct
    result, never a success that was not stored."""
    db = tmp_path / "busy-batch.sqlite"
    _migrated(db)
    with Piped(binary(), ["--db", engine_db(db)], env=base_env()) as p:
        r, _ = _send(p, {"jsonrpc": "2.0", "id": 0, "method": "listCourses"})
        lock = _hold_write_lock(db)
        try:
            batch = [_create(1, "x1"), {"jsonrpc": "2.0", "id": 2, "method": "listCourses"}, _create(3, "x2")]
            rs, took = _send(p, batch)
        finally:
            lock.rollback()
            lock.close()
        assert [r["id"] for r in rs] == [1, 2, 3]
        for r in rs:
            assert "result" in r or (r["error"]["code"] == -32010 and r["error"]["data"]["reason"] == "database_busy"), r
        assert "error" in rs[0] and "error" in rs[2], rs
        r, _ = _send(p, {"jsonrpc": "2.0", "id": 4, "method": "getDashboard", "params": {"learnerId": "x1"}})
        assert r["error"]["code"] == -32001, f"a write answered busy was stored: {r}"


@pytest.mark.sqlite_only
def test_process_started_while_lock_held_still_serves(tmp_path):
    db = tmp_path / "busy-start.sqlite"
    _migrated(db)
    lock = _hold_write_lock(db)
    try:
        out, err, rc, _ = run_piped(
            binary(), ["--db", engine_db(db)],
            request_line(1, "listCourses") + request_line(2, "createLearner", learner("late")), TIMEOUT)
    finally:
        lock.rollback()
        lock.close()
    assert rc == 0, f"exit {rc}: {err}"
    rs = [json.loads(x) for x in out]
    assert rs[0] == {"jsonrpc": "2.0", "id": 1, "result": {"courses": []}}
    assert rs[1]["error"]["code"] == -32010 and rs[1]["error"]["data"]["reason"] == "database_busy"


@pytest.mark.sqlite_only
def test_eight_processes_create_and_migrate_a_new_file_at_once(tmp_path):
    """All start on a file that does not exist yet: one migrates, none fails or migrates twice."""
    for trial in range(5):
        db = tmp_path / f"new{trial}.sqlite"
        procs = [Piped(binary(), ["--db", engine_db(db)], env=base_env()) for _ in range(PROCESSES)]
        try:
            for k, p in enumerate(procs):
                p.feed(request_line(k, "createLearner", learner(f"p{k}")) + request_line("l", "listCourses"))
            for k, p in enumerate(procs):
                lines = p.read_available(time.monotonic() + TIMEOUT)
                assert p.wait(TIMEOUT) == 0, f"process {k} on a new file: {p.stderr()}"
                rs = [json.loads(x) for x in lines]
                assert len(rs) == 2 and all("result" in r for r in rs), (k, rs, p.stderr())
        finally:
            for p in procs:
                p.cleanup()
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            assert con.execute("SELECT count(*) FROM learners").fetchone()[0] == PROCESSES
            versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version")]
            assert versions and con.execute("PRAGMA user_version").fetchone()[0] == versions[-1], versions
            assert [r[0] for r in con.execute("PRAGMA integrity_check")] == ["ok"]
        finally:
            con.close()
