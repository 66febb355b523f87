"""Issue 4, end to end: identity verification, in-course reverification and proctored exams,
driven through the real binary under `--test-clock` (SPEC sections 1 items 3-6, 2 and 4).

Every test runs one process per principal (admin for the catalog, `staff` for reviews and
grades, `learner:<id>` for the learner's own acts) on one database file, with one shared clock
that the helper below pushes into each process (`clock.set`) before it is used.
"""

from __future__ import annotations

import base64

import pytest

from world import COURSE, ENDS, STARTS, World as BaseWorld, world_fixture, image, shift

# Engine-neutral: runs on SQLite and on PostgreSQL (SPEC section 7).
pytestmark = pytest.mark.both_engines

# --- Helpers (those shared with the other end-to-end file are in world.py) -----------------

EXAM = "final"
CHECKPOINT = "midterm"
EXAM_RID = f"proctoredExam:{EXAM}"
CHECK_RID = f"reverification:{CHECKPOINT}"


class World(BaseWorld):
    """The shared world, with the reads these tests use."""

    def req(self, rid: str, learner: str = "ann", course: str = COURSE) -> dict:
        return requirement(self.status(learner, course), rid)

    def dashboard_entry(self, learner: str = "ann", course: str = COURSE) -> dict:
        d = self.call("getDashboard", learnerId=learner)
        assert d["learnerId"] == learner
        [entry] = [e for e in d["enrollments"] if e["courseId"] == course]
        return entry


def requirement(status: dict, rid: str) -> dict:
    [r] = [r for r in status["requirements"] if r["requirementId"] == rid]
    return r


def statuses(status: dict) -> dict[str, str]:
    return {r["requirementId"]: r["status"] for r in status["requirements"]}


def events_of(events: list[dict], kind: str, rid: str | None = None) -> list[dict]:
    return [e for e in events if e["kind"] == kind and (rid is None or e["requirementId"] == rid)]


def assert_subsequence(events: list[dict], expected: list[dict]) -> None:
    """Each expected event (a dict of fields that must match) appears, in this order."""
    i = 0
    for want in expected:
        while i < len(events) and any(events[i].get(k) != v for k, v in want.items()):
            i += 1
        assert i < len(events), f"missing (in order) {want}\nhistory: {events}"
        i += 1


world = world_fixture(World)


def catalog(w: World, requirements: list[dict] | None = None, ends: str = ENDS) -> None:
    """The course (proctored `final`, timed `quiz`), one provider offer and, unless given, the
    three kinds of requirement: grade >= 0.8, the proctored exam, the midterm checkpoint."""
    w.call("createCourse", courseId=COURSE, title="Circuits and Electronics", startsAt=STARTS, endsAt=ends)
    w.call("createProvider", providerId="asu", displayName="Arizona State University",
           url="https://credit.asu.example/edx", secrets=["asu-secret-1"])
    w.call("offerCredit", courseId=COURSE, providerId="asu", price={"amount": "300.00", "currency": "USD"})
    exam = w.call("createExam", courseId=COURSE, examId=EXAM, displayName="Final exam",
                  timeLimitMinutes=60, passingScore=0.7)
    assert exam["proctored"] is True
    quiz = w.call("createExam", courseId=COURSE, examId="quiz", displayName="Timed quiz",
                  timeLimitMinutes=20, passingScore=0.5, proctored=False)
    assert quiz["proctored"] is False
    if requirements is None:
        requirements = [
            {"kind": "grade", "minGrade": 0.8},
            {"kind": "proctoredExam", "examId": EXAM},
            {"kind": "reverification", "checkpointId": CHECKPOINT, "displayName": "Midterm identity check"},
        ]
    w.call("setCreditRequirements", courseId=COURSE, requirements=requirements)


def learner(w: World, learner_id: str = "ann", mode: str = "verified", mailing: str | None = "1 Main St") -> None:
    params = dict(learnerId=learner_id, fullName=f"{learner_id.title()} Learner",
                  email=f"{learner_id}@example.com", country="US")
    if mailing is not None:
        params["mailingAddress"] = mailing
    w.call("createLearner", **params)
    w.call("enroll", learnerId=learner_id, courseId=COURSE, mode=mode)


def verified(w: World, learner_id: str = "ann") -> dict:
    """Submits and approves the initial identity verification; returns the approval."""
    v = w.call("verifyIdentity", learnerId=learner_id, photoIdImage=image("id"), faceImage=image("face"))
    return w.call("reviewVerification", verificationId=v["verificationId"], decision="approved")


def setup(w: World, verify: bool = True, requirements: list[dict] | None = None, ends: str = ENDS) -> None:
    """Catalog on 2026-01-01, ann enrolled (verified track) on 2026-01-10 and, by default,
    verified on 2026-01-11; the clock is then 2026-03-01T12:00:00Z."""
    catalog(w, requirements, ends)
    w.set("2026-01-10T09:00:00Z")
    learner(w)
    if verify:
        w.set("2026-01-11T10:00:00Z")
        verified(w)
    w.set("2026-03-01T12:00:00Z")


def start(w: World, exam: str = EXAM) -> dict:
    return w.call("startExam", learnerId="ann", courseId=COURSE, examId=exam)


def submit(w: World, exam: str = EXAM) -> dict:
    return w.call("submitExam", learnerId="ann", courseId=COURSE, examId=exam)


def review(w: World, outcome: str, exam: str = EXAM, **kw) -> dict:
    return w.call("reviewExam", learnerId="ann", courseId=COURSE, examId=exam, review=outcome, **kw)


def score(w: World, value: float, exam: str = EXAM) -> dict:
    return w.call("recordGrade", learnerId="ann", courseId=COURSE, grade=value, examId=exam)


def grade(w: World, value: float) -> dict:
    return w.call("recordGrade", learnerId="ann", courseId=COURSE, grade=value)


def reverify(w: World, checkpoint: str = CHECKPOINT, face: str | None = None) -> dict:
    return w.call("reverify", learnerId="ann", courseId=COURSE, checkpointId=checkpoint,
                  faceImage=face or image("webcam"))


def review_checkpoint(w: World, decision: str, checkpoint: str = CHECKPOINT, **kw) -> dict:
    return w.call("reviewVerification", learnerId="ann", courseId=COURSE, checkpointId=checkpoint,
                  decision=decision, **kw)


def decline(w: World, rid: str) -> dict:
    return w.call("declineRequirement", learnerId="ann", courseId=COURSE, requirementId=rid)


def exam_only() -> list[dict]:
    return [{"kind": "proctoredExam", "examId": EXAM}]


def taken_and_submitted(w: World) -> dict:
    """ann starts the final at 2026-06-01T14:00 and submits it at 14:45."""
    w.set("2026-06-01T14:00:00Z")
    start(w)
    w.set("2026-06-01T14:45:00Z")
    return submit(w)


