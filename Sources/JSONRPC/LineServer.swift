import JSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs the requests of one group. The transport hands over every request it has read and not yet
/// answered, so that the handler can commit them together; it writes the answers only after
/// `handle` returns.
public protocol GroupHandler: AnyObject {
  /// One outcome per request, in order (notifications included: their outcome is dropped).
  func handle(_ requests: [Request]) -> [Result<JSONValue, RPCError>]
}

/// The limits of the transport.
public struct TransportLimits: Sendable {
  public var maxLineBytes: Int
  public var maxBatchMembers: Int
  public var maxDepth: Int
  /// The most requests handed to the handler in one group.
  public var maxGroup: Int

  public init(
    maxLineBytes: Int = 8 << 20, maxBatchMembers: Int = 10_000, maxDepth: Int = 512, maxGroup: Int = 4096
  ) {
    self.maxLineBytes = maxLineBytes
    self.maxBatchMembers = maxBatchMembers
    self.maxDepth = maxDepth
    self.maxGroup = maxGroup
  }
}

/// JSON-RPC 2.0 over newline-delimited JSON on two file descriptors.
///
/// It reads whatever input is available, answers every complete line in it as one group, writes
/// all those answers with one write, and only then blocks for more input: an interactive client
/// gets each answer at once, while a piped file is answered in large groups.
public final class LineServer {
  private let input: Int32
  private let output: Int32
  private let limits: TransportLimits
  private let handler: GroupHandler

  private var buffer: [UInt8] = []
  /// Bytes of `buffer` before this index have been consumed.
  private var start = 0
  /// Skipping the rest of a line that is over the limit.
  private var discarding = false

  private var pendingRequests: [Request] = []
  private var pendingLines: [Line] = []
  private var out: [UInt8] = []
  private var outputClosed = false

  private enum Slot {
    case call(Int)
    case error(RPCError, id: JSONValue?)
  }
  private enum Line {
    case single(Slot)
    case batch([Slot])
  }

  public init(input: Int32, output: Int32, limits: TransportLimits = TransportLimits(), handler: GroupHandler)
  {
    self.input = input
    self.output = output
    self.limits = limits
    self.handler = handler
  }

  /// Serves until end of input (after answering everything) or until the reader closes the output.
  public func run() {
    let chunk = 1 << 16
    var readBuffer = [UInt8](repeating: 0, count: chunk)
    while !outputClosed {
      let n = readBuffer.withUnsafeMutableBytes { read(input, $0.baseAddress, chunk) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        break
      }
      if n == 0 { break }
      buffer.append(contentsOf: readBuffer[0..<n])
      splitLines(atEOF: false)
      flushGroup()
    }
    if !outputClosed {
      splitLines(atEOF: true)
      flushGroup()
    }
  }

  // MARK: Lines

  private func splitLines(atEOF: Bool) {
    let newline = UInt8(ascii: "\n")
    var scan = start
    while true {
      let end = buffer.withUnsafeBufferPointer { p -> Int? in
        var i = scan
        while i < p.count {
          if p[i] == newline { return i }
          i += 1
        }
        return nil
      }
      guard let end else { break }
      if discarding {
        discarding = false
        pendingLines.append(.single(.error(lineTooLong(), id: .null)))
      } else {
        takeLine(start, end)
      }
      start = end + 1
      scan = start
      if pendingRequests.count >= limits.maxGroup { flushGroup() }
    }
    let rest = buffer.count - start
    if atEOF {
      if discarding {
        discarding = false
        pendingLines.append(.single(.error(lineTooLong(), id: .null)))
      } else if rest > 0 {
        takeLine(start, buffer.count)
      }
      start = buffer.count
    } else if !discarding, rest > limits.maxLineBytes + 1 {
      // Longer than any line we accept, even with a trailing \r: skip to its end.
      discarding = true
      start = buffer.count
    } else if discarding {
      start = buffer.count
    }
    if start > 0 {
      buffer.removeSubrange(0..<start)
      start = 0
    }
  }

