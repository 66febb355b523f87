"""Issue 5, end to end: buying credit and the provider's decision (SPEC sections 1 items 9-10,
2 (Purchase, Signed provider parameters, Provider decision, Emails) and 4), through the real
binary under `--test-clock`.

One process per principal on one database file (admin for the catalog, `staff` for grades,
`learner:<id>` for the learner's acts, `provider:<id>` for decisions), all kept at one shared
test clock. Signatures are computed here with Python's own `hmac` and `hashlib`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from conftest import Rpc, RpcError
from world import COURSE, ENDS, STARTS, World as BaseWorld, world_fixture, image, parse_time, shift

# --- Helpers (those shared with the other end-to-end file are in world.py) -----------------

DEADLINE = "2027-06-30T23:59:59Z"  # ENDS + 365 days
ENROLLED = "2026-01-10T09:00:00Z"
ELIGIBLE = "2026-06-15T18:30:00Z"
BOUGHT = "2026-07-01T10:00:00Z"

ASU = dict(providerId="asu", displayName="Arizona State University", url="https://credit.asu.example/edx",
           statusUrl="https://credit.asu.example/status", description="ASU awards 3 credits for this course.",
           requiresAdditionalSteps=True, secrets=["asu-secret-A", "asu-secret-B"])
MIT = dict(providerId="mit", displayName="MIT Credit Office", url="https://credit.mit.example",
           description="Call the registrar.", secrets=["mit-secret-1"])
NOOFFER = dict(providerId="rit", displayName="Rochester Institute", url="https://credit.rit.example",
               secrets=["rit-secret"])
SECRETS = {"asu": ASU["secrets"], "mit": MIT["secrets"], "rit": NOOFFER["secrets"]}

SIGNED_KEYS = {"request_uuid", "timestamp", "course_org", "course_num", "course_run", "enrollment_timestamp",
               "course_completion_timestamp", "final_grade", "user_username", "user_email", "user_full_name",
               "user_mailing_address", "user_country", "signature"}
INT_KEYS = {"timestamp", "enrollment_timestamp", "course_completion_timestamp"}


def unix(text: str) -> int:
    return int(parse_time(text).timestamp())


def signing_text(params: dict) -> str:
    """SPEC 2: `key:value` for every parameter but `signature`, keys ascending, no separator,
    integers in decimal."""
    parts = []
    for k in sorted(k for k in params if k != "signature"):
        v = params[k]
        assert not isinstance(v, (bool, float)), (k, v)
        parts.append(f"{k}:{v}")
    return "".join(parts)


def sign(params: dict, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), signing_text(params).encode("utf-8"), hashlib.sha256).hexdigest()


def decision(request_id: str, status: str, timestamp: int, secret: str) -> dict:
    """The parameters of submitProviderDecision, signed here."""
    sig = sign({"request_uuid": request_id, "status": status, "timestamp": timestamp}, secret)
    return dict(requestId=request_id, status=status, timestamp=timestamp, signature=sig)


class World(BaseWorld):
    """The shared world, with the purchase and decision steps."""

    def credit(self, learner: str = "ann", course: str = COURSE) -> dict:
        """The credit section of the learner's dashboard entry for the course."""
        d = self.call("getDashboard", learnerId=learner)
        [entry] = [e for e in d["enrollments"] if e["courseId"] == course]
        return entry["credit"]

    def purchase(self, learner: str = "ann", provider: str = "asu", method: str = "card",
                 token: str = "tok_visa", key: str = "key-1", course: str = COURSE) -> dict:
        return self.call("purchaseCredit", learnerId=learner, courseId=course, providerId=provider,
                         payment={"method": method, "token": token}, idempotencyKey=key)

    def purchase_error(self, learner: str = "ann", provider: str = "asu", method: str = "card",
                       token: str = "tok_visa", key: str = "key-1", course: str = COURSE) -> RpcError:
        return self.error("purchaseCredit", learnerId=learner, courseId=course, providerId=provider,
                          payment={"method": method, "token": token}, idempotencyKey=key)

    def decide(self, request_id: str, status: str, provider: str = "asu", secret: str | None = None,
               timestamp: int | None = None) -> dict:
        ts = unix(self.now) if timestamp is None else timestamp
        return self.call("submitProviderDecision", providerId=provider,
                         **decision(request_id, status, ts, secret if secret is not None else SECRETS[provider][0]))

    def decide_error(self, request_id: str, status: str, provider: str = "asu", secret: str | None = None,
                     timestamp: int | None = None) -> RpcError:
        ts = unix(self.now) if timestamp is None else timestamp
        return self.error("submitProviderDecision", providerId=provider,
                          **decision(request_id, status, ts, secret if secret is not None else SECRETS[provider][0]))


def events_of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["kind"] == kind]


world = world_fixture(World)


def catalog(w: World, requirements: list[dict] | None = None, **course) -> None:
    """The course (a proctored `final` exam), three providers: asu (additional steps, two
    secrets, $300), mit (no additional steps, $250), rit (no offer for the course)."""
    w.call("createCourse", courseId=COURSE, title="Circuits and Electronics", startsAt=STARTS, endsAt=ENDS,
           **course)
    for p in (ASU, MIT, NOOFFER):
        w.call("createProvider", **p)
    w.call("offerCredit", courseId=COURSE, providerId="asu", price={"amount": "300", "currency": "USD"})
    w.call("offerCredit", courseId=COURSE, providerId="mit", price={"amount": "250.5", "currency": "USD"})
    w.call("createExam", courseId=COURSE, examId="final", displayName="Final exam", timeLimitMinutes=60,
           passingScore=0.7)
    w.call("setCreditRequirements", courseId=COURSE,
           requirements=requirements or [{"kind": "grade", "minGrade": 0.8}])


