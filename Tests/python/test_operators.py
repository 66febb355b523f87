"""The operators' side (SPEC section 8): providers' queues, provider updates and secret rotation,
withdrawn offers, the email outbox, course reports and the change feed, through the real binary."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import json
from datetime import datetime, timezone

import pytest

from conftest import COURSE_ID, Rpc, RpcError, base_env, binary, create_catalog, engine_db

# Engine-neutral: runs on SQLite and on PostgreSQL (SPEC section 7).
pytestmark = pytest.mark.both_engines

NOW = "2026-03-01T12:00:00Z"
T = int(datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp())


def sign(request_id: str, status: str, timestamp: int, secret: str) -> str:
    message = "".join(f"{k}:{v}" for k, v in sorted(
        {"request_uuid": request_id, "status": status, "timestamp": str(timestamp)}.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def eligible_learner(r: Rpc, learner_id: str, grade: float = 0.9, course_id: str = COURSE_ID) -> None:
    r.call("createLearner", learnerId=learner_id, fullName=f"Learner {learner_id}",
           email=f"{learner_id}@example.com", country="NL", mailingAddress=f"{learner_id} street 1")
    r.call("enroll", learnerId=learner_id, courseId=course_id, mode="verified")
    r.call("recordGrade", learnerId=learner_id, courseId=course_id, grade=grade)


def buy(r: Rpc, learner_id: str, provider_id: str = "asu", course_id: str = COURSE_ID) -> dict:
    return r.call("purchaseCredit", learnerId=learner_id, courseId=course_id, providerId=provider_id,
                  payment={"method": "card", "token": "tok_visa"}, idempotencyKey=f"k-{learner_id}")


@pytest.fixture
def world():
    with Rpc(test_clock=NOW) as r:
        create_catalog(r)
        yield r


def error_of(r: Rpc, method: str, **params) -> RpcError:
    with pytest.raises(RpcError) as e:
        r.call(method, **params)
    return e.value


# --- listCreditRequests


def test_provider_queue_pages_in_purchase_order_with_the_learner_and_final_grade(world):
    for i, lid in enumerate(["l3", "l1", "l2"]):
        eligible_learner(world, lid, grade=0.81 + i / 100)
        buy(world, lid)
    first = world.call("listCreditRequests", providerId="asu", limit=2)
    assert [x["learnerId"] for x in first["requests"]] == ["l3", "l1"]
    assert first["next"]
    item = first["requests"][0]
    assert item["learner"] == {"learnerId": "l3", "fullName": "Learner l3", "email": "l3@example.com",
                               "country": "NL", "mailingAddress": "l3 street 1"}
    assert item["finalGrade"] == "0.81"
    assert item["status"] == "pending" and item["providerId"] == "asu"
    second = world.call("listCreditRequests", providerId="asu", limit=2, after=first["next"])
    assert [x["learnerId"] for x in second["requests"]] == ["l2"]
    assert second["next"] is None


def test_status_and_course_filters(world):
    for lid in ["a", "b"]:
        eligible_learner(world, lid)
        buy(world, lid)
    rid = world.call("listCreditRequests", status="pending")["requests"][0]["requestId"]
    world.call("submitProviderDecision", providerId="asu", requestId=rid, status="approved", timestamp=T,
               signature=sign(rid, "approved", T, "s3cret-key-1"))
    assert [x["learnerId"] for x in world.call("listCreditRequests", status="pending")["requests"]] == ["b"]
    assert [x["learnerId"] for x in world.call("listCreditRequests", status="approved")["requests"]] == ["a"]
    assert world.call("listCreditRequests", courseId="course-v1:Other+X+1")["requests"] == []
    assert len(world.call("listCreditRequests", courseId=COURSE_ID)["requests"]) == 2


def test_a_provider_sees_only_its_own_requests(tmp_path):
    db = str(tmp_path / "c.sqlite")
    with Rpc(db=db, test_clock=NOW) as admin:
        create_catalog(admin)
        admin.call("createProvider", providerId="hku", displayName="HKU", url="https://hku.example",
                   secrets=["hku-secret-1"])
        admin.call("offerCredit", courseId=COURSE_ID, providerId="hku", price={"amount": "9", "currency": "USD"})
        eligible_learner(admin, "a")
        eligible_learner(admin, "b")
        buy(admin, "a", "asu")
        buy(admin, "b", "hku")
    with Rpc(db=db, test_clock=NOW, as_="provider:hku") as hku:
        mine = hku.call("listCreditRequests")
        assert [x["learnerId"] for x in mine["requests"]] == ["b"]
        assert [x["learnerId"] for x in hku.call("listCreditRequests", providerId="hku")["requests"]] == ["b"]
        e = error_of(hku, "listCreditRequests", providerId="asu")
        assert e.code == -32007 and e.reason == "forbidden"
        for method, params in [("listOutbox", {}), ("listEvents", {}), ("listEnrollments", {"courseId": COURSE_ID}),
                               ("updateProvider", {"providerId": "hku", "active": False}),
                               ("markNotificationsSent", {"notificationIds": [1]})]:
            assert error_of(hku, method, **params).code == -32007, method
    with Rpc(db=db, test_clock=NOW, as_="learner:a") as learner:
        assert error_of(learner, "listCreditRequests").code == -32007


# --- cursors and limits


@pytest.mark.parametrize("method, params", [
    ("listCreditRequests", {}), ("listOutbox", {}), ("listEvents", {}),
    ("listEnrollments", {"courseId": COURSE_ID}),
])
def test_a_cursor_that_is_not_the_services_own_is_invalid_params(world, method, params):
    for bad in ["", "12", "cr_zz", "ev_", "ob_3x", "xx_3132", "ev_2d31"]:
        e = error_of(world, method, **params, after=bad)
        assert e.code == -32602 and e.field == "after", (method, bad, e)


def test_a_cursor_of_another_list_is_refused(world):
    eligible_learner(world, "a")
    nxt = world.call("listEvents", limit=1)["next"]
    e = error_of(world, "listOutbox", after=nxt)
    assert e.code == -32602 and e.field == "after"


@pytest.mark.parametrize("limit", [0, 1001, -1, 1.5, "10"])
def test_limit_is_1_to_1000(world, limit):
    e = error_of(world, "listEvents", limit=limit)
    assert e.code == -32602 and e.field == "limit"


def test_default_limit_is_100(world):
    for i in range(26):
        eligible_learner(world, f"l{i:02}")  # 4 events each: enrolled, grade, requirement, eligibility
    page = world.call("listEvents")
    assert len(page["events"]) == 100


# --- updateProvider and rotation


def test_update_provider_changes_only_the_fields_given(world):
    before = world.call("listCourses")["courses"][0]["providers"][0]
    p = world.call("updateProvider", providerId="asu", description="Three credits.")
    assert p["description"] == "Three credits."
    assert p["displayName"] == "Arizona State University" and p["url"] == "https://credit.example.edu"
    p = world.call("updateProvider", providerId="asu", displayName="ASU Online", requiresAdditionalSteps=True)
    assert p["displayName"] == "ASU Online" and p["description"] == "Three credits."
    assert p["requiresAdditionalSteps"] is True and p["active"] is True
    assert "secrets" not in json.dumps(p)
    after = world.call("listCourses")["courses"][0]["providers"][0]
    assert after["displayName"] == "ASU Online" and after["price"] == before["price"]
    assert error_of(world, "updateProvider", providerId="nobody", active=False).code == -32001
    e = error_of(world, "updateProvider", providerId="asu", url="not a url")
    assert e.code == -32602 and e.field == "url"
    e = error_of(world, "updateProvider", providerId="asu", secrets=[])
    assert e.code == -32602 and e.field == "secrets"


def test_rotation_new_secret_signs_old_still_accepted_until_dropped(world):
    world.call("updateProvider", providerId="asu", requiresAdditionalSteps=True)
    eligible_learner(world, "a")
    eligible_learner(world, "b")
    world.call("updateProvider", providerId="asu", secrets=["new-secret-2026", "s3cret-key-1"])
    purchase = buy(world, "a")
    params = purchase["completeCredit"]["parameters"]
    unsigned = {k: v for k, v in params.items() if k != "signature"}
    message = "".join(f"{k}:{v}" for k, v in sorted(unsigned.items()))
    assert params["signature"] == hmac.new(b"new-secret-2026", message.encode(), hashlib.sha256).hexdigest()
    rid = purchase["creditRequest"]["requestId"]
    world.call("submitProviderDecision", providerId="asu", requestId=rid, status="approved", timestamp=T,
               signature=sign(rid, "approved", T, "s3cret-key-1"))
    world.call("updateProvider", providerId="asu", secrets=["new-secret-2026"])
    rid_b = buy(world, "b")["creditRequest"]["requestId"]
    e = error_of(world, "submitProviderDecision", providerId="asu", requestId=rid_b, status="approved",
                 timestamp=T, signature=sign(rid_b, "approved", T, "s3cret-key-1"))
    assert e.code == -32008
    done = world.call("submitProviderDecision", providerId="asu", requestId=rid_b, status="approved",
                      timestamp=T, signature=sign(rid_b, "approved", T, "new-secret-2026"))
    assert done["status"] == "approved"
    # Requests already made are unaffected: the first purchase replays its first answer, signature and all.
    assert buy(world, "a") == purchase


def test_an_inactive_provider_is_not_offered_and_not_for_sale_but_decides_pending_requests(world):
    eligible_learner(world, "a")
    eligible_learner(world, "b")
    rid = buy(world, "a")["creditRequest"]["requestId"]
    assert world.call("updateProvider", providerId="asu", active=False)["active"] is False
    course = world.call("listCourses")["courses"][0]
    assert course["earnCredit"] is False and course["providers"] == []
    assert world.call("listCourses", creditOnly=True)["courses"] == []
    dash = world.call("getDashboard", learnerId="b")["enrollments"][0]["credit"]
    assert dash["providers"] == [] and dash["canPurchase"] is False
    e = error_of(world, "purchaseCredit", learnerId="b", courseId=COURSE_ID, providerId="asu",
                 payment={"method": "card", "token": "tok_visa"}, idempotencyKey="k-b")
    assert e.code == -32001 and e.reason == "offer_not_found"
    decided = world.call("submitProviderDecision", providerId="asu", requestId=rid, status="rejected",
                         timestamp=T, signature=sign(rid, "rejected", T, "s3cret-key-1"))
    assert decided["status"] == "rejected"
    world.call("updateProvider", providerId="asu", active=True)
    assert world.call("listCourses")["courses"][0]["earnCredit"] is True
    assert buy(world, "b")["creditRequest"]["status"] == "pending"


# --- withdrawCredit


def test_withdrawn_offer_is_gone_until_offered_again_at_the_new_price(world):
    eligible_learner(world, "a")
    eligible_learner(world, "b")
    rid = buy(world, "a")["creditRequest"]["requestId"]
    offer = world.call("withdrawCredit", courseId=COURSE_ID, providerId="asu")
    assert offer == {"courseId": COURSE_ID, "providerId": "asu", "displayName": "Arizona State University",
                     "price": {"amount": "300.00", "currency": "USD"}, "active": False}
    assert world.call("withdrawCredit", courseId=COURSE_ID, providerId="asu") == offer  # again: harmless
    assert world.call("listCourses")["courses"][0]["earnCredit"] is False
    e = error_of(world, "purchaseCredit", learnerId="b", courseId=COURSE_ID, providerId="asu",
                 payment={"method": "card", "token": "tok_visa"}, idempotencyKey="k-b")
    assert e.code == -32001 and e.reason == "offer_not_found"
    assert world.call("getCreditRequest", requestId=rid)["status"] == "pending"
    again = world.call("offerCredit", courseId=COURSE_ID, providerId="asu",
                       price={"amount": "350", "currency": "USD"})
    assert again["price"] == {"amount": "350.00", "currency": "USD"}
    assert world.call("listCourses")["courses"][0]["earnCredit"] is True
    assert buy(world, "b")["amount"] == {"amount": "350.00", "currency": "USD"}


def test_withdraw_unknown_offer(world):
    world.call("createProvider", providerId="hku", displayName="HKU", url="https://hku.example",
               secrets=["hku-secret-1"])
    e = error_of(world, "withdrawCredit", courseId=COURSE_ID, providerId="hku")
    assert e.code == -32001 and e.reason == "offer_not_found"
    assert error_of(world, "withdrawCredit", courseId="course-v1:No+Such+1", providerId="asu").code == -32001


# --- listEnrollments


def test_course_report_by_learner_with_eligibility_filter_and_requests(world):
    eligible_learner(world, "c", grade=0.9)
    eligible_learner(world, "a", grade=0.5)
    eligible_learner(world, "b", grade=0.95)
    world.call("createLearner", learnerId="d", fullName="Audit D", email="d@example.com", country="US")
    world.call("enroll", learnerId="d", courseId=COURSE_ID, mode="audit")
    buy(world, "c")
    page = world.call("listEnrollments", courseId=COURSE_ID, limit=3)
    assert [x["learnerId"] for x in page["enrollments"]] == ["a", "b", "c"]
    a, b, c = page["enrollments"]
    assert a == {"learnerId": "a", "fullName": "Learner a", "mode": "verified", "creditTrack": True,
                 "eligibility": "notYetEligible", "purchaseDeadline": None, "request": None}
    assert b["eligibility"] == "eligible" and b["purchaseDeadline"] == "2027-06-30T23:59:59Z"
    assert c["request"]["status"] == "pending"
    rest = world.call("listEnrollments", courseId=COURSE_ID, after=page["next"])
    assert [(x["learnerId"], x["mode"], x["creditTrack"]) for x in rest["enrollments"]] == [("d", "audit", False)]
    assert rest["next"] is None
    eligible = world.call("listEnrollments", courseId=COURSE_ID, eligibility="eligible")
    assert [x["learnerId"] for x in eligible["enrollments"]] == ["b", "c"]
    assert error_of(world, "listEnrollments", courseId="course-v1:No+Such+1").code == -32001


def test_course_report_shows_eligibility_that_the_course_end_decided_before_any_write(world):
    eligible_learner(world, "a", grade=0.5)  # pending: stays notYetEligible until the end
    world.call("createLearner", learnerId="d", fullName="Audit D", email="d@example.com", country="US")
    world.call("enroll", learnerId="d", courseId=COURSE_ID, mode="audit")
    assert [x["eligibility"] for x in world.call("listEnrollments", courseId=COURSE_ID)["enrollments"]] == [
        "notYetEligible", "notYetEligible"]
    world.call("clock.set", now="2026-07-01T00:00:00Z")
    report = world.call("listEnrollments", courseId=COURSE_ID)["enrollments"]
    assert {x["learnerId"]: x["eligibility"] for x in report} == {"a": "notYetEligible", "d": "ineligible"}
    assert [x["learnerId"] for x in world.call("listEnrollments", courseId=COURSE_ID,
                                               eligibility="ineligible")["enrollments"]] == ["d"]
    assert [x["learnerId"] for x in world.call("listEnrollments", courseId=COURSE_ID,
                                               eligibility="notYetEligible")["enrollments"]] == ["a"]


# --- the outbox


def test_outbox_at_least_once_list_send_mark(world):
    eligible_learner(world, "a")
    eligible_learner(world, "b")
    buy(world, "a")
    unsent = world.call("listOutbox")
    kinds = [(n["learnerId"], n["kind"]) for n in unsent["notifications"]]
    assert kinds == [("a", "creditEligible"), ("b", "creditEligible"), ("a", "purchaseReceipt")]
    assert all(n["sentAt"] is None for n in unsent["notifications"]) and unsent["next"] is None
    ids = [n["notificationId"] for n in unsent["notifications"]]
    assert world.call("markNotificationsSent", notificationIds=ids[:2]) == {"marked": 2}
    assert world.call("markNotificationsSent", notificationIds=ids[:2]) == {"marked": 0}
    assert [n["notificationId"] for n in world.call("listOutbox")["notifications"]] == ids[2:]
    everything = world.call("listOutbox", unsentOnly=False)["notifications"]
    assert [n["sentAt"] for n in everything] == [NOW, NOW, None]
    world.call("clock.advance", seconds=60)
    assert world.call("markNotificationsSent", notificationIds=ids) == {"marked": 1}
    assert [n["sentAt"] for n in world.call("listOutbox", unsentOnly=False)["notifications"]] == [
        NOW, NOW, "2026-03-01T12:01:00Z"]  # sentAt keeps its first value
    # The learner's own view is unchanged by delivery.
    assert len(world.call("listNotifications", learnerId="a")["notifications"]) == 2


def test_an_unknown_notification_id_marks_nothing(world):
    eligible_learner(world, "a")
    e = error_of(world, "markNotificationsSent", notificationIds=[1, 424242])
    assert e.code == -32001 and e.reason == "notification_not_found"
    assert world.call("listOutbox")["notifications"][0]["sentAt"] is None
    for bad in [[], [0], ["1"], [1.5]]:
        e = error_of(world, "markNotificationsSent", notificationIds=bad)
        assert e.code == -32602 and e.field.startswith("notificationIds"), bad


def test_outbox_pages(world):
    for i in range(5):
        eligible_learner(world, f"l{i}")
    page = world.call("listOutbox", limit=2)
    seen = [n["notificationId"] for n in page["notifications"]]
    while page["next"]:
        page = world.call("listOutbox", limit=2, after=page["next"])
        seen += [n["notificationId"] for n in page["notifications"]]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5


# --- the change feed


def test_feed_pages_every_event_once_and_next_resumes(world):
    eligible_learner(world, "a")
    eligible_learner(world, "b")
    history = world.call("getHistory", learnerId="a", courseId=COURSE_ID)["events"]
    page = world.call("listEvents", limit=3)
    events = list(page["events"])
    while len(page["events"]) == 3:
        page = world.call("listEvents", limit=3, after=page["next"])
        events += page["events"]
    ids = [e["eventId"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [dict((k, v) for k, v in e.items() if k not in ("learnerId", "courseId")) for e in events
            if e["learnerId"] == "a"] == history
    assert {e["courseId"] for e in events} == {COURSE_ID}
    # Polling: no new events gives the same cursor back; new ones come after it.
    last = page["next"]
    idle = world.call("listEvents", after=last)
    assert idle == {"events": [], "next": last}
    world.call("recordGrade", learnerId="a", courseId=COURSE_ID, grade=0.95)
    fresh = world.call("listEvents", after=last)
    assert [e["kind"] for e in fresh["events"]] == ["gradeRecorded"] and fresh["next"] != last


def test_feed_next_is_null_only_while_empty(world):
    assert world.call("listEvents") == {"events": [], "next": None}


def test_catalog_changes_are_not_learner_events(world):
    eligible_learner(world, "a")
    before = world.call("listEvents")["events"]
    world.call("updateProvider", providerId="asu", description="x")
    world.call("withdrawCredit", courseId=COURSE_ID, providerId="asu")
    world.call("markNotificationsSent", notificationIds=[1])
    assert world.call("listEvents")["events"] == before
    assert world.call("getHistory", learnerId="a", courseId=COURSE_ID)["events"] == [
        {k: v for k, v in e.items() if k not in ("learnerId", "courseId")} for e in before]


# --- several processes at once


def test_feed_and_outbox_lose_and_repeat_nothing_while_several_processes_write(tmp_path):
    db = str(tmp_path / "c.sqlite")
    with Rpc(db=db, test_clock=NOW) as admin:
        create_catalog(admin)
    writers = []
    per_writer = 15
    for w in range(3):
        lines = []
        for i in range(per_writer):
            lid = f"w{w}-{i:02}"
            for n, (method, params) in enumerate([
                ("createLearner", {"learnerId": lid, "fullName": lid, "email": f"{lid}@example.com", "country": "US"}),
                ("enroll", {"learnerId": lid, "courseId": COURSE_ID, "mode": "verified"}),
                ("recordGrade", {"learnerId": lid, "courseId": COURSE_ID, "grade": 0.9}),
            ]):
                lines.append(json.dumps({"jsonrpc": "2.0", "id": f"{lid}-{n}", "method": method, "params": params}))
        writers.append(subprocess.Popen(
            [binary(), "--db", engine_db(db), "--test-clock", NOW], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=base_env()))
        writers[-1].stdin.write(("\n".join(lines) + "\n").encode())
        writers[-1].stdin.close()
    seen_events: list[int] = []
    seen_mail: list[int] = []
    with Rpc(db=db, test_clock=NOW) as reader:
        cursor = None
        def drain():
            nonlocal cursor
            while True:
                page = reader.call("listEvents", limit=7, **({"after": cursor} if cursor else {}))
                seen_events.extend(e["eventId"] for e in page["events"])
                cursor = page["next"]
                if not page["events"]:
                    return
        def deliver():
            page = reader.call("listOutbox", limit=5)
            ids = [n["notificationId"] for n in page["notifications"]]
            if ids:
                reader.call("markNotificationsSent", notificationIds=ids)
                seen_mail.extend(ids)
        while any(p.poll() is None for p in writers):
            drain()
            deliver()
        for p in writers:
            assert p.wait(timeout=60) == 0
            out = [json.loads(x) for x in p.stdout.read().splitlines()]
            assert all("result" in x for x in out), [x for x in out if "error" in x][:3]
        drain()
        while reader.call("listOutbox")["notifications"]:
            deliver()
        page = reader.call("listEvents", limit=1000)
        all_events = [e["eventId"] for e in page["events"]]
    assert len(all_events) == 3 * per_writer * 4
    assert seen_events == all_events, "the feed skipped or repeated an event"
    assert sorted(seen_mail) == sorted(set(seen_mail)) and len(seen_mail) == 3 * per_writer


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_feed_skips_nothing_when_a_lower_id_commits_later(tmp_path, engine):
    """PostgreSQL: a transaction that took a lower event id and commits after a later one. The feed
    holds the later events back until the older transaction ends, then lists both, each once."""
    db = str(tmp_path / "feed.sqlite")
    uri = engine_db(db)
    with Rpc(db=db, test_clock=NOW) as r:
        create_catalog(r)
        eligible_learner(r, "a", grade=0.5)
        cursor = r.call("listEvents")["next"]
        held = subprocess.Popen(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", uri], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env())
        try:
            held.stdin.write("BEGIN;\nINSERT INTO events (learner_id, course_id, at, actor, kind) "
                             "VALUES ('a', NULL, 0, 'test', 'held');\n\\echo ready\n")
            held.stdin.flush()
            assert held.stdout.readline().strip() == "ready", held.stderr.read()
            r.call("recordGrade", learnerId="a", courseId=COURSE_ID, grade=0.95)
            assert r.call("listEvents", after=cursor) == {"events": [], "next": cursor}
            held.stdin.write("COMMIT;\n\\echo done\n")
            held.stdin.flush()
            assert held.stdout.readline().strip() == "done"
        finally:
            held.stdin.close()
            held.wait(timeout=20)
        page = r.call("listEvents", after=cursor)
        kinds = [e["kind"] for e in page["events"]]
        assert kinds[0] == "held" and "gradeRecorded" in kinds, kinds
        ids = [e["eventId"] for e in page["events"]]
        assert ids[0] < min(ids[1:]), "the held event has the lower id and comes first"
        assert r.call("listEvents", after=page["next"])["events"] == []
