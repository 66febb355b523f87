"""The credit journey end to end (issue 3): requirements, grades, eligibility, the progress page,
the dashboard, emails and history, through the real binary with --test-clock."""

from __future__ import annotations

import pytest

from conftest import COURSE_ID, Rpc, RpcError

# Engine-neutral: runs on SQLite and on PostgreSQL (SPEC section 7).
pytestmark = pytest.mark.both_engines

START = "2026-03-01T00:00:00Z"
END = "2026-06-30T23:59:59Z"
AFTER_END = "2026-07-01T00:00:00Z"


def catalog(r: Rpc, requirements) -> None:
    r.call("createCourse", courseId=COURSE_ID, title="Circuits", startsAt="2026-01-01T00:00:00Z", endsAt=END,
           passingGrade=0.6)
    r.call("createProvider", providerId="asu", displayName="Arizona State University",
           url="https://credit.example.edu", secrets=["s3cret-key-1"])
    r.call("offerCredit", courseId=COURSE_ID, providerId="asu", price={"amount": "300", "currency": "USD"})
    r.call("createExam", courseId=COURSE_ID, examId="final", displayName="Final exam", timeLimitMinutes=60,
           passingScore=0.7)
    r.call("setCreditRequirements", courseId=COURSE_ID, requirements=requirements)


def learner(r: Rpc, learner_id: str, mode: str = "verified") -> None:
    r.call("createLearner", learnerId=learner_id, fullName=f"{learner_id.title()} Example",
           email=f"{learner_id}@example.org", country="US")
    r.call("enroll", learnerId=learner_id, courseId=COURSE_ID, mode=mode)


def statuses(status: dict) -> dict:
    return {req["requirementId"]: req["status"] for req in status["requirements"]}


def verify(r: Rpc, learner_id: str) -> None:
    r.call("verifyIdentity", learnerId=learner_id, photoIdImage="aWQ=", faceImage="ZmFjZQ==")
    r.call("reviewVerification", learnerId=learner_id, decision="approved")


GRADE_ONLY = [{"kind": "grade", "minGrade": 0.8}]
WITH_CHECKPOINT = [{"kind": "grade", "minGrade": 0.8},
                   {"kind": "reverification", "checkpointId": "midterm", "displayName": "Midterm identity check"}]


def test_learner_becomes_eligible_with_one_email_and_a_purchase_option():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "alice")
        low = r.call("recordGrade", learnerId="alice", courseId=COURSE_ID, grade=0.55)
        assert low["eligibility"] == "notYetEligible"
        assert low["requirements"][0]["status"] == "pending"
        assert "0.55" in low["requirements"][0]["reason"] and "0.8" in low["requirements"][0]["reason"]
        passed = r.call("recordGrade", learnerId="alice", courseId=COURSE_ID, grade=0.86)
        assert passed["eligibility"] == "eligible"
        assert passed["requirements"][0]["status"] == "satisfied"
        assert "0.86" in passed["requirements"][0]["reason"]
        assert passed["purchaseDeadline"] == "2027-06-30T23:59:59Z"
        # The same passing grade again: still one email.
        r.call("recordGrade", learnerId="alice", courseId=COURSE_ID, grade=0.86)
        r.call("recordGrade", learnerId="alice", courseId=COURSE_ID, grade=0.9)
        emails = r.call("listNotifications", learnerId="alice")["notifications"]
        assert [e["kind"] for e in emails] == ["creditEligible"]
        assert emails[0]["to"] == "alice@example.org"
        dash = r.call("getDashboard", learnerId="alice")
        credit = dash["enrollments"][0]["credit"]
        assert credit["canPurchase"] is True
        assert credit["purchaseDeadline"] == "2027-06-30T23:59:59Z"
        assert [p["providerId"] for p in credit["providers"]] == ["asu"]
        assert credit["providers"][0]["price"] == {"amount": "300.00", "currency": "USD"}
        assert credit["request"] is None
        assert r.call("listCourses", creditOnly=True)["courses"][0]["earnCredit"] is True


