import CreditCore
import CreditStore
import SQLite
import Testing

/// SQLite's extended result codes, as the wrapper reports them.
enum ExtendedCode {
  static let constraintCheck: Int32 = 275  // SQLITE_CONSTRAINT_CHECK
  static let constraintTrigger: Int32 = 1811  // SQLITE_CONSTRAINT_TRIGGER
}

@Suite struct MigrationTests {
  static let appliedAt = "2026-01-01T00:00:00Z"
  static let migrator = SchemaMigrations.migrator
  static let now: Instant = 1_767_225_600

  /// The whole schema, to compare two databases.
  static func schema(_ db: Database) throws -> [String] {
    try db.query("SELECT type, name, sql FROM sqlite_master ORDER BY name") {
      "\($0.text(0)) \($0.text(1)) \($0.optionalText(2) ?? "-")"
    }
  }

  static func migratedFromEmpty(_ dir: TemporaryDirectory) throws -> [String] {
    let db = try Database(path: dir.file("reference.sqlite"))
    try migrator.migrate(db, appliedAt: appliedAt)
    return try schema(db)
  }

  @Test func emptyFileReachesLatestVersionAndRecordsEveryVersion() throws {
    let dir = TemporaryDirectory()
    let db = try Database(path: dir.file("a.sqlite"))
    #expect(try Self.migrator.currentVersion(db) == 0)

    let applied = try Self.migrator.migrate(db, appliedAt: Self.appliedAt)

    let versions = SchemaMigrations.all.map(\.version)
    #expect(applied == versions)
    #expect(Self.migrator.latestVersion == versions.last)
    #expect(try Self.migrator.currentVersion(db) == Self.migrator.latestVersion)
    #expect(try db.scalarInt("PRAGMA user_version") == Int64(Self.migrator.latestVersion))
    let recorded = try db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") {
      ($0.int(0), $0.text(1), $0.text(2))
    }
    #expect(recorded.map(\.0) == versions)
    #expect(recorded.map(\.1) == SchemaMigrations.all.map(\.name))
    #expect(recorded.allSatisfy { $0.2 == Self.appliedAt })
  }

  @Test func migratingAgainAppliesNothing() throws {
    let dir = TemporaryDirectory()
    let db = try Database(path: dir.file("a.sqlite"))
    try Self.migrator.migrate(db, appliedAt: Self.appliedAt)
    let before = try Self.schema(db)
    #expect(try Self.migrator.migrate(db, appliedAt: Self.appliedAt) == [])
    #expect(try Self.schema(db) == before)
  }

  /// Every version a file may have been left at by an older release (0: a new file).
  static let earlierVersions = [0] + SchemaMigrations.all.dropLast().map(\.version)

  @Test(arguments: earlierVersions)
  func migratingFromAnEarlierVersionReachesTheSameSchemaAsFromEmpty(version: Int) throws {
    let dir = TemporaryDirectory()
    let reference = try Self.migratedFromEmpty(dir)
    let db = try Database(path: dir.file("old.sqlite"))
    try Self.migrator.migrate(db, upTo: version, appliedAt: Self.appliedAt)
    #expect(try Self.migrator.currentVersion(db) == version)

    try Self.migrator.migrate(db, appliedAt: Self.appliedAt)

    #expect(try Self.migrator.currentVersion(db) == Self.migrator.latestVersion)
    #expect(try Self.schema(db) == reference)
    let recorded = try db.query("SELECT version FROM schema_migrations ORDER BY version") { $0.int(0) }
    #expect(recorded == SchemaMigrations.all.map(\.version))
  }

  /// A course, a provider, and for each (learner, order, order seq, request, status) an enrolled
  /// learner with an order and its credit request, in the columns of versions 1 and 2.
  static func insertPurchases(_ db: Database, _ purchases: [(String, String, Int, String, String)]) throws {
    try db.execute(
      """
      INSERT INTO courses (course_id, org, number, run, title, starts_at, ends_at, passing_grade,
        purchase_window_days, created_at)
        VALUES ('course-v1:O+N+R', 'O', 'N', 'R', 'T', 0, 100, 0.5, 365, 0);
      INSERT INTO providers (provider_id, display_name, url, requires_additional_steps, created_at)
        VALUES ('u', 'U', 'https://u.example', 0, 0);
      """)
    for (learner, order, seq, request, status) in purchases {
      try db.run(
        "INSERT INTO learners (learner_id, full_name, email, country, created_at) VALUES (?, ?, ?, 'GB', 0)",
        [.text(learner), .text(learner), .text("\(learner)@example.org")])
      try db.run(
        "INSERT INTO enrollments (learner_id, course_id, mode, enrolled_at) VALUES (?, 'course-v1:O+N+R', 'verified', 0)",
        [.text(learner)])
      try db.run(
        """
        INSERT INTO orders (order_id, learner_id, course_id, provider_id, amount_cents, currency, payment_method,
          purchased_at, idempotency_key, params_digest, seq)
        VALUES (?, ?, 'course-v1:O+N+R', 'u', 100, 'USD', 'card', 5, 'k', 'd', ?)
        """, [.text(order), .text(learner), .int(seq)])
      try db.run(
        """
        INSERT INTO credit_requests (request_id, learner_id, course_id, provider_id, order_id, status, created_at)
        VALUES (?, ?, 'course-v1:O+N+R', 'u', ?, ?, 5)
        """, [.text(request), .text(learner), .text(order), .text(status)])
    }
  }

  /// Version 2 adds the indexes of credit requests by order and of attempts by learner to a file of
  /// version 1 that holds data: the data stays, and the purchase's join searches instead of scanning.
  @Test func version2IndexesAFileOfVersion1AndKeepsItsData() throws {
    let dir = TemporaryDirectory()
    let db = try Database(path: dir.file("v1.sqlite"))
    try Self.migrator.migrate(db, upTo: 1, appliedAt: Self.appliedAt)
    try Self.insertPurchases(db, [("ada", "ord_1", 1, "r1", "pending")])
    let join =
      "SELECT r.request_id FROM orders o JOIN credit_requests r ON r.order_id = o.order_id WHERE o.order_id = 'ord_1'"
    func plan() throws -> String {
      try db.query("EXPLAIN QUERY PLAN " + join) { $0.text(3) }.joined(separator: "; ")
    }
    #expect(try plan().contains("SCAN r"))

    #expect(try Self.migrator.migrate(db, upTo: 2, appliedAt: Self.appliedAt) == [2])

    #expect(try Self.migrator.currentVersion(db) == 2)
    #expect(try db.query(join) { $0.text(0) } == ["r1"])
    #expect(try db.scalarInt("SELECT count(*) FROM enrollments") == 1)
    let indexes = try db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_by_%'") {
      $0.text(0)
    }
    #expect(indexes.contains("credit_requests_by_order"))
    #expect(indexes.contains("exam_attempts_by_learner"))
    #expect(try plan().contains("SEARCH r USING INDEX credit_requests_by_order"))
  }

  @Test func version3OrdersExistingCreditRequestsByTheirOrderAndKeepsEveryRow() throws {
    let db = try Database(path: ":memory:")
    try Self.migrator.migrate(db, upTo: 2, appliedAt: Self.appliedAt)
    try Self.insertPurchases(
      db, [("ada", "ord_7", 7, "r-ada", "pending"), ("bo", "ord_3", 3, "r-bo", "approved")])
    try db.execute(
      """
      INSERT INTO notifications (learner_id, kind, to_address, subject, body, created_at)
        VALUES ('ada', 'creditEligible', 'ada@example.org', 's', 'b', 1);
      """)
    #expect(try Self.migrator.migrate(db, appliedAt: Self.appliedAt) == [3])
    #expect(
      try db.query("SELECT request_id, seq FROM credit_requests ORDER BY seq") {
        "\($0.text(0))=\($0.int(1))"
      }
        == ["r-bo=3", "r-ada=7"])
    #expect(try db.query("SELECT sent_at IS NULL FROM notifications") { $0.bool(0) } == [true])
  }

  @Test func fileWithNewerSchemaIsRefused() throws {
    let dir = TemporaryDirectory()
    let newer = Self.migrator.latestVersion + 1
    do {
      let db = try Database(path: dir.file("newer.sqlite"))
      try db.execute("PRAGMA user_version = \(newer)")
      #expect(throws: MigrationError.newerSchema(found: newer, known: Self.migrator.latestVersion)) {
        try Self.migrator.migrate(db, appliedAt: Self.appliedAt)
      }
      #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master") == 0)
    }
    let error = #expect(throws: StoreOpenError.self) {
      try StoreOpener.open(path: dir.file("newer.sqlite"), now: Self.now)
    }
    #expect(error?.description.contains("newer") == true)
  }
}

