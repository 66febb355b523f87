import CreditCore
import SQLite

/// SQLite as a `Connection`: one write lock for the whole file (`BEGIN IMMEDIATE`, lock keys are
/// not needed), statements prepared once per connection by the wrapper.
public final class SQLiteConnection: Connection {
  public let database: Database

  public init(_ database: Database) { self.database = database }

  public func run(_ sql: String, _ values: [DBValue]) throws {
    do {
      let s = try database.statement(sql)
      try bind(s, values)
      try openPendingSavepoint(before: s)
      while try s.step() {}
    } catch {
      throw Self.classify(error)
    }
  }

  public func query(_ sql: String, _ values: [DBValue], _ row: (any Row) throws -> Void) throws {
    let s: Statement
    do {
      s = try database.statement(sql)
      try bind(s, values)
      try openPendingSavepoint(before: s)
    } catch {
      throw Self.classify(error)
    }
    while true {
      let more: Bool
      do { more = try s.step() } catch { throw Self.classify(error) }
      guard more else { return }
      do { try row(s) } catch {
        s.reset()
        throw error
      }
    }
  }

  private func bind(_ s: Statement, _ values: [DBValue]) throws(SQLiteError) {
    for (i, v) in values.enumerated() {
      let index = Int32(i + 1)
      switch v {
      case .null: try s.bind(.null, at: index)
      case .int(let x): try s.bind(.int(x), at: index)
      case .double(let x): try s.bind(.double(x), at: index)
      case .text(let x): try s.bind(.text(x), at: index)
      }
    }
  }

  public func begin(writing: Bool, lockKeys: [LockKey]) throws {
    do {
      if writing { try database.beginImmediate() } else { try database.beginDeferred() }
    } catch { throw Self.classify(error) }
  }

  public func commit() throws {
    do { try database.commit() } catch { throw Self.classify(error) }
  }

  public func rollback() {
    pendingSavepoint = nil
    database.rollback()
  }

  /// `SAVEPOINT n` and `RELEASE n` by name, built once (one savepoint runs per request).
  private var savepointSQL: [String: (begin: String, release: String)] = [:]

  private func savepointStatements(_ name: String) -> (begin: String, release: String) {
    if let s = savepointSQL[name] { return s }
    let s = (begin: "SAVEPOINT \(name)", release: "RELEASE \(name)")
    savepointSQL[name] = s
    return s
  }

  /// A savepoint asked for and not yet opened: `SAVEPOINT` runs just before the first statement
  /// that can write (a request that only reads, or is refused before it writes, runs neither it
  /// nor its `RELEASE`; what it would undo is nothing).
  private var pendingSavepoint: String?

  private func openPendingSavepoint(before s: Statement) throws(SQLiteError) {
    guard let name = pendingSavepoint, !s.isReadOnly else { return }
    pendingSavepoint = nil
    try database.run(savepointStatements(name).begin)
  }

  public func savepoint(_ name: String) throws {
    do {
      if let outer = pendingSavepoint {
        // Nested: the outer one opens now, so that the inner one stays inside it.
        pendingSavepoint = nil
        try database.run(savepointStatements(outer).begin)
      }
    } catch { throw Self.classify(error) }
    pendingSavepoint = name
  }

  public func release(_ name: String) throws {
    if pendingSavepoint == name {
      pendingSavepoint = nil
      return
    }
    do { try database.run(savepointStatements(name).release) } catch { throw Self.classify(error) }
  }

  public func rollback(to name: String) {
    if pendingSavepoint == name {
      pendingSavepoint = nil
      return
    }
    database.rollback(to: name)
  }

  public var isInTransaction: Bool { database.isInTransaction }

  /// One writer at a time: ids are taken in commit order.
  public var commitsOutOfIdOrder: Bool { false }

  /// A row per name in `counters`, inside the transaction (the file has one writer at a time).
  public func nextSequenceValue(_ name: String) throws -> Int64 {
    try one(
      """
      INSERT INTO counters (name, value) VALUES (?, 1)
      ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value
      """, [.text(name)]
    ) { $0.int64(0) } ?? 1
  }

  /// SQLite's result codes in the store's words.
  public static func classify(_ e: SQLiteError) -> StoreError {
    let kind: StoreError.Kind
    if e.isBusy {
      kind = .busy
    } else if e.isReadOnly {
      kind = .readOnly
    } else if e.isFull {
      kind = .full
    } else if e.isIOError {
      kind = .unavailable
    } else if e.isCorrupt {
      kind = .corrupt
    } else if e.isConstraint {
      kind = .constraint
    } else {
      kind = .other
    }
    return StoreError(kind, e.description)
  }
}

extension Statement: Row {}
