import Foundation
import PostgreSQL
import Testing

import enum CreditStore.PostgreSQLMigrations

@Suite struct PlaceholderTests {
  @Test func questionMarksBecomeNumberedParameters() {
    #expect(rewritePlaceholders("SELECT ?, ? FROM t WHERE a = ?") == ("SELECT $1, $2 FROM t WHERE a = $3", 3))
    #expect(rewritePlaceholders("SELECT 1") == ("SELECT 1", 0))
    #expect(rewritePlaceholders("SELECT CAST(? AS bigint[])") == ("SELECT CAST($1 AS bigint[])", 1))
    #expect(rewritePlaceholders("SELECT ?::bigint") == ("SELECT $1::bigint", 1))
  }

  @Test func questionMarksInsideLiteralsIdentifiersAndCommentsStay() {
    #expect(rewritePlaceholders("SELECT '?', 'it''s ?', ?") == ("SELECT '?', 'it''s ?', $1", 1))
    #expect(rewritePlaceholders(#"SELECT "a?b", ?"#) == (#"SELECT "a?b", $1"#, 1))
    #expect(rewritePlaceholders("SELECT ? -- why?\n, ?") == ("SELECT $1 -- why?\n, $2", 2))
    #expect(rewritePlaceholders("SELECT /* ? */ ?") == ("SELECT /* ? */ $1", 1))
    #expect(rewritePlaceholders(#"SELECT E'\'?', ?"#) == (#"SELECT E'\'?', $1"#, 1))
    #expect(rewritePlaceholders("SELECT $$ ? $$, $q$ ?$ $q$, ?") == ("SELECT $$ ? $$, $q$ ?$ $q$, $1", 1))
    #expect(rewritePlaceholders("SELECT 'é?', ?") == ("SELECT 'é?', $1", 1))
  }
}

@Suite struct RedactionTests {
  @Test func passwordsAreRemovedFromConnectionStrings() {
    #expect(
      Redaction.redact("postgresql://ann:s3cret@db1:5432/credit") == "postgresql://ann:***@db1:5432/credit")
    #expect(
      Redaction.redact("postgres://ann:p%40ss@db1:5432,db2:5433/credit?target_session_attrs=read-write")
        == "postgres://ann:***@db1:5432,db2:5433/credit?target_session_attrs=read-write")
    #expect(
      Redaction.redact("postgresql://db1/credit?user=ann&password=s3cret&sslmode=require")
        == "postgresql://db1/credit?user=ann&password=***&sslmode=require")
    #expect(Redaction.redact("host=db1 password=s3cret user=ann") == "host=db1 password=*** user=ann")
    #expect(Redaction.redact("host=db1 password = 'a b\\' c' user=ann") == "host=db1 password = *** user=ann")
    #expect(Redaction.redact("postgresql://ann@db1/credit") == "postgresql://ann@db1/credit")
  }
}