def learner(w: World, learner_id: str = "ann", mode: str = "verified", mailing: str | None = "1 Main St, Springfield",
            when: str = ENROLLED) -> None:
    w.set(when)
    params = dict(learnerId=learner_id, fullName=f"{learner_id.title()} Learner",
                  email=f"{learner_id}@example.com", country="US")
    if mailing is not None:
        params["mailingAddress"] = mailing
    w.call("createLearner", **params)
    w.call("enroll", learnerId=learner_id, courseId=COURSE, mode=mode)


def grade(w: World, value: float, learner_id: str = "ann") -> dict:
    return w.call("recordGrade", learnerId=learner_id, courseId=COURSE, grade=value)


def eligible(w: World, learner_id: str = "ann", value: float = 0.86, mailing: str | None = "1 Main St, Springfield",
             when: str = ELIGIBLE) -> None:
    """The learner enrolled (verified) at ENROLLED and earned `value` at `when`: eligible."""
    learner(w, learner_id, mailing=mailing)
    w.set(when)
    assert grade(w, value, learner_id)["eligibility"] == "eligible"


def setup(w: World, **course) -> None:
    """Catalog, ann eligible (grade 0.86 at ELIGIBLE), clock at BOUGHT."""
    catalog(w, **course)
    eligible(w)
    w.set(BOUGHT)


def assert_nothing_recorded(w: World, learner_id: str = "ann") -> None:
    """No order, no request, no receipt, no purchase event."""
    credit = w.credit(learner_id)
    assert credit["request"] is None, credit
    assert not w.emails(learner_id, "purchaseReceipt")
    assert not events_of(w.history(learner_id), "creditPurchased")
    assert not w.emails(learner_id, "creditDecision")


def assert_one_purchase(w: World, learner_id: str = "ann") -> dict:
    """Exactly one order and request: dashboard, notifications, history."""
    credit = w.credit(learner_id)
    assert credit["request"] is not None and credit["canPurchase"] is False
    assert len(w.emails(learner_id, "purchaseReceipt")) == 1
    assert len(events_of(w.history(learner_id), "creditPurchased")) == 1
    return credit["request"]


# --- Purchase -----------------------------------------------------------------------------------


def test_purchase_with_a_card_creates_an_order_a_pending_request_and_one_receipt(world):
    w = world
    setup(w)
    before = w.credit()
    assert before["canPurchase"] is True and before["request"] is None
    p = w.purchase(provider="mit")
    assert isinstance(p["orderId"], str) and p["orderId"]
    assert p["amount"] == {"amount": "250.50", "currency": "USD"}
    assert p["paymentMethod"] == "card" and p["purchasedAt"] == BOUGHT
    assert p["completeCredit"] is None  # mit needs no additional steps
    r = p["creditRequest"]
    assert len(r["requestId"]) == 32 and all(c in "0123456789abcdef" for c in r["requestId"])
    assert r == {
        "requestId": r["requestId"], "learnerId": "ann", "courseId": COURSE, "providerId": "mit",
        "providerName": "MIT Credit Office", "status": "pending", "createdAt": BOUGHT, "decidedAt": None,
        "providerUrl": "https://credit.mit.example", "providerStatusUrl": None,
        "providerDescription": "Call the registrar.",
    }
    [receipt] = w.emails(kind="purchaseReceipt")
    assert receipt["to"] == "ann@example.com" and receipt["createdAt"] == BOUGHT
    assert p["orderId"] in receipt["body"] and "250.50" in receipt["body"]
    credit = w.credit()
    assert credit["request"] == r and credit["canPurchase"] is False
    [ev] = events_of(w.history(), "creditPurchased")
    assert ev["actor"] == "learner:ann" and ev["at"] == BOUGHT and ev["to"] == "pending"
    assert w.call("getCreditRequest", as_="learner:ann", requestId=r["requestId"]) == r


def test_purchase_with_paypal_is_accepted(world):
    w = world
    setup(w)
    p = w.purchase(method="paypal", token="paypal_approved")
    assert p["paymentMethod"] == "paypal" and p["amount"] == {"amount": "300.00", "currency": "USD"}
    assert p["creditRequest"]["status"] == "pending"
    assert_one_purchase(w)


def test_complete_credit_carries_the_spec_parameters_signed_with_the_first_secret(world):
    w = world
    setup(w)
    p = w.purchase(provider="asu")
    assert p["amount"] == {"amount": "300.00", "currency": "USD"}
    cc = p["completeCredit"]
    assert cc["url"] == "https://credit.asu.example/edx" and cc["method"] == "POST"
    params = cc["parameters"]
    assert set(params) == SIGNED_KEYS
    for k in INT_KEYS:
        assert type(params[k]) is int, (k, params[k])
    for k in SIGNED_KEYS - INT_KEYS:
        assert type(params[k]) is str, (k, params[k])
    assert params == {
        "request_uuid": p["creditRequest"]["requestId"],
        "timestamp": unix(BOUGHT),
        "course_org": "MITx", "course_num": "6.002x", "course_run": "2026_T1",
        "enrollment_timestamp": unix(ENROLLED),
        "course_completion_timestamp": unix(ELIGIBLE),
        "final_grade": "0.86",
        "user_username": "ann", "user_email": "ann@example.com", "user_full_name": "Ann Learner",
        "user_mailing_address": "1 Main St, Springfield", "user_country": "US",
        "signature": params["signature"],
    }
    assert params["signature"] == sign(params, "asu-secret-A")
    assert params["signature"] != sign(params, "asu-secret-B")
    # A tampered parameter no longer matches.
    assert sign({**params, "final_grade": "0.96"}, "asu-secret-A") != params["signature"]


