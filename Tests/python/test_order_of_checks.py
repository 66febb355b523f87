"""Order of checks (SPEC section 6): a malformed parameter (type, format such as base64, range) is
-32602 naming the field, decided before any state check, for every method.

For each method of the method table: a world in which the call, well formed, is refused for the
state of things (an unknown id, a pending verification, a course that exists with other data...),
and the same call with one malformed parameter, which must be -32602 with `data.field` naming it.
"""

from __future__ import annotations

import copy
import json

import pytest

from conftest import OPENRPC_PATH, run_raw

CLOCK = "2026-03-01T00:00:00Z"
COURSE = "course-v1:OrderX+C1+2026"
IMAGE = "aW1hZ2UgYnl0ZXM="
SETUP = [
    ("createCourse", {"courseId": COURSE, "title": "Order", "startsAt": "2026-01-01T00:00:00Z",
                      "endsAt": "2026-06-30T23:59:59Z"}),
    ("createProvider", {"providerId": "uni", "displayName": "Uni", "url": "https://uni.example",
                        "secrets": ["uni-secret-01"]}),
    ("offerCredit", {"courseId": COURSE, "providerId": "uni", "price": {"amount": "100", "currency": "USD"}}),
    ("createExam", {"courseId": COURSE, "examId": "final", "displayName": "Final", "timeLimitMinutes": 60,
                    "passingScore": 0.5}),
    ("setCreditRequirements", {"courseId": COURSE, "requirements": [
        {"kind": "grade", "minGrade": 0.5}, {"kind": "proctoredExam", "examId": "final"},
        {"kind": "reverification", "checkpointId": "mid", "displayName": "Mid"}]}),
    ("createLearner", {"learnerId": "ann", "fullName": "Ann", "email": "ann@example.org", "country": "US"}),
    ("createLearner", {"learnerId": "bob", "fullName": "Bob", "email": "bob@example.org", "country": "US"}),
    ("enroll", {"learnerId": "ann", "courseId": COURSE, "mode": "verified"}),
    # ann's initial verification is pending: a second one is refused (-32003 verification_pending).
    ("verifyIdentity", {"learnerId": "ann", "photoIdImage": IMAGE, "faceImage": IMAGE}),
]
NOSUCH = "course-v1:No+Such+Course"
ZERO = "0" * 32