@Suite struct ValueTests {
  @Test func valuesRoundTrip() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE v (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b BYTEA)")
    let rows: [(Int64, Value, Value, Value, Value)] = [
      (
        1, .int(Int64.max), .double(0.7), .text("héllo, 世界 🌍 'quoted' \"and\" \\ back"),
        .blob([0, 1, 0xFF, 0x5C, 0x78])
      ),
      (2, .int(Int64.min), .double(-1e-300), .text(""), .blob([])),
      (3, .int(253_402_300_799_000), .double(.infinity), .text("?"), .blob(Array(0...255))),
      (4, .null, .null, .null, .null),
      (5, .int(0), .double(123_456.789_012_345_6), .text("x"), .blob([0])),
    ]
    for (id, i, d, t, b) in rows {
      try db.run("INSERT INTO v VALUES (?, ?, ?, ?, ?)", [.int(id), i, d, t, b])
    }
    let back = try db.query("SELECT i, d, t, b FROM v ORDER BY id") { r in
      [
        r.isNull(0) ? Value.null : .int(r.int64(0)), r.isNull(1) ? Value.null : .double(r.double(1)),
        r.optionalText(2).map(Value.text) ?? .null, r.optionalBlob(3).map(Value.blob) ?? .null,
      ]
    }
    #expect(back.count == rows.count)
    for (k, row) in rows.enumerated() { #expect(back[k] == [row.1, row.2, row.3, row.4]) }
    #expect(try db.queryOne("SELECT d FROM v WHERE id = 1") { $0.double(0) } == 0.7)
    #expect(try db.queryOne("SELECT d::text FROM v WHERE id = 1") { $0.text(0) } == "0.7")
    #expect(try db.queryOne("SELECT CAST('NaN' AS DOUBLE PRECISION)") { $0.double(0).isNaN } == true)
    #expect(try db.scalarInt("SELECT i FROM v WHERE id = 2") == Int64.min)
    #expect(try db.scalarInt("SELECT i FROM v WHERE id = 4") == nil)
    #expect(try db.scalarInt("SELECT count(*) FROM v") == 5)
    #expect(
      try db.queryOne("SELECT true, false, 7::integer, 2.5::numeric") { [$0.bool(0), $0.bool(1)] } == [
        true, false,
      ])
    #expect(
      try db.queryOne("SELECT 7::integer, CAST(? AS bigint)", [.int(1 << 40)]) { [$0.int64(0), $0.int64(1)] }
        == [7, 1 << 40])
  }

  @Test func textWithNULIsRefused() throws {
    let db = try TestServer.admin()
    #expect {
      try db.run("SELECT CAST(? AS TEXT)", [.text("a\u{0}b")])
    } throws: { error in (error as? PostgreSQLError)?.sqlState == "22021" }
  }

  @Test func wrongNumberOfValuesIsAnError() throws {
    let db = try TestServer.admin()
    #expect(throws: PostgreSQLError.self) { try db.run("SELECT CAST(? AS TEXT)", []) }
  }
}

@Suite struct StatementCacheTests {
  @Test func aStatementIsPreparedOncePerConnection() throws {
    let db = try TestServer.admin()
    let before = db.preparedStatementCount
    for k in 0..<5 { #expect(try db.scalarInt("SELECT CAST(? AS bigint) + 1", [.int(k)]) == Int64(k + 1)) }
    #expect(db.preparedStatementCount == before + 1)
    let onServer = try db.scalarInt(
      "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%$1 AS bigint) + 1'")
    #expect(onServer == 1)
  }

  @Test func traceShowsTheSQLWithoutValues() throws {
    let db = try TestServer.admin()
    var traced: [String] = []
    db.trace { traced.append($0) }
    _ = try db.scalarInt("SELECT length(CAST(? AS TEXT))", [.text("secret value")])
    #expect(traced == ["SELECT length(CAST(? AS TEXT))"])
  }
}

@Suite struct TransactionTests {
  @Test func aFailedStatementAbortsTheTransactionUntilRollbackToSavepoint() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    try db.begin()
    try db.run("INSERT INTO t VALUES (?)", [.int(1)])
    try db.savepoint("request")
    #expect { try db.run("INSERT INTO t VALUES (?)", [.int(1)]) } throws: {
      ($0 as? PostgreSQLError)?.kind == .constraint
    }
    // Until the rollback to the savepoint every statement fails (25P02).
    #expect { try db.run("INSERT INTO t VALUES (?)", [.int(2)]) } throws: {
      ($0 as? PostgreSQLError)?.sqlState == "25P02"
    }
    db.rollback(to: "request")
    try db.savepoint("request")
    try db.run("INSERT INTO t VALUES (?)", [.int(3)])
    try db.release("request")
    try db.commit()
    #expect(try db.query("SELECT id FROM t ORDER BY id") { $0.int64(0) } == [1, 3])
    #expect(!db.isInTransaction)
  }

  @Test func commitOfAFailedTransactionThrows() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    try db.begin()
    try db.run("INSERT INTO t VALUES (1)")
    #expect(throws: PostgreSQLError.self) { try db.run("INSERT INTO t VALUES (1)") }
    #expect(throws: PostgreSQLError.self) { try db.commit() }
    #expect(!db.isInTransaction)
    #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
  }

  @Test func rollbackUndoesAndTransactionHelperCommits() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    try db.begin()
    try db.run("INSERT INTO t VALUES (1)")
    #expect(db.changes == 1)
    db.rollback()
    try db.transaction { () throws(PostgreSQLError) in try db.run("INSERT INTO t VALUES (2)") }
    #expect(try db.query("SELECT id FROM t") { $0.int64(0) } == [2])
  }
}

