import Foundation
import JSON
import JSONRPC
import Testing

/// A handler that answers each request with its method name (or an error for the method `fail`)
/// and remembers the groups it was handed.
final class EchoHandler: GroupHandler, @unchecked Sendable {
  private let lock = NSLock()
  private var received: [[String]] = []

  /// The method names of every group handed over, in order.
  var groups: [[String]] { lock.withLock { received } }

  func handle(_ requests: [Request]) -> [Result<JSONValue, RPCError>] {
    lock.withLock { received.append(requests.map(\.method)) }
    return requests.map { r in
      r.method == "fail"
        ? .failure(RPCError(code: -32003, message: "no", reason: "nope")) : .success(.string(r.method))
    }
  }
}

/// Moves a value that is not Sendable to the one thread that uses it from then on.
final class Handoff<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// Writes every byte, retrying short writes.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
  var offset = 0
  while offset < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
    if n < 0 {
      if errno == EINTR { continue }
      Issue.record("write failed: errno \(errno)")
      return
    }
    offset += n
  }
}

/// A `LineServer` on two pipes, run on its own thread, with the test as its client.
final class Session {
  let handler = EchoHandler()
  let limits: TransportLimits
  /// The write end of the server's input.
  private(set) var toServer: Int32
  /// The read end of the server's output.
  private(set) var fromServer: Int32
  private let serverInput: Int32
  private let serverOutput: Int32
  private var received: [UInt8] = []
  private var started = false
  private var sawEOF = false
  private let finished = DispatchSemaphore(value: 0)

  init(limits: TransportLimits = TransportLimits()) {
    self.limits = limits
    var input: [Int32] = [0, 0]
    var output: [Int32] = [0, 0]
    precondition(pipe(&input) == 0 && pipe(&output) == 0, "pipe failed")
    serverInput = input[0]
    toServer = input[1]
    serverOutput = output[1]
    fromServer = output[0]
  }

  deinit {
    closeInput()
    closeOutput()
  }

  /// Starts serving; the server closes its ends of the pipes when `run` returns.
  func start() {
    precondition(!started)
    started = true
    let server = Handoff(
      LineServer(input: serverInput, output: serverOutput, limits: limits, handler: handler))
    let fds = (serverInput, serverOutput)
    let finished = self.finished
    Thread {
      server.value.run()
      close(fds.1)
      close(fds.0)
      finished.signal()
    }.start()
  }

  /// Whether `run` returned within `seconds`.
  func waitUntilFinished(seconds: Int) -> Bool {
    finished.wait(timeout: .now() + .seconds(seconds)) == .success
  }

  /// Stops reading the server's output, as a client that goes away does.
  func closeOutput() {
    if fromServer >= 0 { close(fromServer) }
    fromServer = -1
  }

  func send(_ text: String) { writeAll(toServer, Array(text.utf8)) }
  func send(bytes: [UInt8]) { writeAll(toServer, bytes) }

  /// Sends `bytes` from another thread, then closes the input (for inputs larger than a pipe holds).
  func sendInBackgroundAndClose(_ bytes: [UInt8]) {
    let fd = toServer
    toServer = -1
    Thread {
      writeAll(fd, bytes)
      close(fd)
    }.start()
  }

  func closeInput() {
    if toServer >= 0 { close(toServer) }
    toServer = -1
  }

  /// Reads what the server has written, waiting at most `timeoutMs` for more; false on EOF or timeout.
  private func fill(timeoutMs: Int32) -> Bool {
    if sawEOF { return false }
    var p = pollfd(fd: fromServer, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, timeoutMs) > 0 else { return false }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    let n = chunk.withUnsafeMutableBytes { read(fromServer, $0.baseAddress, $0.count) }
    if n <= 0 {
      sawEOF = true
      return false
    }
    received.append(contentsOf: chunk[0..<n])
    return true
  }

  /// The next response line (without its `\n`), or nil on EOF or after `timeoutMs`.
  func readLine(timeoutMs: Int32 = 10_000) -> String? {
    while true {
      if let i = received.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: received[..<i], as: UTF8.self)
        received.removeSubrange(...i)
        return line
      }
      if !fill(timeoutMs: timeoutMs) { return nil }
    }
  }

  /// Everything else the server writes until it closes its output (10 s at most).
  func readToEnd() -> String {
    while fill(timeoutMs: 10_000) {}
    #expect(sawEOF, "the server did not finish")
    let text = String(decoding: received, as: UTF8.self)
    received.removeAll()
    return text
  }
}

/// Serves `input` written in one go before the server starts; returns the output lines and the
/// handler.
func serve(_ input: String, limits: TransportLimits = TransportLimits()) -> (
  lines: [String], handler: EchoHandler
) {
  serve(bytes: Array(input.utf8), limits: limits)
}

func serve(bytes: [UInt8], limits: TransportLimits = TransportLimits()) -> (
  lines: [String], handler: EchoHandler
) {
  let session = Session(limits: limits)
  if bytes.count < 60_000 {
    // Fits in the pipe before the server starts: the server gets it all with its first read.
    session.send(bytes: bytes)
    session.closeInput()
  } else {
    session.sendInBackgroundAndClose(bytes)
  }
  session.start()
  let output = session.readToEnd()
  #expect(output.isEmpty || output.hasSuffix("\n"), "output does not end with a newline")
  let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  return (lines, session.handler)
}

/// A request line.
func request(_ id: String, _ method: String) -> String {
  #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)"}"#
}
func notification(_ method: String) -> String { #"{"jsonrpc":"2.0","method":"\#(method)"}"# }
/// The response the echo handler gives.
func echoed(_ id: String, _ method: String) -> String {
  #"{"jsonrpc":"2.0","id":\#(id),"result":"\#(method)"}"#
}

/// A parsed response line: its id, and its error's code and reason when it is an error.
struct Response {
  let id: JSONValue?
  let result: JSONValue?
  let code: Int?
  let reason: String?
  let field: String?

  init(_ line: String) {
    let value = (try? JSONParser.parse(line)) ?? .null
    id = value["id"]
    result = value["result"]
    let error = value["error"]
    code = error?["code"]?.numberValue?.int64.map(Int.init)
    reason = error?["data"]?["reason"]?.stringValue
    field = error?["data"]?["field"]?.stringValue
  }
}
