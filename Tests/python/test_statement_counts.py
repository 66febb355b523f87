"""Statements per request, counted with --trace-sql (issue 12: a write loads once and writes once).

A learner's journey runs through one process, one request at a time; after each response the trace
file holds what that request ran. Transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE, ROLLBACK)
is not counted. The budgets are pinned per method so that a re-read cannot creep back in: on
SQLite a statement is CPU, on a networked database a round trip."""

from __future__ import annotations

import re

import pytest

from conftest import Rpc

# Counts SQLite statements (--trace-sql of the SQLite engine).
pytestmark = pytest.mark.sqlite_only

COURSE = "course-v1:Count+CS101+2026"
EXAM_COURSE = "course-v1:Count+EX201+2026"
CLOCK = "2026-03-01T00:00:00Z"
IMAGE = "iVBORw0KGgoAAAANSUhEUg=="

#: The most statements each method may run here (the issue's targets are recordGrade 8, a fresh
#: purchaseCredit 10, a read 3).
BUDGET = {
    "recordGrade": 8,
    "purchaseCredit": 10,
    "getRequirements": 3,
    "getDashboard": 3,
}

CONTROL = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b")
STATEMENT = re.compile(r"\n(?=(?:SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b)")


class Counter:
    def __init__(self, tmp_path, **kw):
        self.trace = tmp_path / "trace.sql"
        self.rpc = Rpc("--trace-sql", str(self.trace), db=str(tmp_path / "counts.sqlite"), test_clock=CLOCK, **kw)
        self.seen = 0

    def call(self, method: str, **params) -> tuple[dict, list[str]]:
        response = self.rpc.raw_call(method, params)
        text = self.trace.read_text()
        new, self.seen = text[self.seen:], len(text)
        stmts = [s.strip() for s in STATEMENT.split("\n" + new) if s.strip()]
        return response, [s for s in stmts if not CONTROL.match(s)]

    def ok(self, method: str, **params) -> list[str]:
        response, stmts = self.call(method, **params)
        assert "result" in response, response
        return stmts


def catalog(c: Counter, course: str, requirements: list[dict], exams: list[dict] = ()) -> None:
    c.ok("createCourse", courseId=course, title="Counting", startsAt="2026-01-05T00:00:00Z",
         endsAt="2026-06-30T23:59:59Z", passingGrade=0.6, verifiedPrice={"amount": "49.00", "currency": "USD"})
    for e in exams:
        c.ok("createExam", courseId=course, **e)
    c.ok("offerCredit", courseId=course, providerId="asu", price={"amount": "300.00", "currency": "USD"})
    c.ok("setCreditRequirements", courseId=course, requirements=requirements)


def journey(c: Counter, learner: str) -> dict[str, list[str]]:
    counts: dict[str, list[str]] = {}
    c.ok("createLearner", learnerId=learner, fullName="Ada Lovelace", email=f"{learner}@example.org", country="GB",
         mailingAddress="1 Analytical Row")
    c.ok("enroll", learnerId=learner, courseId=COURSE, mode="verified")
    c.ok("verifyIdentity", learnerId=learner, photoIdImage=IMAGE, faceImage=IMAGE)
    c.ok("reviewVerification", learnerId=learner, decision="approved")
    counts["recordGrade"] = c.ok("recordGrade", learnerId=learner, courseId=COURSE, grade=0.9)
    counts["getRequirements"] = c.ok("getRequirements", learnerId=learner, courseId=COURSE)
    counts["getDashboard"] = c.ok("getDashboard", learnerId=learner)
    counts["purchaseCredit"] = c.ok(
        "purchaseCredit", learnerId=learner, courseId=COURSE, providerId="asu",
        payment={"method": "card", "token": "tok_visa"}, idempotencyKey=f"order-{learner}")
    return counts


def check(counts: dict[str, list[str]]) -> None:
    over = {m: s for m, s in counts.items() if len(s) > BUDGET[m]}
    assert over == {}, "\n\n".join(f"{m}: {len(s)} > {BUDGET[m]}\n  " + "\n  ".join(s) for m, s in over.items())


def test_a_journey_stays_within_the_statement_budgets(tmp_path):
    c = Counter(tmp_path)
    c.ok("createProvider", providerId="asu", displayName="ASU", url="https://asu.example/credit",
         secrets=["secret-1"], requiresAdditionalSteps=True)
    catalog(c, COURSE, [{"kind": "grade", "minGrade": 0.7}])
    first = journey(c, "ada")
    check(first)
    # A second learner in a warm process: the same budgets.
    check(journey(c, "bob"))
    # The read after the purchase, with the request on the dashboard.
    _, stmts = c.call("getDashboard", learnerId="ada")
    check({"getDashboard": stmts})
    c.rpc.close()


def test_budgets_hold_with_exam_and_checkpoint_requirements(tmp_path):
    c = Counter(tmp_path)
    c.ok("createProvider", providerId="asu", displayName="ASU", url="https://asu.example/credit",
         secrets=["secret-1"])
    catalog(c, COURSE, [{"kind": "grade", "minGrade": 0.7},
                        {"kind": "proctoredExam", "examId": "final"},
                        {"kind": "reverification", "checkpointId": "mid", "displayName": "Midterm check"}],
            exams=[{"examId": "final", "displayName": "Final", "timeLimitMinutes": 60, "passingScore": 0.5,
                    "proctored": True}])
    c.ok("createLearner", learnerId="cy", fullName="Cy", email="cy@example.org", country="GB")
    c.ok("enroll", learnerId="cy", courseId=COURSE, mode="verified")
    c.ok("verifyIdentity", learnerId="cy", photoIdImage=IMAGE, faceImage=IMAGE)
    c.ok("reviewVerification", learnerId="cy", decision="approved")
    c.ok("startExam", learnerId="cy", courseId=COURSE, examId="final")
    counts = {
        "recordGrade": c.ok("recordGrade", learnerId="cy", courseId=COURSE, grade=0.9),
        "getRequirements": c.ok("getRequirements", learnerId="cy", courseId=COURSE),
        "getDashboard": c.ok("getDashboard", learnerId="cy"),
    }
    check(counts)
    c.rpc.close()