@Suite struct ErrorTests {
  @Test func uniqueViolationIsAConstraintError() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT, CONSTRAINT t_unique UNIQUE (id))")
    try db.run("INSERT INTO t VALUES (?)", [.int(1)])
    #expect { try db.run("INSERT INTO t VALUES (?)", [.int(1)]) } throws: { error in
      let e = error as! PostgreSQLError
      return e.kind == .constraint && e.sqlState == "23505" && e.constraint == "t_unique" && e.isConstraint
    }
  }

  @Test func writeInAReadOnlyTransactionIsReadOnly() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT)")
    try db.begin(.repeatableRead, readOnly: true)
    #expect { try db.run("INSERT INTO t VALUES (1)") } throws: { ($0 as! PostgreSQLError).kind == .readOnly }
    db.rollback()
  }

  @Test func otherErrorsAndClassification() throws {
    let db = try TestServer.admin()
    #expect { try db.run("SELEC 1") } throws: { ($0 as! PostgreSQLError).kind == .other }
    #expect(PostgreSQLError.classify(sqlState: "40001", connectionLost: false) == .busy)
    #expect(PostgreSQLError.classify(sqlState: "40P01", connectionLost: false) == .busy)
    #expect(PostgreSQLError.classify(sqlState: "55P03", connectionLost: false) == .busy)
    #expect(PostgreSQLError.classify(sqlState: "08006", connectionLost: false) == .unavailable)
    #expect(PostgreSQLError.classify(sqlState: "57P01", connectionLost: false) == .unavailable)
    #expect(PostgreSQLError.classify(sqlState: "25006", connectionLost: false) == .readOnly)
    #expect(PostgreSQLError.classify(sqlState: "53100", connectionLost: false) == .full)
    #expect(PostgreSQLError.classify(sqlState: "23503", connectionLost: false) == .constraint)
    #expect(PostgreSQLError.classify(sqlState: "23505", connectionLost: true) == .unavailable)
    #expect(PostgreSQLError.classify(sqlState: "42601", connectionLost: false) == .other)
  }

  @Test func aDeadlockIsBusy() throws {
    let schema = try TestSchema()
    let a = try schema.connect()
    let b = try schema.connect()
    try a.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT); INSERT INTO t VALUES (1, 0), (2, 0)")
    try a.begin()
    try b.begin()
    try a.run("UPDATE t SET n = n + 1 WHERE id = 1")
    try b.run("UPDATE t SET n = n + 1 WHERE id = 2")
    nonisolated(unsafe) var bError: PostgreSQLError?
    nonisolated(unsafe) let b2 = b
    let thread = Thread {
      do { try b2.run("UPDATE t SET n = n + 1 WHERE id = 1") } catch { bError = error as? PostgreSQLError }
    }
    thread.start()
    Thread.sleep(forTimeInterval: 0.1)
    var aError: PostgreSQLError?
    do { try a.run("UPDATE t SET n = n + 1 WHERE id = 2") } catch { aError = error }
    if aError != nil { a.rollback() } else { try a.commit() }
    var waited = 0
    while b.isInTransaction && bError == nil && waited < 100 {
      Thread.sleep(forTimeInterval: 0.05)
      waited += 1
      if aError == nil { break }
    }
    Thread.sleep(forTimeInterval: 0.1)
    let errors = [aError, bError].compactMap { $0 }
    #expect(errors.count == 1)
    #expect(errors.first?.kind == .busy)
    #expect(errors.first?.sqlState == "40P01")
    b.rollback()
  }
}

@Suite struct AdvisoryLockTests {
  @Test func keysAreStable() {
    #expect(Connection.advisoryKey("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325))
    #expect(Connection.advisoryKey("a") == Int64(bitPattern: 0xaf63_dc4c_8601_ec8c))
    #expect(Connection.advisoryKey("learner:ada") != Connection.advisoryKey("learner:adb"))
  }

