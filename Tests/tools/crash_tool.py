#!/usr/bin/env python3
"""Crash durability: SIGKILL credit-rpc at random moments and prove it loses nothing it answered.

A long scripted workload (a catalog, then learners created, enrolled, graded to eligibility and
buying credit with distinct idempotency keys, then the provider's signed decision, with failing
requests mixed in) is streamed into
`credit-rpc --db FILE --test-clock ...` through a pipe. Each round starts the service on the same
file, sends the next stretch of the script (all at once, or in bursts with pauses so that it is
committed in many groups), reads the answers as they come and kills the process with SIGKILL: after
a random 0-20 ms, after a random number of answers, or not at all. Every complete answer line the
process wrote before it died counts as acknowledged.

After each kill:
  - `PRAGMA integrity_check` and `foreign_key_check` on the file (Python's sqlite3, read-only),
    and invariants over every row: a credit request always has its order, exactly one
    `creditPurchased` event and one `purchaseReceipt` email; an order always has its credit
    request; at most one order per learner; exactly one `creditEligible` email per eligible
    learner, none for the others; a decided request has exactly one `creditDecision` email and
    event, a pending one none;
  - a restart on the same file reads back every learner the round touched (dashboard,
    notifications, history): each change whose answer was acknowledged is there (learner,
    enrollment, eligibility, the purchase with the acknowledged request id), and nothing is half
    there;
  - the next round goes on from the first request whose answer was not read: every step is safe to
    retry (same data again, the same idempotency key, the same signed provider decision), and a
    replayed purchase must return the acknowledged result word for word.

Run by hand with a larger budget:

    python3 Tests/tools/crash_tool.py --rounds 2000 --seed 7

Exit status 0 when every check passed; 1 with the seed, round and details otherwise.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import hmac
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Piped, find_binary, request_line, run_piped  # noqa: E402

COURSE = "course-v1:CrashX+DUR101+2026_T1"
CLOCK = "2026-03-01T12:00:00Z"
NOW = calendar.timegm(time.strptime(CLOCK, "%Y-%m-%dT%H:%M:%SZ"))
PROVIDER = "dur"
SECRET = "crash-tool-secret"
MIN_GRADE = 0.8
BLOCK = 4  # learners whose steps are interleaved stage by stage

#: Seconds one verification run (or a round left to finish) may take before it counts as a hang.
RUN_TIMEOUT = 60.0


class CheckFailed(AssertionError):
    pass


@dataclass
class Step:
    index: int
    kind: str
    method: str
    params: dict
    learner: str | None = None

    def line(self, model: "Model | None" = None) -> bytes:
        params = self.params
        if self.kind == "decide":
            rid = model.purchases[self.learner]["creditRequest"]["requestId"]
            signed = {"request_uuid": rid, "status": params["status"], "timestamp": params["timestamp"]}
            params = {**params, "requestId": rid, "signature": sign(signed)}
        return request_line(self.index, self.method, params)


def sign(params: dict) -> str:
    """SPEC section 2: HMAC-SHA256 (hex) over key:value of every parameter, keys ascending."""
    message = "".join(f"{k}:{params[k]}" for k in sorted(params))
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class Model:
    """What the acknowledged answers prove."""
    created: set = field(default_factory=set)
    enrolled: set = field(default_factory=set)
    eligible: set = field(default_factory=set)
    purchases: dict = field(default_factory=dict)  # learner -> acknowledged Purchase result
    decisions: dict = field(default_factory=dict)  # learner -> acknowledged decision status
    learners: dict = field(default_factory=dict)  # learner -> createLearner params
    acknowledged: int = 0


class Workload:
    """The script, generated block by block on demand (seeded)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed ^ 0x5EED)
        self.steps: list[Step] = []
        self.blocks = 0
        self._setup()

    def _add(self, kind, method, params, learner=None):
        self.steps.append(Step(len(self.steps), kind, method, params, learner))

    def _setup(self):
        self._add("setup", "createCourse", {
            "courseId": COURSE, "title": "Durability 101", "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "2026-12-31T23:59:59Z"})
        self._add("setup", "createProvider", {
            "providerId": PROVIDER, "displayName": "Durable University",
            "url": "https://credit.durable.example/complete", "requiresAdditionalSteps": True,
            "secrets": [SECRET]})
        self._add("setup", "offerCredit", {
            "courseId": COURSE, "providerId": PROVIDER, "price": {"amount": "250.00", "currency": "USD"}})
        self._add("setup", "setCreditRequirements", {
            "courseId": COURSE, "requirements": [{"kind": "grade", "minGrade": MIN_GRADE}]})

    def ensure(self, n: int) -> None:
        while len(self.steps) < n:
            self._add_block()

    def _add_block(self):
        rng = self.rng
        b = self.blocks
        self.blocks += 1
        ids = [f"L{b:05d}-{i}" for i in range(BLOCK)]
        people = {}
        for i, lid in enumerate(ids):
            p = {"learnerId": lid, "fullName": f"Learner {b}.{i}", "email": f"{lid.lower()}@dur.example",
                 "country": rng.choice(["US", "GB", "IN", "BR", "DE"])}
            if rng.random() < 0.5:
                p["mailingAddress"] = f"{rng.randint(1, 999)} Commit Road"
            people[lid] = p
        for lid in ids:
            self._add("create", "createLearner", people[lid], lid)
        for lid in ids:
            self._add("enroll", "enroll", {"learnerId": lid, "courseId": COURSE, "mode": "verified"}, lid)
        for lid in ids:  # fails: not eligible yet (or declined when retried after eligibility)
            self._add("early", "purchaseCredit", {
                "learnerId": lid, "courseId": COURSE, "providerId": PROVIDER,
                "payment": {"method": "card", "token": "tok_chargeDeclined"}, "idempotencyKey": "early"}, lid)
        for lid in ids:
            self._add("low", "recordGrade", {
                "learnerId": lid, "courseId": COURSE, "grade": round(rng.uniform(0.1, 0.79), 3)}, lid)
        for lid in ids:
            self._add("read", "getRequirements", {"learnerId": lid, "courseId": COURSE}, lid)
        for lid in ids:
            self._add("high", "recordGrade", {
                "learnerId": lid, "courseId": COURSE, "grade": round(rng.uniform(MIN_GRADE, 1.0), 3)}, lid)
        for lid in ids:
            if rng.random() < 0.3:
                self._add("declined", "purchaseCredit", {
                    "learnerId": lid, "courseId": COURSE, "providerId": PROVIDER,
                    "payment": {"method": "paypal", "token": "paypal_cancelled"}, "idempotencyKey": "declined"}, lid)
            pay = rng.choice([{"method": "card", "token": "tok_visa"},
                              {"method": "paypal", "token": "paypal_approved"}])
            self._add("buy", "purchaseCredit", {
                "learnerId": lid, "courseId": COURSE, "providerId": PROVIDER, "payment": pay,
                "idempotencyKey": f"buy-{lid}"}, lid)
        for lid in ids:
            self._add("again", "purchaseCredit", {
                "learnerId": lid, "courseId": COURSE, "providerId": PROVIDER,
                "payment": {"method": "card", "token": "tok_visa"}, "idempotencyKey": "again"}, lid)
        for lid in ids:
            # The provider's decision, signed: its requestId is known once the purchase is answered.
            self._add("decide", "submitProviderDecision", {
                "providerId": PROVIDER, "status": rng.choice(["approved", "rejected"]), "timestamp": NOW}, lid)
        for lid in ids:
            self._add("dash", "getDashboard", {"learnerId": lid}, lid)


def _err(resp) -> int | None:
    e = resp.get("error")
    return e.get("code") if isinstance(e, dict) else None


def check_answer(step: Step, raw: bytes, model: Model) -> None:
    """One acknowledged answer: well-formed, the expected outcome for its step; updates the model."""
    try:
        resp = json.loads(raw)
    except ValueError:
        raise CheckFailed(f"step {step.index} ({step.method}): answer is not JSON: {raw[:300]!r}")
    if not isinstance(resp, dict) or resp.get("jsonrpc") != "2.0" or ("result" in resp) == ("error" in resp):
        raise CheckFailed(f"step {step.index}: malformed answer {resp}")
    if resp.get("id") != step.index:
        raise CheckFailed(f"answer out of order: expected id {step.index} ({step.method}), got {resp}")
    code = _err(resp)
    if code is not None:
        e = resp["error"]
        if not (isinstance(e.get("message"), str) and e["message"] and isinstance(e.get("data"), dict)
                and isinstance(e["data"].get("reason"), str)):
            raise CheckFailed(f"step {step.index}: error without message or data.reason: {resp}")
    result = resp.get("result")
    lid = step.learner

    def need_ok():
        if code is not None:
            raise CheckFailed(f"step {step.index} {step.method} {json.dumps(step.params)} failed: {resp}")

    def need_error(codes):
        if code not in codes:
            raise CheckFailed(f"step {step.index} {step.method} {json.dumps(step.params)}: expected an error "
                              f"in {sorted(codes)}, got {resp}")

    k = step.kind
    if k == "setup":
        need_ok()
    elif k == "create":
        need_ok()
        expected = {**step.params}
        expected.setdefault("mailingAddress", None)
        if result != expected:
            raise CheckFailed(f"step {step.index}: createLearner answered {result}, expected {expected}")
        model.created.add(lid)
        model.learners[lid] = step.params
    elif k == "enroll":
        need_ok()
        if result.get("mode") != "verified" or result.get("creditTrack") is not True:
            raise CheckFailed(f"step {step.index}: enroll answered {result}")
        model.enrolled.add(lid)
    elif k == "early":
        # Not eligible yet; when retried after the grade was committed unanswered: declined, or
        # already purchased. Never a purchase.
        need_error({-32004, -32006, -32009})
    elif k == "low":
        need_ok()
        if result.get("eligibility") not in ("notYetEligible", "eligible"):
            raise CheckFailed(f"step {step.index}: {result}")
        if result["eligibility"] == "eligible":
            model.eligible.add(lid)
    elif k in ("read", "dash"):
        need_ok()
    elif k == "high":
        need_ok()
        if result.get("eligibility") != "eligible":
            raise CheckFailed(f"step {step.index}: a grade >= {MIN_GRADE} left {lid} {result.get('eligibility')}")
        model.eligible.add(lid)
    elif k == "declined":
        need_error({-32006, -32009})
    elif k == "buy":
        need_ok()
        rid = result.get("creditRequest", {}).get("requestId")
        if not rid or not result.get("orderId"):
            raise CheckFailed(f"step {step.index}: purchase without order or request: {result}")
        first = model.purchases.get(lid)
        if first is not None and first != result:
            raise CheckFailed(f"step {step.index}: the replay of idempotency key {step.params['idempotencyKey']} "
                              f"differs from the acknowledged purchase:\nfirst:  {first}\nreplay: {result}")
        model.purchases.setdefault(lid, result)
    elif k == "decide":
        need_ok()
        if result.get("status") != step.params["status"]:
            raise CheckFailed(f"step {step.index}: decision {step.params['status']} answered {result}")
        model.decisions[lid] = result["status"]
    elif k == "again":
        need_error({-32009})
        if resp["error"]["data"].get("reason") != "already_purchased":
            raise CheckFailed(f"step {step.index}: a second purchase answered {resp}")
    else:
        raise AssertionError(k)
    model.acknowledged += 1


# --- checks on the file -----------------------------------------------------------------------

INVARIANTS = [
    ("credit request without its order",
     "SELECT r.request_id FROM credit_requests r LEFT JOIN orders o ON o.order_id = r.order_id "
     "WHERE o.order_id IS NULL"),
    ("order without its credit request",
     "SELECT o.order_id FROM orders o WHERE NOT EXISTS "
     "(SELECT 1 FROM credit_requests r WHERE r.order_id = o.order_id)"),
    ("more than one order for a learner and course",
     "SELECT learner_id, course_id, count(*) FROM orders GROUP BY learner_id, course_id HAVING count(*) > 1"),
    ("credit request without exactly one creditPurchased event",
     "SELECT r.learner_id, (SELECT count(*) FROM events e WHERE e.learner_id = r.learner_id "
     "AND e.course_id = r.course_id AND e.kind = 'creditPurchased') AS n FROM credit_requests r WHERE n != 1"),
    ("creditPurchased event without a credit request",
     "SELECT e.learner_id FROM events e WHERE e.kind = 'creditPurchased' AND NOT EXISTS "
     "(SELECT 1 FROM credit_requests r WHERE r.learner_id = e.learner_id AND r.course_id = e.course_id)"),
    ("purchaseReceipt emails per learner not equal to its credit requests",
     "SELECT l.learner_id FROM learners l WHERE "
     "(SELECT count(*) FROM notifications n WHERE n.learner_id = l.learner_id AND n.kind = 'purchaseReceipt') != "
     "(SELECT count(*) FROM credit_requests r WHERE r.learner_id = l.learner_id)"),
    ("creditEligible emails per learner not equal to its eligible enrollments",
     "SELECT l.learner_id FROM learners l WHERE "
     "(SELECT count(*) FROM notifications n WHERE n.learner_id = l.learner_id AND n.kind = 'creditEligible') != "
     "(SELECT count(*) FROM enrollments e WHERE e.learner_id = l.learner_id AND e.eligibility = 'eligible')"),
    ("decided credit request without exactly one creditDecision email and event",
     "SELECT r.request_id FROM credit_requests r WHERE r.status != 'pending' AND ("
     "(SELECT count(*) FROM notifications n WHERE n.learner_id = r.learner_id AND n.kind = 'creditDecision') != 1 OR "
     "(SELECT count(*) FROM events e WHERE e.learner_id = r.learner_id AND e.kind = 'creditDecision') != 1)"),
    ("pending credit request with a creditDecision email or event",
     "SELECT r.request_id FROM credit_requests r WHERE r.status = 'pending' AND ("
     "EXISTS (SELECT 1 FROM notifications n WHERE n.learner_id = r.learner_id AND n.kind = 'creditDecision') OR "
     "EXISTS (SELECT 1 FROM events e WHERE e.learner_id = r.learner_id AND e.kind = 'creditDecision'))"),
    ("enrollment of a learner that does not exist",
     "SELECT e.learner_id FROM enrollments e LEFT JOIN learners l ON l.learner_id = e.learner_id "
     "WHERE l.learner_id IS NULL"),
]


def check_file(db: Path) -> dict:
    """integrity_check, foreign_key_check and the invariants, read-only. Returns row counts.

    A read-only connection cannot recover the WAL index (-shm) a killed process left half
    written (SQLITE_READONLY_RECOVERY); then the check opens the file read-write, which rebuilds
    the index as the next service would, and only reads."""
    if not db.exists():
        return {}
    try:
        return _check_file(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10))
    except sqlite3.OperationalError as e:
        if "readonly" not in str(e):
            raise
    return _check_file(sqlite3.connect(str(db), timeout=10))


def _check_file(con: sqlite3.Connection) -> dict:
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        ic = [r[0] for r in con.execute("PRAGMA integrity_check")]
        if ic != ["ok"]:
            raise CheckFailed(f"PRAGMA integrity_check: {ic[:20]}")
        if "learners" not in tables:  # killed before the migration committed: an empty file is fine
            if tables - {"schema_migrations"}:
                raise CheckFailed(f"half-migrated schema after a kill: tables {sorted(tables)}")
            return {}
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            raise CheckFailed(f"PRAGMA foreign_key_check: {fk[:20]}")
        for what, sql in INVARIANTS:
            rows = con.execute(sql).fetchall()
            if rows:
                raise CheckFailed(f"{what}: {rows[:10]}")
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("learners", "orders", "credit_requests", "notifications", "events")}
    finally:
        con.close()