def test_declined_checkpoint_is_ineligible_for_good_but_the_certificate_is_still_earned():
    with Rpc(test_clock=START) as r:
        catalog(r, WITH_CHECKPOINT)
        learner(r, "bob")
        verify(r, "bob")
        declined = r.call("declineRequirement", learnerId="bob", courseId=COURSE_ID,
                          requirementId="reverification:midterm")
        assert declined["eligibility"] == "ineligible"
        assert statuses(declined)["reverification:midterm"] == "declined"
        assert declined["requirements"][1]["reason"]
        # A passing grade changes nothing for credit; the certificate is still earned.
        after = r.call("recordGrade", learnerId="bob", courseId=COURSE_ID, grade=0.95)
        assert after["eligibility"] == "ineligible"
        assert statuses(after) == {"grade": "satisfied", "reverification:midterm": "declined"}
        with pytest.raises(RpcError) as e:
            r.call("reverify", learnerId="bob", courseId=COURSE_ID, checkpointId="midterm", faceImage="ZmFjZQ==")
        assert e.value.code == -32003
        dash = r.call("getDashboard", learnerId="bob")["enrollments"][0]
        assert dash["certificate"] == {"status": "downloadable"}
        assert dash["credit"]["canPurchase"] is False
        assert r.call("listNotifications", learnerId="bob")["notifications"] == []


def test_passing_only_after_the_course_end_fails_with_a_reason():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "carol")
        r.call("recordGrade", learnerId="carol", courseId=COURSE_ID, grade=0.5)
        r.call("clock.set", now=AFTER_END)
        late = r.call("recordGrade", learnerId="carol", courseId=COURSE_ID, grade=0.9)
        grade = late["requirements"][0]
        assert grade["status"] == "failed"
        assert "deadline" in grade["reason"].lower()
        assert late["eligibility"] == "ineligible"
        assert late["purchaseDeadline"] is None


def test_grade_exactly_at_the_minimum_and_at_the_exact_end_instant_satisfies():
    with Rpc(test_clock=END) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "dora")
        status = r.call("recordGrade", learnerId="dora", courseId=COURSE_ID, grade=0.8)
        assert status["requirements"][0]["status"] == "satisfied"
        assert status["eligibility"] == "eligible"


def test_satisfied_never_turns_failed_on_rescoring():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "erin")
        r.call("recordGrade", learnerId="erin", courseId=COURSE_ID, grade=0.9)
        r.call("clock.set", now=AFTER_END)
        rescored = r.call("recordGrade", learnerId="erin", courseId=COURSE_ID, grade=0.3)
        assert rescored["requirements"][0]["status"] == "satisfied"
        assert rescored["eligibility"] == "eligible"


def test_audit_learner_sees_requirements_but_is_never_eligible():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "finn", mode="audit")
        status = r.call("recordGrade", learnerId="finn", courseId=COURSE_ID, grade=0.95)
        assert status["creditTrack"] is False
        assert status["eligibility"] == "notYetEligible"
        assert [q["requirementId"] for q in status["requirements"]] == ["grade"]
        r.call("clock.set", now=AFTER_END)
        assert r.call("getRequirements", learnerId="finn", courseId=COURSE_ID)["eligibility"] == "ineligible"
        # The next write records the change at the first second after the end, by the system.
        r.call("recordGrade", learnerId="finn", courseId=COURSE_ID, grade=0.95)
        events = r.call("getHistory", learnerId="finn", courseId=COURSE_ID)["events"]
        change = [e for e in events if e["kind"] == "eligibilityChanged"]
        assert change == [{**change[0], "from": "notYetEligible", "to": "ineligible", "actor": "system",
                           "at": "2026-07-01T00:00:00Z"}]
        dash = r.call("getDashboard", learnerId="finn")["enrollments"][0]
        assert dash["certificate"]["status"] == "notEarned"


def test_upgrading_from_audit_joins_the_credit_track_until_the_end():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "gus", mode="audit")
        upgraded = r.call("enroll", learnerId="gus", courseId=COURSE_ID, mode="verified")
        assert upgraded["creditTrack"] is True and upgraded["enrolledAt"] == START
        with pytest.raises(RpcError) as e:
            r.call("enroll", learnerId="gus", courseId=COURSE_ID, mode="audit")
        assert e.value.code == -32003
        assert r.call("recordGrade", learnerId="gus", courseId=COURSE_ID, grade=0.9)["eligibility"] == "eligible"


def test_history_shows_every_transition_in_order_with_actor_and_time():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "hana")
        r.call("recordGrade", learnerId="hana", courseId=COURSE_ID, grade=0.5)
        r.call("clock.advance", seconds=3600)
        r.call("recordGrade", learnerId="hana", courseId=COURSE_ID, grade=0.85)
        events = r.call("getHistory", learnerId="hana", courseId=COURSE_ID)["events"]
        summary = [(e["kind"], e["requirementId"], e["from"], e["to"], e["actor"], e["at"]) for e in events]
        assert summary == [
            ("enrolled", None, None, "verified", "admin", START),
            ("gradeRecorded", None, None, "0.5", "admin", START),
            ("gradeRecorded", None, "0.5", "0.85", "admin", "2026-03-01T01:00:00Z"),
            ("requirementStatusChanged", "grade", "pending", "satisfied", "admin", "2026-03-01T01:00:00Z"),
            ("eligibilityChanged", None, "notYetEligible", "eligible", "admin", "2026-03-01T01:00:00Z"),
        ]
        ids = [e["eventId"] for e in events]
        assert ids == sorted(ids)


