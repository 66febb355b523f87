import SQLite
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// SQLite result codes the tests look for (the wrapper reports extended codes).
enum Code {
  static let error: Int32 = 1  // SQLITE_ERROR
  static let busy: Int32 = 5  // SQLITE_BUSY
  static let readOnly: Int32 = 8  // SQLITE_READONLY
  static let cantOpen: Int32 = 14  // SQLITE_CANTOPEN
  static let constraint: Int32 = 19  // SQLITE_CONSTRAINT
  static let constraintNotNull: Int32 = 1299  // SQLITE_CONSTRAINT_NOTNULL
  static let constraintPrimaryKey: Int32 = 1555  // SQLITE_CONSTRAINT_PRIMARYKEY
  static let constraintUnique: Int32 = 2067  // SQLITE_CONSTRAINT_UNIQUE
}

/// A fresh directory under /tmp for database files, removed when the value goes away.
final class TemporaryDirectory {
  let path: String

  init() {
    var template = Array("/tmp/sqlite-tests-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  deinit {
    for suffix in ["", "-wal", "-shm", "-journal"] { unlink("\(path)/test.sqlite\(suffix)") }
    rmdir(path)
  }

  var database: String { "\(path)/test.sqlite" }
}

func memory() throws -> Database { try Database(path: ":memory:") }

@Suite struct StatementCacheTests {
  @Test func sameSQLGivesTheSameStatementObject() throws {
    let db = try memory()
    let a = try db.statement("SELECT 1")
    let b = try db.statement("SELECT 1")
    #expect(a === b)
    #expect(a.sql == "SELECT 1")
    let c = try db.statement("SELECT 2")
    #expect(a !== c)
  }

  @Test func statementTakenFromCacheHasItsBindingsCleared() throws {
    let db = try memory()
    let s = try db.statement("SELECT ?")
    try s.bind([.int(7)])
    #expect(try s.step())
    #expect(s.int64(0) == 7)
    let again = try db.statement("SELECT ?")
    #expect(try again.step())
    #expect(again.isNull(0))
  }

  @Test func cachedQueryRunsWithNewBindingsEachTime() throws {
    let db = try memory()
    for i in 0..<5 {
      #expect(try db.scalarInt("SELECT ? * 2", [.int(i)]) == Int64(i * 2))
    }
  }
}

struct BindCase: Sendable, CustomTestStringConvertible {
  let name: String
  let value: SQLValue
  let type: String

  var testDescription: String { name }
}

@Suite struct BindingTests {
  static let cases: [BindCase] = [
    BindCase(name: "null", value: .null, type: "null"),
    BindCase(name: "zero", value: .int(Int64(0)), type: "integer"),
    BindCase(name: "negative integer", value: .int(Int64(-1)), type: "integer"),
    BindCase(name: "largest integer", value: .int(Int64.max), type: "integer"),
    BindCase(name: "smallest integer", value: .int(Int64.min), type: "integer"),
    BindCase(name: "double", value: .double(0.1), type: "real"),
    BindCase(name: "huge double", value: .double(-2.5e300), type: "real"),
    BindCase(name: "text", value: .text("hello"), type: "text"),
    BindCase(name: "empty text", value: .text(""), type: "text"),
    BindCase(name: "text with an embedded NUL", value: .text("a\u{0}b"), type: "text"),
    BindCase(name: "non-ASCII text", value: .text("héllo wörld ✓ 日本 🌍"), type: "text"),
    BindCase(name: "blob", value: .blob([0, 1, 0x7F, 0x80, 0xFF]), type: "blob"),
    BindCase(name: "empty blob", value: .blob([]), type: "blob"),
  ]

  /// What a column holds, read with the accessor for its type.
  static func read(_ s: Statement, _ column: Int32, type: String) -> SQLValue {
    switch type {
    case "null": s.isNull(column) ? .null : .text("not null")
    case "integer": .int(s.int64(column))
    case "real": .double(s.double(column))
    case "text": .text(s.text(column))
    default: .blob(s.blob(column))
    }
  }

