#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

// Child processes driven through pipes, a monotonic clock and a joinable thread: the plumbing of
// the benchmark, kept apart from what it measures.

/// Nanoseconds on the monotonic clock.
func monotonicNanos() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Writes to stderr, unbuffered.
func writeStderr(_ text: String) {
  var bytes = Array(text.utf8)
  _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// A pipe whose ends are closed in spawned children (the children get theirs through dup2).
private func makePipe(_ fds: inout [Int32]) throws {
  guard pipe(&fds) == 0 else { throw BenchError("pipe: \(String(cString: strerror(errno)))") }
  _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
  _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
}

/// A spawned process with its stdin and stdout connected to us through pipes.
final class Child: @unchecked Sendable {
  let pid: pid_t
  /// Our end of the child's stdin (-1 when the child reads /dev/null or once closed).
  private(set) var input: Int32
  /// Our end of the child's stdout.
  let output: Int32

  /// How the child ended.
  struct Exit {
    var code: Int32
    var signal: Int32
    /// Peak resident set of the child, in KiB (`ru_maxrss` from `wait4`).
    var maxRSSKiB: Int
    /// CPU time the child used, in user space and in the kernel.
    var userSeconds: Double
    var systemSeconds: Double
    var succeeded: Bool { signal == 0 && code == 0 }
  }

  /// Spawns `executable` (looked up in PATH when it has no slash); stderr goes to `stderrPath`.
  init(_ executable: String, _ arguments: [String], pipeInput: Bool = true, stderrPath: String = "/dev/null")
    throws
  {
    var inPipe: [Int32] = [-1, -1]
    var outPipe: [Int32] = [-1, -1]
    if pipeInput {
      try makePipe(&inPipe)
    }
    try makePipe(&outPipe)

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if pipeInput {
      posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)

    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let rc =
      executable.contains("/")
      ? posix_spawn(&pid, executable, &actions, nil, argv, environ)
      : posix_spawnp(&pid, executable, &actions, nil, argv, environ)
    if pipeInput { close(inPipe[0]) }
    close(outPipe[1])
    if rc != 0 {
      if pipeInput { close(inPipe[1]) }
      close(outPipe[0])
      throw BenchError("cannot start \(executable): \(String(cString: strerror(rc)))")
    }
    self.pid = pid
    self.input = pipeInput ? inPipe[1] : -1
    self.output = outPipe[0]
  }

  /// Writes all of `bytes` to the child's stdin; false when the child stopped reading.
  @discardableResult
  func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = Glibc.write(input, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return false
      }
      offset += n
    }
    return true
  }

  @discardableResult
  func write(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { write($0) } }

  func closeInput() {
    if input >= 0 {
      close(input)
      input = -1
    }
  }

  /// Closes our ends and reaps the child.
  func wait() -> Exit {
    closeInput()
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
      if errno != EINTR { break }
    }
    close(output)
    let signal = status & 0x7F
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return Exit(
      code: (status >> 8) & 0xFF, signal: signal, maxRSSKiB: Int(usage.ru_maxrss),
      userSeconds: seconds(usage.ru_utime), systemSeconds: seconds(usage.ru_stime))
  }
}

/// A thread that can be joined.
final class Worker: @unchecked Sendable {
  private final class Body {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
  }
  private var thread = pthread_t()

  init(_ run: @escaping @Sendable () -> Void) {
    let body = Unmanaged.passRetained(Body(run)).toOpaque()
    let rc = pthread_create(
      &thread, nil,
      { raw in
        let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
        body.run()
        return nil
      }, body)
    precondition(rc == 0, "pthread_create failed")
  }

  func join() { pthread_join(thread, nil) }
}

/// Reads lines from a file descriptor; each line stays contiguous in the buffer until the next call.
final class LineReader {
  private let fd: Int32
  private var storage: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private var lo = 0
  private var hi = 0
  private(set) var atEOF = false
  private(set) var bytesRead = 0

  init(fd: Int32, capacity: Int = 1 << 20) {
    self.fd = fd
    self.capacity = capacity
    self.storage = .allocate(capacity: capacity)
  }

  deinit { storage.deallocate() }

