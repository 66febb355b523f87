import Foundation
import JSON
import JSONRPC
import Testing

@Suite struct LineServerTests {
  @Test func answersEveryRequestOnceInOrderEchoingIds() {
    let input = [request("1", "a"), request(#""two""#, "b"), request("3.50", "c"), request("null", "d")]
      .map { $0 + "\n" }.joined()
    let (lines, handler) = serve(input)
    #expect(lines == [echoed("1", "a"), echoed(#""two""#, "b"), echoed("3.50", "c"), echoed("null", "d")])
    #expect(handler.groups == [["a", "b", "c", "d"]])
  }

  @Test func notificationsReachTheHandlerButGetNoResponse() {
    let input = [request("1", "a"), notification("b"), request("2", "c")].map { $0 + "\n" }.joined()
    let (lines, handler) = serve(input)
    #expect(lines == [echoed("1", "a"), echoed("2", "c")])
    #expect(handler.groups == [["a", "b", "c"]])
  }

  @Test func handlerErrorIsWrittenAsAnErrorResponse() {
    let (lines, _) = serve(request("7", "fail") + "\n")
    #expect(
      lines == [#"{"jsonrpc":"2.0","id":7,"error":{"code":-32003,"message":"no","data":{"reason":"nope"}}}"#])
  }

  @Test func batchIsAnsweredAsOneLineWithoutItsNotifications() {
    let batch =
      "[" + [request("1", "a"), notification("b"), request("2", "c")].joined(separator: ",") + "]\n"
    let (lines, handler) = serve(batch + request("3", "d") + "\n")
    #expect(lines == ["[" + echoed("1", "a") + "," + echoed("2", "c") + "]", echoed("3", "d")])
    #expect(handler.groups == [["a", "b", "c", "d"]])
  }

  @Test func batchOfOnlyNotificationsGetsNoLine() {
    let batch = "[" + notification("a") + "," + notification("b") + "]\n"
    let (lines, handler) = serve(batch + request("1", "c") + "\n")
    #expect(lines == [echoed("1", "c")])
    #expect(handler.groups == [["a", "b", "c"]])
  }

  @Test func batchWithInvalidMembersAnswersEachInPlace() {
    let batch = "[1," + request("1", "a") + #",{"jsonrpc":"2.0","id":"x","method":5}"# + "]\n"
    let (lines, handler) = serve(batch)
    #expect(lines.count == 1)
    let members = (try? JSONParser.parse(lines.first ?? ""))?.arrayValue ?? []
    #expect(members.count == 3)
    let responses = members.map { Response(JSONWriter.string($0)) }
    #expect(responses.map(\.id) == [.null, .number(JSONNumber(1)), .string("x")])
    #expect(responses.map(\.code) == [-32600, nil, -32600])
    #expect(responses[1].result == .string("a"))
    #expect(handler.groups == [["a"]])
  }

  @Test func batchOverTheMemberLimitIsOneInvalidRequest() {
    let limits = TransportLimits(maxBatchMembers: 2)
    let batch =
      "[" + [request("1", "a"), request("2", "b"), request("3", "c")].joined(separator: ",") + "]\n"
    let (lines, handler) = serve(
      batch + "[" + request("4", "d") + "," + request("5", "e") + "]\n", limits: limits)
    #expect(lines.count == 2)
    let r = Response(lines[0])
    #expect(r.code == -32600)
    #expect(r.reason == "batch_too_large")
    #expect(r.id == .null)
    #expect(lines[1] == "[" + echoed("4", "d") + "," + echoed("5", "e") + "]")
    #expect(handler.groups == [["d", "e"]])
  }

  @Test func emptyBatchIsOneInvalidRequest() {
    let (lines, handler) = serve("[]\n")
    #expect(lines.count == 1)
    let r = Response(lines[0])
    #expect(r.code == -32600)
    #expect(r.id == .null)
    #expect(!lines[0].hasPrefix("["))
    #expect(handler.groups.isEmpty)
  }

  @Test func parseErrorsAndInvalidRequestsNeverReachTheHandler() {
    var input: [UInt8] = []
    for line in [
      "{bad", #"{"jsonrpc":"1.0","id":1,"method":"a"}"#, "42", #"{"jsonrpc":"2.0","id":2,"method":5}"#,
      #"{"jsonrpc":"2.0","id":true,"method":"a"}"#, #"{"jsonrpc":"2.0","id":3,"method":"a","params":7}"#,
    ] {
      input += Array(line.utf8) + [0x0A]
    }
    input += Array(#"{"jsonrpc":"2.0","id":4,"method":""#.utf8) + [0xFF] + Array("\"}\n".utf8)
    let (lines, handler) = serve(bytes: input)
    let responses = lines.map(Response.init)
    #expect(responses.map(\.code) == [-32700, -32600, -32600, -32600, -32600, -32600, -32700])
    #expect(
      responses.map(\.id) == [
        .null, .number(JSONNumber(1)), .null, .number(JSONNumber(2)), .null, .number(JSONNumber(3)), .null,
      ])
    #expect(responses.first?.reason == "invalid_json")
    #expect(responses.last?.reason == "invalid_utf8")
    #expect(handler.groups.isEmpty)
  }

  @Test func nestingDeeperThan512IsAParseError() {
    let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
    let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
    let (lines, handler) = serve(ok + "\n" + deep + "\n")
    #expect(lines.count == 2)
    // 512 levels parse: a batch whose one member is not a request.
    #expect(lines.first?.hasPrefix("[") == true)
    let r = Response(lines.last ?? "")
    #expect(r.code == -32700)
    #expect(r.reason == "nesting_too_deep")
    #expect(handler.groups.isEmpty)
  }

  @Test func lineOverTheLimitIsAnsweredAndTheNextLineIsStillServed() {
    let limits = TransportLimits(maxLineBytes: 64)
    let long = request("1", String(repeating: "x", count: 100))
    let (lines, handler) = serve(long + "\n" + request("2", "b") + "\n", limits: limits)
    #expect(lines.count == 2)
    let first = Response(lines[0])
    #expect(first.code == -32600)
    #expect(first.id == .null)
    #expect(first.reason == "line_too_long")
    #expect(lines[1] == echoed("2", "b"))
    #expect(handler.groups == [["b"]])
  }

  @Test func limitCountsBytesWithoutTheNewlineAndATrailingCR() {
    let limits = TransportLimits(maxLineBytes: 64)
    let exact = requestLine(ofLength: 64, id: "1")
    let exactCR = requestLine(ofLength: 64, id: "2")
    let over = requestLine(ofLength: 65, id: "3")
    #expect(exact.utf8.count == 64)
    let (lines, handler) = serve(exact + "\n" + exactCR + "\r\n" + over + "\n", limits: limits)
    #expect(lines.count == 3)
    #expect(Response(lines[0]).id == .number(JSONNumber(1)))
    #expect(Response(lines[1]).id == .number(JSONNumber(2)))
    #expect(Response(lines[2]).reason == "line_too_long")
    #expect(handler.groups.map(\.count) == [2])
  }

  @Test func lineLongerThanOneReadIsSkippedOnceAndServingGoesOn() {
    let limits = TransportLimits(maxLineBytes: 1000)
    let long = request("1", String(repeating: "y", count: 300_000))
    let input = request("0", "a") + "\n" + long + "\n" + request("2", "b") + "\n"
    let (lines, handler) = serve(input, limits: limits)
    #expect(lines.count == 3)
    #expect(lines.first == echoed("0", "a"))
    #expect(Response(lines[1]).reason == "line_too_long")
    #expect(Response(lines[1]).id == .null)
    #expect(lines.last == echoed("2", "b"))
    #expect(handler.groups.flatMap { $0 } == ["a", "b"])
  }

  @Test func overlongFinalLineWithoutNewlineIsAnswered() {
    let limits = TransportLimits(maxLineBytes: 1000)
    let (lines, handler) = serve(
      request("1", "a") + "\n" + String(repeating: "z", count: 200_000), limits: limits)
    #expect(lines.count == 2)
    #expect(lines.first == echoed("1", "a"))
    #expect(Response(lines.last ?? "").reason == "line_too_long")
    #expect(handler.groups == [["a"]])
  }

  @Test func finalLineWithoutNewlineIsAnswered() {
    let (lines, handler) = serve(request("1", "a") + "\n" + request("2", "b"))
    #expect(lines == [echoed("1", "a"), echoed("2", "b")])
    #expect(handler.groups.flatMap { $0 } == ["a", "b"])
  }

  @Test func crlfLinesAreServedAndBlankLinesIgnored() {
    let input =
      request("1", "a") + "\r\n" + "\r\n" + " \t \r\n" + "\n" + "   " + "\n" + request("2", "b") + "\r\n"
    let (lines, handler) = serve(input)
    #expect(lines == [echoed("1", "a"), echoed("2", "b")])
    #expect(handler.groups == [["a", "b"]])
  }

  @Test func emptyInputGivesNoOutputAndNoGroups() {
    let (lines, handler) = serve("")
    #expect(lines.isEmpty)
    #expect(handler.groups.isEmpty)
  }

  @Test func linesWrittenAtOnceArriveAsOneGroup() {
    let methods = ["a", "b", "c", "d", "e"]
    let input = methods.enumerated().map { request("\($0.offset)", $0.element) + "\n" }.joined()
    let (lines, handler) = serve(input)
    #expect(lines.count == 5)
    #expect(handler.groups == [methods])
  }

  @Test func groupsAreSplitAtTheGroupLimitAndAnswersStayInOrder() {
    let limits = TransportLimits(maxGroup: 2)
    let methods = ["a", "b", "c", "d", "e"]
    let input = methods.enumerated().map { request("\($0.offset)", $0.element) + "\n" }.joined()
    let (lines, handler) = serve(input, limits: limits)
    #expect(lines == methods.enumerated().map { echoed("\($0.offset)", $0.element) })
    #expect(handler.groups == [["a", "b"], ["c", "d"], ["e"]])
  }

  @Test func errorsAndAnswersKeepTheOrderOfTheirLines() {
    let input = request("1", "a") + "\n{oops\n" + request("2", "b") + "\n"
    let (lines, _) = serve(input)
    #expect(lines.count == 3)
    #expect(lines[0] == echoed("1", "a"))
    #expect(Response(lines[1]).code == -32700)
    #expect(lines[2] == echoed("2", "b"))
  }

  @Test func interactiveClientGetsEachAnswerBeforeSendingTheNextLine() {
    let session = Session()
    session.start()
    session.send(request("1", "a") + "\n")
    #expect(session.readLine() == echoed("1", "a"))
    session.send(request("2", "b") + "\n")
    #expect(session.readLine() == echoed("2", "b"))
    // Half a line is held until its newline arrives.
    session.send(#"{"jsonrpc":"2.0","id":3,"#)
    session.send(#""method":"c"}"# + "\n")
    #expect(session.readLine() == echoed("3", "c"))
    session.closeInput()
    #expect(session.readToEnd() == "")
    #expect(session.handler.groups == [["a"], ["b"], ["c"]])
  }

  @Test func serverStopsQuietlyWhenTheReaderClosesItsOutput() {
    // As the service does: a write to a closed pipe fails with EPIPE instead of killing the process.
    signal(SIGPIPE, SIG_IGN)
    let session = Session()
    session.start()
    session.closeOutput()
    // The input stays open: the server must notice the closed output, not the end of input.
    session.send(request("1", "a") + "\n")
    #expect(session.waitUntilFinished(seconds: 10))
    #expect(session.handler.groups == [["a"]])
  }
}

/// A request line of exactly `length` bytes.
func requestLine(ofLength length: Int, id: String) -> String {
  let bare = request(id, "")
  return request(id, String(repeating: "m", count: length - bare.utf8.count))
}
