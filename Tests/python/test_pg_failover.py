"""Failover and durability of the PostgreSQL module (SPEC 7) on a real primary with a synchronous
standby, driven through pg-probe (Sources/pg-probe), a tiny client of the module.

- kill -9 of the primary under a stream of commits, promotion of the standby, reconnection through a
  multi-host URI (target_session_attrs=read-write): every acknowledged commit is on the new primary
  and the same process commits again. $CREDIT_RPC_PG_FAILOVER_ROUNDS rounds (2 by default).
- a cancelled (or terminated) synchronous-replication wait: the server commits locally and warns;
  the commit must be refused, not acknowledged.

Each test starts its own throwaway cluster with scripts/pg-cluster (fsync on) and stops it.
"""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT

CLUSTER = REPO_ROOT / "scripts" / "pg-cluster"
ROUNDS = int(os.environ.get("CREDIT_RPC_PG_FAILOVER_ROUNDS", "2"))


def probe_binary() -> str:
    bin_dir = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300, check=True,
    ).stdout.strip()
    path = Path(bin_dir) / "pg-probe"
    if not path.exists():
        subprocess.run(["swift", "build", "--product", "pg-probe"], cwd=REPO_ROOT, timeout=1800, check=True)
    return str(path)


class Cluster:
    def __init__(self, *options: str):
        out = subprocess.run([str(CLUSTER), "start", *options], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"scripts/pg-cluster start failed: {out.stderr}"
        self.env = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.dir = self.env["PG_CLUSTER_DIR"]

    def run(self, *command: str, timeout: float = 60) -> str:
        out = subprocess.run([str(CLUSTER), *command, self.dir], capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, f"pg-cluster {command}: {out.stderr}"
        return out.stdout

    def sql(self, node: str, query: str) -> str:
        out = subprocess.run(
            [str(CLUSTER), "psql", self.dir, node, "-Atqc", query], capture_output=True, text=True, timeout=30,
        )
        assert out.returncode == 0, f"psql: {out.stderr}"
        return out.stdout.strip()

    def stop(self) -> None:
        subprocess.run([str(CLUSTER), "stop", self.dir], capture_output=True, timeout=60)


class Probe:
    def __init__(self, uri: str):
        self.proc = subprocess.Popen(
            [probe_binary(), "serve", uri], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = 20.0) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"pg-probe did not answer within {timeout}s"
        line = self.proc.stdout.readline()
        assert line, "pg-probe exited"
        return line.strip()

    def call(self, line: str, timeout: float = 20.0) -> str:
        self.send(line)
        return self.answer(timeout)

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("round", range(ROUNDS))
def test_failover_loses_no_acknowledged_commit(round):
    cluster = Cluster("--standby", "--fsync")
    probe = None
    try:
        probe = Probe(cluster.env["PG_MULTI_URI"])
        assert probe.call("setup") == "ok"
        acked, errors = [], []
        killed = threading.Event()
        times = {}

        def fail_over():
            time.sleep(0.3 + 0.1 * round)
            cluster.run("kill-primary")
            times["kill"] = time.monotonic()
            killed.set()
            cluster.run("promote")

        thread = threading.Thread(target=fail_over)
        thread.start()
        after_kill = 0
        deadline = time.monotonic() + 60
        n = 0
        while time.monotonic() < deadline and after_kill < 20:
            n += 1
            answer = probe.call(f"commit {n}")
            words = answer.split()
            if words[0] == "ok":
                acked.append(int(words[1]))
                if killed.is_set():
                    after_kill += 1
                    times.setdefault("back", time.monotonic())
            else:
                assert words[1] == "unavailable", answer
                errors.append(answer)
                time.sleep(0.01)
        thread.join(timeout=60)
        assert after_kill >= 20, f"the process did not commit again after the failover ({errors[-3:]})"
        assert errors, "no request was in flight or refused during the failover"
        stored = {int(x) for x in cluster.sql("standby", "SELECT id FROM acks").split()}
        lost = [i for i in acked if i not in stored]
        assert lost == [], f"acknowledged commits lost in the failover: {lost}"
        assert cluster.sql("standby", "SELECT pg_is_in_recovery()") == "f"
        print(f"failover round {round}: {len(acked)} acknowledged, {len(errors)} refused, "
              f"committing again {1000 * (times['back'] - times['kill']):.0f} ms after the kill")
    finally:
        if probe:
            probe.close()
        cluster.stop()


@pytest.mark.parametrize("how", ["pg_cancel_backend", "pg_terminate_backend"])
def test_a_cancelled_synchronous_replication_wait_is_not_acknowledged(how):
    cluster = Cluster("--standby")
    probe = None
    try:
        probe = Probe(cluster.env["PG_PRIMARY_URI"])
        assert probe.call("setup") == "ok"
        assert probe.call("commit 1") == "ok 1"
        cluster.run("stop-standby")
        probe.send("commit 2")
        pid = ""
        for _ in range(200):
            pid = cluster.sql(
                "primary", "SELECT pid FROM pg_stat_activity WHERE application_name = 'pg-probe' AND wait_event = 'SyncRep'")
            if pid:
                break
            time.sleep(0.05)
        assert pid, "the commit did not wait for the stopped standby"
        cluster.sql("primary", f"SELECT {how}({pid})")
        answer = probe.answer()
        assert answer.startswith("error unavailable 2"), answer
        # What the server did: committed locally, which is why it must not be acknowledged.
        assert cluster.sql("primary", "SELECT count(*) FROM acks WHERE id = 2") == "1"
    finally:
        if probe:
            probe.close()
        cluster.stop()