  /// The next line without its `\n`, valid until the next call; nil at end of input.
  func nextLine() -> UnsafeRawBufferPointer? {
    while true {
      if lo < hi, let nl = memchr(storage + lo, 0x0A, hi - lo) {
        let end = nl.assumingMemoryBound(to: UInt8.self) - storage
        let line = UnsafeRawBufferPointer(start: storage + lo, count: end - lo)
        lo = end + 1
        return line
      }
      if atEOF {
        guard lo < hi else { return nil }
        let line = UnsafeRawBufferPointer(start: storage + lo, count: hi - lo)
        lo = hi
        return line
      }
      if lo > 0 {
        if hi > lo { memmove(storage, storage + lo, hi - lo) }
        hi -= lo
        lo = 0
      }
      if hi == capacity {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.update(from: storage, count: hi)
        storage.deallocate()
        storage = bigger
        capacity *= 2
      }
      let n = read(fd, storage + hi, capacity - hi)
      if n < 0 {
        if errno == EINTR { continue }
        atEOF = true
      } else if n == 0 {
        atEOF = true
      } else {
        hi += n
        bytesRead += n
      }
    }
  }

  /// Reads to the end of input, counting the lines left.
  @discardableResult
  func drain() -> Int {
    var n = 0
    while nextLine() != nil { n += 1 }
    return n
  }
}

private let errorMarker = Array(#""error":{"#.utf8)

/// Whether a response line is a JSON-RPC error. A single response names `error` within its first
/// bytes (after `jsonrpc` and the id); a batch response may hold one anywhere.
func isErrorResponse(_ line: UnsafeRawBufferPointer, anywhere: Bool = false) -> Bool {
  guard let base = line.baseAddress else { return false }
  let span = anywhere ? line.count : min(line.count, 96)
  let p = base.assumingMemoryBound(to: UInt8.self)
  var i = 0
  let last = span - errorMarker.count
  while i <= last {
    // Find the next quote, then compare the rest of the marker.
    guard let q = memchr(p + i, 0x22, last - i + 1) else { return false }
    i = UnsafePointer(q.assumingMemoryBound(to: UInt8.self)) - p
    var j = 1
    while j < errorMarker.count, p[i + j] == errorMarker[j] { j += 1 }
    if j == errorMarker.count { return true }
    i += 1
  }
  return false
}

/// At most `limit` bytes of a line, as text for a message.
func excerpt(_ line: UnsafeRawBufferPointer, limit: Int = 400) -> String {
  String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<min(line.count, limit)]), as: UTF8.self)
}

/// `sched_getaffinity` / `sched_setaffinity`, which Glibc's Swift module leaves out (GNU extensions).
private typealias AffinityCall = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
private func affinityCall(_ name: String) -> AffinityCall? {
  guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }  // RTLD_DEFAULT
  return unsafeBitCast(symbol, to: AffinityCall.self)
}

/// Runs `body` with the calling thread (and so the children it spawns) on CPU 0 alone.
func onOneCPU<T>(_ pin: Bool, _ body: () throws -> T) rethrows -> T {
  guard pin, let get = affinityCall("sched_getaffinity"), let set = affinityCall("sched_setaffinity") else {
    return try body()
  }
  var saved = cpu_set_t()
  let size = MemoryLayout<cpu_set_t>.size
  guard withUnsafeMutableBytes(of: &saved, { get(0, size, $0.baseAddress) }) == 0 else { return try body() }
  var one = cpu_set_t()
  withUnsafeMutableBytes(of: &one) { b in
    b[0] = 1
    _ = set(0, size, b.baseAddress)
  }
  defer { _ = withUnsafeMutableBytes(of: &saved) { set(0, size, $0.baseAddress) } }
  return try body()
}

/// Removes a database file and its WAL companions.
func removeDatabase(_ path: String) {
  for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Runs a command to its end and returns what it printed on stdout, and whether it succeeded.
func capture(_ executable: String, _ arguments: [String]) throws -> (output: String, ok: Bool) {
  let child = try Child(executable, arguments, pipeInput: false)
  let reader = LineReader(fd: child.output)
  var text = ""
  while let line = reader.nextLine() {
    text += String(decoding: line, as: UTF8.self)
    text += "\n"
  }
  let exit = child.wait()
  return (text, exit.succeeded)
}

/// Reads a whole file into the page cache (so that a measurement sees a warm cache, as a file in
/// use would be); returns its size.
@discardableResult
func warmPageCache(_ path: String) -> Int {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { return 0 }
  defer { close(fd) }
  let size = 1 << 20
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
  defer { buffer.deallocate() }
  var total = 0
  while true {
    let n = read(fd, buffer, size)
    if n <= 0 { break }
    total += n
  }
  return total
}

/// The size of a file in bytes (0 when it does not exist).
func fileSize(_ path: String) -> Int {
  var st = stat()
  return stat(path, &st) == 0 ? Int(st.st_size) : 0
}