@pytest.mark.parametrize("value, text", [(1.0, "1.0"), (0.86, "0.86"), (0.833333333, "0.83333"),
                                         (0.9000001, "0.9"), (0.812345678, "0.81235"),
                                         (0.999996, "1.0")])
def test_final_grade_is_written_with_at_most_five_decimals_and_one_digit_after_the_point(world, value, text):
    w = world
    catalog(w)
    eligible(w, value=value)
    w.set(BOUGHT)
    params = w.purchase()["completeCredit"]["parameters"]
    assert params["final_grade"] == text
    assert params["signature"] == sign(params, "asu-secret-A")


def test_final_grade_is_the_latest_grade_that_met_the_minimum(world):
    w = world
    catalog(w)
    eligible(w, value=0.86)
    w.set("2026-06-20T10:00:00Z")
    grade(w, 0.93)   # a later, higher grade
    w.set("2026-06-25T10:00:00Z")
    assert grade(w, 0.5)["eligibility"] == "eligible"  # a later, lower grade (rescoring)
    w.set(BOUGHT)
    params = w.purchase()["completeCredit"]["parameters"]
    assert params["final_grade"] == "0.93"
    assert params["course_completion_timestamp"] == unix(ELIGIBLE)


def test_enrollment_timestamp_is_the_first_enrollment_even_after_an_audit_to_verified_upgrade(world):
    w = world
    catalog(w)
    learner(w, mode="audit")
    w.set("2026-02-01T08:00:00Z")
    e = w.call("enroll", learnerId="ann", courseId=COURSE, mode="verified")
    assert e["mode"] == "verified" and e["enrolledAt"] == ENROLLED
    w.set(ELIGIBLE)
    assert grade(w, 0.9)["eligibility"] == "eligible"
    w.set(BOUGHT)
    params = w.purchase()["completeCredit"]["parameters"]
    assert params["enrollment_timestamp"] == unix(ENROLLED)
    assert params["course_completion_timestamp"] == unix(ELIGIBLE)
    assert params["signature"] == sign(params, "asu-secret-A")


def test_missing_mailing_address_is_signed_as_an_empty_string(world):
    w = world
    catalog(w)
    eligible(w, mailing=None)
    w.set(BOUGHT)
    params = w.purchase()["completeCredit"]["parameters"]
    assert params["user_mailing_address"] == ""
    assert "user_mailing_address:" in signing_text(params)
    assert params["signature"] == sign(params, "asu-secret-A")


def test_signature_covers_non_ascii_values_and_a_non_ascii_secret_as_utf8(world):
    w = world
    catalog(w)
    w.call("createProvider", providerId="uni", displayName="Universität Zürich", url="https://credit.uzh.example",
           requiresAdditionalSteps=True, secrets=["schlüssel-ß-1", "the-other-secret"])
    w.call("offerCredit", courseId=COURSE, providerId="uni", price={"amount": "199.99", "currency": "CHF"})
    w.set(ENROLLED)
    w.call("createLearner", learnerId="zoe", fullName="Zoë Ångström-Núñez", email="zoe@example.ch", country="CH",
           mailingAddress="Rämistrasse 71: 8006 Zürich")
    w.call("enroll", learnerId="zoe", courseId=COURSE, mode="verified")
    w.set(ELIGIBLE)
    grade(w, 0.9, "zoe")
    w.set(BOUGHT)
    p = w.purchase("zoe", provider="uni")
    assert p["amount"] == {"amount": "199.99", "currency": "CHF"}
    params = p["completeCredit"]["parameters"]
    assert params["user_full_name"] == "Zoë Ångström-Núñez"
    assert params["user_mailing_address"] == "Rämistrasse 71: 8006 Zürich"
    assert params["user_country"] == "CH"
    assert params["signature"] == sign(params, "schlüssel-ß-1")
    rid = p["creditRequest"]["requestId"]
    r = w.decide(rid, "approved", provider="uni", secret="schlüssel-ß-1")
    assert r["status"] == "approved"


