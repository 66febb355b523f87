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
  /// True once a request of the last group ended the session (an LSP `exit`): `handle` then
  /// returned outcomes only up to and including that request, ran none after it, and the transport
  /// stops reading.
  var sessionEnded: Bool { get }
}

extension GroupHandler {
  public var sessionEnded: Bool { false }
}

/// How messages are delimited on the wire: one per line, or LSP-style `Content-Length` headers.
public enum Framing: Sendable, Equatable {
  /// Newline-delimited JSON; answers one per line.
  case lines
  /// `Content-Length: N` header lines, a blank line, then N bytes of JSON; answers framed alike.
  case headers
}

/// Why `run` returned.
public enum SessionEnd: Sendable, Equatable {
  /// End of input, everything answered.
  case endOfInput
  /// The reader closed the output.
  case outputClosed
  /// The handler ended the session (see `GroupHandler.sessionEnded`).
  case ended
  /// A message's headers could not be read (header framing cannot resynchronise): answered with
  /// -32700, after everything before it.
  case unreadableHeader
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

/// JSON-RPC 2.0 on two file descriptors, over newline-delimited JSON or `Content-Length` header
/// framing, decided once from the first non-blank bytes of input (`{` or `[`: lines; a header line
/// `Name: value`: headers; anything else: lines) and used for answers too.
///
/// It reads whatever input is available, answers every complete message in it as one group, writes
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

  /// nil until decided from the first bytes of input.
  public private(set) var framing: Framing?
  /// Called once, when the framing is decided (before any message is handled).
  public var framingDecided: ((Framing) -> Void)?
  private var end: SessionEnd?

  // Header framing: where the reader is.
  private enum HeaderState {
    case headers
    case body(Int)
    /// Skipping the body of a message over the size limit: bytes left to skip.
    case skipping(Int)
  }
  private var headerState = HeaderState.headers
  private var headerCount = 0
  private var contentLength: Int?
  /// The longest header section read before giving up on it.
  private let maxHeaderBytes = 1 << 16

  private var pendingRequests: [Request] = []
  private var pendingLines: [Line] = []
  private var out: [UInt8] = []
  private var outputClosed = false

  private enum Slot {
    case call(Int)
    /// `position`: how many requests of the group came before it.
    case error(RPCError, id: JSONValue?, position: Int)
  }
  private enum Line {
    case single(Slot)
    case batch([Slot])
  }

  /// `framing` nil: decided from the first bytes of input.
  public init(
    input: Int32, output: Int32, limits: TransportLimits = TransportLimits(), framing: Framing? = nil,
    handler: GroupHandler
  ) {
    self.input = input
    self.output = output
    self.limits = limits
    self.framing = framing
    self.handler = handler
  }

  /// Serves until end of input (after answering everything), until the reader closes the output,
  /// until the handler ends the session, or until a message header cannot be read.
  @discardableResult
  public func run() -> SessionEnd {
    let chunk = 1 << 16
    var readBuffer = [UInt8](repeating: 0, count: chunk)
    if let framing { framingDecided?(framing) }
    while !outputClosed, end == nil {
      let n = readBuffer.withUnsafeMutableBytes { read(input, $0.baseAddress, chunk) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        break
      }
      if n == 0 { break }
      buffer.append(contentsOf: readBuffer[0..<n])
      split(atEOF: false)
      flushGroup()
    }
    if !outputClosed, end == nil {
      split(atEOF: true)
      flushGroup()
    }
    if outputClosed { return .outputClosed }
    return end ?? .endOfInput
  }

  private func split(atEOF: Bool) {
    if framing == nil {
      guard let f = decideFraming(atEOF: atEOF) else { return }
      framing = f
      framingDecided?(f)
    }
    switch framing! {
    case .lines: splitLines(atEOF: atEOF)
    case .headers: splitMessages(atEOF: atEOF)
    }
  }

  // MARK: Choosing the framing

