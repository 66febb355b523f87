/// An error from PostgreSQL or libpq, classified for the service. `message` is for logs and tests
/// only (it must never reach a client); it never contains the connection's password.
public struct PostgreSQLError: Error, CustomStringConvertible, Sendable {
  public enum Kind: String, Sendable {
    /// Try again: a serialization failure (40001), a deadlock (40P01), a lock not available or a
    /// lock timeout (55P03), a statement timeout (57014).
    case busy
    /// The database is not reachable or the outcome is unknown: the connection was lost (the next
    /// use reconnects), 08*, an administrator shutdown or a starting server (57P01-57P03), too many
    /// connections (53300), or a COMMIT that the server reports as committed locally but maybe not
    /// replicated (a cancelled synchronous-replication wait).
    case unavailable
    /// A write on a read-only server or transaction (25006): a standby, a demoted primary.
    case readOnly
    /// Out of disk (53100) or memory (53200).
    case full
    /// A constraint failed (23*: unique, foreign key, check, not null, exclusion).
    case constraint
    case other
  }

  public let kind: Kind
  /// The five-character SQLSTATE, when the server (or libpq) gave one.
  public let sqlState: String?
  public let message: String
  /// The constraint a 23* error names, when the server gives it.
  public let constraint: String?
  public let sql: String?

  public init(
    kind: Kind, sqlState: String?, message: String, constraint: String? = nil, sql: String? = nil
  ) {
    self.kind = kind
    self.sqlState = sqlState
    self.message = message
    self.constraint = constraint
    self.sql = sql
  }

  public var isBusy: Bool { kind == .busy }
  public var isUnavailable: Bool { kind == .unavailable }
  public var isReadOnly: Bool { kind == .readOnly }
  public var isFull: Bool { kind == .full }
  public var isConstraint: Bool { kind == .constraint }

  /// The kind of an error with this SQLSTATE (`connectionLost` wins over any state).
  public static func classify(sqlState: String?, connectionLost: Bool) -> Kind {
    if connectionLost { return .unavailable }
    guard let state = sqlState else { return .other }
    switch state {
    case "40001", "40P01", "55P03", "57014": return .busy
    case "57P01", "57P02", "57P03", "53300": return .unavailable
    case "25006": return .readOnly
    case "53100", "53200": return .full
    default: break
    }
    if state.hasPrefix("08") { return .unavailable }
    if state.hasPrefix("23") { return .constraint }
    return .other
  }

  public var description: String {
    "PostgreSQL error (\(kind.rawValue)\(sqlState.map { ", SQLSTATE \($0)" } ?? "")): \(message)"
      + (sql.map { " in `\($0)`" } ?? "")
  }
}
