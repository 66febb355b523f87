"""SPEC section 3 (wire protocol) and section 5 (command line), black-box.

The JSON-RPC 2.0 specification's own examples are adapted to our methods: listCourses and
createLearner stand in for subtract/sum.
"""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import time

import pytest

from conftest import (
    EXAMPLE_CLOCK, TIMEOUT, Rpc, RpcError, base_env, binary, engine_db, request, responses, run_lines, run_raw,
)

LIST = '{"jsonrpc":"2.0","id":1,"method":"listCourses"}'
LEARNER = {"learnerId": "ann", "fullName": "Ann Learner", "email": "ann@example.com", "country": "US"}


def only(lines):
    """The single response of a run (and it must be the only stdout line)."""
    rs = responses(lines)
    assert len(rs) == 1, f"expected exactly one response line, got {rs}"
    return rs[0]


def assert_error(response, code, id=None, reason=None, field=None):
    assert response.get("jsonrpc") == "2.0", response
    assert "result" not in response, response
    assert response["id"] == id and type(response["id"]) is type(id), response
    e = response["error"]
    assert e["code"] == code, response
    assert isinstance(e["message"], str) and e["message"], response
    assert isinstance(e["data"]["reason"], str) and e["data"]["reason"], response
    if reason is not None:
        assert e["data"]["reason"] == reason, response
    if field is not None:
        assert e["data"].get("field") == field, response


# --- The issue's exact check -------------------------------------------------------------------


def test_issue_exact_check_prints_one_json_line():
    p = run_raw(b'{"jsonrpc":"2.0","id":1,"method":"listCourses","params":{}}\n', "--db", ":memory:")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().split("\n")
    assert lines[-1] == "" and len(lines) == 2, p.stdout
    assert json.loads(lines[0]) == {"jsonrpc": "2.0", "id": 1, "result": {"courses": []}}


# --- JSON-RPC 2.0 specification examples, adapted ----------------------------------------------


def test_call_with_named_params():
    r = only([request("createLearner", id=1, **LEARNER)])
    assert r == {"jsonrpc": "2.0", "id": 1, "result": {**LEARNER, "mailingAddress": None}}


def test_notification_gets_no_response():
    out, err, rc = run_lines(['{"jsonrpc":"2.0","method":"listCourses"}',
                              '{"jsonrpc":"2.0","method":"createLearner","params":%s}' % json.dumps(LEARNER)])
    assert (out, rc) == ([], 0), err


def test_notification_is_still_executed():
    rs = responses(['{"jsonrpc":"2.0","method":"createLearner","params":%s}' % json.dumps(LEARNER),
                    request("getDashboard", id=2, learnerId="ann")])
    assert rs == [{"jsonrpc": "2.0", "id": 2, "result": {"learnerId": "ann", "enrollments": []}}]


def test_notification_with_errors_gets_no_response():
    out, err, rc = run_lines(['{"jsonrpc":"2.0","method":"noSuchMethod"}',
                              '{"jsonrpc":"2.0","method":"listCourses","params":{"bogus":1}}',
                              '{"jsonrpc":"2.0","method":"listCourses","params":[1,2]}'])
    assert (out, rc) == ([], 0), err


def test_non_existent_method():
    r = only(['{"jsonrpc":"2.0","method":"foobar","id":"1"}'])
    assert_error(r, -32601, id="1")


def test_invalid_json():
    r = only(['{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'])
    assert_error(r, -32700, id=None)


def test_invalid_request_object():
    r = only(['{"jsonrpc": "2.0", "method": 1, "params": "bar"}'])
    assert_error(r, -32600, id=None)


def test_batch_with_invalid_json_is_one_parse_error():
    r = only(['[{"jsonrpc": "2.0", "method": "listCourses", "params": {}, "id": "1"},'
              '{"jsonrpc": "2.0", "method"]'])
    assert isinstance(r, dict), r
    assert_error(r, -32700, id=None)


def test_empty_array():
    r = only(["[]"])
    assert isinstance(r, dict), r
    assert_error(r, -32600, id=None)


