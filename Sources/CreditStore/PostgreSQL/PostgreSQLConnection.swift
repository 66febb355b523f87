import CreditCore
import PostgreSQL

/// PostgreSQL as a `Connection`, over the PostgreSQL module (libpq): statements prepared once per
/// connection with `?` rewritten to `$n`; a lost connection is `.unavailable` and the next group
/// reconnects (libpq's multi-host selection finds a promoted standby).
///
/// Locking, instead of SQLite's one write lock: a writing group takes transaction-scoped advisory
/// locks at its start, in one round trip with its BEGIN. Every writing group holds the global key
/// shared, or exclusive for `.everything`; then, in the order of their hashes, each learner key
/// exclusive, the course of each enrollment shared and each course-wide change's course
/// exclusive. Groups on different learners run in parallel; groups on one learner, a course-wide
/// change and that course's learners, or `.everything` and anything, wait for each other; one
/// order for all means no deadlock.
/// A lock not had within `lockTimeout` is `.busy`, as SQLite's busy timeout. Reading groups run in
/// one snapshot (`REPEATABLE READ READ ONLY`) and take no lock.
public final class PostgreSQLConnection: Connection {
  public let database: PostgreSQL.Connection
  /// How long a group waits for its locks (and any statement for a row lock) before `.busy`.
  public var lockTimeoutMs = 5000

  public init(_ database: PostgreSQL.Connection) { self.database = database }

  /// The advisory-lock key that every writing group holds shared and `.everything` exclusive.
  static let globalKey = PostgreSQL.Connection.advisoryKey("credit-rpc:everything")

  static func learnerKey(_ id: String) -> Int64 {
    PostgreSQL.Connection.advisoryKey("credit-rpc:learner:" + id)
  }

  static func courseKey(_ id: String) -> Int64 {
    PostgreSQL.Connection.advisoryKey("credit-rpc:course:" + id)
  }

  /// The advisory locks for a group's keys: hash -> exclusive. `.enrollment` is its learner
  /// exclusive and its course shared (so that a course-wide change waits for the course's learners
  /// and they for it, but not for each other); a key wanted both ways is taken exclusive.
  static func advisoryLocks(_ keys: [LockKey]) -> [(key: Int64, exclusive: Bool)] {
    var locks: [Int64: Bool] = [globalKey: keys.contains(.everything)]
    func want(_ k: Int64, exclusive: Bool) { locks[k] = (locks[k] ?? false) || exclusive }
    for key in keys {
      switch key {
      case .learner(let id): want(learnerKey(id), exclusive: true)
      case .enrollment(let learnerId, let courseId):
        want(learnerKey(learnerId), exclusive: true)
        want(courseKey(courseId), exclusive: false)
      case .course(let id): want(courseKey(id), exclusive: true)
      case .everything: break
      }
    }
    // The global key first, then by hash: one order for every group, so no two wait in a cycle.
    let rest = locks.filter { $0.key != globalKey }.sorted { $0.key < $1.key }
    return [(globalKey, locks[globalKey]!)] + rest.map { ($0.key, $0.value) }
  }

  static func values(_ values: [DBValue]) -> [Value] {
    values.map { v in
      switch v {
      case .null: .null
      case .int(let x): .int(x)
      case .double(let x): .double(x)
      case .text(let x): .text(x)
      }
    }
  }

  public func run(_ sql: String, _ values: [DBValue]) throws {
    do { try database.run(sql, Self.values(values)) } catch { throw Self.classify(error) }
  }

  public func query(_ sql: String, _ values: [DBValue], _ row: (any Row) throws -> Void) throws {
    let rows: [PostgreSQL.Row]
    do { rows = try database.query(sql, Self.values(values)) { $0 } } catch { throw Self.classify(error) }
    for r in rows { try row(r) }
  }

