#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Databases of N learners, built once through credit-rpc itself and cached in the data folder.
///
/// A cached file is reused while its generator version, seed and learner count match, and its
/// schema is the one the binary under test creates today (so a new migration rebuilds it).
final class Datasets {
  /// Bump when the population changes shape.
  static let generatorVersion = 2

  let folder: String
  let engine: Engine
  let service: Service
  let sqlite3: String
  let seed: UInt64
  let rebuild: Bool
  private var currentSchema: String?
  /// Seconds spent building each file in this run (not counted in any figure).
  private(set) var builds: [(learners: Int, seconds: Double, bytes: Int)] = []

  init(folder: String, engine: Engine, service: Service, sqlite3: String, seed: UInt64, rebuild: Bool) {
    self.folder = folder
    self.engine = engine
    self.service = service
    self.sqlite3 = sqlite3
    self.seed = seed
    self.rebuild = rebuild
  }

  /// The schema text (`sqlite3 FILE .schema`) of a database the binary creates from nothing.
  func schemaOfBinary() throws -> String {
    if let s = currentSchema { return s }
    let probeName = "schema-probe-\(getpid())"
    let probe = try engine.fresh(probeName)
    defer { try? engine.remove(probeName) }
    let child = try service.spawn(db: probe)
    child.closeInput()
    LineReader(fd: child.output).drain()
    let exit = child.wait()
    guard exit.succeeded else {
      throw BenchError("credit-rpc could not create a database in \(folder) (exit code \(exit.code))")
    }
    let s = try schema(of: probeName)
    currentSchema = s
    return s
  }

  /// The schema of database `name`: `sqlite3 FILE .schema`, or on PostgreSQL its tables'
  /// columns and its indexes.
  func schema(of name: String) throws -> String {
    if engine.isPostgreSQL {
      return try engine.sql(
        "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns "
          + "WHERE table_schema = 'public' ORDER BY 1; SELECT indexdef FROM pg_indexes "
          + "WHERE schemaname = 'public' ORDER BY 1", database: engine.databaseName(name))
    }
    let path = engine.locator(name)
    let (text, ok) = try capture(sqlite3, [path, ".schema"])
    guard ok else { throw BenchError("sqlite3 could not read the schema of \(path)") }
    return text
  }

  static func name(learners: Int) -> String { "learners-\(learners)" }
  func path(learners: Int) -> String { engine.locator(Self.name(learners: learners)) }

  /// The stamp stored with a dataset (a file beside it, or the database's comment).
  private func storedStamp(_ name: String) -> String? {
    if engine.isPostgreSQL {
      return try? engine.sql(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '\(engine.databaseName(name))'"
      )
    }
    return readText(engine.locator(name) + ".meta")
  }

  private func storeStamp(_ name: String, _ stamp: String) throws {
    if engine.isPostgreSQL {
      try engine.sql(
        "COMMENT ON DATABASE \(engine.databaseName(name)) IS '\(stamp.trimmingSpaces().filter { $0 != "\n" })'"
      )
    } else {
      writeText(engine.locator(name) + ".meta", stamp)
    }
  }

  private func stamp(learners: Int) -> String {
    "credit-bench population v\(Self.generatorVersion) seed \(seed) learners \(learners)\n"
  }

  /// The path of a database of `learners` learners, building it if needed.
  func population(_ learners: Int) throws -> String {
    let name = Self.name(learners: learners)
    let file = path(learners: learners)
    let expected = stamp(learners: learners)
    if !rebuild, try engine.exists(name),
      storedStamp(name)?.filter({ $0 != "\n" }) == expected.filter({ $0 != "\n" }),
      try schema(of: name) == schemaOfBinary()
    {
      return file
    }
    try build(learners, name: name)
    try storeStamp(name, expected)
    return file
  }

  private func build(_ learners: Int, name: String) throws {
    let file = engine.locator(name)
    let buildingName = name + "-building"
    try engine.remove(name)
    if !engine.isPostgreSQL { unlink(file + ".meta") }
    let building = try engine.fresh(buildingName)
    let source = PopulationSource(learners: learners, seed: seed, firstId: 10)
    progress(
      "building \(file): \(formatCount(learners)) learners through credit-rpc (cached for later runs)...")
    let start = monotonicNanos()
    var lastReport = start
    let totalBatches = source.responses
    let result = try service.piped(
      db: building, setup: Requests.setup(), source: source, batches: true, what: "building \(file)"
    ) { done in
      let now = monotonicNanos()
      if now - lastReport > 15_000_000_000 {
        lastReport = now
        let fraction = Double(done * 1000) / Double(totalBatches) / 10
        progress("  ... \(String(format1(fraction)))% after \(Int(Double(now - start) / 1e9)) s")
      }
    }
    _ = result
    if engine.isPostgreSQL {
      try engine.sql("VACUUM ANALYZE", database: engine.databaseName(buildingName))
      try engine.rename(buildingName, to: name)
      return finish(learners, source, file, bytes: engine.size(name), start: start)
    }
    // Fold the WAL into the file, so that the cached file stands alone.
    let (_, ok) = try capture(sqlite3, [building, "PRAGMA wal_checkpoint(TRUNCATE);"])
    guard ok else { throw BenchError("sqlite3 could not checkpoint \(building)") }
    if fileSize(building + "-wal") > 0 {
      throw BenchError("the WAL of \(building) is not empty after a checkpoint")
    }
    unlink(building + "-wal")
    unlink(building + "-shm")
    try engine.rename(buildingName, to: name)
    finish(learners, source, file, bytes: fileSize(file), start: start)
  }

  private func finish(_ learners: Int, _ source: PopulationSource, _ file: String, bytes: Int, start: UInt64)
  {
    let seconds = Double(monotonicNanos() - start) / 1e9
    builds.append((learners, seconds, bytes))
    progress(
      "built \(file) in \(format1(seconds)) s (\(formatCount(source.requests)) requests in \(formatCount(source.batches)) batches, \(formatBytes(bytes)))"
    )
  }
}

func readText(_ path: String) -> String? {
  guard let f = fopen(path, "r") else { return nil }
  defer { fclose(f) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 4096)
  while true {
    let n = fread(&buffer, 1, buffer.count, f)
    if n <= 0 { break }
    bytes += buffer[0..<n]
  }
  return String(decoding: bytes, as: UTF8.self)
}

func writeText(_ path: String, _ text: String) {
  guard let f = fopen(path, "w") else { return }
  fputs(text, f)
  fclose(f)
}