# --- The full journey ---------------------------------------------------------------------------


def test_happy_path_verify_reverify_proctored_exam_and_grade_make_the_learner_eligible(world):
    w = world
    catalog(w)
    w.set("2026-01-10T09:00:00Z")
    learner(w)
    s = w.status()
    assert s["creditTrack"] is True and s["eligibility"] == "notYetEligible" and s["purchaseDeadline"] is None
    assert [r["requirementId"] for r in s["requirements"]] == ["grade", EXAM_RID, CHECK_RID]
    assert [r["order"] for r in s["requirements"]] == [1, 2, 3]
    assert [r["kind"] for r in s["requirements"]] == ["grade", "proctoredExam", "reverification"]
    assert statuses(s) == {"grade": "pending", EXAM_RID: "pending", CHECK_RID: "pending"}

    # Initial verification: submitted, then approved for 365 days.
    w.set("2026-01-11T10:00:00Z")
    v = w.call("verifyIdentity", learnerId="ann", photoIdImage=image("passport"), faceImage=image("face"))
    assert v["learnerId"] == "ann" and v["kind"] == "initial" and v["status"] == "submitted"
    assert v["courseId"] is None and v["checkpointId"] is None
    assert v["submittedAt"] == "2026-01-11T10:00:00Z"
    assert v["reviewedAt"] is None and v["expiresAt"] is None
    assert not any(k in v for k in ("photoIdImage", "faceImage")), v
    w.set("2026-01-12T10:00:00Z")
    a = w.call("reviewVerification", learnerId="ann", decision="approved")
    assert a["verificationId"] == v["verificationId"] and a["status"] == "approved"
    assert a["reviewedAt"] == "2026-01-12T10:00:00Z" and a["expiresAt"] == "2027-01-12T10:00:00Z"

    # Reverification at the midterm checkpoint.
    w.set("2026-03-01T12:00:00Z")
    r = reverify(w)
    assert r["kind"] == "reverification" and r["status"] == "submitted"
    assert r["courseId"] == COURSE and r["checkpointId"] == CHECKPOINT and r["expiresAt"] is None
    assert r["verificationId"] != v["verificationId"]
    assert w.req(CHECK_RID)["status"] == "submitted"
    w.set("2026-03-02T12:00:00Z")
    ra = review_checkpoint(w, "approved")
    assert ra["verificationId"] == r["verificationId"] and ra["status"] == "approved"
    assert ra["reviewedAt"] == "2026-03-02T12:00:00Z" and ra["expiresAt"] is None
    rq = w.req(CHECK_RID)
    assert rq["status"] == "satisfied" and rq["updatedAt"] == "2026-03-02T12:00:00Z"

    # The proctored exam, within time.
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    assert att["learnerId"] == "ann" and att["courseId"] == COURSE and att["examId"] == EXAM
    assert att["proctored"] is True and att["status"] == "started"
    assert att["startedAt"] == "2026-06-01T14:00:00Z" and att["deadline"] == "2026-06-01T15:00:00Z"
    assert att["submittedAt"] is None and att["timedOut"] is False
    assert att["score"] is None and att["review"] is None
    assert w.req(EXAM_RID)["status"] == "pending"  # started, not submitted
    w.set("2026-06-01T14:45:00Z")
    sub = submit(w)
    assert sub["attemptId"] == att["attemptId"] and sub["status"] == "submitted"
    assert sub["submittedAt"] == "2026-06-01T14:45:00Z" and sub["timedOut"] is False
    assert sub["deadline"] == "2026-06-01T15:00:00Z"
    assert w.req(EXAM_RID)["status"] == "submitted"

    w.set("2026-06-02T09:00:00Z")
    rev = w.call("reviewExam", attemptId=att["attemptId"], review="clean")
    assert rev["status"] == "verified" and rev["review"] == "clean"
    assert w.req(EXAM_RID)["status"] == "submitted"  # the score is still missing

    w.set("2026-06-03T09:00:00Z")
    s = score(w, 0.92)
    assert requirement(s, EXAM_RID)["status"] == "satisfied"
    assert requirement(s, EXAM_RID)["updatedAt"] == "2026-06-03T09:00:00Z"
    assert s["eligibility"] == "notYetEligible"

    w.set("2026-06-20T09:00:00Z")
    s = grade(w, 0.86)
    assert statuses(s) == {"grade": "satisfied", EXAM_RID: "satisfied", CHECK_RID: "satisfied"}
    assert s["eligibility"] == "eligible"
    assert s["purchaseDeadline"] == "2027-06-30T23:59:59Z"  # course end + 365 days
    assert "0.86" in requirement(s, "grade")["reason"]
    assert w.status() == s

    [mail] = w.emails(kind="creditEligible")
    assert mail["to"] == "ann@example.com" and mail["createdAt"] == "2026-06-20T09:00:00Z"
    entry = w.dashboard_entry()
    assert entry["certificate"] == {"status": "downloadable"}
    assert entry["credit"]["canPurchase"] is True and entry["credit"]["request"] is None
    assert [p["providerId"] for p in entry["credit"]["providers"]] == ["asu"]

    # Every step in history, in order, with who did it and when.
    events = w.history()
    ids = [e["eventId"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    L, S = "learner:ann", "staff"
    assert_subsequence(events, [
        {"kind": "enrolled", "actor": L, "at": "2026-01-10T09:00:00Z", "to": "verified"},
        {"kind": "verificationSubmitted", "actor": L, "at": "2026-01-11T10:00:00Z"},
        {"kind": "verificationReviewed", "actor": S, "at": "2026-01-12T10:00:00Z", "to": "approved"},
        {"kind": "verificationSubmitted", "actor": L, "at": "2026-03-01T12:00:00Z"},
        {"kind": "requirementStatusChanged", "requirementId": CHECK_RID, "actor": L,
         "at": "2026-03-01T12:00:00Z", "from": "pending", "to": "submitted"},
        {"kind": "verificationReviewed", "actor": S, "at": "2026-03-02T12:00:00Z", "to": "approved"},
        {"kind": "requirementStatusChanged", "requirementId": CHECK_RID, "actor": S,
         "at": "2026-03-02T12:00:00Z", "from": "submitted", "to": "satisfied"},
        {"kind": "examStarted", "requirementId": EXAM_RID, "actor": L, "at": "2026-06-01T14:00:00Z"},
        {"kind": "examSubmitted", "requirementId": EXAM_RID, "actor": L, "at": "2026-06-01T14:45:00Z"},
        {"kind": "requirementStatusChanged", "requirementId": EXAM_RID, "actor": L,
         "at": "2026-06-01T14:45:00Z", "from": "pending", "to": "submitted"},
        {"kind": "examReviewed", "requirementId": EXAM_RID, "actor": S, "at": "2026-06-02T09:00:00Z",
         "to": "verified"},
        {"kind": "examScoreRecorded", "requirementId": EXAM_RID, "actor": S, "at": "2026-06-03T09:00:00Z"},
        {"kind": "requirementStatusChanged", "requirementId": EXAM_RID, "actor": S,
         "at": "2026-06-03T09:00:00Z", "from": "submitted", "to": "satisfied"},
        {"kind": "gradeRecorded", "actor": S, "at": "2026-06-20T09:00:00Z"},
        {"kind": "requirementStatusChanged", "requirementId": "grade", "actor": S,
         "at": "2026-06-20T09:00:00Z", "from": "pending", "to": "satisfied"},
        {"kind": "eligibilityChanged", "actor": S, "at": "2026-06-20T09:00:00Z",
         "from": "notYetEligible", "to": "eligible"},
    ])
    # Nothing in the happy path was caused by time alone.
    assert not [e for e in events if e["actor"] == "system"], events
    # Exactly one status change per requirement step: no duplicates.
    changes = [(e["requirementId"], e["from"], e["to"]) for e in events_of(events, "requirementStatusChanged")]
    assert changes == [
        (CHECK_RID, "pending", "submitted"), (CHECK_RID, "submitted", "satisfied"),
        (EXAM_RID, "pending", "submitted"), (EXAM_RID, "submitted", "satisfied"),
        ("grade", "pending", "satisfied"),
    ]


# --- Exam timing --------------------------------------------------------------------------------


def test_late_submission_is_submitted_at_the_deadline_by_the_system_and_still_reviewable(world):
    w = world
    setup(w, requirements=exam_only())
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    assert att["deadline"] == "2026-06-01T15:00:00Z"
    # The deadline itself is still "before": nothing happened yet.
    w.set("2026-06-01T15:00:00Z")
    assert w.req(EXAM_RID)["status"] == "pending"

    w.set("2026-06-01T15:20:00Z")  # past the deadline; no write since the start
    before = w.history()
    rq = w.req(EXAM_RID)
    assert rq["status"] == "submitted"
    assert rq["updatedAt"] == "2026-06-01T15:00:00Z"

    late = submit(w)  # returns the attempt as it is, no error
    assert late["attemptId"] == att["attemptId"]
    assert late["status"] == "submitted" and late["timedOut"] is True
    assert late["submittedAt"] == "2026-06-01T15:00:00Z" and late["deadline"] == "2026-06-01T15:00:00Z"
    w.advance(minutes=5)
    assert submit(w) == late  # unchanged, again

    events = w.history()
    assert events[:len(before)] == before  # appended, never rewritten
    [timeout] = events_of(events, "examTimedOut")
    assert timeout["at"] == "2026-06-01T15:00:00Z" and timeout["actor"] == "system"
    assert timeout["requirementId"] == EXAM_RID
    assert not events_of(events, "examSubmitted"), "the late submitExam must not submit again"
    [change] = events_of(events, "requirementStatusChanged", EXAM_RID)
    assert (change["from"], change["to"]) == ("pending", "submitted")
    assert change["at"] == "2026-06-01T15:00:00Z" and change["actor"] == "system"

    # Still reviewable, and it counts.
    w.set("2026-06-02T09:00:00Z")
    rev = review(w, "clean")
    assert rev["status"] == "verified" and rev["timedOut"] is True
    assert rev["submittedAt"] == "2026-06-01T15:00:00Z"
    s = score(w, 0.9)
    assert requirement(s, EXAM_RID)["status"] == "satisfied" and s["eligibility"] == "eligible"


def test_timeout_is_recorded_by_the_next_write_even_without_a_submit(world):
    w = world
    setup(w, requirements=exam_only())
    w.set("2026-06-01T14:00:00Z")
    start(w)
    w.set("2026-06-03T08:00:00Z")
    score(w, 0.9)  # the next write for ann in the course
    events = w.history()
    [timeout] = events_of(events, "examTimedOut")
    assert (timeout["at"], timeout["actor"]) == ("2026-06-01T15:00:00Z", "system")
    score_event = events_of(events, "examScoreRecorded")[0]
    assert events.index(timeout) < events.index(score_event)
    assert w.req(EXAM_RID)["status"] == "submitted"


def test_extra_time_granted_before_the_start_gives_a_later_deadline(world):
    w = world
    setup(w, requirements=exam_only())
    g = w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=30)
    assert g == {"learnerId": "ann", "courseId": COURSE, "examId": EXAM, "extraMinutes": 30}
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    assert att["deadline"] == "2026-06-01T15:30:00Z"
    w.set("2026-06-01T15:20:00Z")  # past the plain limit, within the extra time
    sub = submit(w)
    assert sub["status"] == "submitted" and sub["timedOut"] is False
    assert sub["submittedAt"] == "2026-06-01T15:20:00Z"
    ev = events_of(w.history(), "examTimeGranted")
    assert [(e["from"], e["to"], e["actor"]) for e in ev] == [("0", "30", "staff")]


def test_grant_exam_time_during_an_attempt_moves_its_deadline_later(world):
    w = world
    setup(w, requirements=exam_only())
    w.set("2026-06-01T14:00:00Z")
    start(w)
    w.set("2026-06-01T14:50:00Z")
    w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=30)
    w.set("2026-06-01T15:30:00Z")  # the new deadline itself
    sub = submit(w)
    assert sub["deadline"] == "2026-06-01T15:30:00Z"
    assert sub["status"] == "submitted" and sub["timedOut"] is False
    assert sub["submittedAt"] == "2026-06-01T15:30:00Z"
    assert not events_of(w.history(), "examTimedOut")


