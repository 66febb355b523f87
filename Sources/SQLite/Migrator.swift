/// One step of the schema, identified by a version number that only grows.
public struct Migration: Sendable {
  public let version: Int
  public let name: String
  public let sql: String

  public init(version: Int, name: String, sql: String) {
    self.version = version
    self.name = name
    self.sql = sql
  }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
  /// The file was written by a newer version of the program.
  case newerSchema(found: Int, known: Int)

  public var description: String {
    switch self {
    case .newerSchema(let found, let known):
      "the database has schema version \(found), newer than the \(known) this program knows; "
        + "use a newer credit-rpc"
    }
  }
}

/// Applies migrations in order, each in its own transaction, recording every applied version in
/// `schema_migrations` and the current one in `PRAGMA user_version`.
public struct Migrator: Sendable {
  public let migrations: [Migration]

  public init(_ migrations: [Migration]) {
    precondition(
      zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
      "migrations must be in increasing version order")
    self.migrations = migrations
  }

  public var latestVersion: Int { migrations.last?.version ?? 0 }

  public func currentVersion(_ db: Database) throws(SQLiteError) -> Int {
    Int(try db.scalarInt("PRAGMA user_version") ?? 0)
  }

  /// Brings `db` to `target` (default: the latest). Returns the versions applied.
  @discardableResult
  public func migrate(_ db: Database, upTo target: Int? = nil, appliedAt: String) throws -> [Int] {
    let target = target ?? latestVersion
    // Usually there is nothing to do: find out without taking the write lock, which another
    // process may hold for a while.
    let seen = try currentVersion(db)
    if seen > latestVersion { throw MigrationError.newerSchema(found: seen, known: latestVersion) }
    if seen >= target { return [] }
    // Check again under the write lock, so that two processes opening a new file do not both migrate.
    try db.beginImmediate()
    let current: Int
    do {
      current = try currentVersion(db)
      db.rollback()
    } catch {
      db.rollback()
      throw error
    }
    if current > latestVersion { throw MigrationError.newerSchema(found: current, known: latestVersion) }
    var applied: [Int] = []
    for m in migrations where m.version > current && m.version <= target {
      try db.beginImmediate()
      do {
        // Another process may have applied it since we looked.
        if try currentVersion(db) >= m.version {
          db.rollback()
          continue
        }
        try db.execute(
          """
          CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT
          """)
        try db.execute(m.sql)
        try db.run(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          [.int(m.version), .text(m.name), .text(appliedAt)])
        try db.execute("PRAGMA user_version = \(m.version)")
        try db.commit()
        applied.append(m.version)
      } catch {
        db.rollback()
        throw error
      }
    }
    return applied
  }
}