def test_purchase_with_all_three_requirement_kinds_signs_the_moment_of_eligibility(world):
    w = world
    catalog(w, requirements=[
        {"kind": "grade", "minGrade": 0.8},
        {"kind": "proctoredExam", "examId": "final"},
        {"kind": "reverification", "checkpointId": "midterm", "displayName": "Midterm identity check"},
    ])
    learner(w)
    w.set("2026-01-11T10:00:00Z")
    v = w.call("verifyIdentity", learnerId="ann", photoIdImage=image("id"), faceImage=image("face"))
    w.call("reviewVerification", verificationId=v["verificationId"], decision="approved")
    w.set("2026-03-01T12:00:00Z")
    w.call("reverify", learnerId="ann", courseId=COURSE, checkpointId="midterm", faceImage=image("webcam"))
    w.call("reviewVerification", learnerId="ann", courseId=COURSE, checkpointId="midterm", decision="approved")
    w.set("2026-05-01T10:00:00Z")
    assert grade(w, 0.91)["eligibility"] == "notYetEligible"
    w.set("2026-06-01T14:00:00Z")
    w.call("startExam", learnerId="ann", courseId=COURSE, examId="final")
    w.set("2026-06-01T14:40:00Z")
    w.call("submitExam", learnerId="ann", courseId=COURSE, examId="final")
    w.set("2026-06-02T09:00:00Z")
    w.call("recordGrade", learnerId="ann", courseId=COURSE, examId="final", grade=0.75)
    w.set("2026-06-03T09:00:00Z")
    w.call("reviewExam", learnerId="ann", courseId=COURSE, examId="final", review="clean")
    s = w.status()
    assert s["eligibility"] == "eligible"
    assert {r["status"] for r in s["requirements"]} == {"satisfied"}
    [mail] = w.emails(kind="creditEligible")
    assert mail["createdAt"] == "2026-06-03T09:00:00Z"
    w.set(BOUGHT)
    p = w.purchase()
    params = p["completeCredit"]["parameters"]
    assert params["course_completion_timestamp"] == unix("2026-06-03T09:00:00Z")
    assert params["final_grade"] == "0.91"
    assert params["enrollment_timestamp"] == unix(ENROLLED)
    assert params["signature"] == sign(params, "asu-secret-A")
    assert_one_purchase(w)


def test_without_a_grade_requirement_final_grade_is_the_latest_course_grade_or_empty(world):
    w = world
    catalog(w, requirements=[{"kind": "reverification", "checkpointId": "c1", "displayName": "Check 1"}])
    for who in ("ann", "bob"):
        learner(w, who)
        w.set("2026-01-11T10:00:00Z")
        v = w.call("verifyIdentity", learnerId=who, photoIdImage=image("id"), faceImage=image("face"))
        w.call("reviewVerification", verificationId=v["verificationId"], decision="approved")
        w.call("reverify", learnerId=who, courseId=COURSE, checkpointId="c1", faceImage=image("w"))
        w.call("reviewVerification", learnerId=who, courseId=COURSE, checkpointId="c1", decision="approved")
    grade(w, 0.42, "ann")
    w.set(BOUGHT)
    assert w.purchase("ann")["completeCredit"]["parameters"]["final_grade"] == "0.42"
    params = w.purchase("bob")["completeCredit"]["parameters"]
    assert params["final_grade"] == ""
    assert params["signature"] == sign(params, "asu-secret-A")


# --- Provider decisions -------------------------------------------------------------------------


def purchased(w: World, provider: str = "asu", learner_id: str = "ann") -> str:
    """setup + a purchase; returns the request id."""
    setup(w)
    return w.purchase(learner_id, provider=provider)["creditRequest"]["requestId"]


