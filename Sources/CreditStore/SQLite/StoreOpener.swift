import CreditCore
import SQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A database that cannot be served, in words for the person starting the service.
public struct StoreOpenError: Error, CustomStringConvertible {
  public let description: String
}

public enum StoreOpener {
  /// Runs `body` again while it fails with SQLITE_BUSY, for up to `timeoutMs`.
  static func retryingBusy(timeoutMs: Int32, _ body: () throws -> Void) throws {
    var waitedMs: Int32 = 0
    while true {
      do { return try body() } catch let e as SQLiteError where e.isBusy && waitedMs < timeoutMs {
        usleep(10_000)
        waitedMs += 10
      }
    }
  }

  /// `credit-rpc/credit.sqlite` under `$XDG_DATA_HOME`, or `~/.local/share`.
  public static func defaultPath(environment: [String: String]) -> String? {
    if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
      return "\(xdg)/credit-rpc/credit.sqlite"
    }
    guard let home = environment["HOME"], !home.isEmpty else { return nil }
    return "\(home)/.local/share/credit-rpc/credit.sqlite"
  }

  /// Creates the folders of a path (mode 0700), like `mkdir -p`.
  public static func makeParentDirectories(of path: String) {
    var prefix = ""
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    for (i, part) in parts.enumerated() {
      prefix += (i == 0 ? "" : "/") + part
      if !prefix.isEmpty { mkdir(prefix, 0o700) }
    }
  }

  /// Takes away what group and others may do with the file; never adds a right (a read-only file
  /// stays read-only).
  static func keepPrivate(_ path: String) {
    var st = stat()
    guard stat(path, &st) == 0, st.st_mode & 0o077 != 0 else { return }
    chmod(path, st.st_mode & 0o600)
  }

  /// The credit store on the SQLite database at `path`, opened and migrated as `open` does.
  public static func openStore(path: String, busyTimeoutMs: Int32 = 5000, now: Instant) throws -> SQLStore {
    SQLStore(SQLiteConnection(try open(path: path, busyTimeoutMs: busyTimeoutMs, now: now)))
  }

  /// Opens (creating with mode 0600, through the umask; an existing file loses group and other
  /// rights but is never made writable) and
  /// migrates the database; configures WAL, full sync, foreign keys and the busy timeout.
  public static func open(path: String, busyTimeoutMs: Int32 = 5000, now: Instant) throws -> Database {
    let db: Database
    let oldMask = umask(0o077)
    defer { umask(oldMask) }
    do {
      db = try Database(path: path)
    } catch {
      throw StoreOpenError(description: "cannot open the database at \(path): \(error.message)")
    }
    db.setBusyTimeout(milliseconds: busyTimeoutMs)
    do {
      // Processes opening a new file at once can meet SQLITE_BUSY that the busy handler does not
      // wait out (a journal-mode change, WAL recovery): the steps are idempotent, so retry them.
      try retryingBusy(timeoutMs: busyTimeoutMs) {
        // Reading the schema proves that this is an SQLite file at all; the application id that the
        // first migration stamps tells ours from another program's, before anything is changed.
        let tables = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
        let version = try SchemaMigrations.migrator.currentVersion(db)
        let applicationId = try db.scalarInt("PRAGMA application_id") ?? 0
        if (tables > 0 || version != 0) && applicationId != SchemaMigrations.applicationId {
          throw StoreOpenError(
            description:
              "\(path) is an SQLite database of another program (it has no credit-rpc schema); "
              + "point --db at a new file")
        }
        if path != ":memory:" {
          let mode = try db.queryOne("PRAGMA journal_mode = WAL", []) { $0.text(0) }
          if mode?.lowercased() != "wal" {
            throw StoreOpenError(description: "cannot switch \(path) to WAL mode (got \(mode ?? "nothing"))")
          }
        }
        // Savepoint journals stay in memory (not temp files); reads come from a mapped file and a
        // larger page cache rather than a read() per page.
        try db.execute(
          """
          PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;
          PRAGMA cache_size = -16384; PRAGMA mmap_size = 268435456;
          """)
        try SchemaMigrations.migrator.migrate(db, appliedAt: RFC3339.format(now))
      }
      if path != ":memory:" { keepPrivate(path) }
      return db
    } catch let e as StoreOpenError {
      throw e
    } catch let e as MigrationError {
      throw StoreOpenError(description: "\(path): \(e.description)")
    } catch let e as SQLiteError {
      if e.isCorrupt {
        throw StoreOpenError(description: "\(path) is not a usable SQLite database (\(e.message))")
      }
      if e.isReadOnly {
        throw StoreOpenError(description: "\(path) is read-only: \(e.message)")
      }
      throw StoreOpenError(description: "cannot prepare the database at \(path): \(e.message)")
    }
  }
}