  @Test(arguments: cases)
  func boundValueReadsBackWithItsType(_ c: BindCase) throws {
    let db = try memory()
    let row = try db.queryOne("SELECT ?1, typeof(?1)", [c.value]) { s in
      (Self.read(s, 0, type: c.type), s.text(1))
    }
    #expect(row?.1 == c.type)
    #expect(row?.0 == c.value)
  }

  @Test(arguments: cases)
  func storedValueReadsBackFromATable(_ c: BindCase) throws {
    let db = try memory()
    try db.execute("CREATE TABLE t (v)")
    try db.run("INSERT INTO t (v) VALUES (?)", [c.value])
    let row = try db.queryOne("SELECT v, typeof(v) FROM t") { s in (Self.read(s, 0, type: c.type), s.text(1))
    }
    #expect(row?.1 == c.type)
    #expect(row?.0 == c.value)
  }

  @Test func textWithEmbeddedNulKeepsEveryByte() throws {
    let db = try memory()
    #expect(try db.scalarInt("SELECT length(CAST(? AS BLOB))", [.text("a\u{0}b\u{0}")]) == 4)
    #expect(try db.scalarInt("SELECT ? = 'a' || char(0) || 'b'", [.text("a\u{0}b")]) == 1)
  }

  @Test func nonASCIITextIsStoredAsUTF8() throws {
    let db = try memory()
    #expect(try db.queryOne("SELECT hex(?)", [.text("é🌍")]) { $0.text(0) } == "C3A9F09F8C8D")
  }

  @Test func convenienceConstructorsBindTheExpectedValues() throws {
    let db = try memory()
    let row = try db.queryOne(
      "SELECT ?, ?, ?, ?, ?, ?",
      [
        .int(5), .bool(true), .bool(false), .optional(nil as String?), .optional(2.5 as Double?),
        .optional(9 as Int64?),
      ]
    ) { s in
      [s.int64(0), s.int64(1), s.int64(2), s.isNull(3) ? -1 : 0, Int64(s.double(4) * 10), s.int64(5)]
    }
    #expect(row == [5, 1, 0, -1, 25, 9])
  }

  @Test func optionalColumnAccessorsReturnNilForNull() throws {
    let db = try memory()
    let row = try db.queryOne("SELECT NULL, NULL, NULL, 'x', 3, 1.5") { s in
      (
        s.optionalText(0), s.optionalInt64(1), s.optionalDouble(2), s.optionalText(3), s.optionalInt64(4),
        s.optionalDouble(5)
      )
    }
    #expect(row?.0 == nil)
    #expect(row?.1 == nil)
    #expect(row?.2 == nil)
    #expect(row?.3 == "x")
    #expect(row?.4 == 3)
    #expect(row?.5 == 1.5)
  }
}

@Suite struct QueryTests {
  static let fiveRows =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT x FROM c"

  @Test func stepWalksEveryRowThenReportsDone() throws {
    let db = try memory()
    let s = try db.statement(Self.fiveRows)
    var seen: [Int] = []
    while try s.step() { seen.append(s.int(0)) }
    #expect(seen == [1, 2, 3, 4, 5])
  }

  @Test func queryMapsEveryRow() throws {
    let db = try memory()
    #expect(try db.query(Self.fiveRows) { $0.int(0) * 10 } == [10, 20, 30, 40, 50])
    #expect(try db.query("SELECT 1 WHERE 0") { $0.int(0) } == [])
  }

  @Test func queryOneReturnsTheFirstRowOrNil() throws {
    let db = try memory()
    #expect(try db.queryOne(Self.fiveRows) { $0.int(0) } == 1)
    #expect(try db.queryOne("SELECT 1 WHERE 0") { $0.int(0) } == nil)
    // The statement was reset: the same query starts from the first row again.
    #expect(try db.queryOne(Self.fiveRows) { $0.int(0) } == 1)
  }

  @Test func scalarIntReadsTheFirstColumn() throws {
    let db = try memory()
    #expect(try db.scalarInt("SELECT 42, 7") == 42)
    #expect(try db.scalarInt("SELECT NULL") == nil)
    #expect(try db.scalarInt("SELECT 1 WHERE 0") == nil)
    #expect(try db.scalarInt("SELECT ? + ?", [.int(2), .int(3)]) == 5)
  }

