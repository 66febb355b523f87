"""Shared helpers for the black-box tests of the credit-rpc binary.

The binary is found through $CREDIT_RPC_BIN when set, else through `swift build --show-bin-path`
run from the repository root (built once with `swift build --product credit-rpc` if missing).
Everything here drives the real process through pipes, as a client's harness would.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent.parent
VENDOR_DIR = REPO_ROOT / "Tests" / "Vendor"
PROTOCOL_DIR = REPO_ROOT / "Protocol"
EXAMPLES_DIR = PROTOCOL_DIR / "examples"
OPENRPC_PATH = PROTOCOL_DIR / "openrpc.json"

#: The clock the committed examples and the OpenRPC document are produced with.
EXAMPLE_CLOCK = "2026-01-01T00:00:00Z"

#: Seconds one response (or one whole piped run) may take before the test fails as a hang.
TIMEOUT = 20.0

_binary: str | None = None


def binary() -> str:
    """The path of the credit-rpc executable (built on first use when needed)."""
    global _binary
    if _binary is not None:
        return _binary
    env_bin = os.environ.get("CREDIT_RPC_BIN")
    if env_bin:
        _binary = env_bin
        return _binary
    bin_dir = subprocess.run(
        ["swift", "build", "--show-bin-path"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    ).stdout.strip()
    path = Path(bin_dir) / "credit-rpc"
    if not path.exists():
        subprocess.run(
            ["swift", "build", "--product", "credit-rpc"],
            cwd=REPO_ROOT, timeout=1800, check=True, stdout=sys.stderr,
        )
    _binary = str(path)
    return _binary


def base_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a child: ours without the CREDIT_RPC_* variables, plus `overrides`
    (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDIT_RPC_")}
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_raw(data: bytes, *args: str, env: dict[str, str] | None = None,
            timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Pipes `data` into the binary with `args`; returns the completed process (bytes)."""
    try:
        return subprocess.run(
            [binary(), *args], input=data, capture_output=True,
            env=env if env is not None else base_env(), timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"credit-rpc {' '.join(args)} did not finish within {timeout}s (hang?)")
        raise e  # unreachable


def _encode(lines) -> bytes:
    if isinstance(lines, (bytes, bytearray)):
        return bytes(lines)
    if isinstance(lines, str):
        return lines.encode()
    parts = []
    for line in lines:
        if isinstance(line, (dict, list)):
            line = json.dumps(line)
        if isinstance(line, str):
            line = line.encode()
        parts.append(line if line.endswith(b"\n") else line + b"\n")
    return b"".join(parts)


def run_lines(lines, *args: str, env: dict[str, str] | None = None,
              timeout: float = TIMEOUT) -> tuple[list[str], str, int]:
    """Pipes `lines` (each a str, bytes, or a JSON value that is dumped; a newline is added where
    missing; or one bytes/str blob sent as is) into the binary, `--db :memory:` unless `args` names
    a database. Returns (stdout lines, stderr, return code)."""
    if "--db" not in args and not any(a.startswith("--db=") for a in args):
        args = ("--db", ":memory:", *args)
    p = run_raw(_encode(lines), *args, env=env, timeout=timeout)
    out = p.stdout.decode("utf-8")
    return out.splitlines(), p.stderr.decode("utf-8", "replace"), p.returncode


def responses(lines, *args: str, **kw) -> list:
    """run_lines, checking exit 0 and parsing every stdout line as JSON."""
    out, err, rc = run_lines(lines, *args, **kw)
    assert rc == 0, f"exit {rc}, stderr: {err}"
    return [json.loads(line) for line in out]


def request(method: str, id=1, **params) -> str:
    """One request line."""
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params})


class RpcError(Exception):
    """A JSON-RPC error response."""

    def __init__(self, code: int, message: str, data: dict | None, response: dict):
        super().__init__(f"{code} {message} {json.dumps(data)}")
        self.code = code
        self.message = message
        self.data = data or {}
        self.response = response

    @property
    def reason(self) -> str | None:
        return self.data.get("reason")

    @property
    def field(self) -> str | None:
        return self.data.get("field")


class Rpc:
    """One live credit-rpc process: one request at a time, stdin kept open."""

    def __init__(self, *extra: str, db: str = ":memory:", test_clock: str | None = None,
                 as_: str | None = None, env: dict[str, str] | None = None, timeout: float = TIMEOUT):
        args = [binary(), "--db", db]
        if test_clock:
            args += ["--test-clock", test_clock]
        if as_:
            args += ["--as", as_]
        args += list(extra)
        self.timeout = timeout
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env if env is not None else base_env(),
        )
        self._buf = b""
        self._next_id = 1

    def send_line(self, line: str | bytes) -> None:
        if isinstance(line, str):
            line = line.encode()
        if not line.endswith(b"\n"):
            line += b"\n"
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def read_line(self) -> str:
        """Exactly one stdout line; fails the test when none comes within the timeout."""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                pytest.fail(f"no response line within {self.timeout}s (hang?)")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    stderr = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.poll() is not None else ""
                    pytest.fail(f"stdout closed before a response line; stderr: {stderr}")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("utf-8")

    def exchange(self, message) -> dict | list:
        """Sends one message (a JSON value or a raw line) and reads its one response line."""
        self.send_line(message if isinstance(message, (str, bytes)) else json.dumps(message))
        return json.loads(self.read_line())

    def raw_call(self, method: str, params: dict | None = None) -> dict:
        """The whole response object of one call."""
        msg = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self._next_id += 1
        response = self.exchange(msg)
        assert response.get("id") == msg["id"], f"response to another id: {response}"
        return response

    def call(self, method: str, **params):
        """The result of a call, or RpcError."""
        response = self.raw_call(method, params)
        if "error" in response:
            e = response["error"]
            raise RpcError(e.get("code"), e.get("message"), e.get("data"), response)
        return response["result"]

    def close(self) -> tuple[int, str]:
        """Closes stdin and waits for the exit; returns (return code, stderr)."""
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            rc = self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("credit-rpc did not exit after EOF on stdin")
        err = self.proc.stderr.read().decode("utf-8", "replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> "Rpc":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            if exc[0] is None:
                rc, err = self.close()
                assert rc == 0, f"exit {rc}, stderr: {err}"
            else:
                self.kill()


@pytest.fixture
def rpc():
    """A live in-memory service with the test clock at EXAMPLE_CLOCK."""
    with Rpc(test_clock=EXAMPLE_CLOCK) as r:
        yield r


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A database file path in a fresh temporary folder."""
    return tmp_path / "credit.sqlite"


@pytest.fixture(scope="session")
def credit_rpc_bin() -> str:
    return binary()


# Catalog fixtures shared by several test files.
COURSE_ID = "course-v1:MITx+6.002x+2026_T1"


def create_catalog(r: Rpc, course_id: str = COURSE_ID, min_grade: float = 0.8) -> None:
    """A course that offers credit: a provider, an offer and one grade requirement."""
    r.call("createCourse", courseId=course_id, title="Circuits and Electronics",
           startsAt="2026-01-01T00:00:00Z", endsAt="2026-06-30T23:59:59Z")
    r.call("createProvider", providerId="asu", displayName="Arizona State University",
           url="https://credit.example.edu", secrets=["s3cret-key-1"])
    r.call("offerCredit", courseId=course_id, providerId="asu",
           price={"amount": "300.00", "currency": "USD"})
    r.call("setCreditRequirements", courseId=course_id,
           requirements=[{"kind": "grade", "minGrade": min_grade}])
