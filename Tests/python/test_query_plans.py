"""No statement of any method scans a table that grows with learners, requests, events or
notifications (issue 7: latency must not grow with the data; issue 10: a purchase that scanned
every credit request).

A database of a few thousand learners (enrolled, graded, verified, with purchases, decisions,
events and notifications) is built through the binary, `ANALYZE`d so that the planner sees real
statistics, and then every method of the method table is called on it (successes and the cheap
error paths) with `--trace-sql`. Each traced statement is explained with EXPLAIN QUERY PLAN on the
same database; a full scan (`SCAN t`, with or without a covering index) of a growing table fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3

import pytest

from conftest import OPENRPC_PATH, run_raw

#: Tables that grow with learners: a full scan of one of these is a bug.
PER_LEARNER = {"learners", "enrollments", "requirement_status", "verifications", "exam_attempts", "exam_scores",
               "exam_time_grants", "orders", "credit_requests", "notifications", "events"}

LEARNERS = 3000
CLOCK = "2026-03-01T00:00:00Z"
NOW = 1772323200  # CLOCK in Unix seconds
A = "course-v1:PlanX+A+2026"
B = "course-v1:PlanX+B+2026"
C = "course-v1:PlanX+C+2026"
PROVIDER = "plan-u"
SECRET = "plan-secret-000001"
IMAGE = "aW1hZ2UgYnl0ZXM="
CARD = {"method": "card", "token": "tok_visa"}


def sign(request_id: str, status: str, timestamp: int) -> str:
    message = f"request_uuid:{request_id}status:{status}timestamp:{timestamp}"
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def learner(i: int) -> str:
    return f"plan-{i:06d}"


class Script:
    """Request lines with ids, and the method of each id."""

    def __init__(self):
        self.lines: list[str] = []
        self.methods: dict[int, str] = {}
        self.next_id = 1

    def call(self, method: str, **params) -> int:
        i = self.next_id
        self.next_id += 1
        self.methods[i] = method
        self.lines.append(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}))
        return i

    def batched(self, size: int = 500) -> bytes:
        out = []
        for k in range(0, len(self.lines), size):
            out.append("[" + ",".join(self.lines[k:k + size]) + "]")
        return ("\n".join(out) + "\n").encode()

    def plain(self) -> bytes:
        return ("\n".join(self.lines) + "\n").encode()


def answers(p) -> dict[int, dict]:
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    out = {}
    for line in p.stdout.decode().splitlines():
        v = json.loads(line)
        for r in v if isinstance(v, list) else [v]:
            out[r["id"]] = r
    return out


def build(db: str) -> list[str]:
    """The catalog and LEARNERS learners; returns the ids of their credit requests."""
    s = Script()
    s.call("createProvider", providerId=PROVIDER, displayName="Plan University", url="https://plan.example/credit",
           requiresAdditionalSteps=True, secrets=[SECRET])
    for course in (A, B):
        s.call("createCourse", courseId=course, title="Plans", startsAt="2026-01-01T00:00:00Z",
               endsAt="2026-06-30T23:59:59Z", verifiedPrice={"amount": "49.00", "currency": "USD"})
        s.call("offerCredit", courseId=course, providerId=PROVIDER, price={"amount": "300", "currency": "USD"})
    s.call("createExam", courseId=B, examId="final", displayName="Final", timeLimitMinutes=60, passingScore=0.5)
    s.call("setCreditRequirements", courseId=A, requirements=[{"kind": "grade", "minGrade": 0.5}])
    s.call("setCreditRequirements", courseId=B, requirements=[
        {"kind": "grade", "minGrade": 0.5}, {"kind": "proctoredExam", "examId": "final"},
        {"kind": "reverification", "checkpointId": "mid", "displayName": "Midterm check"}])
    purchases = []
    for i in range(LEARNERS):
        lid = learner(i)
        s.call("createLearner", learnerId=lid, fullName=f"Learner {i}", email=f"{lid}@example.org", country="US")
        s.call("enroll", learnerId=lid, courseId=A, mode="verified")
        s.call("enroll", learnerId=lid, courseId=B, mode="verified" if i % 2 else "audit")
        if i % 3 == 0:
            s.call("verifyIdentity", learnerId=lid, photoIdImage=IMAGE, faceImage=IMAGE)
            s.call("reviewVerification", learnerId=lid, decision="approved")
        if i % 4 != 0:
            s.call("recordGrade", learnerId=lid, courseId=A, grade=0.8)
            s.call("recordGrade", learnerId=lid, courseId=B, grade=0.4 + (i % 5) / 10)
            purchases.append(s.call("purchaseCredit", learnerId=lid, courseId=A, providerId=PROVIDER, payment=CARD,
                                    idempotencyKey=f"k-{lid}"))
    got = answers(run_raw(s.batched(), "--db", db, "--test-clock", CLOCK, timeout=600))
    failed = [got[i] for i in purchases if "error" in got[i]]
    assert not failed, failed[:3]
    requests = [got[i]["result"]["creditRequest"]["requestId"] for i in purchases]
    d = Script()
    for k, rid in enumerate(requests[: len(requests) // 2]):
        status = "approved" if k % 2 else "rejected"
        d.call("submitProviderDecision", providerId=PROVIDER, requestId=rid, status=status, timestamp=NOW,
               signature=sign(rid, status, NOW))
    got = answers(run_raw(d.batched(), "--db", db, "--test-clock", CLOCK, timeout=600))
    failed = [r for r in got.values() if "error" in r]
    assert not failed, failed[:3]
    return requests


def drive(s: Script, requests: list[str]) -> None:
    """Every method of the method table, on the populated database: its usual path and the cheap
    refusals (unknown ids, state errors, replays)."""
    new, other = "plan-new-1", "plan-new-2"
    graded = learner(1)  # verified in B, graded in A and B, purchased in A (request decided)
    approved = learner(3)  # identity approved, verified in B, purchased in A
    pending_rid, decided_rid = requests[-1], requests[0]
    # Catalog.
    s.call("createCourse", courseId=C, title="New", startsAt="2026-01-01T00:00:00Z", endsAt="2026-12-31T00:00:00Z")
    s.call("createCourse", courseId=C, title="New", startsAt="2026-01-01T00:00:00Z", endsAt="2026-12-31T00:00:00Z")
    s.call("createCourse", courseId=C, title="Changed", startsAt="2026-01-01T00:00:00Z",
           endsAt="2026-12-31T00:00:00Z")
    s.call("createProvider", providerId="plan-v", displayName="V", url="https://v.example", secrets=[SECRET])
    s.call("createProvider", providerId="plan-v", displayName="Other", url="https://v.example", secrets=[SECRET])
    s.call("offerCredit", courseId=C, providerId="plan-v", price={"amount": "10", "currency": "USD"})
    s.call("offerCredit", courseId="course-v1:No+Such+Course", providerId="plan-v",
           price={"amount": "10", "currency": "USD"})
    s.call("createExam", courseId=C, examId="quiz", displayName="Quiz", timeLimitMinutes=10, passingScore=0.5)
    s.call("createExam", courseId=C, examId="quiz", displayName="Other", timeLimitMinutes=10, passingScore=0.5)
    s.call("setCreditRequirements", courseId=C, requirements=[{"kind": "grade", "minGrade": 0.6},
                                                              {"kind": "proctoredExam", "examId": "quiz"}])
    # Replacing a populated course's set re-decides every enrolled learner.
    s.call("setCreditRequirements", courseId=B, requirements=[
        {"kind": "grade", "minGrade": 0.6}, {"kind": "proctoredExam", "examId": "final"},
        {"kind": "reverification", "checkpointId": "mid", "displayName": "Midterm check"}])
    s.call("listCourses")
    s.call("listCourses", creditOnly=True)
    # Learners and enrollments.
    for lid in (new, other):
        s.call("createLearner", learnerId=lid, fullName="New", email=f"{lid}@example.org", country="GB")
    s.call("createLearner", learnerId=new, fullName="Other name", email="x@example.org", country="GB")
    s.call("enroll", learnerId=new, courseId=A, mode="audit")
    s.call("enroll", learnerId=new, courseId=A, mode="verified")
    s.call("enroll", learnerId=new, courseId=A, mode="audit")
    s.call("enroll", learnerId=new, courseId=B, mode="verified")
    s.call("enroll", learnerId="plan-nobody", courseId=A, mode="verified")
    # Identity.
    s.call("verifyIdentity", learnerId=new, photoIdImage=IMAGE, faceImage=IMAGE)
    s.call("verifyIdentity", learnerId=new, photoIdImage=IMAGE, faceImage=IMAGE)
    s.call("reviewVerification", verificationId="ver_999999", decision="approved")
    s.call("reviewVerification", learnerId=new, decision="approved")
    s.call("reviewVerification", learnerId=new, decision="approved")
    s.call("reverify", learnerId=new, courseId=B, checkpointId="mid", faceImage=IMAGE)
    s.call("reviewVerification", learnerId=new, courseId=B, checkpointId="mid", decision="approved")
    s.call("reverify", learnerId=approved, courseId=B, checkpointId="mid", faceImage=IMAGE)
    s.call("reviewVerification", learnerId=approved, courseId=B, checkpointId="mid", decision="denied")
    s.call("declineRequirement", learnerId=other, courseId=B, requirementId="reverification:mid")
    s.call("enroll", learnerId=other, courseId=B, mode="verified")
    s.call("declineRequirement", learnerId=other, courseId=B, requirementId="reverification:mid")
    s.call("declineRequirement", learnerId=other, courseId=B, requirementId="proctoredExam:final")
    # Exams.
    s.call("startExam", learnerId=new, courseId=B, examId="final")
    s.call("startExam", learnerId=new, courseId=B, examId="final")
    s.call("grantExamTime", learnerId=new, courseId=B, examId="final", extraMinutes=30)
    s.call("submitExam", learnerId=new, courseId=B, examId="final")
    s.call("submitExam", learnerId=new, courseId=B, examId="final")
    s.call("reviewExam", learnerId=new, courseId=B, examId="final", review="clean")
    s.call("reviewExam", attemptId="att_999999", review="clean")
    s.call("recordGrade", learnerId=new, courseId=B, grade=0.9, examId="final")
    s.call("recordGrade", learnerId=new, courseId=B, grade=0.9)
    s.call("recordGrade", learnerId=new, courseId=A, grade=0.9)
    s.call("resetExamAttempt", learnerId=new, courseId=B, examId="final")
    s.call("startExam", learnerId=new, courseId=B, examId="final")
    s.call("submitExam", learnerId=new, courseId=B, examId="final")
    s.call("reviewExam", attemptId="att_1", review="suspicious")
    s.call("startExam", learnerId=other, courseId=B, examId="final")
    s.call("startExam", learnerId=graded, courseId=B, examId="final")
    # Reads.
    for lid in (new, graded, approved):
        s.call("getRequirements", learnerId=lid, courseId=A)
        s.call("getRequirements", learnerId=lid, courseId=B)
        s.call("getDashboard", learnerId=lid)
        s.call("getHistory", learnerId=lid, courseId=A)
        s.call("listNotifications", learnerId=lid)
        s.call("listNotifications", learnerId=lid, afterId=1)
    s.call("getRequirements", learnerId="plan-nobody", courseId=A)
    s.call("getDashboard", learnerId="plan-nobody")
    # Purchases and decisions.
    s.call("extendPurchaseDeadline", learnerId=new, courseId=A, deadline="2027-12-31T00:00:00Z")
    s.call("purchaseCredit", learnerId=new, courseId=A, providerId=PROVIDER,
           payment={"method": "card", "token": "tok_chargeDeclined"}, idempotencyKey="declined")
    s.call("purchaseCredit", learnerId=new, courseId=A, providerId=PROVIDER, payment=CARD, idempotencyKey="buy")
    s.call("purchaseCredit", learnerId=new, courseId=A, providerId=PROVIDER, payment=CARD, idempotencyKey="buy")
    s.call("purchaseCredit", learnerId=new, courseId=A, providerId=PROVIDER, payment=CARD, idempotencyKey="again")
    s.call("purchaseCredit", learnerId=other, courseId=B, providerId=PROVIDER, payment=CARD, idempotencyKey="x")
    s.call("purchaseCredit", learnerId=graded, courseId=A, providerId="plan-v", payment=CARD, idempotencyKey="y")
    s.call("getCreditRequest", requestId=pending_rid)
    s.call("getCreditRequest", requestId="0" * 32)
    s.call("submitProviderDecision", providerId=PROVIDER, requestId=pending_rid, status="approved", timestamp=NOW,
           signature=sign(pending_rid, "approved", NOW))
    s.call("submitProviderDecision", providerId=PROVIDER, requestId=decided_rid, status="approved", timestamp=NOW,
           signature=sign(decided_rid, "approved", NOW))
    s.call("submitProviderDecision", providerId=PROVIDER, requestId="0" * 32, status="approved", timestamp=NOW,
           signature=sign("0" * 32, "approved", NOW))
    s.call("submitProviderDecision", providerId=PROVIDER, requestId=pending_rid, status="approved", timestamp=NOW,
           signature="00" * 32)
    s.call("rpc.discover")
    # The operators' side: every filter combination of the lists, with and without a cursor.
    def cursor(tag: str, position) -> str:
        return f"{tag}_{str(position).encode().hex()}"
    for filters in ({}, {"providerId": PROVIDER}, {"courseId": A}, {"status": "pending"},
                    {"providerId": PROVIDER, "status": "approved"}, {"courseId": A, "status": "rejected"}):
        s.call("listCreditRequests", limit=10, **filters)
        s.call("listCreditRequests", limit=10, after=cursor("cr", 50), **filters)
    for filters in ({}, {"eligibility": "eligible"}, {"eligibility": "notYetEligible"}):
        s.call("listEnrollments", courseId=A, limit=20, **filters)
        s.call("listEnrollments", courseId=A, limit=20, after=cursor("en", learner(100)), **filters)
    s.call("listEnrollments", courseId="course-v1:No+Such+Course")
    s.call("listOutbox", limit=20)
    s.call("listOutbox", limit=20, after=cursor("ob", 500))
    s.call("listOutbox", limit=20, unsentOnly=False, after=cursor("ob", 500))
    s.call("markNotificationsSent", notificationIds=[1, 2, 3])
    s.call("markNotificationsSent", notificationIds=[1, 999_999_999])
    s.call("listEvents", limit=20)
    s.call("listEvents", limit=20, after=cursor("ev", 1000))
    s.call("updateProvider", providerId="plan-v", description="Changed", secrets=[SECRET, SECRET + "-2"])
    s.call("updateProvider", providerId="plan-nobody", active=False)
    s.call("withdrawCredit", courseId=C, providerId="plan-v")
    s.call("withdrawCredit", courseId=A, providerId="plan-v")
    s.call("offerCredit", courseId=C, providerId="plan-v", price={"amount": "12", "currency": "USD"})
    # The LSP lifecycle (with an id, exit only answers).
    s.call("initialize", processId=None, capabilities={})
    s.call("shutdown")
    s.call("exit")
    # Time: past the attempt deadline, past the course end and the purchase window.
    s.call("clock.advance", seconds=86_400)
    s.call("getRequirements", learnerId=other, courseId=B)
    s.call("clock.set", now="2027-09-01T00:00:00Z")
    for lid in (new, graded, approved, learner(2)):
        s.call("getRequirements", learnerId=lid, courseId=A)
        s.call("getDashboard", learnerId=lid)
    s.call("purchaseCredit", learnerId=learner(2), courseId=B, providerId=PROVIDER, payment=CARD,
           idempotencyKey="late")
    s.call("listEnrollments", courseId=A, eligibility="ineligible", limit=20)


def split(trace: str) -> list[str]:
    # One statement per traced entry: entries start at the beginning of a line with a keyword.
    parts = re.split(r"\n(?=(?:SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|WITH)\b)",
                     trace)
    return sorted({s.strip() for s in parts if s.strip()})


KEYWORDS = {"WHERE", "ON", "JOIN", "LEFT", "INNER", "CROSS", "USING", "ORDER", "GROUP", "LIMIT", "SET", "VALUES",
            "AS", "NATURAL", "WINDOW", "UNION", "EXCEPT", "INTERSECT", "HAVING", "RETURNING", "DEFAULT"}


def tables_by_name(stmt: str) -> dict[str, str]:
    """The table behind each name a plan may use: the table itself and its alias (`FROM credit_requests r`)."""
    names = {}
    for table, alias in re.findall(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", stmt,
                                   flags=re.IGNORECASE):
        names[table] = table
        if alias and alias.upper() not in KEYWORDS:
            names[alias] = table
    return names


def full_scans(db: str, stmts: list[str]) -> tuple[int, list[tuple[str, str]]]:
    con = sqlite3.connect(db)
    scans = []
    explained = 0
    for stmt in stmts:
        if not re.match(r"(SELECT|UPDATE|DELETE|INSERT|WITH)\b", stmt):
            continue
        # The trace holds statements as prepared (`?` for values): explain them with NULLs bound.
        plan = con.execute("EXPLAIN QUERY PLAN " + stmt, [None] * stmt.count("?")).fetchall()
        explained += 1
        names = tables_by_name(stmt)
        for row in plan:
            detail = row[-1]
            # `SCAN t`, `SCAN t USING INDEX i`, `SCAN t USING COVERING INDEX i`: every row of t (or of
            # one of its indexes) is read. Only `SEARCH` reads a bounded part of a growing table.
            m = re.match(r"SCAN (\w+)", detail)
            if m and names.get(m.group(1), m.group(1)) in PER_LEARNER:
                scans.append((detail, stmt))
    con.close()
    return explained, scans


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """(database, trace text, answers by id, the driver script) of one driven run."""
    folder = tmp_path_factory.mktemp("plans")
    db = str(folder / "plans.sqlite")
    requests = build(db)
    con = sqlite3.connect(db)
    con.execute("ANALYZE")
    con.commit()
    assert con.execute("SELECT count(*) FROM learners").fetchone()[0] == LEARNERS
    con.close()
    s = Script()
    drive(s, requests)
    trace = folder / "trace.sql"
    got = answers(run_raw(s.plain(), "--db", db, "--test-clock", CLOCK, "--trace-sql", str(trace), timeout=300))
    return db, trace.read_text(), got, s


def test_the_driver_calls_every_method_of_the_method_table(populated):
    _, _, got, s = populated
    documented = {m["name"] for m in json.loads(OPENRPC_PATH.read_text())["methods"]} | {"rpc.discover"}
    called = set(s.methods.values())
    assert documented - called == set(), f"methods the plan test does not drive: {sorted(documented - called)}"
    # Each method reaches its real work at least once (not only its refusals).
    succeeded = {s.methods[i] for i, r in got.items() if "result" in r}
    assert documented - succeeded == set(), (
        f"methods that never succeeded: {sorted(documented - succeeded)}\n"
        + "\n".join(json.dumps(r) for i, r in got.items() if s.methods[i] in documented - succeeded))
    assert any(r.get("error", {}).get("code") == -32003 for r in got.values())
    assert len(got) == len(s.lines)


def test_trace_sql_records_the_statements_run(populated):
    _, trace, _, _ = populated
    stmts = split(trace)
    assert any(s.startswith("SELECT") for s in stmts)
    assert any(s.startswith("INSERT INTO events") for s in stmts)
    assert any(s.startswith("INSERT INTO credit_requests") for s in stmts)
    assert "COMMIT" in stmts


def test_no_statement_scans_a_table_that_grows_with_learners(populated):
    db, trace, _, _ = populated
    explained, scans = full_scans(db, split(trace))
    assert explained > 40, f"only {explained} statements were explained"
    assert scans == [], "\n\n".join(f"{d}\n  in: {s}" for d, s in scans)


@pytest.mark.parametrize("index, table", [("events_by_learner", "events"),
                                          ("enrollments_by_course", "enrollments")])
def test_the_check_finds_a_scan_when_an_index_is_missing(populated, tmp_path, index, table):
    """The same statements on a copy without one of the indexes they use: a learner's history, or a
    course's learners, then scan the whole table, and the check says so."""
    db, trace, _, _ = populated
    copy = tmp_path / "without-index.sqlite"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute(f"DROP INDEX {index}")
    dst.commit()
    dst.close()
    _, scans = full_scans(str(copy), split(trace))
    assert any(table in d or table in s for d, s in scans), scans
