import CreditCore

/// A value bound to a statement's `?` placeholder.
public enum DBValue: Sendable, Equatable {
  case null
  case int(Int64)
  case double(Double)
  case text(String)

  public static func int(_ v: Int) -> DBValue { .int(Int64(v)) }
  public static func bool(_ v: Bool) -> DBValue { .int(v ? 1 : 0) }
  public static func optional(_ s: String?) -> DBValue { s.map(DBValue.text) ?? .null }
  public static func optional(_ d: Double?) -> DBValue { d.map(DBValue.double) ?? .null }
  public static func optional(_ i: Int64?) -> DBValue { i.map(DBValue.int) ?? .null }
}

/// The current row of a query, read by column index (0-based).
public protocol Row {
  func isNull(_ i: Int32) -> Bool
  func int64(_ i: Int32) -> Int64
  func double(_ i: Int32) -> Double
  func text(_ i: Int32) -> String
}

extension Row {
  public func int(_ i: Int32) -> Int { Int(int64(i)) }
  public func bool(_ i: Int32) -> Bool { int64(i) != 0 }
  public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
  public func optionalInt64(_ i: Int32) -> Int64? { isNull(i) ? nil : int64(i) }
  public func optionalDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }

  /// An enum stored as its raw text: unknown text is an error, never a default.
  public func value<E: RawRepresentable>(_ i: Int32, as type: E.Type = E.self) throws -> E
  where E.RawValue == String {
    let raw = text(i)
    guard let v = E(rawValue: raw) else {
      throw StoreError(.corrupt, "unknown \(E.self) '\(raw)' in column \(i)")
    }
    return v
  }

  public func optionalValue<E: RawRepresentable>(_ i: Int32, as type: E.Type = E.self) throws -> E?
  where E.RawValue == String {
    isNull(i) ? nil : try value(i, as: E.self)
  }
}

/// One connection to a database engine: what the store's SQL needs and no more. The SQL is
/// portable: `?` placeholders (an engine that numbers them rewrites them), qualified column names
/// in upserts, RETURNING, no engine-only functions in DML. Every error is a classified
/// `StoreError`. Not thread-safe: one connection per thread.
public protocol Connection: AnyObject {
  /// Runs a statement (prepared once and cached by the engine), ignoring any rows.
  func run(_ sql: String, _ values: [DBValue]) throws
  /// Runs a query, calling `row` for each row in order.
  func query(_ sql: String, _ values: [DBValue], _ row: (any Row) throws -> Void) throws

  /// Opens a transaction. `writing` takes the write locks up front: the whole file (SQLite's
  /// `BEGIN IMMEDIATE`), or the given keys, sorted (PostgreSQL's advisory locks).
  func begin(writing: Bool, lockKeys: [LockKey]) throws
  func commit() throws
  /// Rolls back the open transaction, if any (the engine may have rolled back already).
  func rollback()
  func savepoint(_ name: String) throws
  func release(_ name: String) throws
  /// Undoes everything since the savepoint and removes it.
  func rollback(to name: String)
  /// False once the transaction has ended, including when the engine ended it on its own.
  var isInTransaction: Bool { get }

  /// The next value of a named sequence: 1, 2, 3 ... (`name` is lowercase letters). Ids are
  /// unique and increasing; an engine may leave gaps (PostgreSQL hands them out outside the
  /// transaction, so that writers do not queue on one row).
  func nextSequenceValue(_ name: String) throws -> Int64
  /// True when transactions may commit in another order than the ids they took (PostgreSQL's
  /// concurrent writers); false when writers commit one at a time (SQLite), so that id order is
  /// commit order. The change feed follows commits either way.
  var commitsOutOfIdOrder: Bool { get }
}

extension Connection {
  public func run(_ sql: String) throws { try run(sql, []) }

  public func all<T>(_ sql: String, _ values: [DBValue] = [], _ read: (any Row) throws -> T) throws -> [T] {
    var result: [T] = []
    try query(sql, values) { result.append(try read($0)) }
    return result
  }

  /// The first row mapped by `read`, or nil (the rest are not read).
  public func one<T>(_ sql: String, _ values: [DBValue] = [], _ read: (any Row) throws -> T) throws -> T? {
    var result: T?
    try query(sql, values) { if result == nil { result = try read($0) } }
    return result
  }
}