@Suite struct StoreOpenerTests {
  static let now: Instant = 1_767_225_600

  @Test func refusesSQLiteFileOfAnotherProgramAndLeavesItAlone() throws {
    let dir = TemporaryDirectory()
    let path = dir.file("foreign.sqlite")
    do {
      let db = try Database(path: path)
      try db.execute("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');")
    }
    #expect(throws: StoreOpenError.self) { try StoreOpener.open(path: path, now: Self.now) }
    let db = try Database(path: path)
    #expect(try db.query("SELECT name FROM sqlite_master WHERE type = 'table'") { $0.text(0) } == ["notes"])
    #expect(try db.scalarInt("PRAGMA user_version") == 0)
  }

  @Test func refusesFileThatIsNotSQLite() throws {
    let dir = TemporaryDirectory()
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let bytes = (0..<4096).map { _ -> UInt8 in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 33)
    }
    dir.create("random.bin", bytes)
    #expect(throws: StoreOpenError.self) { try StoreOpener.open(path: dir.file("random.bin"), now: Self.now) }
  }

  @Test func refusesTextFile() throws {
    let dir = TemporaryDirectory()
    dir.create("notes.txt", Array(String(repeating: "not a database\n", count: 100).utf8))
    #expect(throws: StoreOpenError.self) { try StoreOpener.open(path: dir.file("notes.txt"), now: Self.now) }
  }

  @Test func createsFileWithMode0600() throws {
    let dir = TemporaryDirectory()
    let db = try StoreOpener.open(path: dir.file("credit.sqlite"), now: Self.now)
    try db.writeTransaction { () throws(SQLiteError) in
      try db.run("INSERT INTO counters (name, value) VALUES ('x', 1)")
    }
    #expect(dir.mode("credit.sqlite") == 0o600)
    if let wal = dir.mode("credit.sqlite-wal") { #expect(wal == 0o600) }
  }

  @Test func configuresWALFullSyncAndForeignKeys() throws {
    let dir = TemporaryDirectory()
    let db = try StoreOpener.open(path: dir.file("credit.sqlite"), now: Self.now)
    #expect(try db.queryOne("PRAGMA journal_mode") { $0.text(0) } == "wal")
    #expect(try db.scalarInt("PRAGMA synchronous") == 2)
    #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
    #expect(try db.scalarInt("PRAGMA user_version") == Int64(SchemaMigrations.migrator.latestVersion))
  }

  @Test func reopeningMigratedFileKeepsItsData() throws {
    let dir = TemporaryDirectory()
    let path = dir.file("credit.sqlite")
    do {
      let db = try StoreOpener.open(path: path, now: Self.now)
      try db.writeTransaction { () throws(SQLiteError) in
        try db.run("INSERT INTO counters (name, value) VALUES ('kept', 7)")
      }
    }
    let db = try StoreOpener.open(path: path, now: Self.now + 60)
    #expect(try db.scalarInt("SELECT value FROM counters WHERE name = 'kept'") == 7)
  }
}