  @Test func aLockedKeyBlocksASecondConnectionUntilCommit() throws {
    let a = try TestServer.admin()
    let b = try TestServer.admin()
    let unique = UUID().uuidString
    try a.begin()
    try a.lock(["course:\(unique)", "learner:ada:\(unique)", "learner:ada:\(unique)"])
    // Another key is free.
    try b.begin()
    try b.lock(["learner:bob:\(unique)"])
    try b.commit()
    // A held key times out (busy) while the first transaction holds it.
    try b.begin()
    try b.run("SET LOCAL lock_timeout = '100ms'")
    #expect { try b.lock(["learner:ada:\(unique)", "learner:zed:\(unique)"]) } throws: {
      ($0 as! PostgreSQLError).kind == .busy
    }
    b.rollback()
    // And waits for it, then gets it once the first commits.
    nonisolated(unsafe) var acquiredAt: Date?
    nonisolated(unsafe) var lockError: Error?
    let released = Date().addingTimeInterval(0.3)
    nonisolated(unsafe) let b2 = b
    let thread = Thread {
      do {
        try b2.begin()
        try b2.lock(["learner:ada:\(unique)"])
        acquiredAt = Date()
        try b2.commit()
      } catch { lockError = error }
    }
    thread.start()
    Thread.sleep(forTimeInterval: 0.3)
    #expect(acquiredAt == nil)
    try a.commit()
    var waited = 0
    while acquiredAt == nil && lockError == nil && waited < 200 {
      Thread.sleep(forTimeInterval: 0.01)
      waited += 1
    }
    #expect(lockError == nil)
    #expect(acquiredAt.map { $0 >= released } == true)
    Thread.sleep(forTimeInterval: 0.05)
  }
}

@Suite struct PipelineTests {
  @Test func independentStatementsRunInOneBatch() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT); CREATE TABLE u (n BIGINT)")
    try db.run("INSERT INTO u VALUES (0)")
    let affected = try db.runPipelined([
      ("INSERT INTO t VALUES (?, ?)", [.int(1), .text("one")]),
      ("INSERT INTO t VALUES (?, ?)", [.int(2), .text("two")]),
      ("UPDATE u SET n = n + ?", [.int(5)]),
      ("INSERT INTO t VALUES (?, ?)", [.int(3), .null]),
      ("DELETE FROM t WHERE id = ?", [.int(99)]),
    ])
    #expect(affected == [1, 1, 1, 1, 0])
    #expect(try db.query("SELECT id FROM t ORDER BY id") { $0.int64(0) } == [1, 2, 3])
    #expect(try db.scalarInt("SELECT n FROM u") == 5)
  }

  @Test func aFailureStopsTheBatchAndOutsideATransactionUndoesIt() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    #expect {
      try db.runPipelined([
        ("INSERT INTO t VALUES (?)", [.int(1)]),
        ("INSERT INTO t VALUES (?)", [.int(1)]),
        ("INSERT INTO t VALUES (?)", [.int(2)]),
      ])
    } throws: { ($0 as! PostgreSQLError).kind == .constraint }
    #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
    // Inside a transaction, with a savepoint per request as the group commit does.
    try db.begin()
    try db.savepoint("r")
    try db.runPipelined([("INSERT INTO t VALUES (?)", [.int(1)]), ("INSERT INTO t VALUES (?)", [.int(2)])])
    try db.release("r")
    try db.savepoint("r")
    #expect(throws: PostgreSQLError.self) {
      try db.runPipelined([("INSERT INTO t VALUES (?)", [.int(3)]), ("INSERT INTO t VALUES (?)", [.int(1)])])
    }
    db.rollback(to: "r")
    try db.commit()
    #expect(try db.query("SELECT id FROM t ORDER BY id") { $0.int64(0) } == [1, 2])
  }
}