def test_grant_exam_time_during_an_attempt_moves_its_deadline_and_is_not_additive(world):
    w = world
    setup(w, requirements=exam_only())
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    assert att["deadline"] == "2026-06-01T15:00:00Z"
    w.set("2026-06-01T14:10:00Z")
    w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=30)
    w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=10)
    w.set("2026-06-01T15:09:59Z")  # within start + 60 + 10, not 60 + 40
    sub = submit(w)
    assert sub["deadline"] == "2026-06-01T15:10:00Z"
    assert sub["status"] == "submitted" and sub["timedOut"] is False
    assert sub["submittedAt"] == "2026-06-01T15:09:59Z"


def test_grant_exam_time_to_a_deadline_in_the_past_submits_the_attempt_at_that_deadline(world):
    w = world
    setup(w, requirements=exam_only())
    w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=30)
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    assert att["deadline"] == "2026-06-01T15:30:00Z"
    w.set("2026-06-01T15:20:00Z")
    w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=0)
    after = submit(w)
    assert after["attemptId"] == att["attemptId"]
    assert after["deadline"] == "2026-06-01T15:00:00Z"
    assert after["status"] == "submitted" and after["timedOut"] is True
    assert after["submittedAt"] == "2026-06-01T15:00:00Z"
    rq = w.req(EXAM_RID)
    assert rq["status"] == "submitted"
    [timeout] = events_of(w.history(), "examTimedOut")
    assert timeout["at"] == "2026-06-01T15:00:00Z"