  private func lineTooLong() -> RPCError {
    .invalidRequest(
      "The line is longer than the limit of \(limits.maxLineBytes) bytes (--max-line-bytes); it was skipped.",
      reason: "line_too_long")
  }

  private func takeLine(_ lo: Int, _ hi: Int) {
    var hi = hi
    if hi > lo, buffer[hi - 1] == UInt8(ascii: "\r") { hi -= 1 }
    if buffer[lo..<hi].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
    if hi - lo > limits.maxLineBytes {
      pendingLines.append(.single(.error(lineTooLong(), id: .null)))
      return
    }
    let parsed: Result<JSONValue, JSONParseError> = buffer.withUnsafeBytes { raw in
      do throws(JSONParseError) {
        return .success(
          try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[lo..<hi]), maxDepth: limits.maxDepth))
      } catch {
        return .failure(error)
      }
    }
    switch parsed {
    case .failure(let e):
      pendingLines.append(.single(.error(Self.parseError(e), id: .null)))
    case .success(.array(let members)):
      if members.isEmpty {
        pendingLines.append(
          .single(
            .error(.invalidRequest("An empty batch is not a request.", reason: "empty_batch"), id: .null)))
      } else if members.count > limits.maxBatchMembers {
        pendingLines.append(
          .single(
            .error(
              .invalidRequest(
                "A batch may hold at most \(limits.maxBatchMembers) requests; this one holds \(members.count). "
                  + "Split it.", reason: "batch_too_large"), id: .null)))
      } else {
        pendingLines.append(.batch(members.map { slot(for: Message($0)) }))
      }
    case .success(let value):
      pendingLines.append(.single(slot(for: Message(value))))
    }
  }

  static func parseError(_ e: JSONParseError) -> RPCError {
    switch e.reason {
    case .invalidUTF8:
      .parseError("The line is not valid UTF-8 (\(e.message)).", reason: "invalid_utf8")
    case .nestingTooDeep:
      .parseError(
        "The JSON nests arrays and objects deeper than the limit; flatten it.", reason: "nesting_too_deep")
    case .invalidJSON:
      .parseError("The line is not valid JSON: \(e.message).", reason: "invalid_json")
    }
  }

  private func slot(for message: Message) -> Slot {
    switch message {
    case .request(let r):
      pendingRequests.append(r)
      return .call(pendingRequests.count - 1)
    case .error(let e, let id):
      return .error(e, id: id)
    }
  }

  // MARK: Answers

  private func flushGroup() {
    guard !pendingLines.isEmpty else { return }
    let outcomes = pendingRequests.isEmpty ? [] : handler.handle(pendingRequests)
    for line in pendingLines {
      switch line {
      case .single(let slot):
        if writeSlot(slot, outcomes) { out.append(UInt8(ascii: "\n")) }
      case .batch(let slots):
        let mark = out.count
        out.append(UInt8(ascii: "["))
        var any = false
        for slot in slots {
          if any { out.append(UInt8(ascii: ",")) }
          let wrote = writeSlot(slot, outcomes)
          if !wrote, any { out.removeLast() }
          any = any || wrote
        }
        if any {
          out.append(contentsOf: "]\n".utf8)
        } else {
          out.removeSubrange(mark...)
        }
      }
    }
    pendingLines.removeAll(keepingCapacity: true)
    pendingRequests.removeAll(keepingCapacity: true)
    writeOut()
  }

  /// Writes one response, or nothing for a notification; tells which.
  private func writeSlot(_ slot: Slot, _ outcomes: [Result<JSONValue, RPCError>]) -> Bool {
    switch slot {
    case .call(let i):
      guard let id = pendingRequests[i].id else { return false }
      writeResponse(id: id, outcome: outcomes[i], into: &out)
      return true
    case .error(let e, let id):
      guard let id else { return false }
      writeResponse(id: id, outcome: .failure(e), into: &out)
      return true
    }
  }

  private func writeOut() {
    var offset = 0
    while offset < out.count, !outputClosed {
      let n = out.withUnsafeBytes { write(output, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        outputClosed = true  // EPIPE and the like: the reader is gone.
      } else {
        offset += n
      }
    }
    out.removeAll(keepingCapacity: true)
  }
}
