"""Faults of the database file (issue 6): read-only, missing folder, corrupt, foreign, newer schema,
full disk. Each is a clear error at start-up (stderr, exit 1, nothing on stdout, the file left as
it was) or -32010 unavailable; never a crash, never -32603, never an answer that lies about what
was stored.

Some cases need root (an immutable file, a read-only or tiny tmpfs in a private mount namespace);
they are skipped, saying why, where that is not possible.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, base_env, binary

sys.path.insert(0, str(REPO_ROOT / "Tests" / "tools"))
from harness import Piped, request_line  # noqa: E402

TIMEOUT = 60
IS_ROOT = os.geteuid() == 0
NOBODY = 65534


def learner(lid, address=None):
    p = {"learnerId": lid, "fullName": f"Fault {lid}", "email": f"{lid}@fault.example", "country": "DE"}
    if address:
        p["mailingAddress"] = address
    return p


def run(db, lines, *, preexec_fn=None, args=(), timeout=TIMEOUT, program=None):
    """Pipes request lines (dicts or bytes) into credit-rpc on `db`; (answers, stdout bytes, stderr, rc)."""
    data = b"".join(x if isinstance(x, bytes) else (json.dumps(x) + "\n").encode() for x in lines)
    p = subprocess.run([program or binary(), "--db", str(db), *args], input=data, capture_output=True, env=base_env(),
                       preexec_fn=preexec_fn, timeout=timeout)
    answers = []
    for line in p.stdout.decode("utf-8").splitlines():
        answers.append(json.loads(line))  # nothing but JSON on stdout
    return answers, p.stdout, p.stderr.decode("utf-8", "replace"), p.returncode


def call(id, method, **params):
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": params}


def make_db(db: Path, n_learners=3) -> None:
    lines = [call(i, "createLearner", **learner(f"l{i}")) for i in range(n_learners)]
    lines.append(call("c", "createCourse", courseId="course-v1:F+F+F", title="Faults",
                      startsAt="2026-01-01T00:00:00Z", endsAt="2026-12-31T23:59:59Z"))
    answers, _, err, rc = run(db, lines)
    assert rc == 0 and all("result" in a for a in answers), (answers, err)
    settle(db)


def settle(db: Path) -> None:
    """Checkpoints the WAL into the file and lets the last connection remove -wal and -shm."""
    con = sqlite3.connect(str(db))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused_at_start(answers, out, err, rc, path, *words):
    assert rc == 1, f"exit {rc} (negative: killed by a signal), stdout {out[:300]!r}, stderr {err!r}"
    assert out == b"", f"stdout must stay empty: {out[:300]!r}"
    assert err.startswith("credit-rpc") and str(path) in err, f"stderr must name the file: {err!r}"
    assert len(err) < 2000 and "Fatal error" not in err and "Stack" not in err, err
    for w in words:
        assert w.lower() in err.lower(), f"stderr should say {w!r}: {err!r}"


def assert_no_internal_error(answers, err):
    for a in answers:
        for r in (a if isinstance(a, list) else [a]):
            if "error" in r:
                e = r["error"]
                assert e["code"] != -32603, f"internal error {r}; stderr: {err[-1500:]}"
                assert e["message"] and e["data"]["reason"], r


# --- read-only ---------------------------------------------------------------------------------


def _drop_to_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _read_only_setups():
    """How to make a file read-only for the service here: (name, setup(db) -> preexec_fn, undo(db))."""
    setups = []
    if not IS_ROOT:
        setups.append(pytest.param("chmod", id="chmod-0400"))
    else:
        setups.append(pytest.param("other-user", id="chmod-0400-as-nobody"))
        setups.append(pytest.param("immutable", id="chattr-immutable"))
    return setups


class ReadOnly:
    """A migrated database with data, made read-only for the service in one of the ways above."""

    def __init__(self, how: str):
        self.how = how
        self.dir = Path(tempfile.mkdtemp(prefix="credit-ro-"))
        os.chmod(self.dir, 0o755)
        self.db = self.dir / "ro.sqlite"
        make_db(self.db)
        self.preexec_fn = None
        self.program = None
        if how == "chmod":
            os.chmod(self.db, 0o400)
        elif how == "other-user":
            os.chown(self.dir, NOBODY, NOBODY)
            os.chown(self.db, NOBODY, NOBODY)
            os.chmod(self.db, 0o400)
            # A copy beside the file, so that the other user can run it wherever the checkout is
            # (a clone inside a private folder is not reachable by nobody).
            self.program = str(self.dir / "credit-rpc")
            shutil.copy2(binary(), self.program)
            os.chmod(self.program, 0o755)
            self.preexec_fn = _drop_to_nobody
        elif how == "immutable":
            if shutil.which("chattr") is None:
                pytest.skip("no chattr here")
            p = subprocess.run(["chattr", "+i", str(self.db)], capture_output=True, text=True)
            if p.returncode != 0:
                pytest.skip(f"chattr +i is not possible on this filesystem: {p.stderr.strip()}")
        self.sha = sha(self.db)

    def cleanup(self):
        if self.how == "immutable":
            subprocess.run(["chattr", "-i", str(self.db)], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def read_only(request):
    ro = ReadOnly(request.param)
    yield ro
    ro.cleanup()


@pytest.mark.parametrize("read_only", _read_only_setups(), indirect=True)
def test_read_only_file_refuses_writes_and_serves_reads(read_only):
    lines = [
        call(1, "getDashboard", learnerId="l0"),
        call(2, "createLearner", **learner("new")),
        call(3, "listCourses"),
        [call(4, "createLearner", **learner("new2")), call(5, "getDashboard", learnerId="l1")],
        call(6, "getDashboard", learnerId="new"),
    ]
    answers, out, err, rc = run(read_only.db, lines, preexec_fn=read_only.preexec_fn, program=read_only.program)
    assert rc == 0, f"exit {rc}: {err}"
    assert answers[0]["result"]["learnerId"] == "l0", answers[0]
    e = answers[1]["error"]
    assert e["code"] == -32010 and e["data"]["reason"] == "database_read_only", answers[1]
    assert answers[2]["result"]["courses"][0]["courseId"] == "course-v1:F+F+F"
    batch = answers[3]
    assert batch[0]["error"]["data"]["reason"] == "database_read_only", batch
    assert "result" in batch[1] or batch[1]["error"]["data"]["reason"] == "database_read_only", batch
    assert answers[4]["error"]["code"] == -32001, f"a refused write is visible: {answers[4]}"
    assert_no_internal_error(answers, err)
    assert sha(read_only.db) == read_only.sha, "the read-only file was changed"


@pytest.mark.skipif(IS_ROOT and not hasattr(os, "setuid"), reason="needs another user")
def test_read_only_file_keeps_its_mode():
    ro = ReadOnly("other-user" if IS_ROOT else "chmod")
    try:
        run(ro.db, [call(1, "listCourses")], preexec_fn=ro.preexec_fn, program=ro.program)
        mode = stat.S_IMODE(os.stat(ro.db).st_mode)
        assert mode == 0o400, f"the service changed the file's mode from 0400 to {mode:o}"
    finally:
        ro.cleanup()


def _private_mount_ok() -> str | None:
    """None when `unshare -m` and a tmpfs mount work here; else why not."""
    if not IS_ROOT:
        return "mounting needs root"
    if shutil.which("unshare") is None:
        return "no unshare"
    p = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
                       capture_output=True, text=True, timeout=20)
    return None if p.returncode == 0 else f"no private tmpfs mount here: {p.stderr.strip()}"


def _in_private_mount(script: str, size: str, work: Path) -> None:
    """Runs `script` (sh) with a fresh tmpfs of `size` at $M, in a mount namespace of its own
    (the mount vanishes with it)."""
    mnt = work / "mnt"
    mnt.mkdir(exist_ok=True)
    full = f"set -e\nM={mnt}\nmount -t tmpfs -o size={size},mode=0755 tmpfs \"$M\"\n{script}"
    p = subprocess.run(["unshare", "-m", "sh", "-c", full], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"mount namespace script failed: {p.stderr}"


def test_read_only_filesystem(tmp_path):
    """The file on a filesystem mounted read-only: served read-only, or refused at start clearly."""
    why = _private_mount_ok()
    if why:
        pytest.skip(why)
    db = tmp_path / "src.sqlite"
    make_db(db)
    (tmp_path / "in.jsonl").write_bytes(
        request_line(1, "getDashboard", {"learnerId": "l0"}) + request_line(2, "createLearner", learner("new")))
    B = binary()
    _in_private_mount(f"""