def test_extra_time_granted_after_an_automatic_submission_does_not_reopen_the_attempt(world):
    w = world
    setup(w, requirements=exam_only())
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    w.set("2026-06-01T15:10:00Z")  # timed out at 15:00; nothing written since
    w.call("grantExamTime", learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=60)
    late = submit(w)
    assert late["attemptId"] == att["attemptId"]
    assert late["status"] == "submitted" and late["timedOut"] is True
    assert late["submittedAt"] == "2026-06-01T15:00:00Z" and late["deadline"] == "2026-06-01T15:00:00Z"
    [timeout] = events_of(w.history(), "examTimedOut")
    assert (timeout["at"], timeout["actor"]) == ("2026-06-01T15:00:00Z", "system")


def test_exam_deadline_is_capped_at_the_course_end(world):
    w = world
    setup(w, requirements=exam_only())
    w.set(shift(ENDS, minutes=-30))  # 23:29:59 on the last day, 60-minute exam
    att = start(w)
    assert att["deadline"] == ENDS
    w.set(ENDS)
    assert submit(w)["timedOut"] is False  # the end itself is still allowed


def test_exam_deadline_at_the_course_end_times_out_after_it(world):
    w = world
    setup(w, requirements=exam_only())
    w.set(shift(ENDS, minutes=-30))
    start(w)
    w.set(shift(ENDS, seconds=1))
    late = submit(w)
    assert late["timedOut"] is True and late["submittedAt"] == ENDS and late["deadline"] == ENDS


def test_exam_started_after_the_course_end_is_deadline_passed(world):
    w = world
    setup(w, requirements=exam_only())
    w.set(shift(ENDS, seconds=1))
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32005
    assert not events_of(w.history(), "examStarted")


def test_exam_started_without_an_identity_verification_is_invalid_state(world):
    w = world
    setup(w, verify=False, requirements=exam_only())
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003 and e.reason == "verification_required"
    # A pending (not yet approved) verification is not enough either.
    w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003 and e.reason == "verification_required"
    assert not events_of(w.history(), "examStarted")


def test_exam_started_twice_is_invalid_state(world):
    w = world
    setup(w, requirements=exam_only())
    att = start(w)
    w.advance(minutes=5)
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003
    submit(w)
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003
    assert len(events_of(w.history(), "examStarted")) == 1
    assert submit(w)["attemptId"] == att["attemptId"]