#: (method, well-formed params that a state check refuses, path of the field to break, its bad value).
CASES = [
    ("createCourse", {"courseId": COURSE, "title": "Other title", "startsAt": "2026-01-01T00:00:00Z",
                      "endsAt": "2026-06-30T23:59:59Z"}, "endsAt", "2025-01-01T00:00:00Z"),
    ("createCourse", {"courseId": COURSE, "title": "Other title", "startsAt": "2026-01-01T00:00:00Z",
                      "endsAt": "2026-06-30T23:59:59Z"}, "startsAt", "March"),
    ("createProvider", {"providerId": "uni", "displayName": "Other", "url": "https://uni.example",
                        "secrets": ["uni-secret-01"]}, "url", "ftp://uni.example"),
    ("offerCredit", {"courseId": NOSUCH, "providerId": "uni", "price": {"amount": "100", "currency": "USD"}},
     "price.amount", "1.234"),
    ("createExam", {"courseId": COURSE, "examId": "final", "displayName": "Other", "timeLimitMinutes": 60,
                    "passingScore": 0.5}, "passingScore", 2),
    ("setCreditRequirements", {"courseId": NOSUCH, "requirements": [{"kind": "grade", "minGrade": 0.5}]},
     "requirements", [{"kind": "grade", "minGrade": 0.5}, {"kind": "grade", "minGrade": 0.6}]),
    # The unknown exam of the first requirement is a state error; the repeat after it is malformed.
    ("setCreditRequirements", {"courseId": COURSE, "requirements": [{"kind": "proctoredExam", "examId": "nosuch"}]},
     "requirements", [{"kind": "proctoredExam", "examId": "nosuch"}, {"kind": "reverification",
                      "checkpointId": "a", "displayName": "A"}, {"kind": "reverification", "checkpointId": "a",
                                                                 "displayName": "A again"}]),
    ("listCourses", {}, "creditOnly", "yes"),
    ("createLearner", {"learnerId": "ann", "fullName": "Someone else", "email": "ann@example.org", "country": "US"},
     "email", "not-an-address"),
    ("enroll", {"learnerId": "nobody", "courseId": COURSE, "mode": "verified"}, "mode", "free"),
    ("verifyIdentity", {"learnerId": "ann", "photoIdImage": IMAGE, "faceImage": IMAGE}, "photoIdImage", "not*base64"),
    ("verifyIdentity", {"learnerId": "ann", "photoIdImage": IMAGE, "faceImage": IMAGE}, "faceImage", "QQ="),
    ("verifyIdentity", {"learnerId": "ann", "photoIdImage": IMAGE, "faceImage": IMAGE}, "faceImage", "===="),
    ("reviewVerification", {"verificationId": "ver_999", "decision": "approved"}, "decision", "maybe"),
    # Named two ways at once: ambiguous, whatever the learner's verifications.
    ("reviewVerification", {"learnerId": "nobody", "decision": "approved"}, "verificationId", "ver_1"),
    ("reverify", {"learnerId": "bob", "courseId": COURSE, "checkpointId": "mid", "faceImage": IMAGE},
     "faceImage", "%%%%"),
    ("declineRequirement", {"learnerId": "bob", "courseId": COURSE, "requirementId": "reverification:mid"},
     "requirementId", "x" * 301),
    ("startExam", {"learnerId": "ann", "courseId": COURSE, "examId": "nosuch"}, "examId", " final"),
    ("submitExam", {"learnerId": "ann", "courseId": COURSE, "examId": "final"}, "courseId", "not-a-course"),
    ("reviewExam", {"attemptId": "att_999", "review": "clean"}, "review", "great"),
    ("grantExamTime", {"learnerId": "nobody", "courseId": COURSE, "examId": "final", "extraMinutes": 5},
     "extraMinutes", -1),
    ("resetExamAttempt", {"learnerId": "ann", "courseId": COURSE, "examId": "nosuch"}, "examId", 5),
    ("recordGrade", {"learnerId": "bob", "courseId": COURSE, "grade": 0.9}, "grade", 1.5),
    ("getRequirements", {"learnerId": "nobody", "courseId": COURSE}, "courseId", "x"),
    ("getDashboard", {"learnerId": "nobody"}, "learnerId", 7),
    ("purchaseCredit", {"learnerId": "ann", "courseId": COURSE, "providerId": "uni",
                        "payment": {"method": "card", "token": "tok_visa"}, "idempotencyKey": "k1"},
     "payment.method", "cash"),
    ("purchaseCredit", {"learnerId": "ann", "courseId": COURSE, "providerId": "uni",
                        "payment": {"method": "card", "token": "tok_visa"}, "idempotencyKey": "k1"},
     "idempotencyKey", "a\u0001b"),
    ("getCreditRequest", {"requestId": ZERO}, "requestId", ""),
    ("submitProviderDecision", {"providerId": "nouni", "requestId": ZERO, "status": "approved",
                                "timestamp": 1772323200, "signature": "00" * 32}, "status", "maybe"),
    ("submitProviderDecision", {"providerId": "nouni", "requestId": ZERO, "status": "approved",
                                "timestamp": 1772323200, "signature": "00" * 32}, "timestamp", -1),
    ("submitProviderDecision", {"providerId": "nouni", "requestId": ZERO, "status": "approved",
                                "timestamp": 1772323200, "signature": "00" * 32}, "signature", "zz" * 32),
    ("submitProviderDecision", {"providerId": "nouni", "requestId": ZERO, "status": "approved",
                                "timestamp": 1772323200, "signature": "00" * 32}, "signature", "00" * 31),
    ("extendPurchaseDeadline", {"learnerId": "bob", "courseId": COURSE, "deadline": "2027-12-31T00:00:00Z"},
     "deadline", "tomorrow"),
    ("listNotifications", {"learnerId": "nobody"}, "afterId", -1),
    ("getHistory", {"learnerId": "nobody", "courseId": COURSE}, "courseId", "nope"),
    # The operators' side (SPEC section 8).
    ("listCreditRequests", {}, "limit", 0),
    ("listCreditRequests", {"providerId": "nouni"}, "after", "not-a-cursor"),
    ("updateProvider", {"providerId": "nouni", "active": False}, "url", "not a url"),
    ("updateProvider", {"providerId": "nouni", "active": False}, "secrets", ["short"]),
    ("withdrawCredit", {"courseId": NOSUCH, "providerId": "uni"}, "courseId", "x"),
    ("listEnrollments", {"courseId": NOSUCH}, "after", "en_zz"),
    ("listEnrollments", {"courseId": NOSUCH}, "eligibility", "maybe"),
    ("listOutbox", {}, "unsentOnly", "yes"),
    ("markNotificationsSent", {"notificationIds": [999]}, "notificationIds", [0]),
    ("listEvents", {}, "after", "ev_"),
    ("rpc.discover", {}, "extra", 1),
    ("clock.set", {"now": "2026-03-02T00:00:00Z"}, "now", "soon"),
    ("clock.advance", {"seconds": 60}, "seconds", -5),
]