@Suite struct SchemaConstraintTests {
  static func store() throws -> Database {
    try StoreOpener.open(path: ":memory:", now: 1_767_225_600)
  }

  @Test func everyTableIsStrict() throws {
    let db = try Self.store()
    let tables = try db.query("PRAGMA table_list") { ($0.text(0), $0.text(1), $0.text(2), $0.int(5)) }
      .filter { $0.0 == "main" && $0.2 == "table" && !$0.1.hasPrefix("sqlite_") }
    #expect(tables.count >= 10)
    for table in tables {
      #expect(table.3 == 1, "table \(table.1) is not STRICT")
    }
  }

  static func insertLearnerAndCourse(_ db: Database) throws {
    try db.execute(
      """
      INSERT INTO learners (learner_id, full_name, email, country, created_at)
        VALUES ('ada', 'Ada', 'ada@example.org', 'GB', 0);
      INSERT INTO courses (course_id, org, number, run, title, starts_at, ends_at, passing_grade,
        purchase_window_days, created_at)
        VALUES ('course-v1:O+N+R', 'O', 'N', 'R', 'T', 0, 100, 0.5, 365, 0);
      """)
  }

  @Test(arguments: [
    "INSERT INTO enrollments (learner_id, course_id, mode, enrolled_at) VALUES ('ada', 'course-v1:O+N+R', 'free', 0)",
    """
    INSERT INTO enrollments (learner_id, course_id, mode, enrolled_at, eligibility)
      VALUES ('ada', 'course-v1:O+N+R', 'audit', 0, 'maybe')
    """,
    """
    INSERT INTO requirements (course_id, requirement_id, kind, display_name, position)
      VALUES ('course-v1:O+N+R', 'x', 'essay', 'Essay', 1)
    """,
    """
    INSERT INTO notifications (learner_id, kind, to_address, subject, body, created_at)
      VALUES ('ada', 'spam', 'a@b', 's', 'b', 0)
    """,
  ])
  func invalidEnumValueIsRefusedByCheckConstraint(sql: String) throws {
    let db = try Self.store()
    try Self.insertLearnerAndCourse(db)
    let error = #expect(throws: SQLiteError.self) { try db.run(sql) }
    #expect(error?.isConstraint == true)
    #expect(error?.code == ExtendedCode.constraintCheck)
  }

