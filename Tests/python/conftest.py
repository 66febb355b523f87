"""Shared helpers for the black-box tests of the credit-rpc binary.

The binary is found through $CREDIT_RPC_BIN when set, else through `swift build --show-bin-path`
run from the repository root (built once with `swift build --product credit-rpc` if missing).
Everything here drives the real process through pipes, as a client's harness would.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import json
import os
import select
import subprocess
import sys
import threading
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

# --- engines ----------------------------------------------------------------------------------
#
# The tests drive SQLite by default. $CREDIT_RPC_TEST_ENGINE=postgresql runs every test on
# PostgreSQL instead (tests about SQLite files are skipped: marker `sqlite_only`); in the default
# run, the modules marked `both_engines` run once per engine. On PostgreSQL a throwaway cluster
# (scripts/pg-cluster) is started on first use and stopped at exit; each `--db` value becomes a
# schema of its own (":memory:" a fresh one per process, a file path one per path, so that the
# processes of one test share it), through the URI's search_path.

ENGINES = ("sqlite", "postgresql")
ENGINE_ALL = os.environ.get("CREDIT_RPC_TEST_ENGINE", "sqlite")
assert ENGINE_ALL in ENGINES, f"CREDIT_RPC_TEST_ENGINE must be one of {ENGINES}, not {ENGINE_ALL!r}"
_engine = [ENGINE_ALL]


def current_engine() -> str:
    return _engine[0]


class using_engine:
    """`with using_engine("sqlite"):` runs a block on another engine than the test's."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.saved = _engine[0]
        _engine[0] = self.name

    def __exit__(self, *exc):
        _engine[0] = self.saved


class PgCluster:
    """One throwaway primary for the session, and a psql session on it for setup and checks."""

    def __init__(self):
        out = subprocess.run([str(REPO_ROOT / "scripts" / "pg-cluster"), "start"],
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, f"scripts/pg-cluster start failed: {out.stderr}"
        self.env = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.dir = self.env["PG_CLUSTER_DIR"]
        self.port = self.env["PG_PRIMARY_PORT"]
        self.base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._psql = subprocess.Popen(
            [self.env["PG_BIN"] + "/psql", "-X", "-q", "-A", "-t", "-F", "|", "-h", "127.0.0.1", "-p", self.port,
             "-U", "postgres", "postgres"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._lock = threading.Lock()
        self._names = itertools.count()
        self._by_path: dict[str, str] = {}

    def sql(self, statements: str) -> list[list[str]]:
        """Runs SQL in the session; returns the rows (columns split). Fails on any error."""
        with self._lock:
            self._psql.stdin.write(statements.rstrip().rstrip(";") + ";\n\\echo __done__\n")
            self._psql.stdin.flush()
            rows = []
            while True:
                line = self._psql.stdout.readline()
                assert line, "psql ended"
                line = line.rstrip("\n")
                if line == "__done__":
                    break
                rows.append(line)
        errors = [r for r in rows if r.startswith(("ERROR:", "psql:"))]
        assert not errors, f"{statements}: {errors}"
        return [r.split("|") for r in rows]

    def schema_uri(self, schema: str) -> str:
        return f"{self.base}?options=-csearch_path%3D{schema}"

    def new_schema(self) -> str:
        name = f"t{os.getpid()}_{next(self._names)}"
        self.sql(f"CREATE SCHEMA {name}")
        return name

    def schema_for_path(self, path: str) -> str:
        """The schema standing for a database file path (created on first use)."""
        if path not in self._by_path:
            name = "f" + hashlib.sha256(path.encode()).hexdigest()[:20]
            self.sql(f"CREATE SCHEMA IF NOT EXISTS {name}")
            self._by_path[path] = name
        return self._by_path[path]

    def in_schema(self, db: str, query: str) -> list[list[str]]:
        """Rows of `query` in the schema that `db` (a --db value of a test) maps to."""
        return self.sql(f"SET search_path = {self.schema_for_path(str(db))}; {query}")

    def stop(self) -> None:
        try:
            self._psql.stdin.close()
            self._psql.wait(10)
        except Exception:
            pass
        subprocess.run([str(REPO_ROOT / "scripts" / "pg-cluster"), "stop", self.dir],
                       capture_output=True, timeout=60)


_cluster: list[PgCluster] = []


def pg_cluster() -> PgCluster:
    if not _cluster:
        _cluster.append(PgCluster())
        atexit.register(_cluster[0].stop)
    return _cluster[0]


def engine_db(db) -> str:
    """The --db value that stands for `db` (":memory:" or a file path) on the current engine."""
    db = str(db)
    if current_engine() == "sqlite" or db.startswith(("postgresql://", "postgres://")):
        return db
    c = pg_cluster()
    return c.schema_uri(c.new_schema() if db == ":memory:" else c.schema_for_path(db))


def engine_args(args) -> list[str]:
    """`args` with the value of --db (or --db=) mapped by engine_db."""
    out = list(args)
    for i, a in enumerate(out):
        if a == "--db" and i + 1 < len(out):
            out[i + 1] = engine_db(out[i + 1])
        elif a.startswith("--db="):
            out[i] = "--db=" + engine_db(a[5:])
    return out


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
            [binary(), *engine_args(args)], input=data, capture_output=True,
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
        args = [binary(), "--db", engine_db(db)]
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


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about SQLite files; skipped when all tests run on PostgreSQL")
    config.addinivalue_line("markers", "both_engines: runs once per engine in the default run")


def pytest_collection_modifyitems(config, items):
    # Before any fixture (module-scoped ones included) touches a file.
    if ENGINE_ALL == "postgresql":
        for item in items:
            if item.get_closest_marker("sqlite_only"):
                item.add_marker(pytest.mark.skip(reason="about SQLite files"))


def pytest_generate_tests(metafunc):
    if "engine" not in metafunc.fixturenames:
        return
    if any(m.args and m.args[0] == "engine" for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its engine
    if ENGINE_ALL == "postgresql":
        metafunc.parametrize("engine", ["postgresql"], indirect=True)
    elif metafunc.definition.get_closest_marker("both_engines"):
        metafunc.parametrize("engine", list(ENGINES), indirect=True)


@pytest.fixture(autouse=True)
def engine(request):
    """The engine a test runs on (see the top of this file)."""
    name = getattr(request, "param", ENGINE_ALL)
    if name == "sqlite" and ENGINE_ALL == "postgresql":
        pytest.skip("all tests run on PostgreSQL")
    if name == "postgresql" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("about SQLite files")
    _engine[0] = name
    try:
        yield name
    finally:
        _engine[0] = ENGINE_ALL


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