cp {db} "$M/ro.sqlite"
mount -o remount,ro "$M"
set +e
{B} --db "$M/ro.sqlite" < {tmp_path}/in.jsonl > {tmp_path}/out.jsonl 2> {tmp_path}/err.txt
echo $? > {tmp_path}/rc
""", "1m", tmp_path)
    rc = int((tmp_path / "rc").read_text())
    out = (tmp_path / "out.jsonl").read_bytes()
    err = (tmp_path / "err.txt").read_text()
    if rc == 1:
        # Refused at start (SQLite cannot create the -shm of a WAL database there). Today's message
        # says only "unable to open database file"; naming the read-only filesystem would be kinder.
        assert out == b"" and err.startswith("credit-rpc") and "ro.sqlite" in err, (out, err)
    else:
        assert rc == 0, err
        answers = [json.loads(x) for x in out.decode().splitlines()]
        assert answers[0]["result"]["learnerId"] == "l0", answers
        assert answers[1]["error"]["data"]["reason"] == "database_read_only", answers


# --- missing folder, corrupt and foreign files ------------------------------------------------------


def test_database_folder_that_does_not_exist(tmp_path):
    db = tmp_path / "no" / "such" / "folder" / "credit.sqlite"
    answers, out, err, rc = run(db, [call(1, "listCourses")])
    assert_refused_at_start(answers, out, err, rc, db, "cannot open")
    assert not (tmp_path / "no").exists(), "the folder was created"
    # The same through $CREDIT_RPC_DB.
    p = subprocess.run([binary()], input=request_line(1, "listCourses"), capture_output=True,
                       env=base_env(CREDIT_RPC_DB=str(db)), timeout=TIMEOUT)
    assert p.returncode == 1 and p.stdout == b"" and str(db) in p.stderr.decode(), p


def _random_bytes(n, seed):
    r = random.Random(seed)
    return bytes(r.randrange(256) for _ in range(n))


CORRUPT = {
    "random-bytes": lambda: _random_bytes(8192, 1),
    "sqlite-header-then-garbage": lambda: b"SQLite format 3\x00" + _random_bytes(8192 - 16, 2),
    "text-file": lambda: b"these are my notes\nnot a database\n" * 50,
    "header-only": lambda: b"SQLite format 3\x00",
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_corrupt_file_refused_and_left_unchanged(tmp_path, kind):
    db = tmp_path / "corrupt.sqlite"
    db.write_bytes(CORRUPT[kind]())
    before = sha(db)
    answers, out, err, rc = run(db, [call(1, "listCourses"), call(2, "createLearner", **learner("x"))])
    assert_refused_at_start(answers, out, err, rc, db)
    assert any(w in err.lower() for w in ("not a", "not usable", "malformed", "corrupt")), err
    assert sha(db) == before, "the corrupt file was changed"


def test_directory_in_place_of_the_file(tmp_path):
    db = tmp_path / "a-directory.sqlite"
    db.mkdir()
    answers, out, err, rc = run(db, [call(1, "listCourses")])
    assert_refused_at_start(answers, out, err, rc, db)


def _damage(db: Path, seed: int) -> None:
    """Scribbles over a few random pages after the first (the schema page stays readable)."""
    r = random.Random(seed)
    size = db.stat().st_size
    pages = size // 4096
    with open(db, "r+b") as f:
        for _ in range(r.randint(1, 3)):
            page = r.randrange(1, pages)
            f.seek(page * 4096 + r.randrange(0, 200))
            f.write(_random_bytes(r.randrange(16, 3000), seed * 31 + page))


@pytest.mark.parametrize("seed", range(12))
def test_damaged_pages_are_unavailable_never_internal(tmp_path, seed):
    db = tmp_path / "damaged.sqlite"
    make_db(db, n_learners=400)
    _damage(db, seed)
    lines = [call(1, "listCourses")]
    lines += [call(10 + i, "getDashboard", learnerId=f"l{i}") for i in range(0, 400, 23)]
    lines += [call(1000 + i, "createLearner", **learner(f"l{i}")) for i in range(0, 400, 37)]
    lines += [call(2000 + i, "createLearner", **learner(f"new{i}")) for i in range(10)]
    answers, out, err, rc = run(db, lines)
    assert rc in (0, 1), f"exit {rc} (negative: killed by a signal); stderr: {err[-2000:]}"
    if rc == 1:
        assert_refused_at_start(answers, out, err, rc, db)
        return
    assert len(answers) == len(lines)
    assert_no_internal_error(answers, err)
    for a in answers:
        if "error" in a and a["error"]["code"] == -32010:
            assert a["error"]["data"]["reason"] in ("database_unavailable", "database_read_only"), a


def test_truncated_database(tmp_path):
    db = tmp_path / "cut.sqlite"
    make_db(db, n_learners=400)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    lines = [call(1, "listCourses")] + [call(10 + i, "getDashboard", learnerId=f"l{i}") for i in range(0, 400, 9)]
    lines += [call(2000 + i, "createLearner", **learner(f"new{i}")) for i in range(10)]
    answers, out, err, rc = run(db, lines)
    assert rc in (0, 1), f"exit {rc}; stderr: {err[-2000:]}"
    if rc == 0:
        assert len(answers) == len(lines)
        assert_no_internal_error(answers, err)
    else:
        assert_refused_at_start(answers, out, err, rc, db)


def _foreign(db: Path, user_version=0, wal=False) -> None:
    con = sqlite3.connect(str(db))
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    con.executescript("""
        CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
        CREATE TABLE learners (name TEXT);
        INSERT INTO notes (body) VALUES ('keep me'), ('and me');
    """)
    con.execute(f"PRAGMA user_version = {user_version}")
    con.commit()
    con.close()


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_foreign_sqlite_file_refused_and_left_unchanged(tmp_path, wal):
    db = tmp_path / "other-program.sqlite"
    _foreign(db, wal=wal)
    before = sha(db)
    answers, out, err, rc = run(db, [call(1, "listCourses"), call(2, "createLearner", **learner("x"))])
    assert_refused_at_start(answers, out, err, rc, db, "another program")
    assert sha(db) == before, "the other program's file was changed"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert [r[0] for r in con.execute("SELECT body FROM notes ORDER BY id")] == ["keep me", "and me"]
    con.close()


@pytest.mark.parametrize("user_version", [1, 7])
def test_foreign_sqlite_file_with_a_user_version_refused_and_left_unchanged(tmp_path, user_version):
    db = tmp_path / "other-program.sqlite"
    _foreign(db, user_version=user_version)
    before = sha(db)
    answers, out, err, rc = run(db, [call(1, "listCourses"), call(2, "createLearner", **learner("x"))])
    assert sha(db) == before, "the other program's file was changed"
    assert_refused_at_start(answers, out, err, rc, db, "another program")


def test_newer_schema_version_refused_and_left_unchanged(tmp_path):
    db = tmp_path / "future.sqlite"
    make_db(db)
    con = sqlite3.connect(str(db))
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    before = sha(db)
    answers, out, err, rc = run(db, [call(1, "listCourses"), call(2, "createLearner", **learner("x"))])
    assert_refused_at_start(answers, out, err, rc, db, "newer", "999")
    assert sha(db) == before, "the newer database was changed"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 999
    assert con.execute("SELECT count(*) FROM learners").fetchone()[0] == 3
    con.close()


# --- a full disk -------------------------------------------------------------------------------

# Two ways: RLIMIT_FSIZE (any user; writes past the limit fail with EFBIG: SQLite reports an I/O
# error, database_unavailable) and a tiny tmpfs in a private mount namespace (root; ENOSPC:
# database_full).


def _fsize_limit(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def _fill_lines(n, big_every=1, batch=False):
    lines = []
    for i in range(n):
        address = "x" * 1999 if i % big_every == 0 else "small"
        lines.append(call(i, "createLearner", **learner(f"f{i}", address)))
    return [json.dumps(lines).encode() + b"\n"] if batch else lines


def _check_truthful(db: Path, answers: list, expect_reasons: set) -> tuple[int, int]:
    """Every answer tells the truth: a result means stored, an error means not stored."""
    flat = [r for a in answers for r in (a if isinstance(a, list) else [a])]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert [r[0] for r in con.execute("PRAGMA integrity_check")] == ["ok"]
        stored = {r[0] for r in con.execute("SELECT learner_id FROM learners")}
    finally:
        con.close()
    ok = failed = 0
    lies = []
    for r in flat:
        lid = f"f{r['id']}"
        if "result" in r:
            ok += 1
            if lid not in stored:
                lies.append(f"answered a result but not stored: {r}")
        else:
            failed += 1
            e = r["error"]
            if e["code"] != -32010 or e["data"]["reason"] not in expect_reasons:
                lies.append(f"expected -32010 {sorted(expect_reasons)}: {json.dumps(r)[:300]}")
            if lid in stored:
                lies.append(f"answered an error but stored: {json.dumps(r)[:300]}")
    assert not lies, f"{len(lies)} untruthful answers of {len(flat)}, e.g.:\n" + "\n".join(lies[:5])
    return ok, failed


def test_disk_full_file_size_limit_piped(tmp_path):
    db = tmp_path / "full.sqlite"
    run(db, [call(0, "listCourses")])
    lines = _fill_lines(1500, big_every=3)
    with Piped(binary(), ["--db", str(db)], env=base_env(), preexec_fn=_fsize_limit(600_000)) as p:
        p.feed(b"".join((json.dumps(x) + "\n").encode() for x in lines), close=False)
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < len(lines):
            line = p.read_line(max(0.0, deadline - time.monotonic()))
            assert line is not None, f"{len(got)} answers of {len(lines)}; stderr: {p.stderr()[-2000:]}"
            got.append(json.loads(line))
        # Alone in its group, a read still works on a full disk; so does a write that fits nowhere: it fails.
        p.feed(request_line("read", "getDashboard", {"learnerId": "f0"}), close=True)
        read = p.read_line(TIMEOUT)
        assert p.wait(TIMEOUT) == 0, p.stderr()[-2000:]
    assert read is not None and json.loads(read)["result"]["learnerId"] == "f0", read
    ok, failed = _check_truthful(db, got, {"database_full", "database_unavailable"})
    assert ok > 0 and failed > 0, (ok, failed)
    # Restarted without the limit: everything works again.
    answers, _, err, rc = run(db, [call(1, "createLearner", **learner("after"))])
    assert rc == 0 and "result" in answers[0], (answers, err)


def test_disk_full_tmpfs_piped(tmp_path):
    why = _private_mount_ok()
    if why:
        pytest.skip(why)
    (tmp_path / "in.jsonl").write_bytes(b"".join((json.dumps(x) + "\n").encode() for x in _fill_lines(1500, big_every=3)))
    (tmp_path / "read.jsonl").write_bytes(request_line("read", "getDashboard", {"learnerId": "f0"})
                                          + request_line("write", "createLearner", learner("late")))
    B = binary()
    _in_private_mount(f"""
