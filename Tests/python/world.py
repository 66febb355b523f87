"""What the end-to-end tests of identity, exams and purchase share: one credit-rpc process per
principal on one database file, all kept at one test clock, and small helpers for times and images."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Rpc, RpcError

COURSE = "course-v1:MITx+6.002x+2026_T1"
STARTS = "2026-01-01T00:00:00Z"
ENDS = "2026-06-30T23:59:59Z"

#: Methods that are the learner's own acts (SPEC section 5): sent as `learner:<learnerId>`.
LEARNER_ACTS = {"createLearner", "enroll", "verifyIdentity", "reverify", "declineRequirement",
                "startExam", "submitExam", "purchaseCredit"}
#: Methods marked (staff): sent as `staff`.
STAFF_ACTS = {"reviewVerification", "reviewExam", "recordGrade", "grantExamTime",
              "resetExamAttempt", "extendPurchaseDeadline"}


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def fmt(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shift(text: str, **delta) -> str:
    """`text` (RFC 3339) moved by a timedelta given as keywords."""
    return fmt(parse_time(text) + timedelta(**delta))


def image(label: str) -> str:
    """A small base64 'image' (the service only hashes and measures it)."""
    return base64.b64encode(f"\x89PNG fake image: {label}".encode()).decode()


class World:
    """One process per principal on one database file, all kept at one test clock."""

    def __init__(self, db: str, now: str = STARTS, extra: tuple[str, ...] = (), timeout: float = 20.0):
        self.db = db
        self.timeout = timeout
        self.now = now
        self.extra = extra
        self.procs: dict[str, Rpc] = {}
        self.clocks: dict[str, str] = {}

    def proc(self, principal: str) -> Rpc:
        if principal not in self.procs:
            self.procs[principal] = Rpc(*self.extra, db=self.db, test_clock=self.now, as_=principal,
                                       timeout=self.timeout)
            self.clocks[principal] = self.now
        p = self.procs[principal]
        if self.clocks[principal] != self.now:
            assert p.call("clock.set", now=self.now) == {"now": self.now}
            self.clocks[principal] = self.now
        return p

    @staticmethod
    def principal_for(method: str, params: dict) -> str:
        if method in LEARNER_ACTS:
            return f"learner:{params['learnerId']}"
        if method in STAFF_ACTS:
            return "staff"
        if method == "submitProviderDecision":
            return f"provider:{params['providerId']}"
        return "admin"

    def call(self, method: str, as_: str | None = None, **params):
        return self.proc(as_ or self.principal_for(method, params)).call(method, **params)

    def raw(self, method: str, params: dict, as_: str | None = None) -> dict:
        return self.proc(as_ or self.principal_for(method, params)).raw_call(method, params)

    def error(self, method: str, as_: str | None = None, **params) -> RpcError:
        with pytest.raises(RpcError) as info:
            self.call(method, as_=as_, **params)
        e = info.value
        assert isinstance(e.message, str) and e.message, e.response
        assert isinstance(e.reason, str) and e.reason, e.response
        return e

    def set(self, now: str) -> None:
        self.now = now

    def advance(self, **delta) -> str:
        self.now = shift(self.now, **delta)
        return self.now

    def close(self) -> None:
        for name, p in self.procs.items():
            rc, err = p.close()
            assert rc == 0, f"{name}: exit {rc}, stderr: {err}"
        self.procs.clear()

    def kill(self) -> None:
        for p in self.procs.values():
            p.kill()
        self.procs.clear()

    def status(self, learner: str = "ann", course: str = COURSE) -> dict:
        return self.call("getRequirements", learnerId=learner, courseId=course)

    def history(self, learner: str = "ann", course: str = COURSE) -> list[dict]:
        return self.call("getHistory", learnerId=learner, courseId=course)["events"]

    def emails(self, learner: str = "ann", kind: str | None = None) -> list[dict]:
        ns = self.call("listNotifications", learnerId=learner)["notifications"]
        return [n for n in ns if kind is None or n["kind"] == kind]


def world_fixture(cls):
    """A pytest fixture giving a fresh `cls` world on its own database file, closed afterwards."""
    @pytest.fixture
    def world(db_path):
        w = cls(str(db_path))
        yield w
        try:
            w.close()
        finally:
            w.kill()
    return world