  public func begin(writing: Bool, lockKeys: [LockKey]) throws {
    do {
      try open(writing: writing, lockKeys: lockKeys)
    } catch let e as StoreError where e.kind == .unavailable && !database.isConnected {
      // The connection was found lost at the start of a group (the server restarted, a failover
      // happened while this process was idle): nothing of the group was sent, so it may begin
      // once more on a new connection (libpq picks the writable host of a multi-host URI).
      try open(writing: writing, lockKeys: lockKeys)
    }
  }

  private func open(writing: Bool, lockKeys: [LockKey]) throws {
    do {
      guard writing else {
        try database.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return
      }
      let locks = Self.advisoryLocks(lockKeys)
      let global = locks[0]
      var statements: [(sql: String, values: [Value])] = [
        ("BEGIN", []),
        ("SELECT set_config('lock_timeout', ?, true)", [.text("\(lockTimeoutMs)ms")]),
        (
          global.exclusive ? "SELECT pg_advisory_xact_lock(?)" : "SELECT pg_advisory_xact_lock_shared(?)",
          [.int(global.key)]
        ),
      ]
      let rest = locks.dropFirst()
      if !rest.isEmpty {
        statements.append(
          (
            """
            SELECT CASE WHEN x THEN pg_advisory_xact_lock(k)::text ELSE pg_advisory_xact_lock_shared(k)::text END
            FROM (SELECT k, x FROM unnest(CAST(? AS bigint[]), CAST(? AS boolean[])) AS u(k, x) ORDER BY k) AS s
            """,
            [
              .text("{" + rest.map { String($0.key) }.joined(separator: ",") + "}"),
              .text("{" + rest.map { $0.exclusive ? "t" : "f" }.joined(separator: ",") + "}"),
            ]
          ))
      }
      do { try database.runPipelined(statements) } catch {
        // A lock not had in time aborts the transaction: end it before the caller starts another.
        database.rollback()
        throw error
      }
    } catch {
      throw Self.classify(error)
    }
  }

  /// Never cancelled: a COMMIT whose answer does not come is `.unavailable` (outcome unknown), and
  /// one that is only local (a cancelled synchronous-replication wait) is refused the same way.
  public func commit() throws {
    do { try database.commit() } catch { throw Self.classify(error) }
  }

  public func rollback() { database.rollback() }

  public func savepoint(_ name: String) throws {
    do { try database.savepoint(name) } catch { throw Self.classify(error) }
  }

  public func release(_ name: String) throws {
    do { try database.release(name) } catch { throw Self.classify(error) }
  }

  public func rollback(to name: String) { database.rollback(to: name) }

  public var isInTransaction: Bool { database.isInTransaction }

  /// Writers of different learners run at once: an identity value can commit after a later one.
  public var commitsOutOfIdOrder: Bool { true }

  /// A sequence per name (`credit_seq_<name>`, created by the migrations): no row that every
  /// writer updates, so writers on different learners never wait for one another. Values are
  /// handed out outside transactions (a rolled-back request leaves a gap).
  public func nextSequenceValue(_ name: String) throws -> Int64 {
    precondition(name.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7A }, "sequence names are lowercase letters")
    do {
      return try database.queryOne("SELECT nextval(CAST(? AS regclass))", [.text("credit_seq_" + name)]) {
        $0.int64(0)
      } ?? 0
    } catch {
      throw Self.classify(error)
    }
  }

  /// PostgreSQL's classification in the store's words.
  public static func classify(_ e: PostgreSQLError) -> StoreError {
    let kind: StoreError.Kind =
      switch e.kind {
      case .busy: .busy
      case .unavailable: .unavailable
      case .readOnly: .readOnly
      case .full: .full
      case .constraint: .constraint
      case .other: .other
      }
    return StoreError(kind, e.description)
  }

  static func classify(_ e: any Error) -> StoreError {
    if let e = e as? PostgreSQLError { return classify(e) }
    if let e = e as? StoreError { return e }
    return StoreError(.other, "\(e)")
  }
}

extension PostgreSQL.Row: Row {}