def verify_learners(binary: str, db: Path, learners: list[str], model: Model) -> int:
    """Restarts the service on the file and reads back every learner in `learners`. Returns how
    many learners exist although their creation was never acknowledged (committed, then killed
    before the answer was written: the retry must cope)."""
    unanswered = 0
    if not learners:
        return 0
    lines = []
    for i, lid in enumerate(learners):
        lines.append(request_line(3 * i, "getDashboard", {"learnerId": lid}))
        lines.append(request_line(3 * i + 1, "listNotifications", {"learnerId": lid}))
        lines.append(request_line(3 * i + 2, "getHistory", {"learnerId": lid, "courseId": COURSE}))
    out, err, rc, rest = run_piped(binary, ["--db", str(db), "--test-clock", CLOCK], b"".join(lines),
                                   timeout=RUN_TIMEOUT)
    if rc != 0 or rest or len(out) != len(lines):
        raise CheckFailed(f"restart to verify: exit {rc}, {len(out)} answers to {len(lines)} requests; "
                          f"stderr: {err[-2000:]}")
    answers = [json.loads(x) for x in out]
    for i, lid in enumerate(learners):
        dash, notes, hist = answers[3 * i: 3 * i + 3]
        for a, j in ((dash, 3 * i), (notes, 3 * i + 1), (hist, 3 * i + 2)):
            if a.get("id") != j:
                raise CheckFailed(f"verification answer out of order: {a}")
        if "error" in dash:
            if lid in model.created or dash["error"].get("code") != -32001:
                raise CheckFailed(f"acknowledged learner {lid} is gone after the restart: {dash}")
            continue
        if lid not in model.created:
            unanswered += 1
        enrollments = [e for e in dash["result"]["enrollments"] if e["courseId"] == COURSE]
        if lid in model.enrolled and not (enrollments and enrollments[0]["mode"] == "verified"):
            raise CheckFailed(f"acknowledged enrollment of {lid} lost: {dash}")
        credit = enrollments[0]["credit"] if enrollments else None
        eligible = credit is not None and credit["eligibility"] == "eligible"
        request = credit["request"] if credit else None
        if lid in model.eligible and not eligible:
            raise CheckFailed(f"acknowledged eligibility of {lid} lost: {credit}")
        if "error" in notes or "error" in hist:
            raise CheckFailed(f"reads of {lid} failed: {notes} {hist}")
        kinds = [n["kind"] for n in notes["result"]["notifications"]]
        events = [e["kind"] for e in hist["result"]["events"]]
        if kinds.count("creditEligible") != (1 if eligible else 0):
            raise CheckFailed(f"{lid} ({'eligible' if eligible else 'not eligible'}) has "
                              f"{kinds.count('creditEligible')} creditEligible emails: {kinds}")
        purchased = lid in model.purchases
        if purchased:
            ack = model.purchases[lid]["creditRequest"]["requestId"]
            if request is None or request["requestId"] != ack:
                raise CheckFailed(f"acknowledged purchase of {lid} (request {ack}) lost: request {request}")
        n_req = 1 if request is not None else 0
        if kinds.count("purchaseReceipt") != n_req or events.count("creditPurchased") != n_req:
            raise CheckFailed(f"{lid}: request {request and request['requestId']} but "
                              f"{kinds.count('purchaseReceipt')} receipts, {events.count('creditPurchased')} "
                              f"creditPurchased events (half-done purchase)")
        if request is not None and not eligible:
            raise CheckFailed(f"{lid} bought credit without being eligible: {credit}")
        decided = request is not None and request["status"] != "pending"
        if lid in model.decisions and (request is None or request["status"] != model.decisions[lid]):
            raise CheckFailed(f"acknowledged decision {model.decisions[lid]} for {lid} lost: {request}")
        if kinds.count("creditDecision") != (1 if decided else 0) or events.count("creditDecision") != (1 if decided else 0):
            raise CheckFailed(f"{lid}: request {request and request['status']} with {kinds.count('creditDecision')} "
                              f"decision emails and {events.count('creditDecision')} decision events (half-done)")
    return unanswered