  /// `{` or `[` first: lines; a header name then `:`: headers; anything else: lines. nil: not
  /// enough input yet.
  private func decideFraming(atEOF: Bool) -> Framing? {
    var i = start
    while i < buffer.count, Self.isBlank(buffer[i]) { i += 1 }
    guard i < buffer.count else { return atEOF ? .lines : nil }
    if buffer[i] == UInt8(ascii: "{") || buffer[i] == UInt8(ascii: "[") { return .lines }
    let nameStart = i
    while i < buffer.count, Self.isTokenByte(buffer[i]) { i += 1 }
    guard i < buffer.count else {
      return atEOF || i - nameStart > maxHeaderBytes ? .lines : nil
    }
    return i > nameStart && buffer[i] == UInt8(ascii: ":") ? .headers : .lines
  }

  private static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

  /// The characters of an HTTP header name (RFC 9110 `token`).
  private static func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "A")...UInt8(ascii: "Z"):
      return true
    default:
      return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
    }
  }

  // MARK: Header framing

  private func splitMessages(atEOF: Bool) {
    parsing: while end == nil {
      switch headerState {
      case .headers:
        let newline = buffer.withUnsafeBufferPointer { p -> Int? in
          var i = start
          while i < p.count {
            if p[i] == UInt8(ascii: "\n") { return i }
            i += 1
          }
          return nil
        }
        guard let newline else {
          if buffer.count - start > maxHeaderBytes {
            unreadableHeader("A header line is longer than \(maxHeaderBytes) bytes.")
          }
          break parsing
        }
        var hi = newline
        if hi > start, buffer[hi - 1] == UInt8(ascii: "\r") { hi -= 1 }
        let lo = start
        start = newline + 1
        if headerCount == 0, buffer[lo..<hi].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
          continue parsing  // Blank lines before a message's headers are ignored.
        }
        if hi == lo {
          // The blank line after the headers: the body follows.
          guard let length = contentLength else {
            unreadableHeader("The message has no Content-Length header.")
            break parsing
          }
          headerCount = 0
          contentLength = nil
          if length > limits.maxLineBytes {
            pendingLines.append(
              .single(
                errorSlot(
                  .invalidRequest(
                    "The message body is longer than the limit of \(limits.maxLineBytes) bytes "
                      + "(--max-line-bytes); it was skipped.", reason: "line_too_long"), id: .null)))
            headerState = .skipping(length)
          } else {
            headerState = .body(length)
          }
          continue parsing
        }
        headerCount += 1
        if headerCount > 100 {
          unreadableHeader("A message has more than 100 header lines.")
          break parsing
        }
        guard readHeader(lo, hi) else { break parsing }
      case .body(let length):
        guard buffer.count - start >= length else { break parsing }
        takeMessage(start, start + length, framed: true)
        start += length
        headerState = .headers
        if pendingRequests.count >= limits.maxGroup { flushGroup() }
      case .skipping(let left):
        let n = min(left, buffer.count - start)
        start += n
        if n < left {
          headerState = .skipping(left - n)
          break parsing
        }
        headerState = .headers
      }
    }
    if atEOF {
      // A message cut short by the end of input is not run.
      start = buffer.count
    }
    if start > 0 {
      buffer.removeSubrange(0..<start)
      start = 0
    }
  }

  /// Reads one header line (without its line end); false when it cannot be read.
  private func readHeader(_ lo: Int, _ hi: Int) -> Bool {
    guard let colon = buffer[lo..<hi].firstIndex(of: UInt8(ascii: ":")), colon > lo,
      buffer[lo..<colon].allSatisfy(Self.isTokenByte)
    else {
      unreadableHeader("A header line is not 'Name: value'.")
      return false
    }
    let name = String(decoding: buffer[lo..<colon], as: UTF8.self).lowercased()
    guard name == "content-length" else { return true }  // Content-Type and the rest: ignored.
    var v = colon + 1
    var w = hi
    while v < w, buffer[v] == 0x20 || buffer[v] == 0x09 { v += 1 }
    while w > v, buffer[w - 1] == 0x20 || buffer[w - 1] == 0x09 { w -= 1 }
    guard v < w, buffer[v..<w].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
      unreadableHeader("The Content-Length header is not a number.")
      return false
    }
    var length = 0
    for digit in buffer[v..<w] {
      let (times10, o1) = length.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
      length = o1 || o2 ? Int.max : sum
    }
    if let previous = contentLength, previous != length {
      unreadableHeader("The message has two different Content-Length headers.")
      return false
    }
    contentLength = length
    return true
  }

  /// Answers -32700 after everything read before, and stops: the stream cannot be resynchronised.
  private func unreadableHeader(_ why: String) {
    pendingLines.append(
      .single(
        errorSlot(
          .parseError(
            "\(why) Messages are framed as 'Content-Length: N', a blank line, then N bytes of JSON; the "
              + "stream cannot be read further, so the service stops.", reason: "invalid_header"), id: .null))
    )
    end = .unreadableHeader
    start = buffer.count
  }

  // MARK: Lines

  private func splitLines(atEOF: Bool) {
    let newline = UInt8(ascii: "\n")
    var scan = start
    while self.end == nil {
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
        pendingLines.append(.single(errorSlot(lineTooLong(), id: .null)))
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
        pendingLines.append(.single(errorSlot(lineTooLong(), id: .null)))
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
      pendingLines.append(.single(errorSlot(lineTooLong(), id: .null)))
      return
    }
    takeMessage(lo, hi, framed: false)
  }

  private func errorSlot(_ e: RPCError, id: JSONValue?) -> Slot {
    .error(e, id: id, position: pendingRequests.count)
  }

  /// One message: a line, or a framed body (where `"params": []` counts as omitted).
  private func takeMessage(_ lo: Int, _ hi: Int, framed: Bool) {
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
      pendingLines.append(.single(errorSlot(Self.parseError(e, framed ? "message body" : "line"), id: .null)))
    case .success(.array(let members)):
      if members.isEmpty {
        pendingLines.append(
          .single(
            errorSlot(.invalidRequest("An empty batch is not a request.", reason: "empty_batch"), id: .null)))
      } else if members.count > limits.maxBatchMembers {
        pendingLines.append(
          .single(
            errorSlot(
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

  static func parseError(_ e: JSONParseError, _ what: String = "line") -> RPCError {
    switch e.reason {
    case .invalidUTF8:
      .parseError("The \(what) is not valid UTF-8 (\(e.message)).", reason: "invalid_utf8")
    case .nestingTooDeep:
      .parseError(
        "The JSON nests arrays and objects deeper than the limit; flatten it.", reason: "nesting_too_deep")
    case .invalidJSON:
      .parseError("The \(what) is not valid JSON: \(e.message).", reason: "invalid_json")
    }
  }

  private func slot(for message: Message) -> Slot {
    switch message {
    case .request(let r):
      pendingRequests.append(r)
      return .call(pendingRequests.count - 1)
    case .error(let e, let id):
      return errorSlot(e, id: id)
    }
  }

  // MARK: Answers

  private func flushGroup() {
    guard !pendingLines.isEmpty else { return }
    let outcomes = pendingRequests.isEmpty ? [] : handler.handle(pendingRequests)
    // After a request that ended the session nothing is run or answered.
    let cut = handler.sessionEnded ? outcomes.count : Int.max
    if handler.sessionEnded, end == nil { end = .ended }
    let framed = framing == .headers
    for line in pendingLines {
      let mark = out.count
      switch line {
      case .single(let slot):
        guard writeSlot(slot, outcomes, cut) else { continue }
      case .batch(let slots):
        out.append(UInt8(ascii: "["))
        var any = false
        for slot in slots {
          if any { out.append(UInt8(ascii: ",")) }
          let wrote = writeSlot(slot, outcomes, cut)
          if !wrote, any { out.removeLast() }
          any = any || wrote
        }
        guard any else {
          out.removeSubrange(mark...)
          continue
        }
        out.append(UInt8(ascii: "]"))
      }
      if framed {
        out.insert(contentsOf: Array("Content-Length: \(out.count - mark)\r\n\r\n".utf8), at: mark)
      } else {
        out.append(UInt8(ascii: "\n"))
      }
    }
    pendingLines.removeAll(keepingCapacity: true)
    pendingRequests.removeAll(keepingCapacity: true)
    writeOut()
  }

  /// Writes one response, or nothing for a notification or after the end of the session; tells
  /// which.
  private func writeSlot(_ slot: Slot, _ outcomes: [Result<JSONValue, RPCError>], _ cut: Int) -> Bool {
    switch slot {
    case .call(let i):
      guard i < cut, let id = pendingRequests[i].id else { return false }
      writeResponse(id: id, outcome: outcomes[i], into: &out)
      return true
    case .error(let e, let id, let position):
      guard position < cut, let id else { return false }
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
