import CSQLite

/// An error from SQLite, with the extended result code and the SQL that failed (for logs and
/// tests only: it must never reach a client).
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
  /// The extended result code.
  public let code: Int32
  public let message: String
  public let sql: String?

  public init(code: Int32, message: String, sql: String?) {
    self.code = code
    self.message = message
    self.sql = sql
  }

  /// The primary result code (the low byte of the extended one).
  public var primaryCode: Int32 { code & 0xFF }

  public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
  public var isReadOnly: Bool { primaryCode == SQLITE_READONLY }
  public var isFull: Bool { primaryCode == SQLITE_FULL }
  public var isIOError: Bool { primaryCode == SQLITE_IOERR || primaryCode == SQLITE_CANTOPEN }
  public var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }
  public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }

  public var description: String {
    "SQLite error \(code): \(message)" + (sql.map { " in `\($0)`" } ?? "")
  }
}