@Suite struct ConnectionLossTests {
  @Test func aTerminatedConnectionIsUnavailableAndTheNextUseReconnects() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    let admin = try TestServer.admin()
    try db.execute("CREATE TABLE t (id BIGINT)")
    try db.run("INSERT INTO t VALUES (?)", [.int(1)])
    let firstPID = db.backendPID
    _ = try admin.scalarInt(
      "SELECT CAST(pg_terminate_backend(CAST(? AS integer)) AS integer)", [.int(Int64(firstPID))])
    #expect { try db.run("INSERT INTO t VALUES (?)", [.int(2)]) } throws: {
      ($0 as! PostgreSQLError).kind == .unavailable
    }
    // The same statement again: prepared again on the new connection, in the same schema.
    try db.run("INSERT INTO t VALUES (?)", [.int(3)])
    #expect(db.reconnects == 1)
    #expect(db.backendPID != firstPID)
    #expect(try db.query("SELECT id FROM t ORDER BY id") { $0.int64(0) } == [1, 3])

    // Lost inside a transaction: the transaction is gone, the next one works.
    try db.begin()
    try db.run("INSERT INTO t VALUES (?)", [.int(4)])
    _ = try admin.scalarInt(
      "SELECT CAST(pg_terminate_backend(CAST(? AS integer)) AS integer)", [.int(Int64(db.backendPID))])
    #expect { try db.commit() } throws: { ($0 as! PostgreSQLError).kind == .unavailable }
    // No reconnection inside the lost transaction: statements fail until the rollback, so none
    // runs outside the transaction it belonged to.
    #expect { try db.run("INSERT INTO t VALUES (?)", [.int(6)]) } throws: {
      ($0 as! PostgreSQLError).kind == .unavailable
    }
    #expect { try db.savepoint("r") } throws: { ($0 as! PostgreSQLError).kind == .unavailable }
    db.rollback()
    #expect { try db.commit() } throws: { ($0 as! PostgreSQLError).sqlState == "25P01" }
    try db.transaction { () throws(PostgreSQLError) in try db.run("INSERT INTO t VALUES (?)", [.int(5)]) }
    #expect(try db.query("SELECT id FROM t ORDER BY id") { $0.int64(0) } == [1, 3, 5])
    #expect(db.reconnects == 2)
  }

  @Test func aMultiHostStringSkipsADeadHost() throws {
    let url = try TestServer.url()
    // A port nothing listens on, then the real server.
    guard let at = url.range(of: "@"), let slash = url[at.upperBound...].firstIndex(of: "/") else {
      Issue.record("unexpected test URI shape")
      return
    }
    let hostPort = url[at.upperBound..<slash]
    let multi = url[..<at.upperBound] + "127.0.0.1:1," + hostPort + url[slash...]
    let separator = multi.contains("?") ? "&" : "?"
    let db = try Connection(String(multi) + separator + "target_session_attrs=read-write")
    #expect(db.server == String(hostPort))
    #expect(try db.scalarInt("SELECT 1") == 1)
  }

  @Test func keepalivesAreAddedUnlessTheStringSetsThem() throws {
    let url = try TestServer.url()
    let db = try Connection(url)
    #expect(db.parameter("keepalives") == "1")
    #expect(db.parameter("tcp_user_timeout") == "5000")
    #expect(db.parameter("keepalives_idle") == "2")
    let separator = url.contains("?") ? "&" : "?"
    let own = try Connection(url + separator + "keepalives_idle=7&tcp_user_timeout=1234")
    #expect(own.parameter("keepalives_idle") == "7")
    #expect(own.parameter("tcp_user_timeout") == "1234")
  }
}

@Suite struct SecretTests {
  static let password = "Pa55-w0rd-never-shown"

  @Test func thePasswordIsInNoErrorOrDescription() throws {
    let url = try TestServer.url()
    // The test servers trust loopback, so a password in the URI is accepted and ignored.
    let withPassword = url.replacingOccurrences(of: "://postgres@", with: "://postgres:\(Self.password)@")
    try #require(withPassword != url)
    let db = try Connection(withPassword)
    #expect(!db.description.contains(Self.password))
    #expect(db.description.contains("postgres:***@"))
    #expect(db.parameter("password") == nil)
    // A server message quoting the value.
    do {
      try db.run("SELECT CAST('\(Self.password)' AS integer)")
      Issue.record("no error")
    } catch {
      #expect(!String(describing: error).contains(Self.password))
      #expect(String(describing: error).contains("***"))
    }
    // A failed connection: a role that does not exist, a server that does not answer.
    let unknownRole = url.replacingOccurrences(of: "://postgres@", with: "://nobody_here:\(Self.password)@")
    for bad in [
      unknownRole, "postgresql://ann:\(Self.password)@127.0.0.1:1/credit",
      "host=127.0.0.1 port=1 password=\(Self.password)",
    ] {
      do {
        _ = try Connection(bad)
        Issue.record("connected to \(bad)")
      } catch {
        #expect(!String(describing: error).contains(Self.password))
        #expect(!error.message.isEmpty)
      }
    }
    do {
      _ = try Connection("postgresql://ann:\(Self.password)@127.0.0.1:1/credit")
    } catch {
      #expect(error.kind == .unavailable)
    }
    do {
      _ = try Connection("postgresql://ann:\(Self.password)@[oops/credit?x")
    } catch {
      #expect(!String(describing: error).contains(Self.password))
    }
  }
}