@pytest.mark.parametrize("line,count", [("[1]", 1), ("[1,2,3]", 3)])
def test_invalid_batch_members(line, count):
    r = only([line])
    assert isinstance(r, list) and len(r) == count, r
    for member in r:
        assert_error(member, -32600, id=None)


def test_mixed_batch():
    batch = [
        {"jsonrpc": "2.0", "method": "listCourses", "params": {}, "id": "1"},
        {"jsonrpc": "2.0", "method": "listCourses", "params": {"creditOnly": True}},
        {"jsonrpc": "2.0", "method": "createLearner", "params": LEARNER, "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "getDashboard", "params": {"learnerId": "ann"}, "id": "9"},
    ]
    r = only([json.dumps(batch)])
    assert isinstance(r, list) and [m["id"] for m in r] == ["1", "2", None, "5", "9"], r
    assert r[0]["result"] == {"courses": []}
    assert r[1]["result"]["learnerId"] == "ann"
    assert_error(r[2], -32600, id=None)
    assert_error(r[3], -32601, id="5")
    assert r[4]["result"] == {"learnerId": "ann", "enrollments": []}


def test_all_notification_batch_prints_nothing():
    batch = [{"jsonrpc": "2.0", "method": "listCourses", "params": {}},
             {"jsonrpc": "2.0", "method": "createLearner", "params": LEARNER}]
    out, err, rc = run_lines([json.dumps(batch), request("getDashboard", id=3, learnerId="ann")])
    assert rc == 0, err
    assert [json.loads(x) for x in out] == [
        {"jsonrpc": "2.0", "id": 3, "result": {"learnerId": "ann", "enrollments": []}}]


def test_batch_answer_is_one_line_in_request_order():
    batch = [{"jsonrpc": "2.0", "id": i, "method": "listCourses"} for i in range(20)]
    r = only([json.dumps(batch)])
    assert [m["id"] for m in r] == list(range(20))


# --- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("id_text", ['"abc"', '"é \\" \\u00e9"', "1", "0", "-7", "1.50", "-0", "1e3", "2.5E-3",
                                     "null", "12345678901234567890", "-98765432109876543210.125", "1E+3",
                                     "-1.5e-10", "0.0"])
def test_ids_echoed_exactly(id_text):
    out, err, rc = run_lines(['{"jsonrpc":"2.0","id":%s,"method":"listCourses"}' % id_text])
    assert rc == 0 and len(out) == 1, (out, err)
    r = json.loads(out[0])
    assert r["id"] == json.loads(id_text) and "result" in r, r
    if not id_text.startswith('"'):
        # A number is echoed as written, not re-formatted.
        assert f'"id":{id_text},' in out[0], out[0]


def test_error_echoes_number_ids_exactly():
    out, _, _ = run_lines(['{"jsonrpc":"2.0","id":1.50,"method":"nope"}',
                           '{"jsonrpc":"2.0","id":12345678901234567890,"method":"nope"}'])
    assert '"id":1.50,' in out[0] and '"id":12345678901234567890,' in out[1], out


@pytest.mark.parametrize("id_text", ["{}", '{"a":1}', "[]", "[1]", "true", "false"])
def test_invalid_id_types(id_text):
    r = only(['{"jsonrpc":"2.0","id":%s,"method":"listCourses"}' % id_text])
    assert_error(r, -32600, id=None)


@pytest.mark.parametrize("envelope", [
    {"id": 7, "method": "listCourses"},
    {"jsonrpc": "1.0", "id": 7, "method": "listCourses"},
    {"jsonrpc": 2.0, "id": 7, "method": "listCourses"},
    {"jsonrpc": "2.0", "id": 7},
    {"jsonrpc": "2.0", "id": 7, "method": 5},
])
def test_invalid_envelope_echoes_the_id(envelope):
    assert_error(only([json.dumps(envelope)]), -32600, id=7)


def test_invalid_envelope_echoes_string_id():
    assert_error(only(['{"jsonrpc":"1.0","id":"x-1","method":"listCourses"}']), -32600, id="x-1")


@pytest.mark.parametrize("line", ["1", '"hello"', "null", "true"])
def test_non_object_message(line):
    assert_error(only([line]), -32600, id=None)


