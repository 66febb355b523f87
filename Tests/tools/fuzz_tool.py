#!/usr/bin/env python3
"""Hostile input: stream generated lines through one credit-rpc process and check every answer.

Lines are generated (seeded) from `Protocol/openrpc.json`: for each method, valid calls built from
its params schemas (with ids from a pool of existing and unknown entities, SQL injection strings
among them), calls with wrong types, unknown or missing fields, out-of-range numbers, huge strings
(up to 100 KB), odd Unicode (NUL, lone surrogates written as the escape \\ud800, right-to-left
marks, emoji, line separators), extreme times; envelopes that are not JSON-RPC 2.0, notifications,
batches; and broken JSON: truncations, flipped bytes, random bytes, invalid UTF-8, deep nesting,
syntax JSON forbids.

An independent oracle (Python's strict JSON reading plus the JSON-RPC 2.0 rules of SPEC section 3)
says how many answers each line is owed and with which id. The checks: exactly one well-formed
answer line per line that is owed one (a batch: one array with one answer per member that is not a
notification), in order, ids echoed, parse errors with id null; every error has an integer code, a
message and data.reason (snake_case); the code is one the line's kind allows; never -32603; every
result matches its method's result schema (when jsonschema is installed); nothing but JSON on
stdout; exit 0 at EOF; no hang.

By hand, with a larger budget:

    python3 Tests/tools/fuzz_tool.py --lines 200000 --seed 9

Exit status 0 when every check passed; 1 with the seed and the offending input otherwise.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import random
import re
import string
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import OPENRPC_PATH, Piped, find_binary, run_piped  # noqa: E402

CLOCK = "2026-03-01T00:00:00Z"
C1 = "course-v1:FuzzX+F101+2026_T1"
C2 = "course-v1:FuzzX+F202+2026_T1"
MAX_DEPTH = 512
MAX_BATCH = 10_000
KNOWN_CODES = {-32700, -32600, -32601, -32602, -32603} | set(range(-32010, -32000))
REASON = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

INJECTIONS = [
    "alice'; DROP TABLE learners;--",
    '" OR 1=1 --',
    "' OR '1'='1",
    "x'); DELETE FROM orders; --",
    "Robert'); DROP TABLE students;--",
    "1; SELECT secret FROM provider_secrets",
    "' UNION SELECT secret, 1 FROM provider_secrets --",
    "%", "_", "a%b", "\\", "?", "?1", ":name", "@p", "$x", "admin'--", "`ls`", "${jndi:x}",
]
ODD = [
    "\u0000", "a\u0000b", "\ud800", "\udfff", "\ud83d", "x\udc00y", "\u200f", "\u202e", "\u200e\u2066",
    "\U0001F600", "\U0001F469\u200D\U0001F4BB", "e\u0301", "\ufeff", "\uffff", "\ufffe", "\u2028", "\u2029",
    "\u0085", "\u00a0", "\u3000", "\U0010FFFF", "\t", "\x7f", "\x1b[31m", "ﷺ", "𝕏",
]
DATES = [
    "2026-03-01T00:00:00Z", "2026-06-30T23:59:59Z", "2026-12-31T23:59:59Z", "2026-01-01T00:00:00+14:00",
    "2026-03-01T12:00:00.123456789Z", "2026-03-01T12:00:00-23:59", "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59", "2024-02-29T00:00:00Z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
    "2026-12-31T23:59:60Z", "2026-03-01t00:00:00z", "2026-03-01 00:00:00Z", "2026-03-01T00:00:00",
    "2026-03-01", "+2026-03-01T00:00:00Z", "2026-03-01T24:00:00Z", "2026-3-1T0:0:0Z",
]


class Ambiguous(Exception):
    """A line whose expected answer the oracle does not settle (regenerated)."""


class _Obj(dict):
    dup = False


def _pairs(pairs):
    o = _Obj()
    for k, v in pairs:
        if k in o:
            o.dup = True
        o[k] = v
    return o


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def depth(v) -> int:
    """Nesting depth: a scalar 0, [] 1, [[]] 2 (iterative)."""
    best, stack = 0, [(v, 0)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, (list, dict)):
            d += 1
            best = max(best, d)
            stack.extend((y, d) for y in (x.values() if isinstance(x, dict) else x))
    return best


@dataclass
class Member:
    """One answer owed: its id, the error codes allowed (None: any known one but -32603; an empty
    set: must succeed), and the method when the envelope was valid."""
    id: object
    codes: set | None = None
    method: str | None = None
    params: object = None
    must_fail: bool = False
    reasons: set | None = None  # allowed data.reason values, when settled


@dataclass
class Expect:
    kind: str  # none, single, batch
    members: list = field(default_factory=list)
    category: str = ""


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_documented: set | None = None


def _array_params_codes(method: str) -> set:
    """The answer to `method` called with array params: -32602 for a method of openrpc.json, -32601
    for any other (the clock methods exist only under --test-clock: either)."""
    global _documented
    if _documented is None:
        doc = json.loads(OPENRPC_PATH.read_text(encoding="utf-8"))
        _documented = {m["name"] for m in doc["methods"]} | {"rpc.discover"}
    if method.startswith("clock."):
        return {-32601, -32602}
    return {-32602} if method in _documented else {-32601}


def member_of(m) -> Member | None:
    """The JSON-RPC 2.0 rules of SPEC section 3 for one message (None: a notification)."""
    if not isinstance(m, dict):
        return Member(None, {-32600}, must_fail=True)
    if getattr(m, "dup", False):
        raise Ambiguous("repeated envelope member")
    has_id = "id" in m
    idv = m.get("id")
    if has_id and not (idv is None or isinstance(idv, str) or _is_number(idv)):
        return Member(None, {-32600}, must_fail=True)
    echo = idv if (isinstance(idv, str) or _is_number(idv)) else None
    if not (isinstance(m.get("jsonrpc"), str) and m["jsonrpc"] == "2.0"):
        return Member(echo, {-32600}, must_fail=True)
    if not isinstance(m.get("method"), str):
        return Member(echo, {-32600}, must_fail=True)
    params = m.get("params")
    if params == []:
        params = None  # an empty array counts as omitted (SPEC section 6)
    if params is not None and not isinstance(params, dict):
        if isinstance(params, list):
            # An unknown method is -32601 whatever its params; a known one refuses an array.
            return Member(echo, _array_params_codes(m["method"]), must_fail=True) if has_id else None
        return Member(echo, {-32600}, must_fail=True)
    if not has_id:
        return None
    return Member(idv, None, method=m["method"], params=params)


def oracle(line: bytes) -> Expect:
    """How the service must answer `line` (without its newline)."""
    body = line[:-1] if line.endswith(b"\r") else line
    if all(c in b" \t\r" for c in body):
        return Expect("none")
    parse_error = Expect("single", [Member(None, {-32700}, must_fail=True)])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return parse_error
    if text.startswith("\ufeff"):
        raise Ambiguous("byte order mark")
    try:
        v = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_pairs)
    except RecursionError:
        return parse_error
    except ValueError:
        return parse_error
    if depth(v) > MAX_DEPTH:
        return parse_error
    if isinstance(v, list):
        if not v or len(v) > MAX_BATCH:
            return Expect("single", [Member(None, {-32600}, must_fail=True)])
        members = [x for x in (member_of(m) for m in v) if x is not None]
        return Expect("batch", members) if members else Expect("none")
    m = member_of(v)
    return Expect("single", [m]) if m else Expect("none")


# --- generation ---------------------------------------------------------------------------------


class Generator:
    def __init__(self, doc: dict, seed: int):
        self.rng = random.Random(seed)
        self.doc = doc
        self.schemas = doc["components"]["schemas"]
        self.methods = {m["name"]: m for m in doc["methods"]}
        # The `exit` notification ends the session (SPEC section 6): the stream would stop there.
        self.names = sorted(n for n in self.methods if n != "exit")
        self.next_id = 1000
        self.pools = {
            "learnerId": ["fz-ann", "fz-bob", "fz-cat", "fz-ghost", "Fz-Ann", "\u202efz-rtl", "fz-\U0001F600",
                          *INJECTIONS[:6]],
            "courseId": [C1, C2, "course-v1:Nope+X+Y", "course-v1:x';DROP+TABLE+learners--"],
            "providerId": ["fzp", "fzp2", "nope", INJECTIONS[0]],
            "examId": ["final", "quiz", "nope"],
            "checkpointId": ["midterm", "cp2", "nope"],
            "verificationId": ["ver_1", "ver_2", "ver_3", "ver_999"],
            "attemptId": ["att_1", "att_2", "att_999"],
            "requestId": ["0" * 32, "f" * 32, INJECTIONS[1], "nope"],
            "idempotencyKey": ["k1", "k2", "k3", INJECTIONS[2]],
            "requirementId": ["grade", "proctoredExam:final", "reverification:midterm", "reverification:nope", "x"],
            "token": ["tok_visa", "tok_chargeDeclined", "paypal_approved", "paypal_cancelled", "tok_unknown"],
        }

    # ids ------------------------------------------------------------------------------------

    def new_id(self):
        """Ids of every JSON type JSON-RPC allows, some odd."""
        self.next_id += 1
        r = self.rng.random()
        if r < 0.6:
            return self.next_id
        if r < 0.8:
            return f"s{self.next_id}"
        return self.rng.choice([f"{self.next_id}.5", -self.next_id, 0, f"id\u0000{self.next_id}", f"\ud800{self.next_id}",
                                f"\u202e{self.next_id}", "", None, 1e300, -0.0, 2 ** 70, 1.5e-300])

    # values from schemas ---------------------------------------------------------------------

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def text(self, lo: int, hi: int) -> str:
        n = self.rng.randint(max(lo, 1), max(lo, min(hi, 40)))
        return "".join(self.rng.choice(string.ascii_letters + string.digits + " .-") for _ in range(n)).strip() or "x"

    def value(self, name: str, schema: dict):
        rng = self.rng
        s = self.resolve(schema)
        if "oneOf" in s:
            return self.value(name, rng.choice(s["oneOf"]))
        if "enum" in s:
            return rng.choice(s["enum"])
        t = s.get("type")
        if t == "object":
            props = s.get("properties", {})
            req = s.get("required", [])
            out = {}
            for k, sub in props.items():
                if k in req or rng.random() < 0.4:
                    out[k] = self.value(k, sub)
            return out
        if t == "array":
            n = rng.randint(s.get("minItems", 0 if name != "secrets" else 1), 3)
            return [self.value(name, s.get("items", {})) for _ in range(n)]
        if t == "boolean":
            return rng.random() < 0.5
        if t == "integer":
            lo = s.get("minimum", 0)
            hi = s.get("maximum", lo + 10_000)
            return rng.choice([lo, hi, rng.randint(lo, min(hi, lo + 1000)), rng.randint(lo, hi)])
        if t == "number":
            lo = s.get("minimum", 0)
            hi = s.get("maximum", 1)
            return rng.choice([lo, hi, round(rng.uniform(lo, hi), rng.randint(0, 6))])
        if t == "string":
            return self.string_value(name, s)
        return rng.choice([1, "x", None, True])

    def string_value(self, name: str, s: dict) -> str:
        rng = self.rng
        pat = s.get("pattern", "")
        fmt = s.get("format")
        if name in self.pools and rng.random() < 0.9:
            return rng.choice(self.pools[name])
        if s.get("contentEncoding") == "base64":
            return base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))).decode()
        if fmt == "date-time":
            return rng.choice(DATES[:6]) if rng.random() < 0.8 else rng.choice(DATES)
        if "course-v1" in pat:
            return rng.choice(self.pools["courseId"])
        if fmt == "email" or "@" in pat:
            return f"{self.text(1, 10).replace(' ', '')}@fuzz.example"
        if pat == "^[A-Z]{2}$":
            return rng.choice(["US", "GB", "FR", "IN", "ZZ"])
        if pat == "^[A-Z]{3}$":
            return rng.choice(["USD", "EUR", "XXX"])
        if pat.startswith("^[0-9]{1,12}"):
            return rng.choice(["0", "1", "300", "300.5", "300.00", "999999999999.99", "12.340"])
        if fmt == "uri" or pat.startswith("^https?"):
            return rng.choice(["https://fuzz.example/credit", "http://x.example/a?b=c&d=e#f"])
        if name in ("signature",):
            return "".join(rng.choice("0123456789abcdef") for _ in range(64))
        return self.text(s.get("minLength", 1), s.get("maxLength", 40))

    def params_for(self, method: str) -> dict:
        m = self.methods[method]
        out = {}
        for p in m["params"]:
            if p.get("required") or self.rng.random() < 0.5:
                out[p["name"]] = self.value(p["name"], p["schema"])
        return out

    # lines ----------------------------------------------------------------------------------

    def call(self, method, params, id=..., with_params=True) -> dict:
        msg = {"jsonrpc": "2.0", "id": self.new_id() if id is ... else id, "method": method}
        if with_params:
            msg["params"] = params
        return msg

    def dump(self, v, ascii_only=None) -> bytes:
        if ascii_only is None:
            ascii_only = self.rng.random() < 0.5
        text = json.dumps(v, ensure_ascii=ascii_only, separators=(",", ":") if self.rng.random() < 0.7 else None)
        return text.encode("utf-8", "surrogatepass")

    def preamble(self) -> list[bytes]:
        lines = []

        def add(method, params):
            lines.append(self.dump({"jsonrpc": "2.0", "id": f"pre{len(lines)}", "method": method, "params": params},
                                   ascii_only=True))
        add("createCourse", {"courseId": C1, "title": "Fuzzing 101", "startsAt": "2026-01-01T00:00:00Z",
                             "endsAt": "2026-12-31T23:59:59Z"})
        add("createCourse", {"courseId": C2, "title": "Fuzzing 202", "startsAt": "2026-01-01T00:00:00Z",
                             "endsAt": "2026-12-31T23:59:59Z", "verifiedPrice": {"amount": "49", "currency": "USD"}})
        add("createProvider", {"providerId": "fzp", "displayName": "Fuzz U", "url": "https://fuzz.example/credit",
                               "requiresAdditionalSteps": True, "secrets": ["fuzz-secret-1", "fuzz-secret-0"]})
        add("createProvider", {"providerId": "fzp2", "displayName": "Fuzz Two", "url": "https://two.example",
                               "secrets": ["fuzz-secret-2"]})
        for c in (C1, C2):
            for p in ("fzp", "fzp2"):
                add("offerCredit", {"courseId": c, "providerId": p, "price": {"amount": "100", "currency": "USD"}})
        add("createExam", {"courseId": C2, "examId": "final", "displayName": "Final", "timeLimitMinutes": 90,
                           "passingScore": 0.6})
        add("createExam", {"courseId": C2, "examId": "quiz", "displayName": "Quiz", "timeLimitMinutes": 10,
                           "passingScore": 0.5, "proctored": False})
        add("setCreditRequirements", {"courseId": C1, "requirements": [{"kind": "grade", "minGrade": 0.8}]})
        add("setCreditRequirements", {"courseId": C2, "requirements": [
            {"kind": "grade", "minGrade": 0.7}, {"kind": "proctoredExam", "examId": "final"},
            {"kind": "reverification", "checkpointId": "midterm", "displayName": "Midterm check"}]})
        for lid in ("fz-ann", "fz-bob", "fz-cat"):
            add("createLearner", {"learnerId": lid, "fullName": lid.upper(), "email": f"{lid}@fuzz.example",
                                  "country": "US"})
            for c in (C1, C2):
                add("enroll", {"learnerId": lid, "courseId": c, "mode": "verified"})
        add("recordGrade", {"learnerId": "fz-ann", "courseId": C1, "grade": 0.9})
        return lines

    CATEGORIES = [
        ("valid", 30), ("wrong_type", 8), ("unknown_field", 5), ("missing", 4), ("out_of_range", 6),
        ("huge", 2), ("odd_unicode", 8), ("injection", 4), ("time_edge", 3), ("envelope", 8), ("batch", 6),
        ("notification", 3), ("broken", 12), ("blank", 1),
    ]

    def line(self) -> tuple[bytes, Expect]:
        """One generated line (no newline) and what it is owed."""
        for _ in range(50):
            cat = self.rng.choices([c for c, _ in self.CATEGORIES], [w for _, w in self.CATEGORIES])[0]
            try:
                data, refine = getattr(self, "gen_" + cat)()
                if b"\n" in data:
                    continue
                exp = oracle(data)
            except Ambiguous:
                continue
            exp.category = cat
            if refine and exp.kind == "single" and exp.members[0].method is not None:
                refine(exp.members[0])
            return data, exp
        raise RuntimeError("the generator keeps producing ambiguous lines")

    def _method(self, with_params=True) -> str:
        names = [n for n in self.names if self.methods[n]["params"]] if with_params else self.names
        return self.rng.choice(names)

    # categories: each returns (bytes, refine(member) or None)

    def gen_valid(self):
        m = self._method(with_params=False)
        return self.dump(self.call(m, self.params_for(m))), _forbid_reasons({"unknown_field", "duplicate_field"})

    def gen_wrong_type(self):
        m = self._method()
        params = self.params_for(m)
        spec = self.rng.choice(self.methods[m]["params"])
        s = self.resolve(spec["schema"])
        t = s.get("type") or ("object" if "properties" in s or "oneOf" in s else None)
        if "enum" in s:
            t = "string"
        alternatives = {
            "string": [123, 0.5, True, False, [], {}, ["x"], {"a": "b"}],
            "number": ["0.5", "1", True, [], {}, [0.5]],
            "integer": ["5", 1.5, 0.1, True, [], {}, 1e-5],
            "boolean": ["true", 1, 0, [], {}, "false"],
            "array": ["x", {}, 1, True],
            "object": ["x", [], 1, True, [{}]],
        }.get(t, ["x", 1])
        params[spec["name"]] = self.rng.choice(alternatives)
        return self.dump(self.call(m, params)), _must_fail({-32602}, field=spec["name"])

    def gen_unknown_field(self):
        # Methods marked x-any-params (the LSP lifecycle) take any parameters.
        m = self.rng.choice([n for n in self.names if not self.methods[n].get("x-any-params")])
        params = self.params_for(m)
        name = self.rng.choice(["zzUnknown", "learnerID", "__proto__", "constructor", "", " ", "id", "\u0000",
                                "params", "$where", "a" * 300])
        if name in params:
            name += "_x"
        params[name] = self.rng.choice([1, "x", 0.5, False, {}, []])
        return self.dump(self.call(m, params)), _must_fail({-32602})

    def gen_missing(self):
        candidates = [n for n in self.names if any(p.get("required") for p in self.methods[n]["params"])]
        m = self.rng.choice(candidates)
        params = self.params_for(m)
        req = [p["name"] for p in self.methods[m]["params"] if p.get("required")]
        gone = self.rng.choice(req)
        if self.rng.random() < 0.5:
            params.pop(gone, None)
        else:
            params[gone] = None  # null counts as omitted
        return self.dump(self.call(m, params)), _must_fail({-32602}, field=gone)

    def gen_out_of_range(self):
        rng = self.rng
        ranged = []
        for n in self.names:
            for p in self.methods[n]["params"]:
                s = self.resolve(p["schema"])
                if s.get("type") in ("integer", "number") or "maxLength" in s and s["maxLength"] <= 5000:
                    ranged.append((n, p["name"], s))
        m, name, s = rng.choice(ranged)
        params = self.params_for(m)
        if s.get("type") in ("integer", "number"):
            lo, hi = s.get("minimum"), s.get("maximum")
            options = []
            if lo is not None:
                options += [lo - 1, lo - 0.0001 if s["type"] == "number" else lo - 1, -1e308, -(2 ** 63) - 1, -(10 ** 400)]
            if hi is not None:
                options += [hi + 1, hi + 0.0001 if s["type"] == "number" else hi + 1, 1e308, 2 ** 63, 10 ** 400]
            if not options:
                options = [-1]
            params[name] = rng.choice(options)
        else:
            params[name] = "y" * (s["maxLength"] + rng.choice([1, 2, 100]))
        return self.dump(self.call(m, params)), _must_fail({-32602}, field=name)

    def gen_huge(self):
        m = self._method()
        params = self.params_for(m)
        strings = [p for p in self.methods[m]["params"] if self.resolve(p["schema"]).get("type") == "string"]
        if not strings:
            return self.gen_valid()
        p = self.rng.choice(strings)
        size = self.rng.choice([5_000, 20_000, 100_000, self.rng.randint(1, 100_000)])
        chunk = self.rng.choice(["A", "é", "\U0001F600", "'; DROP TABLE x; --", "\u202e", "=", "\\u0000"])
        params[p["name"]] = (chunk * (size // len(chunk.encode()) + 1))[: max(1, size // len(chunk.encode()))]
        limit = self.resolve(p["schema"]).get("maxLength", 10 ** 9)
        too_long = len(params[p["name"]]) > limit
        return self.dump(self.call(m, params)), (_must_fail({-32602}, field=p["name"]) if too_long else None)

    def gen_odd_unicode(self):
        m = self._method()
        params = self.params_for(m)
        strings = [p for p in self.methods[m]["params"] if self.resolve(p["schema"]).get("type") == "string"]
        if not strings:
            return self.gen_valid()
        p = self.rng.choice(strings)
        s = self.resolve(p["schema"])
        odd = "".join(self.rng.choice(ODD) for _ in range(self.rng.randint(1, 4)))
        base = params.get(p["name"]) if isinstance(params.get(p["name"]), str) else "v"
        params[p["name"]] = self.rng.choice([odd, base + odd, odd + base, base[:1] + odd + base[1:]])
        if self.rng.random() < 0.1 and "maxLength" in s:  # at the limit in code points, multi-byte
            params[p["name"]] = "\U0001F600" * s["maxLength"] if s["maxLength"] <= 5000 else odd
        # Lone surrogates cannot be written raw in UTF-8: as escapes they are valid JSON.
        raw_ok = not any(0xD800 <= ord(c) <= 0xDFFF for c in params[p["name"]])
        data = self.dump(self.call(m, params), ascii_only=not raw_ok or self.rng.random() < 0.5)
        within = len(params[p["name"]]) <= s.get("maxLength", 10 ** 9)
        if "\u0000" in params[p["name"]]:
            # U+0000 is refused in every string parameter, on both engines (SPEC section 7).
            return data, _must_fail({-32602, -32007}, field=p["name"], reason="nul_character")
        return data, _forbid_reasons({"unknown_field", "duplicate_field"} | ({"too_long"} if within else set()))

    def gen_injection(self):
        m = self._method()
        params = self.params_for(m)
        strings = [p for p in self.methods[m]["params"] if self.resolve(p["schema"]).get("type") == "string"]
        if strings:
            p = self.rng.choice(strings)
            params[p["name"]] = self.rng.choice(INJECTIONS)
        return self.dump(self.call(m, params)), None

    def gen_time_edge(self):
        timed = [(n, p["name"]) for n in self.names for p in self.methods[n]["params"]
                 if self.resolve(p["schema"]).get("format") == "date-time"
                 or p["name"] in ("seconds", "timestamp", "purchaseWindowDays", "extraMinutes", "timeLimitMinutes")]
        m, name = self.rng.choice(timed)
        params = self.params_for(m)
        s = self.resolve(next(p["schema"] for p in self.methods[m]["params"] if p["name"] == name))
        if s.get("type") == "integer":
            params[name] = self.rng.choice([s.get("maximum", 10 ** 9), s.get("minimum", 0), 0])
        else:
            params[name] = self.rng.choice(DATES)
        return self.dump(self.call(m, params)), None

    def gen_envelope(self):
        rng = self.rng
        m = self._method(with_params=False)
        msg = self.call(m, self.params_for(m))
        k = rng.randrange(12)
        if k == 0:
            del msg["jsonrpc"]
        elif k == 1:
            msg["jsonrpc"] = rng.choice(["1.0", "2", 2.0, 2, None, "2.0 ", ""])
        elif k == 2:
            msg["method"] = rng.choice([1, None, [], {}, True])
        elif k == 3:
            del msg["method"]
        elif k == 4:
            msg["id"] = rng.choice([{}, [], True, False, {"a": 1}, [1]])
        elif k == 5:
            msg["params"] = rng.choice([1, "x", True, 0.5])
        elif k == 6:
            msg["params"] = rng.choice([[], [1, 2], [{}]])
        elif k == 7:
            msg["params"] = None
        elif k == 8:
            msg["method"] = rng.choice(["nope", "", "rpc.nope", "LISTCOURSES", "listCourses ", "constructor",
                                        "__proto__", "\u0000", "clock.reset", "rpc.discover\u0000"])
        elif k == 9:
            msg["extra"] = {"ignored": True}
            msg["result"] = 1
            msg["error"] = {"code": 1}
        elif k == 10:
            msg["id"] = rng.choice([1.50, 1e3, -0.0, 10 ** 30, "", " ", "\u0000", 0.1])
        else:
            return b"[" + self.dump(msg) + b"]", None
        if k == 8:
            return self.dump(msg), _must_fail({-32601})
        return self.dump(msg), None

    def gen_notification(self):
        m = self._method(with_params=False)
        msg = self.call(m, self.params_for(m))
        del msg["id"]
        if self.rng.random() < 0.3:
            msg["method"] = "nope"
        return self.dump(msg), None

    def gen_batch(self):
        rng = self.rng
        members = []
        for _ in range(rng.choice([1, 2, 3, 5, 10, 30])):
            r = rng.random()
            if r < 0.5:
                m = self._method(with_params=False)
                members.append(self.call(m, self.params_for(m)))
            elif r < 0.65:
                m = self._method(with_params=False)
                msg = self.call(m, self.params_for(m))
                del msg["id"]
                members.append(msg)
            elif r < 0.8:
                members.append(rng.choice([1, "x", None, [], {}, True, [1, 2]]))
            else:
                members.append({"jsonrpc": "2.0", "id": self.new_id(), "method": rng.choice(["nope", 5])})
        if rng.random() < 0.05:
            members = []
        return self.dump(members), None

    def gen_broken(self):
        rng = self.rng
        m = self._method(with_params=False)
        valid = self.dump(self.call(m, self.params_for(m)))
        k = rng.randrange(10)
        if k == 0:  # truncated
            return valid[: rng.randrange(len(valid))], None
        if k == 1:  # flipped bytes
            b = bytearray(valid)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            return bytes(b).replace(b"\n", b" "), None
        if k == 2:  # random bytes
            return bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))).replace(b"\n", b" "), None
        if k == 3:  # deep nesting, either side of the limit
            d = rng.choice([100, 400, 512, 513, 600, 5_000, 100_000])
            if rng.random() < 0.5:
                return b"[" * d + b"]" * d, None
            return b'{"a":' * d + b"1" + b"}" * d, None
        if k == 4:  # deep nesting inside params
            d = rng.choice([50, 505, 520, 3_000])
            return (b'{"jsonrpc":"2.0","id":7,"method":"listCourses","params":{"creditOnly":'
                    + b"[" * d + b"]" * d + b"}}"), None
        if k == 5:  # invalid UTF-8 inside a string
            bad = rng.choice([b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
                              b"\xf8\x88\x80\x80\x80", b"\x80"])
            i = re.search(rb'"method":\s*"', valid).end()
            return valid[:i] + bad + valid[i:], None
        if k == 6:  # syntax JSON forbids
            return rng.choice([
                b'{"jsonrpc":"2.0","id":1,"method":"listCourses",}', b"{'jsonrpc':'2.0','id':1,'method':'listCourses'}",
                b'{"jsonrpc":"2.0","id":NaN,"method":"listCourses"}', b'{"jsonrpc":"2.0","id":Infinity,"method":"x"}',
                b'{"jsonrpc":"2.0","id":01,"method":"listCourses"}', b'{"jsonrpc":"2.0","id":+1,"method":"listCourses"}',
                b'{"jsonrpc":"2.0","id":1.,"method":"listCourses"}', b'{"jsonrpc":"2.0","id":.5,"method":"listCourses"}',
                b'{"jsonrpc":"2.0","id":0x10,"method":"listCourses"}', b'{"jsonrpc":"2.0",/*c*/"id":1,"method":"x"}',
                b'{"jsonrpc":"2.0","id":1,"method":"list\tCourses"}', b'{"jsonrpc":"2.0","id":1,"method":"listCourses"',
                b'{"jsonrpc":"2.0","id":1,"method":"listCourses"}}', b'{"jsonrpc":"2.0","id":1,"method":"listCourses"} x',
                b'{"jsonrpc":"2.0","id":1,"method":"\\x41"}', b'{"jsonrpc":"2.0","id":1,"method":"\\u12"}',
                b'{"jsonrpc":"2.0","id":1,"method":"\\ud800\\u0041"}', b'{"jsonrpc" "2.0"}', b'{"a":1 "b":2}',
                b"[1,2,]", b"[,]", b"tru", b"nul", b"-", b"1e", b"1e+", b"--1", b'"\\', b"\x00", b"\x1e{}",
                b'{"jsonrpc":"2.0","id":1,"method":"listCourses"}\x00', b"\xef\xbb\xbf" + valid,
                b'{"jsonrpc":"2.0","id":1e999999,"method":"listCourses"}',
            ]), None
        if k == 7:  # two messages on one line
            return valid + b" " + valid, None
        if k == 8:  # a valid line with a trailing \r, or surrounding whitespace
            return rng.choice([valid + b"\r", b" \t" + valid + b" ", b"\r" + valid]), None
        return valid.replace(b'"', b"'", 1), None

    def gen_blank(self):
        return self.rng.choice([b"", b" ", b"\t", b"\r", b" \t \r"]), None


def _must_fail(codes: set, field: str | None = None, reason: str | None = None):
    """The answer must be an error with one of `codes`; with `reason`, that data.reason and data.field."""
    def refine(m: Member):
        m.codes = codes
        m.must_fail = True
        if reason is not None:
            m.reasons = {reason}
            m.field = field
    return refine


def _forbid_reasons(reasons: set):
    """For schema-valid params: an unknown-field answer would mean openrpc.json and the code differ."""
    def refine(m: Member):
        m.forbidden_reasons = reasons
    return refine


# --- checking ---------------------------------------------------------------------------------


_LONE = re.compile("[\ud800-\udfff]")


def _same_id(a, b) -> bool:
    """`a` as answered equals `b` as sent (a lone surrogate escape is read as U+FFFD, as the
    parser documents: such a string cannot be written back as UTF-8)."""
    if isinstance(b, str):
        b = _LONE.sub("\ufffd", b)
    if _is_number(a) and _is_number(b):
        return a == b or (a != a and b != b)
    return type(a) is type(b) and a == b


class Checker:
    def __init__(self, doc: dict | None, methods: set | None = None):
        """`methods`: when the principal is not admin, the methods whose calls may be -32007
        forbidden (decided before any other work) whatever their params."""
        self.forbidden_ok = methods or set()
        self.validators = {}
        if doc is not None:
            try:
                from jsonschema import Draft7Validator
            except ImportError:
                doc = None
        if doc is not None:
            for m in doc["methods"]:
                schema = m.get("result", {}).get("schema")
                if schema:
                    root = {"components": doc.get("components", {}), "allOf": [schema]}
                    self.validators[m["name"]] = Draft7Validator(root)
        self.internal_errors: list[str] = []
        #: (method, [schema error], answer and input): results that break their openrpc.json schema.
        self.schema_errors: list[tuple] = []
        self.counts: dict[str, int] = {}

    def answer(self, m: Member, r, source: bytes) -> None:
        where = f"input line {source[:600]!r}"
        if not isinstance(r, dict) or r.get("jsonrpc") != "2.0" or "id" not in r:
            raise AssertionError(f"malformed answer {r!r} to {where}")
        if ("result" in r) == ("error" in r) or set(r) - {"jsonrpc", "id", "result", "error"}:
            raise AssertionError(f"answer must hold exactly one of result and error: {r!r} to {where}")
        if not _same_id(r["id"], m.id):
            raise AssertionError(f"answer id {r['id']!r}, expected {m.id!r}: {r!r} to {where}")
        if "error" in r:
            e = r["error"]
            ok = (isinstance(e, dict) and isinstance(e.get("code"), int) and isinstance(e.get("message"), str)
                  and e["message"] and isinstance(e.get("data"), dict) and isinstance(e["data"].get("reason"), str)
                  and REASON.match(e["data"]["reason"]))
            if not ok:
                raise AssertionError(f"error without an integer code, a message and a snake_case data.reason: {r!r} "
                                     f"to {where}")
            code = e["code"]
            self.counts[str(code)] = self.counts.get(str(code), 0) + 1
            if code == -32603:
                self.internal_errors.append(f"{json.dumps(r)[:400]} <- {where}")
                return
            if code not in KNOWN_CODES:
                raise AssertionError(f"undocumented error code {code}: {r!r} to {where}")
            if code == -32007 and m.method in self.forbidden_ok:
                return
            if m.codes is not None and code not in m.codes:
                raise AssertionError(f"error code {code}, expected one of {sorted(m.codes)}: {r!r} to {where}")
            # Another field may be refused first (generated values are not always valid); the field
            # that holds the NUL must be refused for it.
            if (m.reasons is not None and code != -32007 and e["data"].get("field") == getattr(m, "field", None)
                    and e["data"]["reason"] not in m.reasons):
                raise AssertionError(f"expected reason {sorted(m.reasons)} for field {getattr(m, 'field', None)}: "
                                     f"{r!r} to {where}")
            bad = getattr(m, "forbidden_reasons", None)
            if bad and e["data"]["reason"] in bad:
                raise AssertionError(f"a schema-valid call refused with {e['data']['reason']}: {r!r} to {where}")
        else:
            self.counts["result"] = self.counts.get("result", 0) + 1
            if m.must_fail:
                raise AssertionError(f"expected an error ({sorted(m.codes or [])}), got a result: {json.dumps(r)[:600]} "
                                     f"to {where}")
            v = self.validators.get(m.method or "")
            if v is not None and m.method != "rpc.discover":
                errors = [f"{'/'.join(map(str, x.absolute_path)) or '(root)'}: {x.message[:200]}"
                          for x in v.iter_errors(r["result"])]
                if errors:
                    self.schema_errors.append((m.method, errors, f"{json.dumps(r)[:600]} <- {where}"))

    def line(self, exp: Expect, out: bytes, source: bytes) -> None:
        try:
            r = json.loads(out.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise AssertionError(f"stdout line is not JSON: {out[:300]!r} (answer to {source[:300]!r})")
        if exp.kind == "single":
            if isinstance(r, list):
                raise AssertionError(f"an array answered a single message: {out[:300]!r} to {source[:300]!r}")
            self.answer(exp.members[0], r, source)
        else:
            if not isinstance(r, list) or len(r) != len(exp.members):
                raise AssertionError(f"batch answer with {len(r) if isinstance(r, list) else 'no'} members, expected "
                                     f"{len(exp.members)}: {out[:400]!r} to {source[:400]!r}")
            for m, x in zip(exp.members, r):
                self.answer(m, x, source)


@dataclass
class Report:
    lines: int = 0
    answers: int = 0
    seconds: float = 0.0
    bytes_in: int = 0
    categories: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    internal_errors: list = field(default_factory=list)
    schema_errors: list = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.lines} lines ({self.bytes_in / 1e6:.1f} MB), {self.answers} answer lines, "
                f"{self.seconds:.1f}s; categories {self.categories}; outcomes {self.codes}; "
                f"{len(self.internal_errors)} internal errors, {len(self.schema_errors)} results off their schema")


def run(binary: str, lines: int, seed: int, db: Path, timeout: float = 600.0, validate: bool = True,
        principal: str | None = None) -> Report:
    """Streams `lines` generated lines through one process on the file `db` (as `principal`, after
    the catalog was made as admin, when one is given). Raises
    AssertionError (with the seed and the input) on the first broken rule; -32603 answers and
    results that do not match their schema are collected in the report (the caller decides)."""
    doc = json.loads(OPENRPC_PATH.read_text(encoding="utf-8"))
    gen = Generator(doc, seed)
    checker = Checker(doc if validate else None,
                      {m["name"] for m in doc["methods"]} if principal and principal != "admin" else None)
    report = Report()
    pre = gen.preamble()
    if principal:
        out, err, rc, _ = run_piped(binary, ["--db", str(db), "--test-clock", CLOCK], b"\n".join(pre) + b"\n", 120)
        if rc != 0 or len(out) != len(pre) or any(b'"error"' in x for x in out):
            raise AssertionError(f"fuzz preamble failed: exit {rc}, {out[:5]}, {err[-1000:]}")
        pre = []
    last_without_newline = gen.rng.random() < 0.2
    owed: queue.Queue = queue.Queue()
    t0 = time.monotonic()
    args = ["--db", str(db), "--test-clock", CLOCK, *(["--as", principal] if principal else [])]

    def items():
        for line in pre:
            e = oracle(line)
            e.members[0].codes = set()  # the catalog must be created
            e.category = "preamble"
            yield line, e
        for _ in range(lines):
            yield gen.line()

    with Piped(binary, args) as p:
        def write():
            """Generates and writes line by line (memory stays flat for any budget); announces
            each owed answer on the queue first, then None at the end (or the exception)."""
            try:
                fd = p.proc.stdin.fileno()
                total = len(pre) + lines
                for n, (src, exp) in enumerate(items(), 1):
                    report.categories[exp.category] = report.categories.get(exp.category, 0) + 1
                    report.lines += 1
                    if exp.kind != "none":
                        owed.put((src, exp))
                    data = src if (n == total and last_without_newline) else src + b"\n"
                    report.bytes_in += len(data)
                    view = memoryview(data)
                    while len(view):
                        view = view[os.write(fd, view):]
                p.proc.stdin.close()
                owed.put(None)
            except BaseException as e:  # noqa: BLE001 - handed to the reader
                owed.put(e)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        deadline = t0 + timeout
        try:
            i = 0
            while True:
                item = owed.get(timeout=max(0.1, deadline - time.monotonic()))
                if item is None:
                    break
                if isinstance(item, BaseException):
                    if isinstance(item, OSError):
                        raise AssertionError(f"writing to the service failed ({item}): it died? "
                                             f"exit {p.proc.poll()}; stderr: {p.stderr()[-2000:]}")
                    raise item
                src, exp = item
                out = p.read_line(max(0.0, deadline - time.monotonic()))
                if out is None:
                    status = p.proc.poll()
                    raise AssertionError(
                        f"no answer line for owed answer {i} ({'hang' if status is None else f'exit {status}'}); "
                        f"input {src[:600]!r}; stderr: {p.stderr()[-2000:]}")
                i += 1
                report.answers += 1
                checker.line(exp, out, src)
            extra = p.read_available(deadline)
            if extra or p.partial:
                raise AssertionError(f"answers nobody was owed: {extra[:3]!r} {p.partial[:200]!r}")
            rc = p.wait(max(1.0, deadline - time.monotonic()))
            if rc != 0:
                raise AssertionError(f"exit status {rc} at EOF (None: hang); stderr: {p.stderr()[-2000:]}")
        except queue.Empty:
            raise AssertionError(f"fuzz, seed {seed}: no progress within {timeout}s (hang?)") from None
        except AssertionError as e:
            raise AssertionError(f"fuzz, seed {seed}: {e}") from None
        finally:
            report.seconds = time.monotonic() - t0
            report.codes = checker.counts
            report.internal_errors = checker.internal_errors
            report.schema_errors = checker.schema_errors
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=int(os.environ.get("CREDIT_RPC_FUZZ_LINES", "20000")))
    ap.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    ap.add_argument("--bin", default=None)
    ap.add_argument("--no-schema", action="store_true", help="skip validating results against openrpc.json")
    ap.add_argument("--as", dest="principal", default=None, help="stream as this principal (catalog made as admin)")
    ap.add_argument("--dump", metavar="FILE", help="only write the generated lines to FILE")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 31)
    if a.dump:
        gen = Generator(json.loads(OPENRPC_PATH.read_text()), seed)
        with open(a.dump, "wb") as f:
            for line in gen.preamble():
                f.write(line + b"\n")
            for _ in range(a.lines):
                f.write(gen.line()[0] + b"\n")
        print(f"wrote {a.lines} lines (seed {seed}) to {a.dump}")
        return 0
    binary = a.bin or find_binary()
    with tempfile.TemporaryDirectory(prefix="credit-fuzz-") as d:
        print(f"fuzz: seed {seed}, {a.lines} lines", flush=True)
        try:
            report = run(binary, a.lines, seed, Path(d) / "fuzz.sqlite", validate=not a.no_schema,
                         principal=a.principal, timeout=max(600.0, a.lines / 100))
        except AssertionError as e:
            print(f"FAILED: {e}", file=sys.stderr)
            return 1
    print(report.summary())
    for x in report.internal_errors[:20]:
        print(f"internal error: {x}", file=sys.stderr)
    for method, errors, where in report.schema_errors[:20]:
        print(f"{method} result off its schema: {errors[:3]}: {where}", file=sys.stderr)
    return 1 if report.internal_errors or report.schema_errors else 0


if __name__ == "__main__":
    sys.exit(main())