  @Test func runReportsChangesAndLastInsertRowID() throws {
    let db = try memory()
    try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    try db.run("INSERT INTO t (v) VALUES (?)", [.int(1)])
    try db.run("INSERT INTO t (v) VALUES (?)", [.int(2)])
    #expect(db.lastInsertRowID == 2)
    try db.run("UPDATE t SET v = v + 1")
    #expect(db.changes == 2)
  }

  @Test func executeRunsSeveralStatements() throws {
    let db = try memory()
    try db.execute("CREATE TABLE t (v); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);")
    #expect(try db.scalarInt("SELECT sum(v) FROM t") == 3)
  }
}

@Suite struct ErrorTests {
  static func table() throws -> Database {
    let db = try memory()
    try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
    try db.run("INSERT INTO t (id, name) VALUES (1, 'a')")
    return db
  }

  @Test func syntaxErrorCarriesCodeMessageAndSQL() throws {
    let db = try memory()
    let e = #expect(throws: SQLiteError.self) { _ = try db.statement("SELEC 1") }
    #expect(e?.code == Code.error)
    #expect(e?.sql == "SELEC 1")
    #expect(e?.message.contains("syntax error") == true)
    #expect(e?.description.contains("SELEC 1") == true)
    #expect(e?.isConstraint == false)
  }

  @Test func executeErrorCarriesTheSQL() throws {
    let db = try memory()
    let e = #expect(throws: SQLiteError.self) { try db.execute("DROP TABLE nowhere") }
    #expect(e?.code == Code.error)
    #expect(e?.sql == "DROP TABLE nowhere")
    #expect(e?.message.contains("nowhere") == true)
  }

  static let constraintCases: [(sql: String, code: Int32)] = [
    ("INSERT INTO t (id, name) VALUES (1, 'b')", Code.constraintPrimaryKey),
    ("INSERT INTO t (id, name) VALUES (2, 'a')", Code.constraintUnique),
    ("INSERT INTO t (id, name) VALUES (3, NULL)", Code.constraintNotNull),
  ]

  @Test(arguments: constraintCases)
  func constraintErrorCarriesExtendedCodeAndIsConstraint(sql: String, code: Int32) throws {
    let db = try Self.table()
    let e = #expect(throws: SQLiteError.self) { try db.run(sql) }
    #expect(e?.code == code)
    #expect(e?.primaryCode == Code.constraint)
    #expect(e?.isConstraint == true)
    #expect(e?.isBusy == false)
    #expect(e?.sql == sql)
  }

  @Test func statementIsUsableAgainAfterAConstraintError() throws {
    let db = try Self.table()
    let sql = "INSERT INTO t (id, name) VALUES (?, ?)"
    #expect(throws: SQLiteError.self) { try db.run(sql, [.int(1), .text("dup")]) }
    try db.run(sql, [.int(2), .text("b")])
    #expect(try db.scalarInt("SELECT count(*) FROM t") == 2)
  }

  @Test func writeThroughReadOnlyConnectionIsReadOnly() throws {
    let dir = TemporaryDirectory()
    do {
      let db = try Database(path: dir.database)
      try db.execute("CREATE TABLE t (v)")
    }
    let ro = try Database(path: dir.database, readOnly: true)
    let e = #expect(throws: SQLiteError.self) { try ro.run("INSERT INTO t VALUES (1)") }
    #expect(e?.primaryCode == Code.readOnly)
    #expect(e?.isReadOnly == true)
  }

  @Test func openingInAMissingDirectoryFailsWithCantOpen() throws {
    let e = #expect(throws: SQLiteError.self) {
      _ = try Database(path: "/nonexistent-dir-for-tests/x.sqlite")
    }
    #expect(e?.primaryCode == Code.cantOpen)
    #expect(e?.isIOError == true)
  }
}

struct Boom: Error, Equatable {}

@Suite struct TransactionTests {
  static func table() throws -> Database {
    let db = try memory()
    try db.execute("CREATE TABLE t (v INTEGER NOT NULL)")
    return db
  }

  static func values(_ db: Database) throws -> [Int] {
    try db.query("SELECT v FROM t ORDER BY v") { $0.int(0) }
  }