# --- params ------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", ["3", '"x"', "true", "false", "1.5"])
def test_scalar_params_invalid_request(params):
    r = only(['{"jsonrpc":"2.0","id":4,"method":"listCourses","params":%s}' % params])
    assert_error(r, -32600, id=4)


def test_empty_array_params_taken_as_omitted():
    # SPEC section 6: Neovim encodes an empty table as [].
    r = only(['{"jsonrpc":"2.0","id":4,"method":"listCourses","params":[]}'])
    assert r == {"jsonrpc": "2.0", "id": 4, "result": {"courses": []}}


@pytest.mark.parametrize("params", ["[true]", "[{}]", "[1,2]"])
def test_array_params_invalid_params(params):
    r = only(['{"jsonrpc":"2.0","id":4,"method":"listCourses","params":%s}' % params])
    assert_error(r, -32602, id=4, field="params")


@pytest.mark.parametrize("params", ["[]", "[1,2]", '[{"learnerId":"ann"}]', "{}", '{"a":1}', "null"])
def test_unknown_method_is_method_not_found_whatever_the_params(params):
    r = only(['{"jsonrpc":"2.0","method":"nosuch","params":%s,"id":1}' % params])
    assert_error(r, -32601, id=1, reason="method_not_found")


def test_array_params_of_a_known_method_in_a_batch_and_of_rpc_discover():
    rs = responses(['[{"jsonrpc":"2.0","id":1,"method":"enroll","params":[1]},'
                    '{"jsonrpc":"2.0","id":2,"method":"nosuch","params":[]},'
                    '{"jsonrpc":"2.0","id":3,"method":"rpc.discover","params":[{}]}]'])
    assert len(rs) == 1 and len(rs[0]) == 3, rs
    assert_error(rs[0][0], -32602, id=1, reason="params_not_object", field="params")
    assert_error(rs[0][1], -32601, id=2, reason="method_not_found")
    assert_error(rs[0][2], -32602, id=3, reason="params_not_object", field="params")


def test_params_null_taken_as_omitted():
    r = only(['{"jsonrpc":"2.0","id":4,"method":"listCourses","params":null}'])
    assert r == {"jsonrpc": "2.0", "id": 4, "result": {"courses": []}}


def test_params_omitted():
    r = only(['{"jsonrpc":"2.0","id":4,"method":"listCourses"}'])
    assert r == {"jsonrpc": "2.0", "id": 4, "result": {"courses": []}}


def test_extra_envelope_members_ignored():
    r = only(['{"jsonrpc":"2.0","id":4,"method":"listCourses","params":{},"trace":"abc","meta":{"x":[1]}}'])
    assert r == {"jsonrpc": "2.0", "id": 4, "result": {"courses": []}}


def test_unknown_param_field():
    r = only([request("listCourses", id=5, creditOnly=False, sortBy="title")])
    assert_error(r, -32602, id=5, field="sortBy")


def test_missing_param_field():
    params = dict(LEARNER)
    del params["email"]
    assert_error(only([request("createLearner", id=6, **params)]), -32602, id=6, field="email")


@pytest.mark.parametrize("field,value", [("creditOnly", "yes"), ("creditOnly", 1), ("creditOnly", [])])
def test_wrong_type_param_field(field, value):
    assert_error(only([request("listCourses", id=7, **{field: value})]), -32602, id=7, field=field)


def test_wrong_type_in_create_learner():
    assert_error(only([request("createLearner", id=8, **{**LEARNER, "fullName": 42})]), -32602, id=8,
                 field="fullName")


def test_optional_field_null_counts_as_omitted():
    r = only([request("listCourses", id=9, creditOnly=None)])
    assert r == {"jsonrpc": "2.0", "id": 9, "result": {"courses": []}}


# --- framing -----------------------------------------------------------------------------------


def test_crlf_line_endings():
    out, err, rc = run_lines(LIST.encode() + b"\r\n" + LIST.encode() + b"\r\n")
    assert rc == 0 and len(out) == 2, (out, err)
    assert all(json.loads(x)["result"] == {"courses": []} for x in out)