echo '{{"jsonrpc":"2.0","id":0,"method":"listCourses"}}' | {B} --db "$M/full.sqlite" > /dev/null 2>&1
set +e
{B} --db "$M/full.sqlite" < {tmp_path}/in.jsonl > {tmp_path}/out.jsonl 2> {tmp_path}/err.txt
echo $? > {tmp_path}/rc
{B} --db "$M/full.sqlite" < {tmp_path}/read.jsonl > {tmp_path}/out2.jsonl 2> {tmp_path}/err2.txt
echo $? > {tmp_path}/rc2
cp "$M"/full.sqlite* {tmp_path}/
""", "1200k", tmp_path)
    rc = int((tmp_path / "rc").read_text())
    err = (tmp_path / "err.txt").read_text()
    assert rc == 0, err[-2000:]
    answers = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    ok, failed = _check_truthful(tmp_path / "full.sqlite", answers, {"database_full"})
    assert ok > 0 and failed > 0, (ok, failed)
    # Restarted on the full disk: it starts, reads work, a write fits (the failed groups' WAL frames
    # are reused) or is refused as full, truthfully.
    rc2 = int((tmp_path / "rc2").read_text())
    err2 = (tmp_path / "err2.txt").read_text()
    out2 = (tmp_path / "out2.jsonl").read_text().splitlines()
    assert rc2 == 0 and len(out2) == 2, f"restart on a full disk: exit {rc2}, {out2}, {err2}"
    read, write = (json.loads(x) for x in out2)
    assert read.get("result", {}).get("learnerId") == "f0" or read["error"]["data"]["reason"] == "database_full", read
    con = sqlite3.connect(f"file:{tmp_path / 'full.sqlite'}?mode=ro", uri=True)
    stored = con.execute("SELECT count(*) FROM learners WHERE learner_id = 'late'").fetchone()[0]
    con.close()
    if "result" in write:
        assert stored == 1, write
    else:
        assert write["error"]["data"]["reason"] == "database_full" and stored == 0, write


def test_disk_full_during_a_large_batch_answers_truthfully(tmp_path):
    """One batch line of 3,000 writes of 2 KB each against a 1 MB file size limit."""
    db = tmp_path / "full-batch.sqlite"
    run(db, [call(0, "listCourses")])
    lines = _fill_lines(3000, batch=True)
    answers, out, err, rc = run(db, lines, preexec_fn=_fsize_limit(1_000_000))
    assert rc == 0, err[-2000:]
    assert_no_internal_error(answers, err)
    _check_truthful(db, answers, {"database_full", "database_unavailable"})
