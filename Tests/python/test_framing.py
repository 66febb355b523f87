"""SPEC section 6: header (Content-Length) framing, byte for byte, against the binary.

Every answer must be exactly `Content-Length: N\\r\\n\\r\\n` then N bytes of JSON; `framed()` parses
stdout strictly and fails on any other byte. The line framing of section 3 is test_transport.py.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time

import pytest

from conftest import TIMEOUT, base_env, binary, run_raw

LEARNER = {"learnerId": "ada", "fullName": "Ada Lövelace ✓", "email": "ada@example.org", "country": "GB"}


def body(method, id=1, params=None, **extra) -> bytes:
    msg = {"jsonrpc": "2.0", "method": method, **extra}
    if id is not None:
        msg["id"] = id
    if params is not None:
        msg["params"] = params
    return json.dumps(msg, ensure_ascii=False).encode()


def frame(b: bytes | dict, headers: str = "") -> bytes:
    """One message: `headers` (each ended by \\r\\n) go before Content-Length."""
    if isinstance(b, (dict, list)):
        b = json.dumps(b, ensure_ascii=False).encode()
    return headers.encode() + b"Content-Length: %d\r\n\r\n" % len(b) + b


def framed(out: bytes) -> list:
    """The answers of a header-framed stdout; fails on anything but exact frames."""
    answers = []
    while out:
        head, sep, rest = out.partition(b"\r\n\r\n")
        assert sep and head.startswith(b"Content-Length: "), f"not a frame: {out[:200]!r}"
        n = head[len(b"Content-Length: "):]
        assert n.isdigit() and str(int(n)).encode() == n, f"bad Content-Length header {head!r}"
        n = int(n)
        assert len(rest) >= n, f"frame cut short: {out[:200]!r}"
        answers.append(json.loads(rest[:n].decode("utf-8")))
        out = rest[n:]
    return answers


def serve(data: bytes, *args: str, db: str = ":memory:"):
    """(answers, stderr, exit status) of one piped run."""
    p = run_raw(data, "--db", db, *args)
    return framed(p.stdout), p.stderr.decode("utf-8", "replace"), p.returncode


def ok(data: bytes, *args: str, **kw) -> list:
    answers, err, rc = serve(data, *args, **kw)
    assert rc == 0, err
    return answers


def error_of(answer) -> tuple:
    e = answer["error"]
    assert isinstance(e["message"], str) and e["message"], answer
    return e["code"], e["data"]["reason"], answer["id"]


LIST = body("listCourses")
NO_COURSES = {"jsonrpc": "2.0", "id": 1, "result": {"courses": []}}


# --- choosing the framing ----------------------------------------------------------------------


def test_a_header_first_chooses_header_framing_and_answers_framed():
    p = run_raw(frame(LIST), "--db", ":memory:")
    assert p.returncode == 0, p.stderr
    body_ = b'{"jsonrpc":"2.0","id":1,"result":{"courses":[]}}'
    assert p.stdout == b"Content-Length: %d\r\n\r\n" % len(body_) + body_


def test_blank_lines_before_the_first_header_are_skipped():
    assert ok(b"\r\n\n  \r\n" + frame(LIST)) == [NO_COURSES]


def test_a_brace_or_bracket_first_keeps_line_framing():
    p = run_raw(b'\n{"jsonrpc":"2.0","id":1,"method":"listCourses"}\n[{"jsonrpc":"2.0","id":2,"method":"listCourses"}]\n',
                "--db", ":memory:")
    lines = p.stdout.decode().splitlines()
    assert [json.loads(x) for x in lines] == [NO_COURSES, [{**NO_COURSES, "id": 2}]]


def test_framing_is_decided_once_a_json_line_later_is_not_a_header():
    # Under header framing a JSON line where headers belong is an unreadable header.
    answers, _, rc = serve(frame(LIST) + LIST + b"\n")
    assert answers[0] == NO_COURSES and error_of(answers[1]) == (-32700, "invalid_header", None)
    assert rc == 1


def test_something_else_first_is_line_framing():
    p = run_raw(b"hello\n" + LIST + b"\n", "--db", ":memory:")
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert lines[0]["error"]["code"] == -32700 and lines[1] == NO_COURSES


# --- reading -----------------------------------------------------------------------------------


def test_header_names_are_case_insensitive_and_other_headers_ignored():
    b = LIST
    data = (b"content-length: %d\r\n\r\n" % len(b) + b
            + b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH: %d\r\n\r\n" % len(b) + b
            + b"X-Whatever: 1\r\ncOnTeNt-LeNgTh:%d  \r\nUser-Agent: test\r\n\r\n" % len(b) + b)
    assert ok(data) == [NO_COURSES] * 3


def test_bare_newlines_end_headers_too():
    assert ok(b"Content-Length: %d\n\n" % len(LIST) + LIST + b"Content-Length: %d\r\n\n" % len(LIST) + LIST) == [
        NO_COURSES, NO_COURSES]


def test_several_messages_in_one_write_and_no_trailing_newline_needed():
    data = b"".join(frame(body("listCourses", id=i)) for i in range(1, 51))
    assert [a["id"] for a in ok(data)] == list(range(1, 51))


def test_pretty_printed_body_with_raw_newlines():
    b = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "createLearner", "params": LEARNER},
                   indent=2, ensure_ascii=False).replace("\n", "\r\n").encode()
    assert b"\n" in b
    [a] = ok(frame(b))
    assert a["id"] == 7 and a["result"]["fullName"] == LEARNER["fullName"]


def test_length_counts_utf8_bytes_both_ways():
    b = body("createLearner", params=LEARNER)
    assert len(b) != len(b.decode())
    p = run_raw(frame(b), "--db", ":memory:")
    head, _, rest = p.stdout.partition(b"\r\n\r\n")
    assert int(head.split(b": ")[1]) == len(rest) and len(rest) != len(rest.decode())
    assert json.loads(rest)["result"]["fullName"] == LEARNER["fullName"]


def test_empty_or_invalid_body_is_a_framed_parse_error_and_serving_goes_on():
    answers = ok(frame(b"") + frame(b"{not json") + frame(b"\xff\xfe") + frame(LIST))
    assert [error_of(a)[:2] for a in answers[:3]] == [
        (-32700, "invalid_json"), (-32700, "invalid_json"), (-32700, "invalid_utf8")]
    assert all(a["id"] is None for a in answers[:3]) and answers[3] == NO_COURSES


def test_oversize_body_is_skipped_and_answered_line_too_long():
    big = body("createLearner", id=9, params={**LEARNER, "mailingAddress": "x" * 500})
    answers, _, rc = serve(frame(big) + frame(LIST), "--max-line-bytes", "300")
    assert rc == 0
    assert error_of(answers[0]) == (-32600, "line_too_long", None) and answers[1] == NO_COURSES
    # The limit is the body's length: exactly the limit is served.
    assert ok(frame(LIST), "--max-line-bytes", str(len(LIST))) == [NO_COURSES]


def test_oversize_body_cut_by_end_of_input_is_answered_once():
    data = b"Content-Length: 100000\r\n\r\n" + b"x" * 10
    answers, _, rc = serve(data, "--max-line-bytes", "300")
    assert rc == 0 and [error_of(a)[:2] for a in answers] == [(-32600, "line_too_long")]


@pytest.mark.parametrize("header", [
    b"Content-Type: application/json\r\n\r\n",  # no Content-Length
    b"Content-Length: abc\r\n\r\n",
    b"Content-Length: -5\r\n\r\n",
    b"Content-Length: \r\n\r\n",
    b"Content-Length 12\r\n\r\n",  # no colon
    b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
], ids=["missing", "letters", "negative", "empty", "no-colon", "two-lengths"])
def test_unreadable_header_framed_parse_error_exit_1_after_committing_what_came_before(tmp_path, header):
    db = str(tmp_path / "c.sqlite")
    data = (frame(body("createLearner", id=1, params=LEARNER)) + header
            + frame(body("createLearner", id=3, params={**LEARNER, "learnerId": "bob"})))
    answers, err, rc = serve(data, db=db)
    assert rc == 1, err
    assert answers[0]["result"]["learnerId"] == "ada"
    assert error_of(answers[1]) == (-32700, "invalid_header", None)
    assert len(answers) == 2  # nothing after it is read
    after = ok(frame(body("getDashboard", params={"learnerId": "ada"}))
               + frame(body("getDashboard", id=2, params={"learnerId": "bob"})), db=db)
    assert after[0]["result"]["learnerId"] == "ada"  # committed
    assert error_of(after[1])[:2] == (-32001, "learner_not_found")  # never run


def test_end_of_input_inside_a_body_does_not_run_it(tmp_path):
    db = str(tmp_path / "c.sqlite")
    whole = frame(body("createLearner", id=1, params=LEARNER))
    cut = frame(body("createLearner", id=2, params={**LEARNER, "learnerId": "bob"}))
    for n in (len(cut) - 1, len(cut) - 20, 10):  # inside the body, then inside the headers
        answers, err, rc = serve(whole + cut[:n], db=db)
        assert rc == 0, err
        assert [a["id"] for a in answers] == [1]
    [a] = ok(frame(body("getDashboard", params={"learnerId": "bob"})), db=db)
    assert error_of(a)[:2] == (-32001, "learner_not_found")


# --- JSON-RPC over it --------------------------------------------------------------------------


def test_batches_and_notifications():
    batch = [json.loads(body("listCourses", id=1)), json.loads(body("listCourses", id=None)),
             json.loads(body("listCourses", id=2))]
    only_notes = [json.loads(body("listCourses", id=None))] * 2
    answers = ok(frame(batch) + frame(only_notes) + frame(body("listCourses", id=None)) + frame(b"[]")
                 + frame(body("listCourses", id=3)))
    assert answers[0] == [NO_COURSES, {**NO_COURSES, "id": 2}]
    assert error_of(answers[1]) == (-32600, "empty_batch", None)
    assert answers[2] == {**NO_COURSES, "id": 3} and len(answers) == 3


def test_lsp_notifications_are_accepted_silently():
    notes = [body("initialized", id=None, params={}), body("$/cancelRequest", id=None, params={"id": 1}),
             body("$/setTrace", id=None, params={"value": "off"}), body("$/progress", id=None, params=[1]),
             body("$/anything", id=None)]
    assert ok(b"".join(frame(n) for n in notes) + frame(LIST)) == [NO_COURSES]


def test_empty_params_array_is_omitted_a_non_empty_one_is_still_refused():
    answers = ok(frame(body("listCourses", id=1, params=[])) + frame(body("listCourses", id=2, params=[True])))
    assert answers[0] == NO_COURSES
    assert error_of(answers[1]) == (-32602, "params_not_object", 2) and answers[1]["error"]["data"]["field"] == "params"


def test_lifecycle_initialize_shutdown_exit(tmp_path):
    db = str(tmp_path / "c.sqlite")
    init = {"processId": 1234, "clientInfo": {"name": "Neovim"}, "rootUri": None, "capabilities": {"x": []},
            "trace": "off", "workspaceFolders": None}
    data = (frame(body("initialize", id=1, params=init)) + frame(body("initialized", id=None, params={}))
            + frame(body("createLearner", id=2, params=LEARNER)) + frame(body("shutdown", id=3))
            + frame(body("exit", id=None))
            + frame(body("createLearner", id=4, params={**LEARNER, "learnerId": "bob"})))
    answers, err, rc = serve(data, db=db)
    assert rc == 0, err
    assert answers[0] == {"jsonrpc": "2.0", "id": 1, "result": {
        "capabilities": {}, "serverInfo": {"name": "credit-rpc", "version": answers[0]["result"]["serverInfo"]["version"]}}}
    assert isinstance(answers[0]["result"]["serverInfo"]["version"], str)
    assert answers[1]["result"]["learnerId"] == "ada"
    assert answers[2] == {"jsonrpc": "2.0", "id": 3, "result": None}
    assert len(answers) == 3  # nothing after exit runs
    after = ok(frame(body("getDashboard", params={"learnerId": "ada"}))
               + frame(body("getDashboard", id=2, params={"learnerId": "bob"})), db=db)
    assert after[0]["result"]["learnerId"] == "ada"
    assert error_of(after[1])[:2] == (-32001, "learner_not_found")


@pytest.mark.parametrize("principal", ["staff", "learner:ada", "provider:asu"])
def test_lifecycle_is_open_to_every_principal(principal):
    answers = ok(frame(body("initialize", id=1, params={"capabilities": {}})) + frame(body("shutdown", id=2)),
                 "--as", principal)
    assert answers[0]["result"]["serverInfo"]["name"] == "credit-rpc" and answers[1]["result"] is None


def test_exit_ends_a_line_framed_session_too_and_with_an_id_only_answers():
    p = run_raw(b'{"jsonrpc":"2.0","id":1,"method":"exit"}\n{"jsonrpc":"2.0","method":"exit"}\n' + LIST + b"\n",
                "--db", ":memory:")
    assert p.returncode == 0
    assert [json.loads(x) for x in p.stdout.decode().splitlines()] == [{"jsonrpc": "2.0", "id": 1, "result": None}]


def test_exit_inside_a_batch_ends_the_batch_there():
    batch = [json.loads(body("listCourses", id=1)), json.loads(body("exit", id=None)),
             json.loads(body("listCourses", id=2))]
    assert ok(frame(batch) + frame(LIST)) == [[NO_COURSES]]


def test_discover_lists_the_lifecycle():
    [a] = ok(frame(body("rpc.discover")))
    names = {m["name"] for m in a["result"]["methods"]}
    assert {"initialize", "shutdown", "exit"} <= names


# --- interactive: partial reads, flushing --------------------------------------------------------


class Live:
    def __init__(self, *args):
        self.proc = subprocess.Popen([binary(), "--db", ":memory:", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        self.buf = b""

    def send(self, data: bytes):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self, wait: float = TIMEOUT) -> dict | None:
        """The next answer, or None when none is complete within `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                n = int(head.split(b": ")[1])
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return json.loads(rest[:n])
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if select.select([self.proc.stdout], [], [], left)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.buf += chunk

    def close(self) -> tuple[int, bytes]:
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=TIMEOUT)
        rest = self.buf + self.proc.stdout.read()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, rest + b"|" + err


def test_each_answer_is_flushed_before_the_service_waits_for_input():
    live = Live()
    for i in range(1, 21):
        live.send(frame(body("listCourses", id=i)))
        assert live.read() == {**NO_COURSES, "id": i}
    rc, rest = live.close()
    assert rc == 0 and rest.startswith(b"|")


def test_message_split_anywhere_across_writes_even_inside_a_utf8_character():
    msg = frame(body("createLearner", id=5, params={**LEARNER, "fullName": "Zoë 😀 Ⅻ"}))
    # Every split point of the header and of the body, a byte at a time around the multi-byte characters.
    live = Live()
    for i, byte in enumerate(msg):
        live.send(bytes([byte]))
        if i in (3, 17, len(msg) // 2, len(msg) - 2):
            assert live.read(wait=0.05) is None  # nothing answered before the body is complete
    a = live.read()
    assert a["id"] == 5 and a["result"]["fullName"] == "Zoë 😀 Ⅻ"
    # Two messages whose boundary falls in the middle of a write.
    two = frame(body("listCourses", id=6)) + frame(body("listCourses", id=7))
    live.send(two[:len(two) // 2 + 3])
    assert live.read()["id"] == 6
    live.send(two[len(two) // 2 + 3:])
    assert live.read()["id"] == 7
    assert live.close()[0] == 0


# --- stderr ------------------------------------------------------------------------------------


def test_stderr_is_quiet_under_header_framing_unless_asked():
    _, err, _ = serve(frame(LIST))
    assert err == ""
    _, err, _ = serve(frame(LIST), "--log-level", "info")
    assert "serving" in err
    p = run_raw(LIST + b"\n", "--db", ":memory:")
    assert "serving" in p.stderr.decode()  # line framing keeps its default


# --- no input breaks it --------------------------------------------------------------------------


def test_mangled_framed_streams_never_crash_hang_or_answer_unframed():
    import random
    rng = random.Random(6)
    good = [frame(body("listCourses", id=i)) for i in range(5)] + [
        frame(body("createLearner", id=9, params=LEARNER)), frame([json.loads(LIST)]), frame(b"{}"),
        b"content-type: x\r\n" + frame(LIST), b"Content-Length: 3\r\n\r\n[1]"]
    for _ in range(150):
        data = bytearray(b"".join(rng.choice(good) for _ in range(rng.randint(1, 6))))
        for _ in range(rng.randint(0, 4)):
            i = rng.randrange(len(data))
            op = rng.randrange(4)
            if op == 0:
                data[i] = rng.randrange(256)
            elif op == 1:
                del data[i]
            elif op == 2:
                data[i:i] = rng.choice([b"\r\n", b"\n", b":", b"9", b"\xe2\x82", b"Content-Length: 7\r\n"])
            else:
                data = data[:i]
        if not re.match(rb"[ \t\r\n]*[-!#$%&'*+.^_`|~0-9A-Za-z]+:", bytes(data)):
            continue  # decided as line framing: test_fuzz.py's business
        p = run_raw(bytes(data), "--db", ":memory:", "--max-line-bytes", "200")
        assert p.returncode in (0, 1), (bytes(data), p.returncode, p.stderr)
        answers = framed(p.stdout)  # strictly framed, whatever came in
        if p.returncode == 1:
            assert error_of(answers[-1])[:2] == (-32700, "invalid_header"), answers
