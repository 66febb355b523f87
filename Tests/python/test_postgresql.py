"""PostgreSQL as the second engine (SPEC section 7), on the session's throwaway cluster: the schema
equals SQLite's, foreign and newer databases are refused, the password never shows, a lost
connection is answered -32010 and the next request reconnects.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from conftest import engine_db, pg_cluster, request, run_lines, run_raw, using_engine

pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)

CLOCK = "2026-03-01T00:00:00Z"


def _sqlite_schema(path) -> dict:
    con = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        columns = {t: [(r[1], r[2]) for r in con.execute(f"PRAGMA table_info({t})")] for t in tables}
        indexes = {}
        for t in tables:
            for _, name, unique, origin, partial in con.execute(f"PRAGMA index_list({t})"):
                if origin == "c":  # created by CREATE INDEX (not a key's)
                    cols = [r[2] for r in con.execute(f"PRAGMA index_info({name})")]
                    indexes[name] = (t, tuple(cols), bool(unique))
    finally:
        con.close()
    return {"columns": columns, "indexes": indexes}


def _pg_schema(db) -> dict:
    c = pg_cluster()
    columns: dict = {}
    for t, col, typ in c.in_schema(db, """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"""):
        columns.setdefault(t, []).append((col, typ))
    indexes = {}
    for t, name, cols, unique in c.in_schema(db, """
            SELECT t.relname, i.relname, array_to_string(array(
                     SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(n, o)
                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), ','),
                   x.indisunique
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relnamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"""):
        indexes[name] = (t, tuple(cols.split(",")), unique == "t")
    return {"columns": columns, "indexes": indexes}


SQL_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text"}


def test_both_engines_end_with_equivalent_schemas(tmp_path):
    """The same tables, columns (types mapped), and indexes after every migration. The known
    differences: SQLite's counters table is a sequence per name on PostgreSQL, PostgreSQL's
    credit_rpc_application table stands for SQLite's PRAGMA application_id, and each event records
    its transaction on PostgreSQL (the change feed follows commits with it)."""
    file = tmp_path / "schema.sqlite"
    with using_engine("sqlite"):
        out, err, rc = run_lines([], "--db", str(file))
        assert rc == 0, err
    out, err, rc = run_lines([], "--db", str(tmp_path / "schema-pg"))
    assert rc == 0, err
    lite, pg = _sqlite_schema(file), _pg_schema(tmp_path / "schema-pg")
    assert lite["columns"].pop("counters") == [("name", "TEXT"), ("value", "INTEGER")]
    assert pg["columns"].pop("credit_rpc_application") == [("application_id", "bigint")]
    assert pg["columns"]["events"].pop() == ("txid", "xid8")
    assert pg["indexes"].pop("events_by_transaction") == ("events", ("txid", "event_id"), False)
    assert sorted(lite["columns"]) == sorted(pg["columns"])
    for table, cols in lite["columns"].items():
        assert [(n, SQL_TYPES[t]) for n, t in cols] == pg["columns"][table], table
    assert lite["indexes"] == pg["indexes"]
    seqs = pg_cluster().in_schema(tmp_path / "schema-pg", """
        SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()
        AND sequence_name LIKE 'credit_seq_%' ORDER BY 1""")
    assert seqs == [["credit_seq_attempt"], ["credit_seq_order"], ["credit_seq_verification"]]


def test_a_database_of_another_program_is_refused_untouched(tmp_path):
    db = tmp_path / "foreign"
    pg_cluster().in_schema(db, "CREATE TABLE invoices (id BIGINT PRIMARY KEY)")
    out, err, rc = run_lines([request("listCourses")], "--db", engine_db(db))
    assert rc == 1 and out == [], err
    assert "PostgreSQL database of another program" in err and "point --db at a new database" in err, err
    assert pg_cluster().in_schema(db, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") == [["1"]]


def test_a_newer_schema_is_refused(tmp_path):
    db = tmp_path / "newer"
    out, err, rc = run_lines([], "--db", engine_db(db))
    assert rc == 0, err
    pg_cluster().in_schema(db, "INSERT INTO schema_migrations VALUES (99, 'future', 'x')")
    out, err, rc = run_lines([request("listCourses")], "--db", engine_db(db))
    assert rc == 1 and out == [], err
    assert "schema version 99, newer than the" in err, err


def test_an_unreachable_server_exits_1_without_the_password(tmp_path):
    uri = "postgresql://postgres:Very-Secret-PW@127.0.0.1:1/postgres?connect_timeout=2"
    out, err, rc = run_lines([request("listCourses")], "--db", uri)
    assert rc == 1 and out == [], err
    assert "Very-Secret-PW" not in err and "***" in err, err


def test_the_password_never_shows_in_logs_traces_or_answers(tmp_path):
    c = pg_cluster()
    schema = c.new_schema()
    # Trust authentication accepts any password: the URI carries one that must never show.
    uri = c.schema_uri(schema).replace("postgres@", "postgres:Very-Secret-PW@")
    trace = tmp_path / "trace.sql"
    lines = [request("createLearner", 1, learnerId="ada", fullName="Ada", email="a@example.org", country="GB"),
             request("enroll", 2, learnerId="ada", courseId="course-v1:No+Such+Course", mode="verified"),
             request("getDashboard", 3, learnerId="ada")]
    p = run_raw("\n".join(lines).encode() + b"\n", "--db", uri, "--trace-sql", str(trace), "--log-level", "debug",
                "--test-clock", CLOCK)
    assert p.returncode == 0, p.stderr
    for text in (p.stdout.decode(), p.stderr.decode(), trace.read_text()):
        assert "Very-Secret-PW" not in text
    assert "***" in p.stderr.decode(), p.stderr
    assert "INSERT INTO learners" in trace.read_text()


def test_a_lost_connection_is_answered_unavailable_and_the_next_request_reconnects(tmp_path):
    from conftest import Rpc

    c = pg_cluster()
    db = tmp_path / "lost"
    others = "backend_type = 'client backend' AND pid <> pg_backend_pid()"
    course = "course-v1:Lost+L1+2026"
    with Rpc(db=str(db), test_clock=CLOCK) as r:
        r.call("createCourse", courseId=course, title="Lost", startsAt="2026-01-01T00:00:00Z",
               endsAt="2026-12-31T23:59:59Z")
        r.call("createLearner", learnerId="ada", fullName="Ada", email="a@example.org", country="GB")
        # Cut while idle: the next group finds out at its start and begins on a new connection.
        c.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}")
        r.call("getDashboard", learnerId="ada")
        # Cut inside a group: the enrollment waits on a row this session locks, and its connection
        # is terminated there. The group is answered -32010, nothing of it is stored.
        schema = c.schema_for_path(str(db))
        c.sql(f"BEGIN; SELECT 1 FROM {schema}.learners WHERE learner_id = 'ada' FOR UPDATE")
        try:
            r.send_line(request("enroll", "cut", learnerId="ada", courseId=course, mode="verified"))
            for _ in range(2000):  # until it waits on the lock (bounded; not a timing)
                if c.sql(f"SELECT count(*) FROM pg_stat_activity WHERE {others} AND wait_event_type = 'Lock'") != [["0"]]:
                    break
            c.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others} AND wait_event_type = 'Lock'")
            answer = json.loads(r.read_line())
        finally:
            c.sql("ROLLBACK")
        assert answer["id"] == "cut" and answer["error"]["code"] == -32010, answer
        assert answer["error"]["data"]["reason"] == "database_unavailable", answer
        # The same process serves on; the cut enrollment was not stored.
        r.call("enroll", learnerId="ada", courseId=course, mode="verified")
    events = c.in_schema(db, "SELECT count(*) FROM events WHERE kind = 'enrolled'")
    assert events == [["1"]], events


FAILOVER_ROUNDS = int(os.environ.get("CREDIT_RPC_PG_FAILOVER_ROUNDS", "2"))


@pytest.mark.parametrize("round_", range(FAILOVER_ROUNDS))
def test_failover_loses_no_acknowledged_write_and_the_process_serves_on(round_):
    """One credit-rpc process on a multi-host URI (primary and synchronous standby): kill -9 of the
    primary amid a stream of writes, promotion of the standby. Every write answered with a result
    is on the new primary; the writes in between are answered -32010; the process never exits and
    writes again once the standby is promoted. ($CREDIT_RPC_PG_FAILOVER_ROUNDS clusters, 2 in CI.)"""
    from conftest import Rpc
    from test_pg_failover import Cluster

    cluster = Cluster("--standby")
    try:
        acknowledged, refused = [], 0
        with Rpc(db=cluster.env["PG_MULTI_URI"], test_clock=CLOCK) as r:
            def write(k: int) -> bool:
                answer = r.raw_call("createLearner", {"learnerId": f"l{k}", "fullName": "L", "email": "l@example.org",
                                                      "country": "SE"})
                if "result" in answer:
                    acknowledged.append(f"l{k}")
                    return True
                e = answer["error"]
                assert e["code"] == -32010 and e["data"]["reason"] in ("database_unavailable", "database_read_only"), e
                return False

            k = 0
            for _ in range(20):
                assert write(k), "writes before the failover succeed"
                k += 1
            cluster.run("kill-primary")
            for _ in range(3):
                refused += not write(k)
                k += 1
            cluster.run("promote")
            served = False
            for _ in range(200):  # bounded: each attempt is answered within the connect timeout
                served = write(k)
                k += 1
                if served:
                    break
            assert served, "the process did not write again after the promotion"
            for _ in range(5):
                assert write(k), "writes after the failover succeed"
                k += 1
        assert refused >= 1, "writes while no primary was up must be refused"
        stored = cluster.sql("standby", "SELECT learner_id FROM learners").split()
        missing = sorted(set(acknowledged) - set(stored))
        assert not missing, f"acknowledged but lost in the failover: {missing}"
    finally:
        cluster.stop()