def test_submit_exam_never_started_is_invalid_state(world):
    w = world
    setup(w, requirements=exam_only())
    e = w.error("submitExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003
    assert w.req(EXAM_RID)["status"] == "pending"


def test_submit_exam_twice_returns_the_attempt_unchanged(world):
    w = world
    setup(w, requirements=exam_only())
    first = taken_and_submitted(w)
    w.advance(minutes=1)
    assert submit(w) == first
    assert len(events_of(w.history(), "examSubmitted")) == 1


def test_reset_exam_attempt_lets_the_learner_start_again(world):
    w = world
    setup(w, requirements=exam_only())
    first = taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    review(w, "suspicious")
    score(w, 0.9)
    assert w.req(EXAM_RID)["status"] == "failed"
    s = w.call("resetExamAttempt", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert requirement(s, EXAM_RID)["status"] == "pending"
    w.set("2026-06-05T10:00:00Z")
    again = start(w)
    assert again["attemptId"] != first["attemptId"]
    assert again["status"] == "started" and again["startedAt"] == "2026-06-05T10:00:00Z"
    assert again["deadline"] == "2026-06-05T11:00:00Z" and again["score"] is None and again["review"] is None
    w.set("2026-06-05T10:30:00Z")
    submit(w)
    review(w, "clean")
    s = score(w, 0.75)
    assert requirement(s, EXAM_RID)["status"] == "satisfied" and s["eligibility"] == "eligible"
    events = w.history()
    [reset] = events_of(events, "examAttemptReset")
    assert reset["actor"] == "staff" and reset["at"] == "2026-06-02T09:00:00Z"
    assert len(events_of(events, "examStarted")) == 2


# --- Reviews and scores -------------------------------------------------------------------------


def test_clean_review_and_passing_score_satisfy_the_exam_requirement(world):
    w = world
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    rev = review(w, "clean")
    assert rev["status"] == "verified" and rev["review"] == "clean"
    s = score(w, 0.7)  # exactly the passing score
    assert requirement(s, EXAM_RID)["status"] == "satisfied" and s["eligibility"] == "eligible"


def _rejecting_review_fails_the_requirement(w: World, outcome: str) -> None:
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    score(w, 0.95)
    rev = review(w, outcome, comment="second person in the room")
    assert rev["status"] == "rejected" and rev["review"] == outcome
    rq = w.req(EXAM_RID)
    assert rq["status"] == "failed" and rq["reason"]
    assert rq["updatedAt"] == "2026-06-02T09:00:00Z"
    # A rejected attempt cannot be reviewed again.
    e = w.error("reviewExam", learnerId="ann", courseId=COURSE, examId=EXAM, review="clean")
    assert e.code == -32003
    assert w.req(EXAM_RID)["status"] == "failed"
    # Failed before the end: not yet final; after the end: ineligible.
    assert w.status()["eligibility"] == "notYetEligible"
    w.set(shift(ENDS, seconds=1))
    assert w.status()["eligibility"] == "ineligible"


def test_suspicious_review_rejects_the_attempt_and_fails_the_requirement(world):
    _rejecting_review_fails_the_requirement(world, "suspicious")


def test_rules_violation_review_rejects_the_attempt_and_fails_the_requirement(world):
    _rejecting_review_fails_the_requirement(world, "rulesViolation")


def test_not_reviewed_session_is_an_error_and_can_be_reviewed_again(world):
    w = world
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    score(w, 0.9)
    rev = review(w, "notReviewed")
    assert rev["status"] == "error" and rev["review"] == "notReviewed"
    assert w.req(EXAM_RID)["status"] == "submitted"
    w.set("2026-06-03T09:00:00Z")
    rev = review(w, "clean")
    assert rev["status"] == "verified" and rev["review"] == "clean"
    rq = w.req(EXAM_RID)
    assert rq["status"] == "satisfied" and rq["updatedAt"] == "2026-06-03T09:00:00Z"
    # Now verified: reviewing again is refused.
    e = w.error("reviewExam", learnerId="ann", courseId=COURSE, examId=EXAM, review="clean")
    assert e.code == -32003


def test_score_below_passing_fails_the_exam_requirement(world):
    w = world
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    review(w, "clean")
    s = score(w, 0.69)
    rq = requirement(s, EXAM_RID)
    assert rq["status"] == "failed" and rq["reason"]
    assert s["eligibility"] == "notYetEligible"


def test_score_recorded_before_the_review_then_clean_review_satisfies(world):
    w = world
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    s = score(w, 0.8)
    assert requirement(s, EXAM_RID)["status"] == "submitted"  # waiting for the review
    w.set("2026-06-03T09:00:00Z")
    rev = review(w, "clean")
    assert rev["status"] == "verified"
    s = w.status()
    assert requirement(s, EXAM_RID)["status"] == "satisfied"
    assert requirement(s, EXAM_RID)["updatedAt"] == "2026-06-03T09:00:00Z"
    assert s["eligibility"] == "eligible"


def test_score_recorded_after_the_clean_review_satisfies(world):
    w = world
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    w.set("2026-06-02T09:00:00Z")
    review(w, "clean")
    assert w.req(EXAM_RID)["status"] == "submitted"  # waiting for the score
    w.set("2026-06-03T09:00:00Z")
    s = score(w, 0.8)
    assert requirement(s, EXAM_RID)["status"] == "satisfied"
    assert requirement(s, EXAM_RID)["updatedAt"] == "2026-06-03T09:00:00Z"
    assert s["eligibility"] == "eligible"


def test_review_exam_by_attempt_id(world):
    w = world
    setup(w, requirements=exam_only())
    att = taken_and_submitted(w)
    rev = w.call("reviewExam", attemptId=att["attemptId"], review="clean", comment="ok")
    assert rev["attemptId"] == att["attemptId"] and rev["status"] == "verified"


def test_review_exam_by_learner_course_and_exam(world):
    w = world
    setup(w, requirements=exam_only())
    att = taken_and_submitted(w)
    rev = w.call("reviewExam", learnerId="ann", courseId=COURSE, examId=EXAM, review="clean")
    assert rev["attemptId"] == att["attemptId"] and rev["status"] == "verified"


@pytest.mark.parametrize("address", [
    {},
    {"attemptId": "att_1", "learnerId": "ann", "courseId": COURSE, "examId": EXAM},
    {"attemptId": "att_1", "learnerId": "ann"},
    {"learnerId": "ann", "courseId": COURSE},
], ids=["neither", "both", "id_and_learner", "incomplete"])
def test_review_exam_with_neither_or_both_address_forms_is_invalid_params(world, address):
    w = world
    setup(w, requirements=exam_only())
    taken_and_submitted(w)
    e = w.error("reviewExam", review="clean", **address)
    assert e.code == -32602
    assert w.req(EXAM_RID)["status"] == "submitted"


def test_review_of_an_unsubmitted_attempt_is_invalid_state(world):
    w = world
    setup(w, requirements=exam_only())
    start(w)
    e = w.error("reviewExam", learnerId="ann", courseId=COURSE, examId=EXAM, review="clean")
    assert e.code == -32003


def test_timed_exam_cannot_be_a_credit_requirement(world):
    w = world
    catalog(w)
    e = w.error("setCreditRequirements", courseId=COURSE,
                requirements=[{"kind": "grade", "minGrade": 0.8}, {"kind": "proctoredExam", "examId": "quiz"}])
    assert e.code == -32602
    assert e.field == "requirements[1].examId"
    # The requirement set is unchanged.
    w.set("2026-01-10T09:00:00Z")
    learner(w)
    assert [r["requirementId"] for r in w.status()["requirements"]] == ["grade", EXAM_RID, CHECK_RID]


# --- Declines -----------------------------------------------------------------------------------


def test_declined_proctoring_makes_the_learner_ineligible_but_the_exam_and_certificate_remain(world):
    w = world
    setup(w)
    s = decline(w, EXAM_RID)
    rq = requirement(s, EXAM_RID)
    assert rq["status"] == "declined" and rq["reason"]
    assert s["eligibility"] == "ineligible" and s["purchaseDeadline"] is None

    # The exam may still be taken, unproctored.
    w.set("2026-06-01T14:00:00Z")
    att = start(w)
    assert att["proctored"] is False and att["status"] == "started"
    w.set("2026-06-01T14:30:00Z")
    sub = submit(w)
    assert sub["proctored"] is False and sub["status"] == "submitted"
    score(w, 0.95)
    # Everything else satisfied: still ineligible, for good.
    reverify(w)
    review_checkpoint(w, "approved")
    s = grade(w, 0.9)
    assert statuses(s) == {"grade": "satisfied", EXAM_RID: "declined", CHECK_RID: "satisfied"}
    assert s["eligibility"] == "ineligible"
    assert not w.emails(kind="creditEligible")
    entry = w.dashboard_entry()
    assert entry["certificate"] == {"status": "downloadable"}  # verified + approved + 0.9 >= 0.5
    assert entry["credit"]["canPurchase"] is False
    ev = events_of(w.history(), "requirementStatusChanged", EXAM_RID)
    assert [(e["from"], e["to"], e["actor"], e["at"]) for e in ev] == [
        ("pending", "declined", "learner:ann", "2026-03-01T12:00:00Z")]
    assert w.req(EXAM_RID)["status"] == "declined"


def test_declined_checkpoint_makes_the_learner_ineligible_and_cannot_be_reverified(world):
    w = world
    setup(w, requirements=[{"kind": "grade", "minGrade": 0.8},
                           {"kind": "reverification", "checkpointId": CHECKPOINT, "displayName": "Midterm"}])
    s = decline(w, CHECK_RID)
    assert requirement(s, CHECK_RID)["status"] == "declined" and s["eligibility"] == "ineligible"
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=image("w"))
    assert e.code == -32003
    s = grade(w, 0.95)
    assert s["eligibility"] == "ineligible"
    assert w.dashboard_entry()["certificate"] == {"status": "downloadable"}


def test_declining_proctoring_after_the_exam_started_is_invalid_state(world):
    w = world
    setup(w)
    start(w)
    e = w.error("declineRequirement", learnerId="ann", courseId=COURSE, requirementId=EXAM_RID)
    assert e.code == -32003
    assert w.req(EXAM_RID)["status"] == "pending"
    assert not events_of(w.history(), "requirementStatusChanged", EXAM_RID)


def test_declining_a_grade_requirement_is_invalid_state(world):
    w = world
    setup(w)
    e = w.error("declineRequirement", learnerId="ann", courseId=COURSE, requirementId="grade")
    assert e.code == -32003
    assert w.req("grade")["status"] == "pending"


def test_declining_a_satisfied_checkpoint_is_invalid_state(world):
    w = world
    setup(w)
    reverify(w)
    review_checkpoint(w, "approved")
    e = w.error("declineRequirement", learnerId="ann", courseId=COURSE, requirementId=CHECK_RID)
    assert e.code == -32003
    assert w.req(CHECK_RID)["status"] == "satisfied"


def test_declining_a_checkpoint_waiting_for_review_is_final_even_if_the_photo_is_approved(world):
    w = world
    setup(w)
    reverify(w)
    s = decline(w, CHECK_RID)
    assert requirement(s, CHECK_RID)["status"] == "declined" and s["eligibility"] == "ineligible"
    w.advance(hours=2)
    v = review_checkpoint(w, "approved")
    assert v["status"] == "approved"
    s = w.status()
    assert requirement(s, CHECK_RID)["status"] == "declined" and s["eligibility"] == "ineligible"


def test_declining_twice_returns_the_status_unchanged(world):
    w = world
    setup(w)
    first = decline(w, CHECK_RID)
    w.advance(days=1)
    second = decline(w, CHECK_RID)
    assert second == first
    assert len(events_of(w.history(), "requirementStatusChanged", CHECK_RID)) == 1


# --- Reverification -----------------------------------------------------------------------------


def test_reverify_without_a_face_image_is_refused_with_a_webcam_message(world):
    w = world
    setup(w)
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT)
    assert e.code == -32602 and e.field == "faceImage"
    assert "webcam" in e.message.lower()
    assert w.req(CHECK_RID)["status"] == "pending"


