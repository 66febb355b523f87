import Foundation
import JSON
import Testing

/// The built `credit-rpc` beside this test bundle (SwiftPM puts both in the same folder).
private func binaryURL() throws -> URL {
  let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
  for dir in [here, here.deletingLastPathComponent()] {
    let candidate = dir.appendingPathComponent("credit-rpc")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
  }
  throw CocoaError(
    .fileNoSuchFile, userInfo: [NSFilePathErrorKey: here.appendingPathComponent("credit-rpc").path])
}

/// Runs the binary with `input` on stdin; returns stdout, stderr and the exit status.
private func run(_ arguments: [String], input: String) throws -> (String, String, Int32) {
  let process = Process()
  process.executableURL = try binaryURL()
  process.arguments = arguments
  let stdin = Pipe()
  let stdout = Pipe()
  let stderr = Pipe()
  process.standardInput = stdin
  process.standardOutput = stdout
  process.standardError = stderr
  try process.run()
  stdin.fileHandleForWriting.write(Data(input.utf8))
  try stdin.fileHandleForWriting.close()
  let out = stdout.fileHandleForReading.readDataToEndOfFile()
  let err = stderr.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self), process.terminationStatus
  )
}

@Test("one request piped in gives exactly one JSON line on stdout and exit 0")
func oneRequestOneLine() throws {
  let (out, _, status) = try run(
    ["--db", ":memory:"], input: #"{"jsonrpc":"2.0","id":1,"method":"listCourses","params":{}}"# + "\n")
  #expect(status == 0)
  let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
  #expect(lines.count == 2 && lines[1].isEmpty)
  let response = try JSONParser.parse(String(lines[0]))
  #expect(response["id"] == .int(1))
  #expect(response["result"]?["courses"] == .array([]))
}

@Test("a learner becomes eligible through the binary, and every stdout line is a response")
func journeyThroughTheBinary() throws {
  let course = "course-v1:MITx+6.002x+2026"
  let lines = [
    #"{"jsonrpc":"2.0","id":1,"method":"createCourse","params":{"courseId":"\#(course)","title":"C","startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-06-30T23:59:59Z"}}"#,
    #"{"jsonrpc":"2.0","id":2,"method":"setCreditRequirements","params":{"courseId":"\#(course)","requirements":[{"kind":"grade","minGrade":0.8}]}}"#,
    #"{"jsonrpc":"2.0","id":3,"method":"createLearner","params":{"learnerId":"ada","fullName":"Ada","email":"ada@example.org","country":"GB"}}"#,
    #"{"jsonrpc":"2.0","id":4,"method":"enroll","params":{"learnerId":"ada","courseId":"\#(course)","mode":"verified"}}"#,
    "this is not json",
    #"{"jsonrpc":"2.0","id":5,"method":"recordGrade","params":{"learnerId":"ada","courseId":"\#(course)","grade":0.9}}"#,
  ]
  let (out, _, status) = try run(
    ["--db", ":memory:", "--test-clock", "2026-03-01T00:00:00Z"], input: lines.joined(separator: "\n"))
  #expect(status == 0)
  let responses = try out.split(separator: "\n").map { try JSONParser.parse(String($0)) }
  #expect(responses.count == 6)
  #expect(responses[4]["error"]?["code"] == .int(-32700))
  #expect(responses[5]["result"]?["eligibility"] == .string("eligible"))
}