def test_history_names_a_staff_actor(db_path):
    with Rpc(db=str(db_path), test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "ivan")
    with Rpc(db=str(db_path), test_clock=START, as_="staff") as staff:
        staff.call("recordGrade", learnerId="ivan", courseId=COURSE_ID, grade=0.9)
        events = staff.call("getHistory", learnerId="ivan", courseId=COURSE_ID)["events"]
    assert {e["actor"] for e in events if e["kind"] != "enrolled"} == {"staff"}


def test_extending_the_purchase_deadline_for_one_learner():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "jade")
        r.call("recordGrade", learnerId="jade", courseId=COURSE_ID, grade=0.9)
        with pytest.raises(RpcError) as e:
            r.call("extendPurchaseDeadline", learnerId="jade", courseId=COURSE_ID, deadline="2027-06-30T23:59:59Z")
        assert (e.value.code, e.value.field) == (-32602, "deadline")
        extended = r.call("extendPurchaseDeadline", learnerId="jade", courseId=COURSE_ID,
                          deadline="2027-12-31T23:59:59Z")
        assert extended["purchaseDeadline"] == "2027-12-31T23:59:59Z"
        r.call("clock.set", now="2027-08-01T00:00:00Z")
        assert r.call("getDashboard", learnerId="jade")["enrollments"][0]["credit"]["canPurchase"] is True
        r.call("clock.set", now="2028-01-01T00:00:00Z")
        assert r.call("getDashboard", learnerId="jade")["enrollments"][0]["credit"]["canPurchase"] is False


def test_replacing_requirements_keeps_the_statuses_of_those_that_stay():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "kim")
        assert r.call("recordGrade", learnerId="kim", courseId=COURSE_ID, grade=0.9)["eligibility"] == "eligible"
        r.call("setCreditRequirements", courseId=COURSE_ID, requirements=WITH_CHECKPOINT)
        status = r.call("getRequirements", learnerId="kim", courseId=COURSE_ID)
        assert statuses(status) == {"grade": "satisfied", "reverification:midterm": "pending"}
        assert status["eligibility"] == "notYetEligible"
        assert [q["order"] for q in status["requirements"]] == [1, 2]


def test_a_course_without_requirements_offers_no_credit():
    with Rpc(test_clock=START) as r:
        catalog(r, [])
        learner(r, "lea")
        assert r.call("getRequirements", learnerId="lea", courseId=COURSE_ID)["eligibility"] == "notYetEligible"
        assert r.call("listCourses")["courses"][0]["earnCredit"] is False
        assert r.call("listCourses", creditOnly=True)["courses"] == []


def test_methods_on_a_missing_enrollment_say_not_enrolled():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        r.call("createLearner", learnerId="max", fullName="Max", email="max@example.org", country="DE")
        with pytest.raises(RpcError) as e:
            r.call("getRequirements", learnerId="max", courseId=COURSE_ID)
        assert (e.value.code, e.value.reason) == (-32001, "not_enrolled")


def test_enrolling_after_the_course_end_is_refused():
    with Rpc(test_clock=AFTER_END) as r:
        catalog(r, GRADE_ONLY)
        r.call("createLearner", learnerId="ned", fullName="Ned", email="ned@example.org", country="FR")
        with pytest.raises(RpcError) as e:
            r.call("enroll", learnerId="ned", courseId=COURSE_ID, mode="verified")
        assert e.value.code == -32005


def test_after_a_purchase_a_new_requirement_changes_neither_statuses_nor_eligibility():
    with Rpc(test_clock=START) as r:
        catalog(r, GRADE_ONLY)
        learner(r, "olga")
        r.call("recordGrade", learnerId="olga", courseId=COURSE_ID, grade=0.9)
        r.call("purchaseCredit", learnerId="olga", courseId=COURSE_ID, providerId="asu",
               payment={"method": "card", "token": "tok_visa"}, idempotencyKey="olga-1")
        r.call("setCreditRequirements", courseId=COURSE_ID, requirements=WITH_CHECKPOINT)
        status = r.call("getRequirements", learnerId="olga", courseId=COURSE_ID)
        assert status["eligibility"] == "eligible"
        assert statuses(status) == {"grade": "satisfied", "reverification:midterm": "pending"}
        events = r.call("getHistory", learnerId="olga", courseId=COURSE_ID)["events"]
        assert [e["to"] for e in events if e["kind"] == "eligibilityChanged"] == ["eligible"]