def test_reverify_with_a_null_face_image_is_refused_with_a_webcam_message(world):
    w = world
    setup(w)
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=None)
    assert e.code == -32602 and e.field == "faceImage"
    assert "webcam" in e.message.lower()


def test_reverify_with_an_empty_face_image_is_invalid_params(world):
    w = world
    setup(w)
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage="")
    assert e.code == -32602 and e.field == "faceImage"
    assert w.req(CHECK_RID)["status"] == "pending"


@pytest.mark.parametrize("bad", ["not base64!", "a", "YWJj\nZA==", "YW=Jj", "@@@@"])
def test_reverify_with_invalid_base64_is_invalid_params(world, bad):
    w = world
    setup(w)
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=bad)
    assert e.code == -32602 and e.field == "faceImage"
    assert w.req(CHECK_RID)["status"] == "pending"
    assert not events_of(w.history(), "verificationSubmitted", CHECK_RID)


def test_image_over_10_mib_decoded_is_refused_as_image_too_large(db_path):
    w = World(str(db_path), extra=("--max-line-bytes", "20000000"), timeout=90.0)
    try:
        setup(w)
        big = base64.b64encode(b"\0" * (10 * 1024 * 1024 + 1)).decode()
        e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=big)
        assert e.code == -32602 and e.reason == "image_too_large" and e.field == "faceImage"
        assert w.req(CHECK_RID)["status"] == "pending"
        # Exactly 10 MiB is accepted.
        ok = base64.b64encode(b"\0" * (10 * 1024 * 1024)).decode()
        assert reverify(w, face=ok)["status"] == "submitted"
    except BaseException:
        w.kill()
        raise
    w.close()


def test_initial_photo_id_over_10_mib_is_refused_as_image_too_large(db_path):
    w = World(str(db_path), extra=("--max-line-bytes", "20000000"), timeout=90.0)
    try:
        catalog(w)
        w.set("2026-01-10T09:00:00Z")
        learner(w)
        big = base64.b64encode(b"\1" * (10 * 1024 * 1024 + 3)).decode()
        e = w.error("verifyIdentity", learnerId="ann", photoIdImage=big, faceImage=image("face"))
        assert e.code == -32602 and e.reason == "image_too_large" and e.field == "photoIdImage"
        assert not events_of(w.history(), "verificationSubmitted")
    except BaseException:
        w.kill()
        raise
    w.close()


def test_denied_then_approved_reverification_fails_then_is_submitted_again_then_satisfied(world):
    w = world
    setup(w)
    first = reverify(w)
    w.advance(hours=1)
    d = review_checkpoint(w, "denied", reason="face not visible")
    assert d["verificationId"] == first["verificationId"] and d["status"] == "denied"
    assert d["reason"] == "face not visible"
    rq = w.req(CHECK_RID)
    assert rq["status"] == "failed" and rq["reason"]
    w.advance(hours=1)
    second = reverify(w)
    assert second["verificationId"] != first["verificationId"] and second["status"] == "submitted"
    assert w.req(CHECK_RID)["status"] == "submitted"
    w.advance(hours=1)
    a = review_checkpoint(w, "approved")
    assert a["verificationId"] == second["verificationId"] and a["status"] == "approved"
    assert w.req(CHECK_RID)["status"] == "satisfied"
    ev = events_of(w.history(), "requirementStatusChanged", CHECK_RID)
    assert [(e["from"], e["to"]) for e in ev] == [
        ("pending", "submitted"), ("submitted", "failed"), ("failed", "submitted"), ("submitted", "satisfied")]


def test_reverify_after_the_course_end_on_a_failed_checkpoint_is_deadline_passed(world):
    w = world
    setup(w)
    reverify(w)
    review_checkpoint(w, "denied")
    w.set(ENDS)  # the last allowed instant: a retry still works
    assert reverify(w)["status"] == "submitted"
    review_checkpoint(w, "denied")
    w.set(shift(ENDS, seconds=1))
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=image("w"))
    assert e.code == -32005
    s = w.status()
    assert requirement(s, CHECK_RID)["status"] == "failed" and s["eligibility"] == "ineligible"


def test_failed_checkpoint_becomes_ineligible_at_the_course_end_recorded_as_system(world):
    w = world
    setup(w)
    reverify(w)
    review_checkpoint(w, "denied")
    assert w.status()["eligibility"] == "notYetEligible"  # may still retry
    w.set("2026-07-05T08:00:00Z")
    assert w.status()["eligibility"] == "ineligible"
    grade(w, 0.9)  # the next write for ann in the course
    events = w.history()
    [change] = [e for e in events_of(events, "eligibilityChanged") if e["to"] == "ineligible"]
    assert change["from"] == "notYetEligible"
    assert change["at"] == "2026-07-01T00:00:00Z" and change["actor"] == "system"
    assert events.index(change) < events.index(events_of(events, "gradeRecorded")[0])
    # A first passing grade after the end fails the grade requirement.
    assert w.req("grade")["status"] == "failed"