@dataclass
class Stats:
    rounds: int = 0
    kills: int = 0
    kills_before_any_answer: int = 0
    kills_mid_stream: int = 0
    #: Learners found committed after a kill although their createLearner was never answered.
    unanswered_commits: int = 0
    acknowledged: int = 0
    steps_done: int = 0
    learners_verified: int = 0
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.rounds} rounds, {self.kills} SIGKILLs ({self.kills_before_any_answer} before any answer, "
                f"{self.kills_mid_stream} between answers), {self.unanswered_commits} unanswered commits found, "
                f"{self.acknowledged} answers acknowledged, {self.steps_done} script steps done, "
                f"{self.learners_verified} learner read-backs, {self.seconds:.1f}s; rows {self.counts}")


def run(binary: str, rounds: int, seed: int, workdir: Path, log=None) -> Stats:
    """Runs `rounds` kill rounds and a final unkilled pass; raises CheckFailed on any lost or
    half-done change (the message names the seed and the round)."""
    rng = random.Random(seed)
    db = workdir / "crash.sqlite"
    workload = Workload(seed)
    model = Model()
    stats = Stats()
    cursor = 0
    t0 = time.monotonic()
    args = ["--db", str(db), "--test-clock", CLOCK]
    r = -1
    try:
        while True:
            r += 1
            final = r >= rounds
            if final and cursor >= len(workload.steps):
                break
            if r > rounds + 50:
                raise CheckFailed(f"the unkilled runs at the end do not get through the script (cursor {cursor})")
            if final:  # finish the block in progress, unkilled
                n = max(1, (len(workload.steps) - cursor)) if cursor < len(workload.steps) else 0
                mode = "none"
            else:
                n = rng.choice([rng.randint(1, 12), rng.randint(10, 80), rng.randint(60, 200)])
                mode = rng.choices(["timer", "count", "none"], weights=[5, 4, 1])[0]
            workload.ensure(cursor + n)
            chunk = workload.steps[cursor: cursor + n]
            for i, st in enumerate(chunk):  # a decision needs the request id its purchase answered
                if st.kind == "decide" and st.learner not in model.purchases:
                    chunk = chunk[:i]
                    break
            burst = rng.random() < 0.7
            with Piped(binary, args) as p:
                data = [s.line(model) for s in chunk]
                if burst:  # many small writes with pauses: many groups, kills between them
                    _feed_bursts(p, data, rng)
                else:
                    p.feed(b"".join(data), close=True)
                got: list[bytes] = []
                if mode == "timer":
                    got = p.read_available(p.started + rng.uniform(0, 0.020))
                elif mode == "count":
                    want = rng.randint(0, len(chunk))
                    deadline = time.monotonic() + RUN_TIMEOUT
                    while len(got) < want:
                        line = p.read_line(max(0.0, deadline - time.monotonic()))
                        if line is None:
                            break
                        got.append(line)
                if mode != "none" and p.proc.poll() is None:
                    p.kill()
                    stats.kills += 1
                # Whatever the service wrote before it died counts as acknowledged.
                got += p.read_available(time.monotonic() + (RUN_TIMEOUT if not p.killed else 5.0))
                rc = p.wait(RUN_TIMEOUT)
                if rc is None:
                    raise CheckFailed(f"round {r}: the service did not exit after EOF (hang); stderr: {p.stderr()[-2000:]}")
                if not p.killed:
                    if rc != 0 or len(got) != len(chunk):
                        raise CheckFailed(f"round {r}: unkilled run exited {rc} with {len(got)} answers to "
                                          f"{len(chunk)} requests; stderr: {p.stderr()[-2000:]}")
                elif not got:
                    stats.kills_before_any_answer += 1
                elif len(got) < len(chunk):
                    stats.kills_mid_stream += 1
                if len(got) > len(chunk):
                    raise CheckFailed(f"round {r}: {len(got)} answers to {len(chunk)} requests")
                for step, raw in zip(chunk, got):
                    check_answer(step, raw, model)
            stats.acknowledged += len(got)
            cursor += len(got)
            stats.steps_done = cursor
            stats.counts = check_file(db)
            touched = sorted({s.learner for s in chunk if s.learner})
            stats.unanswered_commits += verify_learners(binary, db, touched, model)
            stats.learners_verified += len(touched)
            stats.rounds = r
            stats.seconds = time.monotonic() - t0
            if log and (r % 50 == 0 or (final and cursor >= len(workload.steps))):
                log(f"round {r}: cursor {cursor}, {stats.summary()}")
        # The end: every learner of the finished script bought credit exactly once.
        if cursor < len(workload.steps):
            raise CheckFailed(f"the final unkilled run stopped at step {cursor} of {len(workload.steps)}")
        every = sorted({s.learner for s in workload.steps if s.learner})
        verify_learners(binary, db, every, model)
        missing = [lid for lid in every if lid not in model.purchases]
        if missing:
            raise CheckFailed(f"learners without an acknowledged purchase at the end: {missing[:10]}")
        undecided = [lid for lid in every if lid not in model.decisions]
        if undecided:
            raise CheckFailed(f"learners without an acknowledged provider decision at the end: {undecided[:10]}")
        stats.counts = check_file(db)
        if stats.counts.get("orders") != len(every) or stats.counts.get("learners") != len(every):
            raise CheckFailed(f"expected {len(every)} learners and orders, found {stats.counts}")
    except CheckFailed as e:
        raise CheckFailed(f"crash tool, seed {seed}, round {r} (cursor {cursor}): {e}") from None
    finally:
        stats.rounds = max(r, 0)
        stats.seconds = time.monotonic() - t0
    return stats