  @Test func mistypedValueIsRefusedByStrictTable() throws {
    let db = try Self.store()
    try Self.insertLearnerAndCourse(db)
    let error = #expect(throws: SQLiteError.self) {
      try db.run(
        "INSERT INTO enrollments (learner_id, course_id, mode, enrolled_at) VALUES ('ada', 'course-v1:O+N+R', 'audit', 'soon')"
      )
    }
    #expect(error?.isConstraint == true)
  }

  @Test func historyRefusesUpdateAndDelete() throws {
    let db = try Self.store()
    try db.run(
      "INSERT INTO events (learner_id, course_id, at, actor, kind) VALUES ('ada', 'course-v1:O+N+R', 5, 'admin', 'enrolled')"
    )
    let update = #expect(throws: SQLiteError.self) { try db.run("UPDATE events SET actor = 'mallory'") }
    #expect(update?.isConstraint == true)
    #expect(update?.code == ExtendedCode.constraintTrigger)
    #expect(update?.message.contains("append-only") == true)
    let delete = #expect(throws: SQLiteError.self) { try db.run("DELETE FROM events") }
    #expect(delete?.isConstraint == true)
    #expect(delete?.message.contains("append-only") == true)
    #expect(try db.query("SELECT actor, at FROM events") { "\($0.text(0))@\($0.int64(1))" } == ["admin@5"])
  }
}
