"""Every statement the service runs on per-learner data uses an index (issue 7: latency must not grow
with the number of learners). The statements are collected with --trace-sql while the worked
examples run, then each is explained with EXPLAIN QUERY PLAN on the same database."""

from __future__ import annotations

import re
import sqlite3

from conftest import EXAMPLE_CLOCK, EXAMPLES_DIR, run_raw

#: Tables that grow with learners: a full scan of one of these is a bug.
PER_LEARNER = {"learners", "enrollments", "requirement_status", "verifications", "exam_attempts", "exam_scores",
               "exam_time_grants", "orders", "credit_requests", "notifications", "events"}


def statements(tmp_path) -> tuple[str, list[str]]:
    db = tmp_path / "plans.sqlite"
    trace = tmp_path / "trace.sql"
    for example in sorted(EXAMPLES_DIR.glob("*.jsonl")):
        p = run_raw(example.read_bytes(), "--db", str(db), "--test-clock", EXAMPLE_CLOCK,
                    "--trace-sql", str(trace), timeout=60)
        assert p.returncode == 0, p.stderr
    text = trace.read_text()
    # One statement per traced entry: entries start at the beginning of a line with a keyword.
    parts = re.split(r"\n(?=(?:SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b)",
                     text)
    return str(db), sorted({s.strip() for s in parts if s.strip()})


def test_trace_sql_records_the_statements_run(tmp_path):
    _, stmts = statements(tmp_path)
    assert any(s.startswith("SELECT") for s in stmts)
    assert any(s.startswith("INSERT INTO events") for s in stmts)
    assert "COMMIT" in stmts


def test_no_statement_scans_a_table_that_grows_with_learners(tmp_path):
    db, stmts = statements(tmp_path)
    con = sqlite3.connect(db)
    scans = []
    explained = 0
    for stmt in stmts:
        if not re.match(r"(SELECT|UPDATE|DELETE|INSERT)\b", stmt):
            continue
        # The trace holds statements as prepared (`?` for values): explain them with NULLs bound.
        plan = con.execute("EXPLAIN QUERY PLAN " + stmt, [None] * stmt.count("?")).fetchall()
        explained += 1
        for row in plan:
            detail = row[-1]
            m = re.match(r"SCAN (\w+)", detail)
            if m and m.group(1) in PER_LEARNER and "USING" not in detail:
                scans.append((detail, stmt))
    con.close()
    assert explained > 25, f"only {explained} statements were explained"
    assert scans == [], "\n\n".join(f"{d}\n  in: {s}" for d, s in scans)
