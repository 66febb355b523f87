import Foundation
import JSON
import JSONRPC
import Testing

/// Echoes each method's name (refusing array params, as a method table does once it knows the
/// method), and ends the session at the notification `bye`.
private final class EndingHandler: GroupHandler, @unchecked Sendable {
  private(set) var groups: [[String]] = []
  private(set) var sessionEnded = false

  func handle(_ requests: [Request]) -> [Result<JSONValue, RPCError>] {
    var outcomes: [Result<JSONValue, RPCError>] = []
    for r in requests {
      outcomes.append(r.positionalParams ? .failure(.paramsNotObject) : .success(.string(r.method)))
      if r.method == "bye", r.isNotification {
        sessionEnded = true
        break
      }
    }
    groups.append(outcomes.indices.map { requests[$0].method })
    return outcomes
  }
}

/// Serves `input` (written before the server starts, then closed); returns the raw output, how
/// the session ended, the framing chosen and the groups handed over.
private func run(_ input: [UInt8], framing: Framing? = nil, limits: TransportLimits = TransportLimits())
  -> (output: String, end: SessionEnd, framing: Framing?, groups: [[String]])
{
  var toServer: [Int32] = [0, 0]
  var fromServer: [Int32] = [0, 0]
  precondition(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
  precondition(input.count < 60_000)
  writeAll(toServer[1], input)
  close(toServer[1])
  let handler = EndingHandler()
  let server = LineServer(
    input: toServer[0], output: fromServer[1], limits: limits, framing: framing, handler: handler)
  var decided: Framing?
  server.framingDecided = { decided = $0 }
  let end = server.run()
  close(fromServer[1])
  close(toServer[0])
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { read(fromServer[0], $0.baseAddress, $0.count) }
    if n <= 0 { break }
    out += chunk[0..<n]
  }
  close(fromServer[0])
  return (String(decoding: out, as: UTF8.self), end, decided, handler.groups)
}

private func framed(_ body: String) -> String { "Content-Length: \(body.utf8.count)\r\n\r\n" + body }

@Suite struct HeaderFramingTests {
  @Test func headerFirstChoosesHeaderFramingAndAnswersFramed() {
    let r = run(Array((framed(request("1", "a")) + framed(request("2", "b"))).utf8))
    #expect(r.framing == .headers)
    #expect(r.end == .endOfInput)
    #expect(r.output == framed(echoed("1", "a")) + framed(echoed("2", "b")))
    #expect(r.groups == [["a", "b"]])
  }

  @Test func jsonFirstKeepsLinesAndNothingChanges() {
    let r = run(Array((request("1", "a") + "\n").utf8))
    #expect(r.framing == .lines)
    #expect(r.output == echoed("1", "a") + "\n")
  }

  @Test func emptyInputIsDecidedAsLines() {
    let r = run([])
    #expect(r.framing == .lines && r.output.isEmpty && r.end == .endOfInput)
  }

  @Test func framingCanBeForced() {
    let r = run(Array(framed(request("1", "a")).utf8), framing: .lines)
    #expect(r.output.hasPrefix(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700"#))
  }

  @Test func unreadableHeaderEndsTheSessionAfterAnsweringWhatCameBefore() {
    let r = run(
      Array((framed(request("1", "a")) + "Content-Length: x\r\n\r\n" + framed(request("2", "b"))).utf8))
    #expect(r.end == .unreadableHeader)
    #expect(r.groups == [["a"]])
    #expect(r.output.hasPrefix(framed(echoed("1", "a")) + "Content-Length: "))
    let second = r.output.dropFirst(framed(echoed("1", "a")).count)
    let body = second.split(separator: "\r\n\r\n", maxSplits: 1).last.map(String.init) ?? ""
    let answer = Response(body)
    #expect(answer.code == -32700 && answer.reason == "invalid_header" && answer.id == .null)
    #expect(second.hasPrefix("Content-Length: \(body.utf8.count)\r\n\r\n"))
  }

  @Test func endOfInputInsideABodyDoesNotHandItOver() {
    let whole = framed(request("1", "a"))
    let cut = String(framed(request("2", "b")).dropLast(3))
    let r = run(Array((whole + cut).utf8))
    #expect(r.end == .endOfInput)
    #expect(r.groups == [["a"]])
    #expect(r.output == framed(echoed("1", "a")))
  }

  @Test func oversizeBodyIsSkippedAndTheNextServed() {
    let big = request("1", String(repeating: "x", count: 200))
    let r = run(
      Array((framed(big) + framed(request("2", "b"))).utf8), limits: TransportLimits(maxLineBytes: 100))
    let parts = r.output.components(separatedBy: "Content-Length: ").dropFirst()
    #expect(parts.count == 2)
    #expect(r.groups == [["b"]])
    #expect(r.output.contains(#""reason":"line_too_long""#))
  }

  @Test func emptyParamsArrayIsOmittedUnderBothFramings() {
    let body = #"{"jsonrpc":"2.0","id":1,"method":"a","params":[]}"#
    #expect(run(Array(framed(body).utf8)).output == framed(echoed("1", "a")))
    #expect(run(Array((body + "\n").utf8)).output == echoed("1", "a") + "\n")
  }

  @Test func handlerEndingTheSessionStopsAnsweringAfterIt() {
    let input = [request("1", "a"), notification("bye"), request("2", "b"), "not json"].map { $0 + "\n" }
      .joined()
    let r = run(Array(input.utf8))
    #expect(r.end == .ended)
    #expect(r.output == echoed("1", "a") + "\n")
    #expect(r.groups == [["a", "bye"]])
  }

  @Test func bodiesWithRawNewlinesAndBareNewlineHeaders() {
    let body = "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 3,\n  \"method\": \"a\"\n}\n"
    let r = run(Array("content-length: \(body.utf8.count)\nContent-Type: x\n\n\(body)".utf8))
    #expect(r.output == framed(echoed("3", "a")))
  }
}
