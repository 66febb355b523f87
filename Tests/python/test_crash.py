"""Crash durability (issue 6): SIGKILL at random moments loses nothing that was answered.

The long run is `Tests/tools/crash_tool.py` (see its docstring); its budget is
$CREDIT_RPC_CRASH_ROUNDS kill rounds (CI: 200), its seed $CREDIT_RPC_CRASH_SEED (printed on failure).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, base_env, binary

sys.path.insert(0, str(REPO_ROOT / "Tests" / "tools"))
import crash_tool  # noqa: E402
from harness import Piped, request_line, run_piped  # noqa: E402

ROUNDS = int(os.environ.get("CREDIT_RPC_CRASH_ROUNDS", "200"))
SEED = int(os.environ.get("CREDIT_RPC_CRASH_SEED", "20260301"))


def _integrity(db: Path) -> list:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def test_kill_rounds_lose_nothing_answered(tmp_path):
    try:
        stats = crash_tool.run(binary(), ROUNDS, SEED, tmp_path)
    except crash_tool.CheckFailed as e:
        pytest.fail(f"{e}\n(reproduce: CREDIT_RPC_CRASH_SEED={SEED} CREDIT_RPC_CRASH_ROUNDS={ROUNDS}; "
                    f"by hand: python3 Tests/tools/crash_tool.py --seed {SEED} --rounds {ROUNDS})")
    print(f"crash tool, seed {SEED}: {stats.summary()}")
    assert stats.rounds >= ROUNDS
    # The rounds must really cut the service off mid-work, not only before or after it.
    if ROUNDS >= 100:
        assert stats.kills >= ROUNDS // 2, stats.summary()
        assert stats.kills_mid_stream > 0, stats.summary()


def test_kill_during_first_open_and_migration(tmp_path):
    """A process killed while it creates and migrates a new file leaves a file the next one opens."""
    rng = random.Random(SEED)
    for i in range(30):
        db = tmp_path / f"m{i}.sqlite"
        with Piped(binary(), ["--db", str(db)], env=base_env()) as p:
            p.feed(request_line(1, "listCourses"), close=False)
            time.sleep(rng.uniform(0, 0.012))
            p.kill()
        out, err, rc, _ = run_piped(binary(), ["--db", str(db)], request_line(1, "listCourses"), timeout=20)
        assert rc == 0 and [json.loads(x) for x in out] == [{"jsonrpc": "2.0", "id": 1, "result": {"courses": []}}], \
            f"restart {i} after a kill during the migration: exit {rc}, {out}, {err}"
        assert _integrity(db) == ["ok"]


def test_kill_mid_batch_then_answered_batch_is_all_there(tmp_path):
    """A 2,000-member batch of writes killed at random: integrity holds; when its answer line was
    read, every member is there."""
    db = tmp_path / "batch.sqlite"
    rng = random.Random(SEED + 1)
    for round_ in range(8):
        batch = [{"jsonrpc": "2.0", "id": i, "method": "createLearner",
                  "params": {"learnerId": f"b{round_}-{i}", "fullName": "Batch Learner",
                             "email": f"b{round_}.{i}@example.org", "country": "FR"}}
                 for i in range(2000)]
        with Piped(binary(), ["--db", str(db)], env=base_env()) as p:
            p.feed((json.dumps(batch) + "\n").encode(), close=True)
            answer = p.read_line(rng.uniform(0.0, 0.08) if round_ % 2 else 20.0)
            p.kill()
        assert _integrity(db) == ["ok"]
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            n = con.execute("SELECT count(*) FROM learners WHERE learner_id LIKE ?", (f"b{round_}-%",)).fetchone()[0]
        except sqlite3.OperationalError:
            n = 0  # killed before the schema existed
        finally:
            con.close()
        if answer is not None:
            rs = json.loads(answer)
            assert len(rs) == 2000 and all("result" in r for r in rs), rs[:3]
            assert n == 2000, f"round {round_}: the batch was answered but {n} of 2000 learners are stored"


def test_writer_killed_while_another_process_writes(tmp_path):
    """One of two processes on the file is killed mid-stream; the other goes on, loses nothing it
    answered, and the killed one's answered writes are there too."""
    db = tmp_path / "two.sqlite"
    run_piped(binary(), ["--db", str(db)], request_line(0, "listCourses"), timeout=20)

    def lines(prefix, n):
        return b"".join(request_line(i, "createLearner", {
            "learnerId": f"{prefix}{i}", "fullName": "Two Writers", "email": f"{prefix}{i}@example.org",
            "country": "NL"}) for i in range(n))

    victim = Piped(binary(), ["--db", str(db)], env=base_env())
    survivor = Piped(binary(), ["--db", str(db)], env=base_env())
    try:
        victim.feed(lines("v", 3000), close=True)
        survivor.feed(lines("s", 3000), close=True)
        acked_v = victim.read_available(time.monotonic() + 0.03)
        victim.kill()
        acked_v += victim.read_available(time.monotonic() + 2)
        acked_s = survivor.read_available(time.monotonic() + 60)
        assert survivor.wait(20) == 0, survivor.stderr()
        assert len(acked_s) == 3000 and all(b'"result"' in x for x in acked_s)
    finally:
        victim.cleanup()
        survivor.cleanup()
    assert _integrity(db) == ["ok"]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = {r[0] for r in con.execute("SELECT learner_id FROM learners")}
    finally:
        con.close()
    assert {f"s{i}" for i in range(3000)} <= ids
    for raw in acked_v:
        r = json.loads(raw)
        assert "result" in r, r
        assert r["result"]["learnerId"] in ids, f"answered write of the killed process lost: {r}"