def test_blank_and_whitespace_lines_ignored():
    data = b"\n \n\t\n\r\n \t\r \n" + LIST.encode() + b"\n\n   \n"
    out, err, rc = run_lines(data)
    assert rc == 0 and [json.loads(x)["id"] for x in out] == [1], (out, err)


def test_whitespace_around_the_message():
    out, err, rc = run_lines(b" \t " + LIST.encode() + b" \t \r\n")
    assert rc == 0 and [json.loads(x)["id"] for x in out] == [1], (out, err)


@pytest.mark.parametrize("line", [LIST + " x", LIST + LIST, '{"jsonrpc":"2.0","id":01,"method":"listCourses"}',
                                  "{'jsonrpc':'2.0'}", '{"a":1,}', "\x00"])
def test_not_json_is_parse_error(line):
    assert_error(only([line]), -32700, id=None)


def test_repeated_param_field():
    r = only(['{"jsonrpc":"2.0","id":1,"method":"listCourses","params":{"creditOnly":true,"creditOnly":false}}'])
    assert_error(r, -32602, id=1, field="creditOnly")


def test_last_line_without_newline_answered():
    out, err, rc = run_lines(LIST.encode() + b"\n" + LIST.replace('"id":1', '"id":2').encode())
    assert rc == 0 and [json.loads(x)["id"] for x in out] == [1, 2], (out, err)


def test_last_line_without_newline_with_cr_answered():
    out, err, rc = run_lines(LIST.encode() + b"\r")
    assert rc == 0 and [json.loads(x)["id"] for x in out] == [1], (out, err)


def test_eof_exits_zero_without_output():
    out, err, rc = run_lines(b"")
    assert (out, rc) == ([], 0), err


def test_line_too_long_then_goes_on():
    long = '{"jsonrpc":"2.0","id":2,"method":"listCourses","params":{"x":"%s"}}' % ("a" * 300_000)
    out, err, rc = run_lines([LIST, long, LIST.replace('"id":1', '"id":3')], "--max-line-bytes", "1000")
    assert rc == 0 and len(out) == 3, (out, err)
    rs = [json.loads(x) for x in out]
    assert rs[0]["id"] == 1 and "result" in rs[0]
    assert_error(rs[1], -32600, id=None, reason="line_too_long")
    assert rs[2]["id"] == 3 and "result" in rs[2]


def test_line_too_long_at_eof_without_newline():
    out, err, rc = run_lines(LIST.encode() + b"\n" + b"x" * 5000, "--max-line-bytes", "1000")
    assert rc == 0 and len(out) == 2, (out, err)
    assert_error(json.loads(out[1]), -32600, id=None, reason="line_too_long")


def test_line_limit_exact_boundary():
    n = len(LIST.encode())
    exact = LIST.encode()
    over = LIST.encode() + b" "  # n + 1 bytes, still valid JSON
    with_cr = LIST.encode() + b"\r"  # the trailing \r is not counted
    data = exact + b"\n" + over + b"\n" + with_cr + b"\n" + over + b"\r\n" + exact
    out, err, rc = run_lines(data, "--max-line-bytes", str(n))
    assert rc == 0 and len(out) == 5, (out, err)
    rs = [json.loads(x) for x in out]
    assert rs[0] == {"jsonrpc": "2.0", "id": 1, "result": {"courses": []}}
    assert_error(rs[1], -32600, id=None, reason="line_too_long")
    assert rs[2] == rs[0]
    assert_error(rs[3], -32600, id=None, reason="line_too_long")
    assert rs[4] == rs[0]


def test_line_limit_default_is_8_mib():
    n = 8 << 20
    prefix = b'{"jsonrpc":"2.0","id":1,"method":"listCourses","params":{"x":"'
    suffix = b'"}}'
    exact = prefix + b"a" * (n - len(prefix) - len(suffix)) + suffix
    assert len(exact) == n
    over = exact[:-len(suffix)] + b"a" + suffix
    out, err, rc = run_lines(exact + b"\n" + over + b"\n")
    assert rc == 0 and len(out) == 2, err
    # The line of exactly 8 MiB is read (and its unknown field reported); one byte more is not.
    assert_error(json.loads(out[0]), -32602, id=1, field="x")
    assert_error(json.loads(out[1]), -32600, id=None, reason="line_too_long")