def test_reverify_needs_an_approved_initial_verification(world):
    w = world
    setup(w, verify=False)
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=image("w"))
    assert e.code == -32003
    assert w.req(CHECK_RID)["status"] == "pending"


# --- Initial verification lifecycle -------------------------------------------------------------


def test_verification_lifecycle_expiry_resubmission_and_repeated_reviews(world):
    w = world
    catalog(w)
    w.set("2026-01-10T09:00:00Z")
    learner(w)
    v = w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    # A second submission while one is pending.
    e = w.error("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    assert e.code == -32003
    # Denied: another submission is allowed.
    w.set("2026-01-11T09:00:00Z")
    d = w.call("reviewVerification", verificationId=v["verificationId"], decision="denied", reason="blurry")
    assert d["status"] == "denied" and d["expiresAt"] is None and d["reason"] == "blurry"
    # Same decision again: unchanged; another decision: invalidState.
    w.advance(hours=1)
    assert w.call("reviewVerification", verificationId=v["verificationId"], decision="denied") == d
    e = w.error("reviewVerification", verificationId=v["verificationId"], decision="approved")
    assert e.code == -32003
    w.set("2026-01-12T09:00:00Z")
    v2 = w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id2"), faceImage=image("face2"))
    assert v2["verificationId"] != v["verificationId"] and v2["status"] == "submitted"
    w.set("2026-01-13T09:30:00Z")
    a = w.call("reviewVerification", learnerId="ann", decision="approved")
    assert a["verificationId"] == v2["verificationId"]
    assert a["reviewedAt"] == "2026-01-13T09:30:00Z" and a["expiresAt"] == "2027-01-13T09:30:00Z"
    w.advance(hours=1)
    assert w.call("reviewVerification", verificationId=v2["verificationId"], decision="approved") == a
    e = w.error("reviewVerification", verificationId=v2["verificationId"], decision="denied")
    assert e.code == -32003
    # While the approval is valid (up to and including expiresAt): invalidState.
    e = w.error("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    assert e.code == -32003
    w.set("2027-01-13T09:30:00Z")
    e = w.error("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    assert e.code == -32003
    # After it expired: allowed.
    w.set("2027-01-13T09:30:01Z")
    v3 = w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id3"), faceImage=image("face3"))
    assert v3["status"] == "submitted"
    events = [e for e in w.history() if e["kind"].startswith("verification")]
    assert [(e["kind"], e["to"], e["actor"]) for e in events] == [
        ("verificationSubmitted", "submitted", "learner:ann"),
        ("verificationReviewed", "denied", "staff"),
        ("verificationSubmitted", "submitted", "learner:ann"),
        ("verificationReviewed", "approved", "staff"),
        ("verificationSubmitted", "submitted", "learner:ann"),
    ]


def test_a_learner_with_no_enrollment_may_submit_a_verification(world):
    w = world
    w.call("createLearner", learnerId="bob", fullName="Bob Learner", email="bob@example.com", country="FR")
    v = w.call("verifyIdentity", learnerId="bob", photoIdImage=image("id"), faceImage=image("face"))
    assert v["status"] == "submitted" and v["learnerId"] == "bob"
    a = w.call("reviewVerification", learnerId="bob", decision="approved")
    assert a["status"] == "approved" and a["expiresAt"] == "2027-01-01T00:00:00Z"


def test_exam_of_a_learner_not_enrolled_in_the_course_is_not_found(world):
    w = world
    catalog(w)
    w.call("createLearner", learnerId="ann", fullName="Ann Learner", email="ann@example.com", country="US")
    verified(w)
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32001 and e.reason == "not_enrolled"


def test_identity_and_exam_acts_belong_to_the_learner_and_reviews_to_staff(world):
    w = world
    setup(w, requirements=exam_only())
    acts = [
        ("verifyIdentity", dict(learnerId="ann", photoIdImage=image("i"), faceImage=image("f"))),
        ("reverify", dict(learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=image("w"))),
        ("declineRequirement", dict(learnerId="ann", courseId=COURSE, requirementId=EXAM_RID)),
        ("startExam", dict(learnerId="ann", courseId=COURSE, examId=EXAM)),
        ("submitExam", dict(learnerId="ann", courseId=COURSE, examId=EXAM)),
    ]
    for method, params in acts:
        for who in ("staff", "learner:bob", "provider:asu"):
            assert w.error(method, as_=who, **params).code == -32007, (method, who)
    for method, params in [
        ("reviewVerification", dict(learnerId="ann", decision="approved")),
        ("reviewExam", dict(learnerId="ann", courseId=COURSE, examId=EXAM, review="clean")),
        ("grantExamTime", dict(learnerId="ann", courseId=COURSE, examId=EXAM, extraMinutes=5)),
        ("resetExamAttempt", dict(learnerId="ann", courseId=COURSE, examId=EXAM)),
        ("recordGrade", dict(learnerId="ann", courseId=COURSE, examId=EXAM, grade=1.0)),
    ]:
        assert w.error(method, as_="learner:ann", **params).code == -32007, method
    assert w.req(EXAM_RID)["status"] == "pending"
    assert not [e for e in w.history() if e["kind"].startswith("exam")]


def test_expired_verification_blocks_a_proctored_exam_but_not_the_certificate(world):
    w = world
    setup(w, ends="2027-06-30T23:59:59Z")  # approved 2026-01-11T10:00:00Z, a long course
    grade(w, 0.9)
    w.set("2027-01-11T10:00:00Z")  # expiresAt itself: still valid (reverification needs it)
    assert reverify(w)["status"] == "submitted"
    w.set("2027-01-11T10:00:01Z")
    e = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003 and e.reason == "verification_required"
    # The certificate counts an approval ever given.
    assert w.dashboard_entry()["certificate"] == {"status": "downloadable"}


@pytest.mark.parametrize("address", [
    {},
    {"verificationId": "ver_1", "learnerId": "ann"},
    {"learnerId": "ann", "courseId": COURSE},
    {"learnerId": "ann", "checkpointId": CHECKPOINT},
    {"verificationId": "ver_1", "learnerId": "ann", "courseId": COURSE, "checkpointId": CHECKPOINT},
], ids=["neither", "id_and_learner", "learner_course_only", "learner_checkpoint_only", "all"])
def test_review_verification_with_neither_or_both_address_forms_is_invalid_params(world, address):
    w = world
    setup(w, verify=False)
    w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    e = w.error("reviewVerification", decision="approved", **address)
    assert e.code == -32602
    e2 = w.error("startExam", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e2.reason == "verification_required"  # nothing was approved


def test_verification_result_never_carries_the_image(world):
    w = world
    setup(w, verify=False)
    face = image("distinctive-face-bytes")
    v = w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=face)
    text = repr(v) + repr(w.history())
    assert face not in text


# --- Freeze after a purchase --------------------------------------------------------------------


def test_after_a_purchase_identity_changes_are_invalid_state_and_reviews_change_no_status(world):
    w = world
    setup(w)
    reverify(w)
    review_checkpoint(w, "approved")
    # A second proctored exam, taken but not yet a requirement.
    w.call("createExam", courseId=COURSE, examId="lab", displayName="Lab exam", timeLimitMinutes=30,
           passingScore=0.5)
    w.set("2026-05-01T10:00:00Z")
    start(w, "lab")
    w.set("2026-05-01T10:20:00Z")
    submit(w, "lab")
    taken_and_submitted(w)
    review(w, "clean")
    score(w, 0.9)
    s = grade(w, 0.9)
    assert s["eligibility"] == "eligible"
    w.set("2026-07-01T10:00:00Z")
    p = w.call("purchaseCredit", learnerId="ann", courseId=COURSE, providerId="asu",
               payment={"method": "card", "token": "tok_visa"}, idempotencyKey="k1")
    assert p["creditRequest"]["status"] == "pending"
    frozen = w.status()

    # Staff add a checkpoint and the lab exam to the requirements after the purchase.
    w.call("setCreditRequirements", courseId=COURSE, requirements=[
        {"kind": "grade", "minGrade": 0.8}, {"kind": "proctoredExam", "examId": EXAM},
        {"kind": "reverification", "checkpointId": CHECKPOINT, "displayName": "Midterm identity check"},
        {"kind": "reverification", "checkpointId": "final-check", "displayName": "Final identity check"},
        {"kind": "proctoredExam", "examId": "lab"},
    ])
    w.set("2026-07-02T10:00:00Z")
    added = w.status()
    assert statuses(added)["reverification:final-check"] == "pending"
    assert statuses(added)["proctoredExam:lab"] == "pending"
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId="final-check", faceImage=image("w"))
    assert e.code == -32003
    e = w.error("reverify", learnerId="ann", courseId=COURSE, checkpointId=CHECKPOINT, faceImage=image("w"))
    assert e.code == -32003
    e = w.error("declineRequirement", learnerId="ann", courseId=COURSE, requirementId="reverification:final-check")
    assert e.code == -32003
    e = w.error("declineRequirement", learnerId="ann", courseId=COURSE, requirementId="proctoredExam:lab")
    assert e.code == -32003
    e = w.error("resetExamAttempt", learnerId="ann", courseId=COURSE, examId=EXAM)
    assert e.code == -32003
    e = w.error("resetExamAttempt", learnerId="ann", courseId=COURSE, examId="lab")
    assert e.code == -32003

    before = statuses(w.status())
    # A review (stored) and scores/grades (stored) change no requirement status.
    rev = review(w, "suspicious", exam="lab")
    assert rev["status"] == "rejected"
    score(w, 0.1)
    score(w, 0.1, exam="lab")
    grade(w, 0.1)
    after = w.status()
    assert statuses(after) == before
    for rid in ("grade", EXAM_RID, CHECK_RID):
        assert requirement(after, rid) == requirement(frozen, rid)
    assert after["eligibility"] == added["eligibility"]
    purchase_event = events_of(w.history(), "creditPurchased")[0]
    later = [e for e in w.history() if e["eventId"] > purchase_event["eventId"]]
    assert not events_of(later, "requirementStatusChanged"), later
    assert len(events_of(later, "examReviewed")) == 1
    assert w.dashboard_entry()["credit"]["request"]["requestId"] == p["creditRequest"]["requestId"]


def test_a_review_after_the_purchase_is_stored_but_changes_no_requirement_status(world):
    """Without touching the requirement set: the exam requirement is satisfied and frozen; a lower
    exam score and a lower grade are stored, and the requirements read exactly as at the purchase."""
    w = world
    setup(w)
    reverify(w)
    review_checkpoint(w, "approved")
    taken_and_submitted(w)
    review(w, "clean")
    score(w, 0.9)
    grade(w, 0.9)
    w.set("2026-07-01T10:00:00Z")
    w.call("purchaseCredit", learnerId="ann", courseId=COURSE, providerId="asu",
           payment={"method": "card", "token": "tok_visa"}, idempotencyKey="k1")
    frozen = w.status()
    w.set("2026-07-02T10:00:00Z")
    e = w.error("reviewExam", learnerId="ann", courseId=COURSE, examId=EXAM, review="suspicious")
    assert e.code == -32003  # already reviewed
    score(w, 0.2)
    grade(w, 0.2)
    assert w.status() == frozen
    events = w.history()
    assert [e["to"] for e in events_of(events, "examScoreRecorded")] == ["0.9", "0.2"]


def test_requirement_set_change_that_ends_eligibility_is_attributed_to_the_staff_member(world):
    """SPEC 2, History: the acting principal is recorded; `system` is only for changes that time
    alone causes. Adding a checkpoint to the requirements is staff's act, not time's."""
    w = world
    setup(w, requirements=[{"kind": "grade", "minGrade": 0.8}])
    w.set("2026-03-02T10:00:00Z")
    assert grade(w, 0.9)["eligibility"] == "eligible"
    w.set("2026-03-03T10:00:00Z")
    n = len(w.history())
    w.call("setCreditRequirements", as_="staff", courseId=COURSE, requirements=[
        {"kind": "grade", "minGrade": 0.8}, {"kind": "reverification", "checkpointId": "c2", "displayName": "C2"}])
    assert w.status()["eligibility"] == "notYetEligible"
    [change] = events_of(w.history()[n:], "eligibilityChanged")
    assert (change["from"], change["to"], change["at"]) == ("eligible", "notYetEligible", "2026-03-03T10:00:00Z")
    assert change["actor"] == "staff", change


def test_requirement_set_change_after_the_course_end_is_recorded_when_and_by_whom_it_happened(world):
    w = world
    setup(w, requirements=[{"kind": "grade", "minGrade": 0.8}])
    w.set("2026-03-02T10:00:00Z")
    assert grade(w, 0.9)["eligibility"] == "eligible"
    w.set("2026-08-03T10:00:00Z")
    n = len(w.history())
    w.call("setCreditRequirements", as_="staff", courseId=COURSE, requirements=[
        {"kind": "grade", "minGrade": 0.8}, {"kind": "reverification", "checkpointId": "c2", "displayName": "C2"}])
    assert w.status()["eligibility"] == "notYetEligible"  # a pending requirement, also after the end
    [change] = events_of(w.history()[n:], "eligibilityChanged")
    assert (change["from"], change["to"]) == ("eligible", "notYetEligible")
    assert (change["at"], change["actor"]) == ("2026-08-03T10:00:00Z", "staff"), change
