import JSON
import JSONRPC
import Testing

/// What `Message(_:)` should make of one value.
enum Expected: Sendable, Equatable {
  /// A request: its id (nil for a notification), method, whether params are present (by name) and
  /// whether they came as an array (refused by the handler once the method is known to exist).
  case request(id: JSONValue?, method: String, hasParams: Bool, positional: Bool = false)
  /// An error to answer with `id` (nil: nobody hears it), with its code, reason and field.
  case error(code: Int, reason: String, id: JSONValue?, field: String? = nil)
}

struct EnvelopeCase: Sendable, CustomTestStringConvertible {
  let name: String
  let json: String
  let expected: Expected

  var testDescription: String { name }
}

func classify(_ json: String) throws -> Expected {
  switch Message(try JSONParser.parse(json)) {
  case .request(let r):
    return .request(id: r.id, method: r.method, hasParams: r.params != nil, positional: r.positionalParams)
  case .error(let e, let id):
    return .error(code: e.code, reason: e.reason, id: id, field: e.field)
  }
}

@Suite struct EnvelopeTests {
  static let one: JSONValue = .number(JSONNumber(1))

  static let cases: [EnvelopeCase] = [
    EnvelopeCase(
      name: "request with number id and params",
      json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}"#,
      expected: .request(id: one, method: "m", hasParams: true)),
    EnvelopeCase(
      name: "request with string id", json: #"{"jsonrpc":"2.0","id":"abc","method":"m"}"#,
      expected: .request(id: .string("abc"), method: "m", hasParams: false)),
    EnvelopeCase(
      name: "request with fractional id keeps it", json: #"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#,
      expected: .request(id: .number(JSONNumber(text: "1.5")), method: "m", hasParams: false)),
    EnvelopeCase(
      name: "null id is a request, not a notification", json: #"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
      expected: .request(id: .null, method: "m", hasParams: false)),
    EnvelopeCase(
      name: "no id is a notification", json: #"{"jsonrpc":"2.0","method":"m","params":{}}"#,
      expected: .request(id: nil, method: "m", hasParams: true)),
    EnvelopeCase(
      name: "params null is taken as omitted", json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#,
      expected: .request(id: one, method: "m", hasParams: false)),
    EnvelopeCase(
      name: "other members are ignored", json: #"{"jsonrpc":"2.0","id":1,"method":"m","extra":[1,2]}"#,
      expected: .request(id: one, method: "m", hasParams: false)),
    EnvelopeCase(
      name: "boolean id", json: #"{"jsonrpc":"2.0","id":true,"method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_id", id: .null)),
    EnvelopeCase(
      name: "object id", json: #"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_id", id: .null)),
    EnvelopeCase(
      name: "array id", json: #"{"jsonrpc":"2.0","id":[1],"method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_id", id: .null)),
    EnvelopeCase(
      name: "jsonrpc 1.0", json: #"{"jsonrpc":"1.0","id":1,"method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_jsonrpc_version", id: one)),
    EnvelopeCase(
      name: "jsonrpc as a number", json: #"{"jsonrpc":2.0,"id":"s","method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_jsonrpc_version", id: .string("s"))),
    EnvelopeCase(
      name: "jsonrpc missing", json: #"{"id":1,"method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_jsonrpc_version", id: one)),
    EnvelopeCase(
      name: "jsonrpc missing without id is answered with null", json: #"{"method":"m"}"#,
      expected: .error(code: -32600, reason: "invalid_jsonrpc_version", id: .null)),
    EnvelopeCase(
      name: "method a number", json: #"{"jsonrpc":"2.0","id":1,"method":5}"#,
      expected: .error(code: -32600, reason: "invalid_method", id: one)),
    EnvelopeCase(
      name: "method null", json: #"{"jsonrpc":"2.0","id":1,"method":null}"#,
      expected: .error(code: -32600, reason: "invalid_method", id: one)),
    EnvelopeCase(
      name: "method missing", json: #"{"jsonrpc":"2.0","id":"q"}"#,
      expected: .error(code: -32600, reason: "invalid_method", id: .string("q"))),
    EnvelopeCase(
      name: "params an array is left to the handler (an unknown method is -32601 whatever the params)",
      json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}"#,
      expected: .request(id: one, method: "m", hasParams: false, positional: true)),
    EnvelopeCase(
      name: "params an array in a notification",
      json: #"{"jsonrpc":"2.0","method":"m","params":[1]}"#,
      expected: .request(id: nil, method: "m", hasParams: false, positional: true)),
    EnvelopeCase(
      name: "params an empty array counts as omitted (Neovim encodes {} as [])",
      json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":[]}"#,
      expected: .request(id: one, method: "m", hasParams: false, positional: false)),
    EnvelopeCase(
      name: "params a number", json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":5}"#,
      expected: .error(code: -32600, reason: "invalid_params_type", id: one)),
    EnvelopeCase(
      name: "params a string", json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}"#,
      expected: .error(code: -32600, reason: "invalid_params_type", id: one)),
    EnvelopeCase(
      name: "params a boolean", json: #"{"jsonrpc":"2.0","id":1,"method":"m","params":false}"#,
      expected: .error(code: -32600, reason: "invalid_params_type", id: one)),
    EnvelopeCase(
      name: "a number instead of an object", json: "42",
      expected: .error(code: -32600, reason: "not_an_object", id: .null)),
    EnvelopeCase(
      name: "a string instead of an object", json: #""call""#,
      expected: .error(code: -32600, reason: "not_an_object", id: .null)),
    EnvelopeCase(
      name: "null instead of an object", json: "null",
      expected: .error(code: -32600, reason: "not_an_object", id: .null)),
  ]

  @Test(arguments: cases)
  func classifiesTheEnvelope(_ c: EnvelopeCase) throws {
    #expect(try classify(c.json) == c.expected)
  }

  @Test func requestCarriesItsParamsInOrder() throws {
    guard
      case .request(let r) = Message(
        try JSONParser.parse(#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"b":1,"a":2}}"#))
    else {
      Issue.record("not a request")
      return
    }
    #expect(r.params?.keys == ["b", "a"])
    #expect(r.isNotification == false)
  }

  @Test func positionalParamsErrorIsHumanReadable() {
    let e = RPCError.paramsNotObject
    #expect(e.message.contains("params"))
    #expect(e.json["data"]?["field"] == .string("params"))
    #expect(e.json["data"]?["reason"] == .string("params_not_object"))
    #expect(e.json["code"] == .number(JSONNumber(-32602)))
  }

  @Test func responseWriterWritesOneCompactObject() {
    var out: [UInt8] = []
    writeResponse(id: .string("a\"b"), outcome: .success(["ok": true]), into: &out)
    #expect(String(decoding: out, as: UTF8.self) == #"{"jsonrpc":"2.0","id":"a\"b","result":{"ok":true}}"#)
    out.removeAll()
    writeResponse(
      id: .null, outcome: .failure(.invalidParams("Bad.", field: "x", reason: "r")), into: &out)
    #expect(
      String(decoding: out, as: UTF8.self)
        == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32602,"message":"Bad.","data":{"reason":"r","field":"x"}}}"#
    )
  }
}