@pytest.mark.parametrize("bad", [b"\xff\xfe", b'{"jsonrpc":"2.0","id":1,"method":"listCourses\xc3"}',
                                 b'"\xed\xa0\x80"', b'{"a":"\xc0\xaf"}'])
def test_invalid_utf8_is_parse_error(bad):
    out, err, rc = run_lines(bad + b"\n" + LIST.encode() + b"\n")
    assert rc == 0 and len(out) == 2, (out, err)
    assert_error(json.loads(out[0]), -32700, id=None)
    assert json.loads(out[1])["id"] == 1


def test_deep_nesting_100000_brackets():
    out, err, rc = run_lines(b"[" * 100_000 + b"\n" + LIST.encode() + b"\n")
    assert rc == 0 and len(out) == 2, err
    assert_error(json.loads(out[0]), -32700, id=None, reason="nesting_too_deep")
    assert json.loads(out[1])["id"] == 1


def test_nesting_513_rejected_512_accepted():
    deep513 = "[" * 513 + "]" * 513
    deep512 = "[" * 512 + "]" * 512
    obj513 = '{"a":' * 513 + "1" + "}" * 513
    out, err, rc = run_lines([deep513, deep512, obj513])
    assert rc == 0 and len(out) == 3, err
    assert_error(json.loads(out[0]), -32700, id=None, reason="nesting_too_deep")
    # 512 levels parse; the outer array is a batch of one invalid request.
    r = json.loads(out[1])
    assert isinstance(r, list) and len(r) == 1, r
    assert_error(r[0], -32600, id=None)
    assert_error(json.loads(out[2]), -32700, id=None, reason="nesting_too_deep")


def test_nesting_512_objects_accepted_as_json():
    obj512 = '{"a":' * 512 + "1" + "}" * 512
    r = only([obj512])
    assert_error(r, -32600, id=None)


def is_notification(m) -> bool:
    """A valid JSON-RPC 2.0 notification: it gets no response."""
    return (isinstance(m, dict) and "id" not in m and m.get("jsonrpc") == "2.0"
            and isinstance(m.get("method"), str) and (m.get("params") is None or isinstance(m["params"], (dict, list))))


def answered(line: bytes) -> bool:
    """Whether the service owes this line a response line."""
    if all(c in b" \t\r" for c in line):
        return False
    try:
        value = json.loads(line.decode("utf-8"))
    except ValueError:
        return True
    if isinstance(value, list) and value:
        return not all(is_notification(m) for m in value)
    return not is_notification(value)


