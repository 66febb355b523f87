import CSQLite

/// A value to bind to a statement parameter.
public enum SQLValue: Sendable, Equatable {
  case null
  case int(Int64)
  case double(Double)
  case text(String)
  case blob([UInt8])

  public static func int(_ v: Int) -> SQLValue { .int(Int64(v)) }
  public static func bool(_ v: Bool) -> SQLValue { .int(v ? 1 : 0) }
  public static func optional(_ s: String?) -> SQLValue { s.map(SQLValue.text) ?? .null }
  public static func optional(_ d: Double?) -> SQLValue { d.map(SQLValue.double) ?? .null }
  public static func optional(_ i: Int64?) -> SQLValue { i.map(SQLValue.int) ?? .null }
}

/// A compiled statement. Obtain one through `Database.statement(_:)`, which caches it.
public final class Statement {
  let handle: OpaquePointer
  unowned let database: Database
  public let sql: String

  init(database: Database, sql: String) throws(SQLiteError) {
    var stmt: OpaquePointer?
    let rc = sqlite3_prepare_v3(
      database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
    guard rc == SQLITE_OK, let stmt else {
      throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(database.handle)), sql: sql)
    }
    self.handle = stmt
    self.database = database
    self.sql = sql
  }

  deinit { sqlite3_finalize(handle) }

  /// True when running the statement cannot change the database (a `SELECT`).
  public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

  /// Makes the statement ready to run again, with no bindings.
  public func reset() {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  public func bind(_ values: [SQLValue]) throws(SQLiteError) {
    for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
  }

  public func bind(_ value: SQLValue, at index: Int32) throws(SQLiteError) {
    let rc: Int32
    switch value {
    case .null: rc = sqlite3_bind_null(handle, index)
    case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
    case .double(let v): rc = sqlite3_bind_double(handle, index, v)
    case .text(let v):
      // An explicit length keeps an embedded NUL (a C string would end there).
      var v = v
      rc = v.withUTF8 { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
    case .blob(let v):
      rc = v.withUnsafeBytes {
        sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT)
      }
    }
    if rc != SQLITE_OK { throw error(rc) }
  }

  /// Advances to the next row: true when there is one, false when done.
  public func step() throws(SQLiteError) -> Bool {
    let rc = sqlite3_step(handle)
    switch rc {
    case SQLITE_ROW: return true
    case SQLITE_DONE:
      sqlite3_reset(handle)
      return false
    default:
      let e = error(rc)
      sqlite3_reset(handle)
      throw e
    }
  }

  private func error(_ rc: Int32) -> SQLiteError {
    SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(database.handle)), sql: sql)
  }

  // MARK: Columns

  public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
  public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
  public func int(_ i: Int32) -> Int { Int(sqlite3_column_int64(handle, i)) }
  public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
  public func bool(_ i: Int32) -> Bool { sqlite3_column_int64(handle, i) != 0 }

  public func text(_ i: Int32) -> String {
    guard let p = sqlite3_column_text(handle, i) else { return "" }
    let n = Int(sqlite3_column_bytes(handle, i))
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
  }

  public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
  public func optionalInt64(_ i: Int32) -> Int64? { isNull(i) ? nil : int64(i) }
  public func optionalDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }

  public func blob(_ i: Int32) -> [UInt8] {
    let n = Int(sqlite3_column_bytes(handle, i))
    guard n > 0, let p = sqlite3_column_blob(handle, i) else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: n))
  }
}
