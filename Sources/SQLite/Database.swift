import CSQLite

/// The destructor constant that tells SQLite to copy bound text and blobs.
let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Set once, before the library's first use: no memory statistics (nothing reads them), so that
/// allocations take no global lock.
private let configured: Void = { _ = csqlite_disable_memstatus() }()

/// One connection to an SQLite database. Not thread-safe: one connection per thread.
public final class Database {
  public let path: String
  let handle: OpaquePointer
  private var statementCache: [SQLKey: Statement] = [:]
  private var traceSink: ((String) -> Void)?

  /// Opens (creating if needed) the database at `path`; `:memory:` is a private in-memory one.
  public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
    self.path = path
    _ = configured
    var db: OpaquePointer?
    let flags =
      (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
      | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
    let rc = sqlite3_open_v2(path, &db, flags, nil)
    guard rc == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
      if let db { sqlite3_close_v2(db) }
      throw SQLiteError(code: rc, message: message, sql: nil)
    }
    self.handle = db
    sqlite3_extended_result_codes(db, 1)
  }

  private var isOpen = true

  deinit { close() }

  /// Finalizes the statements and closes the connection; the last connection to close a WAL
  /// database checkpoints it into the main file and removes the `-wal` file.
  public func close() {
    guard isOpen else { return }
    isOpen = false
    statementCache.removeAll()
    sqlite3_close_v2(handle)
  }

  /// Runs one or more statements that return no rows of interest.
  public func execute(_ sql: String) throws(SQLiteError) {
    var errmsg: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
    if rc != SQLITE_OK {
      let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
      sqlite3_free(errmsg)
      throw SQLiteError(code: rc, message: message, sql: sql)
    }
  }

  /// A prepared statement for `sql`, compiled once per connection and reused (reset, bindings
  /// cleared) on every later call.
  public func statement(_ sql: String) throws(SQLiteError) -> Statement {
    if let cached = statementCache[SQLKey(sql)] {
      cached.reset()
      return cached
    }
    let statement = try Statement(database: self, sql: sql)
    statementCache[SQLKey(sql)] = statement
    return statement
  }

  /// Runs a statement with bindings, ignoring any rows.
  public func run(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) {
    let s = try statement(sql)
    try s.bind(values)
    while try s.step() {}
  }

  /// The rows of a query, each mapped by `row`.
  public func query<T>(
    _ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws(SQLiteError) -> T
  ) throws(SQLiteError) -> [T] {
    let s = try statement(sql)
    try s.bind(values)
    var result: [T] = []
    while try s.step() { result.append(try row(s)) }
    return result
  }

  /// The first row of a query mapped by `row`, or nil when there is none.
  public func queryOne<T>(
    _ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws(SQLiteError) -> T
  ) throws(SQLiteError) -> T? {
    let s = try statement(sql)
    try s.bind(values)
    guard try s.step() else { return nil }
    let value = try row(s)
    s.reset()
    return value
  }

  /// The first column of the first row as an integer, or nil.
  public func scalarInt(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> Int64? {
    try queryOne(sql, values) { s throws(SQLiteError) in s.isNull(0) ? nil : s.int64(0) } ?? nil
  }

  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
  public var changes: Int { Int(sqlite3_changes(handle)) }
  public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

  public func setBusyTimeout(milliseconds: Int32) {
    sqlite3_busy_timeout(handle, milliseconds)
  }

  // MARK: Transactions

  /// `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that reads and then
  /// writes can meet SQLITE_BUSY that no busy timeout cures.
  public func beginImmediate() throws(SQLiteError) { try run("BEGIN IMMEDIATE") }
  public func beginDeferred() throws(SQLiteError) { try run("BEGIN DEFERRED") }
  public func commit() throws(SQLiteError) { try run("COMMIT") }

  /// Rolls back if a transaction is open (SQLite may already have rolled back on some errors).
  public func rollback() {
    if isInTransaction { _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
  }

  // Savepoints run for every request: prepared once, like any other statement.
  public func savepoint(_ name: String) throws(SQLiteError) { try run("SAVEPOINT \(name)") }
  public func release(_ name: String) throws(SQLiteError) { try run("RELEASE \(name)") }
  /// Undoes everything since the savepoint and removes it.
  public func rollback(to name: String) {
    if isInTransaction {
      _ = sqlite3_exec(handle, "ROLLBACK TO \(name); RELEASE \(name)", nil, nil, nil)
    }
  }

  /// Runs `body` in a `BEGIN IMMEDIATE` transaction, committing on success and rolling back on error.
  public func writeTransaction<T, E: Error>(_ body: () throws(E) -> T) throws -> T {
    try beginImmediate()
    do {
      let result = try body()
      try commit()
      return result
    } catch {
      rollback()
      throw error
    }
  }

  // MARK: Tracing

  /// Calls `sink` with the text of every statement run, for profiling (`--trace-sql`): the SQL as
  /// prepared, with `?` for its parameters, so that no bound value (a secret, a name) is written.
  public func trace(_ sink: ((String) -> Void)?) {
    traceSink = sink
    guard sink != nil else {
      sqlite3_trace_v2(handle, 0, nil, nil)
      return
    }
    let context = Unmanaged.passUnretained(self).toOpaque()
    sqlite3_trace_v2(
      handle, UInt32(SQLITE_TRACE_STMT),
      { _, context, statement, _ in
        guard let context, let statement else { return 0 }
        let db = Unmanaged<Database>.fromOpaque(context).takeUnretainedValue()
        let stmt = OpaquePointer(statement)
        if let sql = sqlite3_sql(stmt) { db.traceSink?(String(cString: sql)) }
        return 0
      }, context)
  }
}

/// A statement cache key that hashes the text's length and a sample of its bytes rather than all of
/// it (statements are long and looked up on every call); equal hashes still compare in full.
struct SQLKey: Hashable {
  let sql: String

  init(_ sql: String) { self.sql = sql }

  static func == (a: SQLKey, b: SQLKey) -> Bool { a.sql == b.sql }

  func hash(into hasher: inout Hasher) {
    var text = sql
    text.withUTF8 { bytes in
      hasher.combine(bytes.count)
      guard !bytes.isEmpty else { return }
      var sample: UInt64 = 0
      for k in 0..<16 {
        sample = sample &* 31 &+ UInt64(bytes[bytes.count * k / 16])
      }
      hasher.combine(sample)
    }
  }
}