/// PostgreSQL's schema version 1 (CreditStore's PostgreSQLMigrations), the translation of SQLite's.
@Suite struct SchemaFileTests {

  @Test func theSchemaAppliesAndKeepsSQLiteSemantics() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    let sql = PostgreSQLMigrations.all[0].sql
    try db.transaction { () throws(PostgreSQLError) in try db.execute(sql) }
    #expect(try db.scalarInt("SELECT application_id FROM credit_rpc_application") == 1_129_467_971)
    let tables = try db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
      [.text(schema.name)]
    ) { $0.text(0) }
    // The 18 of SQLite's version 1 and credit_rpc_application, less counters (sequences instead).
    #expect(tables.count == 18)
    // Year-9999 times, 0.7 exactly, bytewise order of ids.
    for (id, grade) in [("b", 0.7), ("B", 0.1), ("a-1", 0.35), ("a", 1.0)] {
      try db.run(
        "INSERT INTO courses (course_id, org, number, run, title, starts_at, ends_at, passing_grade, purchase_window_days, created_at) VALUES (?, 'o', 'n', 'r', 't', 0, ?, ?, 365, 0)",
        [.text(id), .int(253_402_300_799), .double(grade)])
    }
    #expect(
      try db.query("SELECT course_id FROM courses ORDER BY course_id") { $0.text(0) } == [
        "B", "a", "a-1", "b",
      ])
    #expect(
      try db.queryOne("SELECT passing_grade FROM courses WHERE course_id = 'b'") { $0.double(0) } == 0.7)
    #expect { try db.run("UPDATE courses SET passing_grade = 1.5") } throws: {
      ($0 as! PostgreSQLError).isConstraint
    }
    // History is append-only.
    try db.run("INSERT INTO events (learner_id, at, actor, kind) VALUES ('ada', 1, 'admin', 'x')")
    #expect { try db.run("UPDATE events SET kind = 'y'") } throws: {
      ($0 as! PostgreSQLError).sqlState == "P0001"
    }
    #expect { try db.run("DELETE FROM events") } throws: { ($0 as! PostgreSQLError).sqlState == "P0001" }
    #expect { try db.run("TRUNCATE events") } throws: { ($0 as! PostgreSQLError).sqlState == "P0001" }
  }
}

/// The warning of a cancelled synchronous-replication wait turns success into `.unavailable` (the
/// real thing, with a standby, is in Tests/python/test_pg_failover.py).
@Suite struct LocalCommitWarningTests {
  static let raise = """
    RAISE WARNING 'canceling wait for synchronous replication due to user request'
      USING DETAIL = 'The transaction has already committed locally, but might not have been replicated to the standby.'
    """

  @Test func theWarningIsAnError() throws {
    let db = try TestServer.admin()
    #expect { try db.execute("DO $$ BEGIN \(Self.raise); END $$") } throws: {
      ($0 as! PostgreSQLError).kind == .unavailable
    }
    try db.execute("DO $$ BEGIN RAISE WARNING 'something else'; END $$")
  }

  @Test func anyWarningAtCommitIsNotAnAcknowledgement() throws {
    let schema = try TestSchema()
    let db = try schema.connect()
    try db.execute(
      """
      CREATE TABLE t (id BIGINT);
      CREATE FUNCTION warn() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE WARNING 'ein übersetzter Text'; RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION warn();
      """)
    try db.begin()
    try db.run("INSERT INTO t VALUES (1)")
    #expect { try db.commit() } throws: { ($0 as! PostgreSQLError).kind == .unavailable }
    #expect(!db.isInTransaction)
    try db.begin()
    try db.run("SELECT 1")
    try db.commit()
  }
}
