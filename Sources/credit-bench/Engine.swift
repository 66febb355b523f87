#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Where the bench's databases live: SQLite files in the data folder (the default), or databases
/// on a PostgreSQL server (`--db postgresql://...`), one per dataset and one per throwaway run,
/// made and dropped through psql. Every database the bench names on a server starts with `bench_`.
enum Engine {
  case sqlite(folder: String)
  case postgresql(server: String, psql: String)

  var isPostgreSQL: Bool {
    if case .postgresql = self { return true }
    return false
  }

  var name: String { isPostgreSQL ? "PostgreSQL" : "SQLite" }

  /// The `--db` value of a dataset or a throwaway database called `name`.
  func locator(_ name: String) -> String {
    switch self {
    case .sqlite(let folder): "\(folder)/\(name).sqlite"
    case .postgresql(let server, _): postgresURI(server, database: databaseName(name))
    }
  }

  /// A PostgreSQL database name for `name` (lower case letters, digits and underscores).
  func databaseName(_ name: String) -> String {
    "bench_"
      + String(
        name.lowercased().map { c -> Character in
          c.isLetter || c.isNumber ? c : "_"
        })
  }

  /// Runs SQL on the server (in its maintenance database, or in `database`); returns psql's
  /// unaligned output.
  @discardableResult
  func sql(_ statement: String, database: String? = nil) throws -> String {
    guard case .postgresql(let server, let psql) = self else {
      throw BenchError("SQL on a server without --db postgresql://")
    }
    let uri = database.map { postgresURI(server, database: $0) } ?? server
    let (text, ok) = try capture(psql, ["-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", statement])
    guard ok else { throw BenchError("psql failed on: \(statement)") }
    return text
  }

  func exists(_ name: String) throws -> Bool {
    switch self {
    case .sqlite: return fileExists(locator(name))
    case .postgresql:
      return try sql("SELECT 1 FROM pg_database WHERE datname = '\(databaseName(name))'").hasPrefix("1")
    }
  }

  /// Removes a database (a file and its WAL companions, or a database on the server).
  func remove(_ name: String) throws {
    switch self {
    case .sqlite: removeDatabase(locator(name))
    case .postgresql: try sql("DROP DATABASE IF EXISTS \(databaseName(name)) WITH (FORCE)")
    }
  }

  /// An empty database called `name` (any older one dropped); returns its locator.
  func fresh(_ name: String) throws -> String {
    try remove(name)
    if isPostgreSQL { try sql("CREATE DATABASE \(databaseName(name))") }
    return locator(name)
  }

  /// A copy of `source` called `name` (cp of the file, or CREATE DATABASE ... TEMPLATE).
  func copy(_ source: String, to name: String) throws -> String {
    try remove(name)
    switch self {
    case .sqlite:
      let (_, ok) = try capture("/bin/cp", [locator(source), locator(name)])
      guard ok else { throw BenchError("cannot copy \(locator(source)) to \(locator(name))") }
    case .postgresql:
      try sql("CREATE DATABASE \(databaseName(name)) TEMPLATE \(databaseName(source))")
    }
    return locator(name)
  }

  func rename(_ from: String, to: String) throws {
    switch self {
    case .sqlite:
      guard Glibc.rename(locator(from), locator(to)) == 0 else {
        throw BenchError("cannot rename \(locator(from)) to \(locator(to))")
      }
    case .postgresql:
      try sql("ALTER DATABASE \(databaseName(from)) RENAME TO \(databaseName(to))")
    }
  }

  /// Bytes the database takes (the file, or pg_database_size).
  func size(_ name: String) -> Int {
    switch self {
    case .sqlite: return fileSize(locator(name))
    case .postgresql:
      let text = (try? sql("SELECT pg_database_size('\(databaseName(name))')")) ?? ""
      return Int(text.filter { $0.isNumber }) ?? 0
    }
  }
}

/// `uri` with its database (the path after the hosts) replaced by `database`; query kept.
func postgresURI(_ uri: String, database: String) -> String {
  let chars = Array(uri)
  guard let hostsStart = uri.indexOfScheme() else { return uri }
  let query = chars[hostsStart...].firstIndex(of: "?") ?? chars.count
  let hostsEnd = chars[hostsStart..<query].firstIndex(of: "/") ?? query
  return String(chars[..<hostsEnd]) + "/" + database + String(chars[query...])
}

extension String {
  /// The offset (in characters) just after `://`, or nil.
  func indexOfScheme() -> Int? {
    let chars = Array(self)
    var i = 0
    while i + 2 < chars.count {
      if chars[i] == ":", chars[i + 1] == "/", chars[i + 2] == "/" { return i + 3 }
      i += 1
    }
    return nil
  }
}

/// One query through `psql -c`, spawn to its output read and the process reaped (figure 1's
/// comparison on PostgreSQL).
func psqlOneQuery(_ psql: String, uri: String, sql: String) throws -> UInt64 {
  let t0 = monotonicNanos()
  let child = try Child(psql, ["-X", "-Atq", "-d", uri, "-c", sql], pipeInput: false)
  let reader = LineReader(fd: child.output, capacity: 1 << 16)
  let lines = reader.drain()
  let exit = child.wait()
  let t1 = monotonicNanos()
  if !exit.succeeded || lines == 0 {
    throw BenchError("psql failed on \(sql) (exit code \(exit.code))")
  }
  return t1 - t0
}
