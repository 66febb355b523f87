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
  let service: Service
  let sqlite3: String
  let seed: UInt64
  let rebuild: Bool
  private var currentSchema: String?
  /// Seconds spent building each file in this run (not counted in any figure).
  private(set) var builds: [(learners: Int, seconds: Double, bytes: Int)] = []

  init(folder: String, service: Service, sqlite3: String, seed: UInt64, rebuild: Bool) {
    self.folder = folder
    self.service = service
    self.sqlite3 = sqlite3
    self.seed = seed
    self.rebuild = rebuild
  }

  /// The schema text (`sqlite3 FILE .schema`) of a database the binary creates from nothing.
  func schemaOfBinary() throws -> String {
    if let s = currentSchema { return s }
    let probe = "\(folder)/schema-probe-\(getpid()).sqlite"
    removeDatabase(probe)
    defer { removeDatabase(probe) }
    let child = try service.spawn(db: probe)
    child.closeInput()
    LineReader(fd: child.output).drain()
    let exit = child.wait()
    guard exit.succeeded else {
      throw BenchError("credit-rpc could not create a database in \(folder) (exit code \(exit.code))")
    }
    let s = try schema(of: probe)
    currentSchema = s
    return s
  }

  func schema(of path: String) throws -> String {
    let (text, ok) = try capture(sqlite3, [path, ".schema"])
    guard ok else { throw BenchError("sqlite3 could not read the schema of \(path)") }
    return text
  }

  func path(learners: Int) -> String { "\(folder)/learners-\(learners).sqlite" }

  private func stamp(learners: Int) -> String {
    "credit-bench population v\(Self.generatorVersion) seed \(seed) learners \(learners)\n"
  }

  /// The path of a database of `learners` learners, building it if needed.
  func population(_ learners: Int) throws -> String {
    let file = path(learners: learners)
    let metaFile = file + ".meta"
    if !rebuild, fileExists(file), readText(metaFile) == stamp(learners: learners),
      try schema(of: file) == schemaOfBinary()
    {
      return file
    }
    try build(learners, into: file)
    writeText(metaFile, stamp(learners: learners))
    return file
  }

  private func build(_ learners: Int, into file: String) throws {
    let building = file + ".building"
    removeDatabase(building)
    removeDatabase(file)
    unlink(file + ".meta")
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
    // Fold the WAL into the file, so that the cached file stands alone.
    let (_, ok) = try capture(sqlite3, [building, "PRAGMA wal_checkpoint(TRUNCATE);"])
    guard ok else { throw BenchError("sqlite3 could not checkpoint \(building)") }
    if fileSize(building + "-wal") > 0 {
      throw BenchError("the WAL of \(building) is not empty after a checkpoint")
    }
    unlink(building + "-wal")
    unlink(building + "-shm")
    guard rename(building, file) == 0 else { throw BenchError("cannot rename \(building) to \(file)") }
    let seconds = Double(monotonicNanos() - start) / 1e9
    builds.append((learners, seconds, fileSize(file)))
    progress(
      "built \(file) in \(format1(seconds)) s (\(formatCount(source.requests)) requests in \(formatCount(source.batches)) batches, \(formatBytes(fileSize(file))))"
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