def test_provider_decision_signed_with_the_first_secret_is_accepted(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    r = w.decide(rid, "approved")
    assert r["requestId"] == rid and r["status"] == "approved"
    assert r["decidedAt"] == "2026-07-10T10:00:00Z" and r["createdAt"] == BOUGHT
    assert w.call("getCreditRequest", as_="learner:ann", requestId=rid) == r
    [ev] = events_of(w.history(), "creditDecision")
    assert (ev["from"], ev["to"], ev["actor"], ev["at"]) == (
        "pending", "approved", "provider:asu", "2026-07-10T10:00:00Z")


def test_provider_decision_signed_with_the_second_secret_is_accepted(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    r = w.decide(rid, "rejected", secret="asu-secret-B")
    assert r["status"] == "rejected" and r["decidedAt"] == "2026-07-10T10:00:00Z"


def test_decision_with_a_tampered_status_is_an_invalid_signature(world):
    w = world
    rid = purchased(w)
    params = decision(rid, "rejected", unix(w.now), "asu-secret-A")
    params["status"] = "approved"
    e = w.error("submitProviderDecision", providerId="asu", **params)
    assert e.code == -32008
    assert w.credit()["request"]["status"] == "pending"
    assert not w.emails(kind="creditDecision")
    assert not events_of(w.history(), "creditDecision")


def test_decision_with_a_tampered_timestamp_is_an_invalid_signature(world):
    w = world
    rid = purchased(w)
    params = decision(rid, "approved", unix(w.now), "asu-secret-A")
    params["timestamp"] -= 1
    assert w.error("submitProviderDecision", providerId="asu", **params).code == -32008
    assert w.credit()["request"]["status"] == "pending"


def test_decision_signed_with_a_wrong_secret_is_an_invalid_signature(world):
    w = world
    rid = purchased(w)
    for secret in ("asu-secret-C", "mit-secret-1", ""):
        e = w.decide_error(rid, "approved", secret=secret)
        assert e.code == -32008
    # Not hex at all is a malformed parameter (SPEC section 6, order of checks), not a mismatch.
    e = w.error("submitProviderDecision", providerId="asu", requestId=rid, status="approved",
                timestamp=unix(w.now), signature="not hex at all")
    assert e.code == -32602 and e.data["field"] == "signature", e
    assert w.credit()["request"]["status"] == "pending"
    assert not w.emails(kind="creditDecision")


def test_decision_timestamp_15_minutes_and_1_second_old_is_refused(world):
    w = world
    rid = purchased(w)
    e = w.decide_error(rid, "approved", timestamp=unix(w.now) - 15 * 60 - 1)
    assert e.code == -32008
    assert w.credit()["request"]["status"] == "pending"


def test_decision_timestamp_5_minutes_and_1_second_ahead_is_refused(world):
    w = world
    rid = purchased(w)
    e = w.decide_error(rid, "approved", timestamp=unix(w.now) + 5 * 60 + 1)
    assert e.code == -32008
    assert w.credit()["request"]["status"] == "pending"


def test_decision_timestamp_exactly_15_minutes_old_is_accepted(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:15:00Z")
    r = w.decide(rid, "approved", timestamp=unix("2026-07-10T10:00:00Z"))
    assert r["status"] == "approved" and r["decidedAt"] == "2026-07-10T10:15:00Z"


def test_decision_timestamp_exactly_5_minutes_ahead_is_accepted(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    r = w.decide(rid, "rejected", timestamp=unix("2026-07-10T10:05:00Z"))
    assert r["status"] == "rejected" and r["decidedAt"] == "2026-07-10T10:00:00Z"


def test_the_same_decision_again_is_idempotent(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    first = w.decide(rid, "approved")
    w.set("2026-07-11T10:00:00Z")
    again = w.decide(rid, "approved", secret="asu-secret-B")
    assert again == first
    assert len(w.emails(kind="creditDecision")) == 1
    assert len(events_of(w.history(), "creditDecision")) == 1


def test_a_different_decision_after_a_decision_is_invalid_state(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    first = w.decide(rid, "approved")
    w.advance(hours=1)
    e = w.decide_error(rid, "rejected")
    assert e.code == -32003
    assert w.call("getCreditRequest", as_="provider:asu", requestId=rid) == first
    assert len(w.emails(kind="creditDecision")) == 1


def test_decision_for_an_unknown_request_with_a_valid_signature_is_not_found(world):
    w = world
    purchased(w)
    e = w.decide_error("0" * 32, "approved")
    assert e.code == -32001


def test_decision_for_another_providers_request_is_not_found(world):
    w = world
    rid = purchased(w, provider="mit")
    e = w.decide_error(rid, "approved", provider="asu")
    assert e.code == -32001
    assert w.credit()["request"]["status"] == "pending"


def test_signature_is_checked_before_the_request_is_looked_up(world):
    w = world
    purchased(w)
    e = w.decide_error("0" * 32, "approved", secret="guess")
    assert e.code == -32008


def test_decision_email_names_the_provider_and_its_url(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    w.decide(rid, "approved")
    [mail] = w.emails(kind="creditDecision")
    assert mail["to"] == "ann@example.com" and mail["createdAt"] == "2026-07-10T10:00:00Z"
    text = mail["subject"] + " " + mail["body"]
    assert "Arizona State University" in text and "https://credit.asu.example/edx" in text
    assert "approved" in text


def test_rejection_email_points_at_the_provider_url_and_description(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    w.decide(rid, "rejected")
    [mail] = w.emails(kind="creditDecision")
    text = mail["subject"] + " " + mail["body"]
    assert "Arizona State University" in text and "https://credit.asu.example/edx" in text
    assert "rejected" in text


def test_decision_must_be_sent_by_the_provider_itself(world):
    w = world
    rid = purchased(w)
    params = decision(rid, "approved", unix(w.now), "asu-secret-A")
    for who in ("learner:ann", "staff", "provider:mit"):
        e = w.error("submitProviderDecision", as_=who, providerId="asu", **params)
        assert e.code == -32007, who
    assert w.credit()["request"]["status"] == "pending"


# --- Refusals: exact code, nothing recorded -----------------------------------------------------


def test_declined_card_is_payment_declined_and_records_only_one_event(world):
    w = world
    setup(w)
    e = w.purchase_error(token="tok_chargeDeclined")
    assert e.code == -32006 and e.reason == "card_declined"
    assert_nothing_recorded(w)
    assert len(events_of(w.history(), "paymentDeclined")) == 1
    assert w.credit()["canPurchase"] is True


def test_declined_paypal_is_payment_declined_and_nothing_is_recorded(world):
    w = world
    setup(w)
    e = w.purchase_error(method="paypal", token="paypal_cancelled")
    assert e.code == -32006 and e.reason == "paypal_cancelled"
    assert_nothing_recorded(w)
    assert len(events_of(w.history(), "paymentDeclined")) == 1


def test_unknown_card_token_is_payment_declined_invalid_token(world):
    w = world
    setup(w)
    e = w.purchase_error(method="card", token="tok_unknown")
    assert e.code == -32006 and e.reason == "invalid_token"
    assert_nothing_recorded(w)


def test_card_token_with_the_paypal_method_is_payment_declined_invalid_token(world):
    w = world
    setup(w)
    e = w.purchase_error(method="paypal", token="tok_visa")
    assert e.code == -32006 and e.reason == "invalid_token"
    assert_nothing_recorded(w)


def test_paypal_token_with_the_card_method_is_payment_declined_invalid_token(world):
    w = world
    setup(w)
    e = w.purchase_error(method="card", token="paypal_approved")
    assert e.code == -32006 and e.reason == "invalid_token"
    assert_nothing_recorded(w)


def test_a_declined_payment_does_not_bind_the_idempotency_key(world):
    w = world
    setup(w)
    assert w.purchase_error(token="tok_chargeDeclined", key="k").code == -32006
    p = w.purchase(token="tok_visa", key="k")
    assert p["creditRequest"]["status"] == "pending"
    assert_one_purchase(w)


def test_purchase_by_a_learner_not_yet_eligible_is_not_eligible(world):
    w = world
    catalog(w)
    learner(w)
    w.set("2026-06-15T18:30:00Z")
    grade(w, 0.79)
    e = w.purchase_error()
    assert e.code == -32004 and e.reason == "not_eligible"
    assert_nothing_recorded(w)
    assert not events_of(w.history(), "paymentDeclined")


def test_purchase_by_an_audit_learner_is_not_eligible(world):
    w = world
    catalog(w)
    learner(w, mode="audit")
    w.set(ELIGIBLE)
    grade(w, 0.95)
    e = w.purchase_error()
    assert e.code == -32004 and e.reason == "not_credit_track"
    assert_nothing_recorded(w)


def test_purchase_by_a_learner_who_declined_an_identity_check_is_not_eligible(world):
    w = world
    catalog(w, requirements=[{"kind": "grade", "minGrade": 0.8},
                             {"kind": "reverification", "checkpointId": "c1", "displayName": "Check 1"}])
    learner(w)
    w.call("declineRequirement", learnerId="ann", courseId=COURSE, requirementId="reverification:c1")
    w.set(ELIGIBLE)
    assert grade(w, 0.95)["eligibility"] == "ineligible"
    e = w.purchase_error()
    assert e.code == -32004
    assert_nothing_recorded(w)


def test_purchase_in_a_course_the_learner_is_not_enrolled_in_is_not_found(world):
    w = world
    catalog(w)
    w.set(ENROLLED)
    w.call("createLearner", learnerId="ann", fullName="Ann Learner", email="ann@example.com", country="US")
    e = w.purchase_error()
    assert e.code == -32001 and e.reason == "not_enrolled"
    assert not w.emails(kind="purchaseReceipt")


def test_purchase_after_the_purchase_deadline_is_deadline_passed(world):
    w = world
    catalog(w, purchaseWindowDays=30)
    eligible(w)
    deadline = "2026-07-30T23:59:59Z"
    assert w.status()["purchaseDeadline"] == deadline
    w.set(shift(deadline, seconds=1))
    e = w.purchase_error()
    assert e.code == -32005 and e.reason == "purchase_window_closed"
    assert_nothing_recorded(w)
    assert w.credit()["canPurchase"] is False


def test_purchase_at_the_purchase_deadline_itself_is_accepted(world):
    w = world
    catalog(w, purchaseWindowDays=30)
    eligible(w)
    w.set("2026-07-30T23:59:59Z")
    assert w.purchase()["purchasedAt"] == "2026-07-30T23:59:59Z"


def test_extended_purchase_deadline_lets_one_learner_buy_later(world):
    w = world
    catalog(w, purchaseWindowDays=30)
    eligible(w)
    eligible(w, "bob")
    s = w.call("extendPurchaseDeadline", learnerId="ann", courseId=COURSE, deadline="2026-09-30T23:59:59Z")
    assert s["purchaseDeadline"] == "2026-09-30T23:59:59Z"
    w.set("2026-09-01T00:00:00Z")
    assert w.credit()["canPurchase"] is True
    assert w.purchase()["creditRequest"]["status"] == "pending"
    assert w.purchase_error("bob").code == -32005


def test_second_purchase_from_another_provider_is_a_conflict(world):
    w = world
    setup(w)
    first = w.purchase(provider="asu", key="k1")
    w.advance(hours=1)
    e = w.purchase_error(provider="mit", key="k2")
    assert e.code == -32009 and e.reason == "already_purchased"
    assert assert_one_purchase(w) == first["creditRequest"]


def test_purchase_from_a_provider_without_an_offer_is_not_found(world):
    w = world
    setup(w)
    e = w.purchase_error(provider="rit")
    assert e.code == -32001
    assert_nothing_recorded(w)


def test_purchase_from_an_unknown_provider_is_not_found(world):
    w = world
    setup(w)
    e = w.purchase_error(provider="nobody")
    assert e.code == -32001
    assert_nothing_recorded(w)


# --- Idempotency ---------------------------------------------------------------------------------


def test_same_key_and_same_params_returns_the_identical_response_and_one_order(world):
    w = world
    setup(w)
    params = dict(learnerId="ann", courseId=COURSE, providerId="asu",
                  payment={"method": "card", "token": "tok_visa"}, idempotencyKey="key-1")
    first = w.raw("purchaseCredit", params)
    assert "result" in first, first
    w.advance(hours=2)
    again = w.raw("purchaseCredit", params)
    assert {k: v for k, v in again.items() if k != "id"} == {k: v for k, v in first.items() if k != "id"}
    # Even after the decision, a replay answers word for word as the first time.
    w.set("2026-07-10T10:00:00Z")
    w.decide(first["result"]["creditRequest"]["requestId"], "approved")
    w.advance(minutes=1)
    third = w.raw("purchaseCredit", params)
    assert third["result"] == first["result"]
    request = assert_one_purchase(w)
    assert request["status"] == "approved"
    # And after the purchase window has closed.
    w.set(shift(DEADLINE, days=1))
    assert w.raw("purchaseCredit", params)["result"] == first["result"]


def test_same_key_with_other_params_is_a_conflict(world):
    w = world
    setup(w)
    w.purchase(provider="asu", key="key-1")
    for kw in (dict(provider="mit"), dict(method="paypal", token="paypal_approved")):
        e = w.purchase_error(key="key-1", **kw)
        assert e.code == -32009 and e.reason == "idempotency_key_reused"
    assert_one_purchase(w)


def test_idempotency_keys_are_scoped_per_learner(world):
    w = world
    setup(w)
    eligible(w, "bob")
    w.set(BOUGHT)
    a = w.purchase("ann", key="shared")
    b = w.purchase("bob", key="shared")
    assert a["orderId"] != b["orderId"]
    assert b["creditRequest"]["learnerId"] == "bob"
    assert_one_purchase(w, "ann")
    assert_one_purchase(w, "bob")


PURCHASE_PARAMS = dict(learnerId="ann", courseId=COURSE, providerId="asu",
                       payment={"method": "card", "token": "tok_visa"}, idempotencyKey="lost-1")


def _lose_the_response_then_retry(w: World, wait_for_commit: bool) -> dict:
    """Sends the purchase to a process on the database file and kills it (SIGKILL) without
    reading the answer (at once, or once the purchase is visible to another process); then
    retries with the same key from a new process. Returns the retry's answer."""
    setup(w)
    line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "purchaseCredit", "params": PURCHASE_PARAMS})
    doomed = Rpc(db=w.db, test_clock=BOUGHT, as_="learner:ann")
    try:
        doomed.send_line(line)
        if wait_for_commit:
            for _ in range(500):
                if w.credit()["request"] is not None:
                    break
                time.sleep(0.02)
            assert w.credit()["request"] is not None
    finally:
        doomed.proc.kill()
        doomed.proc.wait(timeout=5)
        for f in (doomed.proc.stdin, doomed.proc.stdout, doomed.proc.stderr):
            try:
                f.close()
            except BrokenPipeError:
                pass
    w.set(shift(BOUGHT, minutes=1))
    retry = Rpc(db=w.db, test_clock=w.now, as_="learner:ann")
    with retry:
        p = retry.call("purchaseCredit", **PURCHASE_PARAMS)
        assert retry.call("purchaseCredit", **PURCHASE_PARAMS) == p
    request = assert_one_purchase(w)
    assert request == p["creditRequest"] and p["creditRequest"]["status"] == "pending"
    return p


def test_retry_after_the_process_was_killed_right_after_the_request_yields_one_order(world):
    p = _lose_the_response_then_retry(world, wait_for_commit=False)
    assert p["purchasedAt"] in (BOUGHT, shift(BOUGHT, minutes=1))


def test_retry_after_the_process_was_killed_after_committing_replays_the_first_order(world):
    p = _lose_the_response_then_retry(world, wait_for_commit=True)
    assert p["purchasedAt"] == BOUGHT  # the first, committed purchase, replayed


def _purchase_line(provider: str, key: str, id: int = 1) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": "purchaseCredit", "params": {
        "learnerId": "ann", "courseId": COURSE, "providerId": provider,
        "payment": {"method": "card", "token": "tok_visa"}, "idempotencyKey": key}})


def test_two_processes_buying_from_two_providers_at_once_make_one_purchase_and_one_conflict(world):
    w = world
    setup(w)
    a = Rpc(db=w.db, test_clock=BOUGHT, as_="learner:ann")
    b = Rpc(db=w.db, test_clock=BOUGHT, as_="learner:ann")
    with a, b:
        a.send_line(_purchase_line("asu", "ka"))
        b.send_line(_purchase_line("mit", "kb"))
        answers = [json.loads(a.read_line()), json.loads(b.read_line())]
    ok = [r for r in answers if "result" in r]
    failed = [r for r in answers if "error" in r]
    assert len(ok) == 1 and len(failed) == 1, answers
    assert failed[0]["error"]["code"] == -32009 and failed[0]["error"]["data"]["reason"] == "already_purchased"
    assert assert_one_purchase(w) == ok[0]["result"]["creditRequest"]


def test_two_processes_sending_the_same_key_at_once_get_the_same_answer(world):
    w = world
    setup(w)
    a = Rpc(db=w.db, test_clock=BOUGHT, as_="learner:ann")
    b = Rpc(db=w.db, test_clock=BOUGHT, as_="learner:ann")
    with a, b:
        a.send_line(_purchase_line("asu", "same"))
        b.send_line(_purchase_line("asu", "same"))
        answers = [json.loads(a.read_line()), json.loads(b.read_line())]
    assert all("result" in r for r in answers), answers
    assert answers[0] == answers[1]
    assert_one_purchase(w)


def test_decision_timestamp_must_be_an_integer(world):
    w = world
    rid = purchased(w)
    params = decision(rid, "approved", unix(w.now), "asu-secret-A")
    params["timestamp"] = str(params["timestamp"])
    e = w.error("submitProviderDecision", providerId="asu", **params)
    assert e.code == -32602 and e.field == "timestamp"
    assert w.credit()["request"]["status"] == "pending"


# --- Reading a request ---------------------------------------------------------------------------


def test_get_credit_request_as_the_learner_the_provider_staff_and_others(world):
    w = world
    setup(w)
    eligible(w, "bob")
    w.set(BOUGHT)
    r = w.purchase()["creditRequest"]
    rid = r["requestId"]
    assert w.call("getCreditRequest", as_="learner:ann", requestId=rid) == r
    assert w.call("getCreditRequest", as_="provider:asu", requestId=rid) == r
    assert w.call("getCreditRequest", as_="staff", requestId=rid) == r
    for who in ("learner:bob", "provider:mit"):
        e = w.error("getCreditRequest", as_=who, requestId=rid)
        assert e.code == -32007, who
    # A request that does not exist: forbidden for a learner (never notFound), notFound for staff.
    assert w.error("getCreditRequest", as_="learner:ann", requestId="f" * 32).code == -32007
    assert w.error("getCreditRequest", as_="staff", requestId="f" * 32).code == -32001


def test_a_learner_cannot_buy_for_another_learner(world):
    w = world
    setup(w)
    e = w.error("purchaseCredit", as_="learner:bob", learnerId="ann", courseId=COURSE, providerId="asu",
                payment={"method": "card", "token": "tok_visa"}, idempotencyKey="k")
    assert e.code == -32007
    assert_nothing_recorded(w)


# --- The dashboard's credit section in every state ------------------------------------------------


def test_dashboard_credit_when_not_eligible(world):
    w = world
    catalog(w)
    learner(w)
    w.set("2026-03-01T12:00:00Z")
    grade(w, 0.5)
    c = w.credit()
    assert c["eligibility"] == "notYetEligible" and c["purchaseDeadline"] is None
    assert c["canPurchase"] is False and c["providers"] == [] and c["request"] is None
    assert c["creditTrack"] is True and c["learnerId"] == "ann" and c["courseId"] == COURSE
    assert c["requirements"][0]["status"] == "pending"


def test_dashboard_credit_when_eligible_lists_providers_with_prices(world):
    w = world
    setup(w)
    c = w.credit()
    assert c["eligibility"] == "eligible" and c["purchaseDeadline"] == DEADLINE
    assert c["canPurchase"] is True and c["request"] is None
    assert sorted(c["providers"], key=lambda o: o["providerId"]) == [
        {"courseId": COURSE, "providerId": "asu", "displayName": "Arizona State University",
         "price": {"amount": "300.00", "currency": "USD"}},
        {"courseId": COURSE, "providerId": "mit", "displayName": "MIT Credit Office",
         "price": {"amount": "250.50", "currency": "USD"}},
    ]
    # The same CreditStatus fields as getRequirements.
    s = w.status()
    assert {k: c[k] for k in s} == s


def test_dashboard_credit_when_pending(world):
    w = world
    rid = purchased(w)
    c = w.credit()
    assert c["canPurchase"] is False
    assert c["request"]["requestId"] == rid and c["request"]["status"] == "pending"
    assert c["request"]["decidedAt"] is None


def test_dashboard_credit_when_approved_shows_the_providers_link(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    w.decide(rid, "approved")
    c = w.credit()
    assert c["canPurchase"] is False
    r = c["request"]
    assert r["status"] == "approved" and r["decidedAt"] == "2026-07-10T10:00:00Z"
    assert r["providerName"] == "Arizona State University"
    assert r["providerUrl"] == "https://credit.asu.example/edx"
    assert r["providerStatusUrl"] == "https://credit.asu.example/status"


def test_dashboard_credit_when_rejected_points_at_the_provider_url_and_description(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    w.decide(rid, "rejected")
    c = w.credit()
    assert c["canPurchase"] is False
    r = c["request"]
    assert r["status"] == "rejected"
    assert r["providerName"] == "Arizona State University"
    assert r["providerUrl"] == "https://credit.asu.example/edx"
    assert r["providerDescription"] == "ASU awards 3 credits for this course."


def test_dashboard_credit_when_the_purchase_deadline_has_passed(world):
    w = world
    setup(w)
    w.set(DEADLINE)
    assert w.credit()["canPurchase"] is True
    w.set(shift(DEADLINE, seconds=1))
    c = w.credit()
    assert c["canPurchase"] is False and c["request"] is None
    assert c["eligibility"] == "eligible" and c["purchaseDeadline"] == DEADLINE


def test_purchase_freezes_the_requirement_statuses(world):
    w = world
    setup(w)
    w.purchase()
    frozen = w.status()
    w.set("2026-07-02T10:00:00Z")
    grade(w, 0.1)
    assert w.status() == frozen


def test_purchase_history_lists_each_step_with_actor_and_time(world):
    w = world
    rid = purchased(w)
    w.set("2026-07-10T10:00:00Z")
    w.decide(rid, "approved")
    events = w.history()
    steps = [(e["kind"], e["actor"], e["at"]) for e in events
             if e["kind"] in ("enrolled", "gradeRecorded", "eligibilityChanged", "creditPurchased", "creditDecision")]
    assert steps == [
        ("enrolled", "learner:ann", ENROLLED),
        ("gradeRecorded", "staff", ELIGIBLE),
        ("eligibilityChanged", "staff", ELIGIBLE),
        ("creditPurchased", "learner:ann", BOUGHT),
        ("creditDecision", "provider:asu", "2026-07-10T10:00:00Z"),
    ]
    kinds = [n["kind"] for n in w.emails()]
    assert kinds == ["creditEligible", "purchaseReceipt", "creditDecision"]