#: Methods without a state check to pass first: their well-formed call succeeds.
NO_STATE_ERROR = {"listCourses", "rpc.discover", "clock.set", "clock.advance", "listCreditRequests", "listOutbox",
                  "listEvents"}


def broken(params: dict, path: str, value) -> dict:
    p = copy.deepcopy(params)
    *parents, last = path.split(".")
    target = p
    for k in parents:
        target = target[k]
    target[last] = value
    return p


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """The answers to every case, well formed and broken, each on its own copy of the world."""
    db = tmp_path_factory.mktemp("order") / "order.sqlite"
    setup = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(SETUP)]
    p = run_raw(("\n".join(map(json.dumps, setup)) + "\n").encode(), "--db", str(db), "--test-clock", CLOCK)
    assert p.returncode == 0, p.stderr
    for line in p.stdout.decode().splitlines():
        assert "error" not in json.loads(line), line
    lines = []
    for k, (method, params, path, bad) in enumerate(CASES):
        lines.append({"jsonrpc": "2.0", "id": f"ok-{k}", "method": method, "params": params})
        lines.append({"jsonrpc": "2.0", "id": f"bad-{k}", "method": method, "params": broken(params, path, bad)})
    # One process, one request a line: each answered in its own savepoint, and none of these
    # changes the state another relies on (the well-formed ones are refused, or change nothing).
    p = run_raw(("\n".join(map(json.dumps, lines)) + "\n").encode(), "--db", str(db), "--test-clock", CLOCK)
    assert p.returncode == 0, p.stderr
    return {r["id"]: r for r in map(json.loads, p.stdout.decode().splitlines())}


def documented() -> tuple[set, set]:
    """(every method of openrpc.json, those that take any params and ignore them)."""
    methods = json.loads(OPENRPC_PATH.read_text())["methods"]
    return ({m["name"] for m in methods} | {"rpc.discover"}, {m["name"] for m in methods if m.get("x-any-params")})


def test_every_method_has_a_case():
    every, any_params = documented()
    assert every - any_params - {c[0] for c in CASES} == set()


def test_methods_that_take_any_params_have_none_to_get_wrong():
    """The LSP lifecycle methods ignore their params: no parameter can be malformed, and any is accepted."""
    _, any_params = documented()
    lines = [{"jsonrpc": "2.0", "id": i, "method": m, "params": {"anything": [1, {"x": None}]}}
             for i, m in enumerate(sorted(any_params))]
    p = run_raw(("\n".join(map(json.dumps, lines)) + "\n").encode(), "--db", ":memory:")
    assert p.returncode == 0, p.stderr
    answers = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert len(answers) == len(lines) and all("result" in a for a in answers), answers


@pytest.mark.parametrize("k", range(len(CASES)), ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_malformed_parameter_is_invalid_params_before_any_state_check(answers, k):
    method, _, path, bad = CASES[k]
    ok, wrong = answers[f"ok-{k}"], answers[f"bad-{k}"]
    if method in NO_STATE_ERROR:
        assert "result" in ok, ok
    else:
        # The world really holds a state error for the well-formed call.
        assert "error" in ok and -32009 <= ok["error"]["code"] <= -32001, ok
    assert "error" in wrong, wrong
    e = wrong["error"]
    assert e["code"] == -32602, wrong
    field = e["data"].get("field", "")
    assert field == path or field.startswith(path + "[") or field.startswith(path + "."), wrong
    assert e["message"] and e["data"]["reason"], wrong


def test_the_issue_case_malformed_image_while_a_verification_is_pending(answers):
    k = next(i for i, c in enumerate(CASES) if c[0] == "verifyIdentity" and c[2] == "photoIdImage")
    assert answers[f"ok-{k}"]["error"]["data"]["reason"] == "verification_pending"
    assert answers[f"bad-{k}"]["error"]["data"] == {"reason": "invalid_base64", "field": "photoIdImage"}