def _feed_bursts(p: Piped, data: list[bytes], rng: random.Random) -> None:
    """Writes the lines in bursts of 1-8 with 0-3 ms pauses (from a thread), then closes stdin."""
    import threading

    pauses = [rng.uniform(0, 0.003) for _ in data]
    sizes = [rng.randint(1, 8) for _ in data]

    def run():
        try:
            i = 0
            k = 0
            while i < len(data):
                n = sizes[k]
                os.write(p.proc.stdin.fileno(), b"".join(data[i:i + n]))
                i += n
                time.sleep(pauses[k])
                k += 1
            p.proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    p._writer = threading.Thread(target=run, daemon=True)
    p._writer.start()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("CREDIT_RPC_CRASH_ROUNDS", "200")))
    ap.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    ap.add_argument("--bin", default=None, help="the credit-rpc binary (default: $CREDIT_RPC_BIN or swift build)")
    ap.add_argument("--keep", action="store_true", help="keep the database folder")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 31)
    binary = a.bin or find_binary()
    workdir = Path(tempfile.mkdtemp(prefix="credit-crash-"))
    print(f"crash tool: seed {seed}, {a.rounds} rounds, database {workdir}/crash.sqlite", flush=True)
    ok = False
    try:
        stats = run(binary, a.rounds, seed, workdir, log=lambda m: print(m, flush=True))
        print(f"ok: {stats.summary()}")
        ok = True
    except CheckFailed as e:
        print(f"FAILED: {e}\n(database kept in {workdir})", file=sys.stderr)
    finally:
        if ok and not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