  @Test func savepointRollbackUndoesOnlyTheInnerWork() throws {
    let db = try Self.table()
    try db.beginImmediate()
    try db.run("INSERT INTO t VALUES (1)")
    try db.savepoint("inner")
    try db.run("INSERT INTO t VALUES (2)")
    db.rollback(to: "inner")
    #expect(db.isInTransaction)
    try db.run("INSERT INTO t VALUES (3)")
    try db.commit()
    #expect(try Self.values(db) == [1, 3])
  }

  @Test func releasedSavepointKeepsItsWork() throws {
    let db = try Self.table()
    try db.beginImmediate()
    try db.savepoint("inner")
    try db.run("INSERT INTO t VALUES (1)")
    try db.release("inner")
    #expect(db.isInTransaction)
    try db.commit()
    #expect(try Self.values(db) == [1])
  }

  @Test func outerRollbackUndoesReleasedSavepoints() throws {
    let db = try Self.table()
    try db.beginImmediate()
    try db.savepoint("inner")
    try db.run("INSERT INTO t VALUES (1)")
    try db.release("inner")
    db.rollback()
    #expect(!db.isInTransaction)
    #expect(try Self.values(db) == [])
  }

  @Test func writeTransactionCommitsOnSuccess() throws {
    let db = try Self.table()
    let result = try db.writeTransaction { () throws(SQLiteError) -> Int in
      try db.run("INSERT INTO t VALUES (1)")
      return 7
    }
    #expect(result == 7)
    #expect(!db.isInTransaction)
    #expect(try Self.values(db) == [1])
  }

  @Test func writeTransactionRollsBackOnAThrownError() throws {
    let db = try Self.table()
    #expect(throws: Boom()) {
      try db.writeTransaction { () throws -> Void in
        try db.run("INSERT INTO t VALUES (1)")
        throw Boom()
      }
    }
    #expect(!db.isInTransaction)
    #expect(try Self.values(db) == [])
  }

  @Test func writeTransactionRollsBackEarlierWorkOnAnSQLiteError() throws {
    let db = try Self.table()
    let e = #expect(throws: SQLiteError.self) {
      try db.writeTransaction { () throws(SQLiteError) in
        try db.run("INSERT INTO t VALUES (1)")
        try db.run("INSERT INTO t VALUES (NULL)")
      }
    }
    #expect(e?.isConstraint == true)
    #expect(!db.isInTransaction)
    #expect(try Self.values(db) == [])
  }

  @Test func rollbackOutsideATransactionDoesNothing() throws {
    let db = try Self.table()
    db.rollback()
    db.rollback(to: "nothing")
    #expect(!db.isInTransaction)
  }
}

@Suite struct LockingTests {
  @Test(arguments: ["delete", "wal"])
  func secondWriterIsBusyWhileTheFirstHoldsTheWriteLock(journalMode: String) throws {
    let dir = TemporaryDirectory()
    let first = try Database(path: dir.database)
    #expect(try first.queryOne("PRAGMA journal_mode = \(journalMode)") { $0.text(0) } == journalMode)
    try first.execute("CREATE TABLE t (v)")
    let second = try Database(path: dir.database)
    second.setBusyTimeout(milliseconds: 20)

    try first.beginImmediate()
    try first.run("INSERT INTO t VALUES (1)")
    let e = #expect(throws: SQLiteError.self) { try second.beginImmediate() }
    #expect(e?.isBusy == true)
    #expect(e?.primaryCode == Code.busy)
    #expect(!second.isInTransaction)

    try first.commit()
    try second.beginImmediate()
    try second.run("INSERT INTO t VALUES (2)")
    try second.commit()
    #expect(try first.query("SELECT v FROM t ORDER BY v") { $0.int(0) } == [1, 2])
  }
}

@Suite struct TraceTests {
  final class Lines {
    var lines: [String] = []
  }

  @Test func traceReceivesTheSQLWithoutTheBoundValues() throws {
    let db = try memory()
    let sink = Lines()
    db.trace { sink.lines.append($0) }
    _ = try db.queryOne("SELECT ?, ?, ?", [.int(42), .text("a secret"), .null]) { $0.int(0) }
    #expect(sink.lines == ["SELECT ?, ?, ?"])

    db.trace(nil)
    _ = try db.scalarInt("SELECT 1")
    #expect(sink.lines.count == 1)
  }
}