def test_random_bytes_never_crash():
    rng = random.Random(20260101)
    alphabet = b'{}[]":,. 0123456789-+eE\\/truefalsnul\t\rjsonrpcmethodidparams\x00\xff\xc3\xa9'
    count = int(os.environ.get("CREDIT_RPC_FUZZ_LINES", "1800"))  # .ci/run sets a budget
    lines = []
    for i in range(count * 5 // 6):
        size = rng.randint(0, 120)
        if i % 3 == 0:
            body = bytes(rng.randrange(256) for _ in range(size))
        else:
            body = bytes(rng.choice(alphabet) for _ in range(size))
        lines.append(body.replace(b"\n", b" "))
    # Some near-valid requests too.
    for i in range(count // 6):
        msg = bytearray(request("listCourses", id=i).encode())
        for _ in range(rng.randint(1, 3)):
            msg[rng.randrange(len(msg))] = rng.choice(alphabet)
        lines.append(bytes(msg).replace(b"\n", b" "))
    rng.shuffle(lines)
    data = b"\n".join(lines) + b"\n"
    p = run_raw(data, "--db", ":memory:", timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]

    expected = sum(1 for line in lines if answered(line))
    assert expected > count * 4 // 5
    out = p.stdout.decode("utf-8").split("\n")
    assert out[-1] == ""
    out = out[:-1]
    assert len(out) == expected
    for line in out:
        json.loads(line)


# --- the process -------------------------------------------------------------------------------


def test_interactive_exchange():
    with Rpc() as r:
        for i in range(3):
            assert r.exchange(request("listCourses", id=i)) == {"jsonrpc": "2.0", "id": i,
                                                                 "result": {"courses": []}}
        # The service answers each line before it sees the next: it is still alive and waiting.
        assert r.proc.poll() is None


def test_interactive_batch_and_error_answered_at_once():
    with Rpc() as r:
        assert r.exchange("[1]")[0]["error"]["code"] == -32600
        assert r.exchange("not json")["error"]["code"] == -32700
        assert r.exchange(request("listCourses", id=5))["id"] == 5


def test_interactive_long_lines():
    with Rpc("--max-line-bytes", "100000") as r:
        long = request("listCourses", id=1, x="a" * 150_000)
        assert_error(r.exchange(long), -32600, id=None, reason="line_too_long")
        assert_error(r.exchange(request("listCourses", id=2, x="a" * 90_000)), -32602, id=2, field="x")
        assert r.exchange(request("listCourses", id=3))["result"] == {"courses": []}


def test_stdout_closed_early_exits_quietly():
    p = subprocess.Popen([binary(), "--db", ":memory:"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=base_env())
    try:
        p.stdin.write((LIST + "\n").encode())
        p.stdin.flush()
        first = p.stdout.readline()
        assert json.loads(first)["id"] == 1
        p.stdout.close()
        chunk = ("\n".join([LIST] * 2000) + "\n").encode()
        try:
            for _ in range(50):
                p.stdin.write(chunk)
                p.stdin.flush()
                if p.poll() is not None:
                    break
        except BrokenPipeError:
            pass
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        rc = p.wait(timeout=TIMEOUT)
        err = p.stderr.read().decode("utf-8", "replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
        p.stderr.close()
    assert rc == 0, err
    for word in ("Fatal error", "Traceback", "Backtrace", "Segmentation", "panic", "Illegal instruction"):
        assert word not in err, err


def test_stdout_is_only_json_lines():
    lines = [LIST, "garbage", "[1,2]", "[]", '{"jsonrpc":"2.0","method":"listCourses"}',
             request("createLearner", id="c", **LEARNER), request("nope", id=2), b"\xff",
             "[" * 600, "   ", '{"jsonrpc":"2.0","id":3,"method":"listCourses","params":7}']
    out, err, rc = run_lines(lines, "--log-level", "debug")
    assert rc == 0, err
    assert len(out) == 9
    for line in out:
        value = json.loads(line)
        members = value if isinstance(value, list) else [value]
        for m in members:
            assert m["jsonrpc"] == "2.0" and "id" in m and (("result" in m) != ("error" in m)), m


# --- command line ------------------------------------------------------------------------------


def run_cli(*args, env=None, stdin=b""):
    return run_raw(stdin, *args, env=env)


def test_help():
    p = run_cli("--help")
    assert p.returncode == 0
    assert b"usage" in p.stdout.lower() and b"--db" in p.stdout and b"--test-clock" in p.stdout


def test_version():
    p = run_cli("--version")
    assert p.returncode == 0 and p.stdout.strip(), p
    assert b"credit-rpc" in p.stdout


def test_unknown_flag_is_usage_error():
    p = run_cli("--db", ":memory:", "--frobnicate")
    assert p.returncode == 2 and p.stdout == b""
    assert b"usage" in p.stderr.lower() and b"--frobnicate" in p.stderr


@pytest.mark.parametrize("principal", ["nobody", "learner:", "provider:", "learner", "ADMIN:x", ""])
def test_malformed_principal_exit_2(principal):
    p = run_cli("--db", ":memory:", "--as", principal)
    assert p.returncode == 2 and p.stdout == b"", p
    assert p.stderr.strip()


def test_empty_principal_env_means_admin():
    p = run_cli("--db", ":memory:", env=base_env(CREDIT_RPC_AS=""),
                stdin=(request("createLearner", id=1, **LEARNER) + "\n").encode())
    assert p.returncode == 0 and "result" in json.loads(p.stdout), p


def test_principal_from_env():
    p = run_cli("--db", ":memory:", env=base_env(CREDIT_RPC_AS="learner:bob"),
                stdin=(request("createLearner", id=1, **LEARNER) + "\n").encode())
    assert p.returncode == 0
    assert_error(json.loads(p.stdout), -32007, id=1)


def test_principals_checked_before_anything_else():
    lines = [request("getDashboard", id=1, learnerId="bob"),
             request("createCourse", id=2, courseId="not-a-course"),
             request("getDashboard", id=3, learnerId="bob", bogus=1),
             request("listCourses", id=4),
             request("rpc.discover", id=5),
             request("clock.advance", id=6, seconds=1)]
    rs = responses(lines, "--as", "learner:ann", "--test-clock", EXAMPLE_CLOCK)
    for r in rs[:3]:
        assert_error(r, -32007, id=r["id"])
    assert all("result" in r for r in rs[3:]), rs[3:]
    # Staff may not act as the learner; the principal check comes before validation.
    rs = responses([request("verifyIdentity", id=1, learnerId="ann")], "--as", "staff")
    assert_error(rs[0], -32007, id=1)
    rs = responses([request("getDashboard", id=1, learnerId="ann"), request("createCourse", id=2)],
                   "--as", "provider:asu")
    assert_error(rs[0], -32007, id=1)
    assert_error(rs[1], -32007, id=2)


def test_malformed_principal_from_env_exit_2():
    p = run_cli("--db", ":memory:", env=base_env(CREDIT_RPC_AS="bogus"))
    assert p.returncode == 2 and p.stdout == b"", p


@pytest.mark.parametrize("level", ["error", "warning", "info", "debug"])
def test_log_levels_accepted(level):
    p = run_cli("--db", ":memory:", "--log-level", level, stdin=(LIST + "\n").encode())
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["id"] == 1


def test_bad_log_level_exit_2():
    p = run_cli("--db", ":memory:", "--log-level", "verbose")
    assert p.returncode == 2 and p.stdout == b"" and p.stderr.strip()


@pytest.mark.sqlite_only
def test_db_in_missing_folder(tmp_path):
    p = run_cli("--db", str(tmp_path / "no" / "such" / "dir" / "x.sqlite"), stdin=(LIST + "\n").encode())
    assert p.returncode != 0
    assert p.stdout == b""
    assert p.stderr.strip()


@pytest.mark.sqlite_only
def test_db_not_a_credit_rpc_database(tmp_path):
    import sqlite3
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(random.Random(7).randbytes(5000))
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    for path in (garbage, other, tmp_path):
        p = run_cli("--db", str(path), stdin=(LIST + "\n").encode())
        assert p.returncode != 0 and p.stdout == b"" and p.stderr.strip(), (path, p)
        assert b"Fatal error" not in p.stderr


def test_db_file_created_with_mode_0600(tmp_path):
    db = tmp_path / "credit.sqlite"
    # A permissive umask: the service must not rely on the caller's.
    p = subprocess.run([binary(), "--db", str(db)], input=(LIST + "\n").encode(), capture_output=True,
                       env=base_env(), timeout=TIMEOUT, preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_db_state_survives_restart(tmp_path):
    db = str(tmp_path / "credit.sqlite")
    responses([request("createLearner", id=1, **LEARNER)], "--db", db)
    rs = responses([request("getDashboard", id=2, learnerId="ann")], "--db", db)
    assert rs[0]["result"] == {"learnerId": "ann", "enrollments": []}


def test_answer_means_committed(tmp_path):
    """A write's answer comes only after its commit: another process sees it at once."""
    db = str(tmp_path / "credit.sqlite")
    with Rpc(db=db) as writer:
        assert writer.call("createLearner", **LEARNER)["learnerId"] == "ann"
        rs = responses([request("getDashboard", id=1, learnerId="ann")], "--db", db)
        assert rs[0].get("result") == {"learnerId": "ann", "enrollments": []}, rs


def test_two_processes_on_one_database_lose_nothing(tmp_path):
    db = str(tmp_path / "credit.sqlite")
    responses([LIST], "--db", db)  # created and migrated once

    def learners(prefix):
        return "".join(request("createLearner", id=i, learnerId=f"{prefix}{i}", fullName="N", email="n@example.com",
                               country="US") + "\n" for i in range(150)).encode()

    procs = [subprocess.Popen([binary(), "--db", engine_db(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=base_env()) for _ in range(2)]
    try:
        outs = [p.communicate(learners(prefix), timeout=60) for p, prefix in zip(procs, ["a", "b"])]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        rs = [json.loads(x) for x in out.decode().splitlines()]
        assert len(rs) == 150 and all("result" in r for r in rs), [r for r in rs if "error" in r][:3]
    batch = [{"jsonrpc": "2.0", "id": f"{c}{i}", "method": "getDashboard", "params": {"learnerId": f"{c}{i}"}}
             for c in "ab" for i in range(150)]
    rs = responses([json.dumps(batch)], "--db", db)[0]
    assert all("result" in r for r in rs), [r for r in rs if "error" in r][:3]


def test_input_times_with_fractions_output_whole_seconds():
    rs = responses([request("clock.set", id=1, now="2026-03-01T10:00:00.250-05:00")], "--test-clock", EXAMPLE_CLOCK)
    assert rs[0]["result"]["now"] == "2026-03-01T15:00:00Z"


def test_env_credit_rpc_db_honoured(tmp_path):
    db = tmp_path / "from-env.sqlite"
    env = base_env(CREDIT_RPC_DB=str(db), XDG_DATA_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path / "home"))
    p = run_raw((request("createLearner", id=1, **LEARNER) + "\n").encode(), env=env)
    assert p.returncode == 0, p.stderr
    assert db.exists()
    assert not (tmp_path / "xdg").exists()
    # --db wins over the variable.
    other = tmp_path / "flag.sqlite"
    p = run_raw((request("getDashboard", id=2, learnerId="ann") + "\n").encode(), "--db", str(other), env=env)
    assert json.loads(p.stdout)["error"]["code"] == -32001
    p = run_raw((request("getDashboard", id=2, learnerId="ann") + "\n").encode(), env=env)
    assert json.loads(p.stdout)["result"]["learnerId"] == "ann"


def test_xdg_data_home_default_path(tmp_path):
    env = base_env(XDG_DATA_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path / "home"))
    p = run_raw((LIST + "\n").encode(), env=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "xdg" / "credit-rpc" / "credit.sqlite").is_file()
    assert not (tmp_path / "home").exists()


def test_home_local_share_default_path(tmp_path):
    (tmp_path / "home").mkdir()
    env = base_env(XDG_DATA_HOME=None, HOME=str(tmp_path / "home"))
    p = run_raw((LIST + "\n").encode(), env=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "home" / ".local" / "share" / "credit-rpc" / "credit.sqlite").is_file()


def test_clock_methods_absent_without_test_clock():
    rs = responses([request("clock.set", id=1, now="2026-01-01T00:00:00Z"),
                    request("clock.advance", id=2, seconds=10)])
    assert_error(rs[0], -32601, id=1)
    assert_error(rs[1], -32601, id=2)


def test_clock_methods_with_test_clock():
    rs = responses([request("clock.set", id=1, now="2026-03-01T10:00:00+02:00"),
                    request("clock.advance", id=2, seconds=90)], "--test-clock", EXAMPLE_CLOCK)
    assert rs[0] == {"jsonrpc": "2.0", "id": 1, "result": {"now": "2026-03-01T08:00:00Z"}}
    assert rs[1] == {"jsonrpc": "2.0", "id": 2, "result": {"now": "2026-03-01T08:01:30Z"}}


def test_bad_test_clock_is_usage_error():
    p = run_cli("--db", ":memory:", "--test-clock", "yesterday")
    assert p.returncode == 2 and p.stdout == b"" and p.stderr.strip()


def test_rpc_call_errors_reach_python_helper():
    with Rpc(test_clock=EXAMPLE_CLOCK) as r:
        with pytest.raises(RpcError) as e:
            r.call("createLearner", learnerId="ann")
        assert e.value.code == -32602 and e.value.field == "fullName"
        assert r.call("clock.advance", seconds=1) == {"now": "2026-01-01T00:00:01Z"}
