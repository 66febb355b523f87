import CreditCore
import PostgreSQL
import SQLite

/// Opens a PostgreSQL database given as a libpq URI and brings its schema to the latest version,
/// refusing (as for SQLite) a database of another program or a newer schema.
public enum PostgreSQLOpener {
  /// Whether `--db` names a PostgreSQL database rather than an SQLite file.
  public static func isURI(_ db: String) -> Bool {
    db.hasPrefix("postgresql://") || db.hasPrefix("postgres://")
  }

  /// The session-level advisory lock that migrations hold: many processes starting at once on a
  /// new database migrate it once, the others wait and find it done.
  static let migrationKey = PostgreSQL.Connection.advisoryKey("credit-rpc:migrations")

  public static func openStore(uri: String, now: Instant) throws -> SQLStore {
    SQLStore(PostgreSQLConnection(try open(uri: uri, now: now)))
  }

  /// Connects (libpq's environment applies) and migrates. The errors name the database with its
  /// password replaced by `***`.
  public static func open(uri: String, now: Instant) throws -> PostgreSQL.Connection {
    let redacted = Redaction.redact(uri)
    let db: PostgreSQL.Connection
    do {
      db = try PostgreSQL.Connection(uri)
    } catch {
      throw StoreOpenError(description: "cannot open the database at \(redacted): \(error.message)")
    }
    do {
      // Usually the schema is current: find out without the migration lock.
      if try check(db, redacted) < PostgreSQLMigrations.latestVersion {
        try db.run("SELECT pg_advisory_lock(?)", [.int(migrationKey)])
        defer { _ = try? db.run("SELECT pg_advisory_unlock(?)", [.int(migrationKey)]) }
        // Another process may have migrated it while this one waited.
        let current = try check(db, redacted)
        for m in PostgreSQLMigrations.all where m.version > current {
          try db.begin()
          do {
            try db.execute(
              """
              CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
              """)
            try db.execute(m.sql)
            try db.run(
              "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
              [.int(m.version), .text(m.name), .text(RFC3339.format(now))])
            try db.commit()
          } catch {
            db.rollback()
            throw error
          }
        }
      }
      return db
    } catch let e as StoreOpenError {
      throw e
    } catch let e as MigrationError {
      throw StoreOpenError(description: "\(redacted): \(e.description)")
    } catch let e as PostgreSQLError {
      if e.isReadOnly {
        throw StoreOpenError(description: "\(redacted) is read-only: \(e.message)")
      }
      throw StoreOpenError(description: "cannot prepare the database at \(redacted): \(e.message)")
    }
  }

  /// The schema version of the database (0 for an empty one); throws for a database that is not
  /// credit-rpc's or has a newer schema. Only the current schema (`search_path`) is looked at.
  static func check(_ db: PostgreSQL.Connection, _ redacted: String) throws -> Int {
    let tables = Set(
      try db.query("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()") {
        $0.text(0)
      })
    if tables.isEmpty { return 0 }
    var ours = false
    if tables.contains("credit_rpc_application") {
      ours =
        try db.scalarInt(
          "SELECT count(*) FROM credit_rpc_application WHERE application_id = ?",
          [.int(PostgreSQLMigrations.applicationId)]) == 1
    }
    guard ours else {
      throw StoreOpenError(
        description:
          "\(redacted) is a PostgreSQL database of another program (it has no credit-rpc schema); "
          + "point --db at a new database")
    }
    let version =
      tables.contains("schema_migrations")
      ? Int(try db.scalarInt("SELECT coalesce(max(version), 0) FROM schema_migrations") ?? 0) : 0
    if version > PostgreSQLMigrations.latestVersion {
      throw MigrationError.newerSchema(found: version, known: PostgreSQLMigrations.latestVersion)
    }
    return version
  }
}
