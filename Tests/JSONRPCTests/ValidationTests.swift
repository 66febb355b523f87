import JSON
import JSONRPC
import Testing

enum Fixtures {
  static let payment = ObjectSchema(
    "Payment",
    [
      Field("method", .enumeration(["card", "paypal"])),
      Field("token", .string(maxLength: 10)),
    ])

  static let requirement = Schema(
    .tagged(
      tag: "kind",
      variants: [
        (
          "grade",
          ObjectSchema(
            nil, [Field("kind", .enumeration(["grade"])), Field("minGrade", .number(min: 0, max: 1))])
        ),
        (
          "proctoredExam",
          ObjectSchema(nil, [Field("kind", .enumeration(["proctoredExam"])), Field("examId", .string())])
        ),
      ]))

  static let params = ObjectSchema(
    "Params",
    [
      Field("learnerId", .string(maxLength: 5)),
      Field("count", .integer(min: 1, max: 10)),
      .optional("note", .string()),
      .optional("grade", .number(min: 0, max: 1)),
      .optional("payment", .object(payment)),
      .optional("requirements", .array(requirement, minItems: 1, maxItems: 3)),
      .optional("flag", .boolean()),
    ])
}

struct ValidationCase: Sendable, CustomTestStringConvertible {
  let name: String
  let json: String
  /// nil: valid.
  let field: String?
  let reason: String
  /// A piece of the message.
  let message: String

  init(_ name: String, _ json: String, field: String? = nil, reason: String = "", message: String = "") {
    self.name = name
    self.json = json
    self.field = field
    self.reason = reason
    self.message = message
  }

  var testDescription: String { name }
}

@Suite struct ObjectSchemaValidationTests {
  static let valid: [ValidationCase] = [
    ValidationCase("only the required fields", #"{"learnerId":"ada","count":3}"#),
    ValidationCase(
      "every field",
      #"""
      {"learnerId":"ada","count":10,"note":"n","grade":1,"payment":{"method":"card","token":"tok_visa"},
       "requirements":[{"kind":"grade","minGrade":0},{"kind":"proctoredExam","examId":"final"}],"flag":false}
      """#),
    ValidationCase(
      "null optionals count as omitted", #"{"learnerId":"ada","count":3,"note":null,"payment":null}"#),
    ValidationCase("integer written as 3.0", #"{"learnerId":"ada","count":3.0}"#),
    ValidationCase("five non-ASCII characters fit a limit of five", #"{"learnerId":"ééééé","count":1}"#),
    ValidationCase("number at the range ends", #"{"learnerId":"ada","count":1,"grade":0}"#),
  ]

  static let invalid: [ValidationCase] = [
    ValidationCase(
      "U+0000 in a string", #"{"learnerId":"a\u0000","count":3}"#, field: "learnerId",
      reason: "nul_character",
      message: "U+0000"),
    ValidationCase(
      "U+0000 in a nested string, however long",
      #"{"learnerId":"ada","count":3,"payment":{"method":"card","token":"\u0000-longer-than-ten"}}"#,
      field: "payment.token", reason: "nul_character", message: "U+0000"),
    ValidationCase(
      "U+0000 in an enumeration",
      #"{"learnerId":"ada","count":3,"payment":{"method":"card\u0000","token":"t"}}"#,
      field: "payment.method", reason: "nul_character", message: "U+0000"),
    ValidationCase(
      "missing field", #"{"count":3}"#, field: "learnerId", reason: "missing_field",
      message: "Missing required field 'learnerId'"),
    ValidationCase(
      "required field given null", #"{"learnerId":null,"count":3}"#, field: "learnerId",
      reason: "missing_field",
      message: "Missing required field 'learnerId'"),
    ValidationCase(
      "unknown field", #"{"learnerId":"ada","count":3,"colour":"red"}"#, field: "colour",
      reason: "unknown_field",
      message: "The accepted fields are: learnerId, count, note"),
    ValidationCase(
      "duplicate field", #"{"learnerId":"ada","learnerId":"bob","count":3}"#, field: "learnerId",
      reason: "duplicate_field", message: "appears more than once"),
    ValidationCase(
      "string of the wrong type", #"{"learnerId":5,"count":3}"#, field: "learnerId", reason: "invalid_params",
      message: "Field 'learnerId' must be a string"),
    ValidationCase(
      "string too long", #"{"learnerId":"abcdef","count":3}"#, field: "learnerId", reason: "too_long",
      message: "at most 5 characters"),
    ValidationCase(
      "empty string", #"{"learnerId":"","count":3}"#, field: "learnerId", reason: "empty",
      message: "must not be empty"),
    ValidationCase(
      "integer that is 1.5", #"{"learnerId":"ada","count":1.5}"#, field: "count", reason: "invalid_params",
      message: "Field 'count' must be an integer from 1 to 10"),
    ValidationCase(
      "integer given as a string", #"{"learnerId":"ada","count":"3"}"#, field: "count",
      reason: "invalid_params",
      message: "an integer"),
    ValidationCase(
      "integer above the range", #"{"learnerId":"ada","count":11}"#, field: "count", reason: "invalid_params",
      message: "from 1 to 10"),
    ValidationCase(
      "number above the range", #"{"learnerId":"ada","count":1,"grade":1.01}"#, field: "grade",
      reason: "invalid_params", message: "Field 'grade' must be a number from 0 to 1"),
    ValidationCase(
      "number too large for a double", #"{"learnerId":"ada","count":1,"grade":1e400}"#, field: "grade",
      reason: "invalid_params", message: "from 0 to 1"),
    ValidationCase(
      "number below the range", #"{"learnerId":"ada","count":1,"grade":-0.1}"#, field: "grade",
      reason: "invalid_params", message: "from 0 to 1"),
    ValidationCase(
      "boolean of the wrong type", #"{"learnerId":"ada","count":1,"flag":"yes"}"#, field: "flag",
      reason: "invalid_params", message: "true or false"),
    ValidationCase(
      "nested missing field", #"{"learnerId":"ada","count":1,"payment":{"method":"card"}}"#,
      field: "payment.token",
      reason: "missing_field", message: "'payment.token'"),
    ValidationCase(
      "nested field of the wrong type",
      #"{"learnerId":"ada","count":1,"payment":{"method":"card","token":7}}"#,
      field: "payment.token", reason: "invalid_params", message: "'payment.token'"),
    ValidationCase(
      "nested unknown field",
      #"{"learnerId":"ada","count":1,"payment":{"method":"card","token":"t","cvv":1}}"#,
      field: "payment.cvv", reason: "unknown_field", message: "'payment.cvv'"),
    ValidationCase(
      "nested enumeration", #"{"learnerId":"ada","count":1,"payment":{"method":"cash","token":"t"}}"#,
      field: "payment.method", reason: "invalid_params", message: #"one of "card", "paypal""#),
    ValidationCase(
      "object given as a string", #"{"learnerId":"ada","count":1,"payment":"card"}"#, field: "payment",
      reason: "invalid_params", message: "an object"),
    ValidationCase(
      "array element out of range",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":"grade","minGrade":0.5},{"kind":"grade","minGrade":1.5}]}"#,
      field: "requirements[1].minGrade", reason: "invalid_params", message: "'requirements[1].minGrade'"),
    ValidationCase(
      "tagged variant without its tag", #"{"learnerId":"ada","count":1,"requirements":[{"minGrade":0.5}]}"#,
      field: "requirements[0].kind", reason: "missing_field", message: #""grade", "proctoredExam""#),
    ValidationCase(
      "tagged variant with an unknown tag",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":"essay"}]}"#,
      field: "requirements[0].kind", reason: "invalid_params", message: #"one of "grade", "proctoredExam""#),
    ValidationCase(
      "tagged variant with a tag that is not a string",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":1}]}"#,
      field: "requirements[0].kind", reason: "invalid_params", message: "requirements[0].kind"),
    ValidationCase(
      "tagged variant with a field of another variant",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":"grade","minGrade":0.5,"examId":"x"}]}"#,
      field: "requirements[0].examId", reason: "unknown_field", message: "kind, minGrade"),
    ValidationCase(
      "tagged variant missing its own field",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":"grade"},{"kind":"proctoredExam"}]}"#,
      field: "requirements[0].minGrade", reason: "missing_field", message: "a number from 0 to 1"),
    ValidationCase(
      "second variant missing its own field",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":"grade","minGrade":1},{"kind":"proctoredExam"}]}"#,
      field: "requirements[1].examId", reason: "missing_field", message: "requirements[1].examId"),
    ValidationCase(
      "array with too few items", #"{"learnerId":"ada","count":1,"requirements":[]}"#, field: "requirements",
      reason: "too_few_items", message: "at least 1 item"),
    ValidationCase(
      "array with too many items",
      #"{"learnerId":"ada","count":1,"requirements":[{"kind":"grade","minGrade":1},{"kind":"grade","minGrade":1},{"kind":"grade","minGrade":1},{"kind":"grade","minGrade":1}]}"#,
      field: "requirements", reason: "too_many_items", message: "at most 3 items"),
    ValidationCase(
      "array given as an object", #"{"learnerId":"ada","count":1,"requirements":{}}"#, field: "requirements",
      reason: "invalid_params", message: "an array"),
  ]

  static func object(_ json: String) throws -> JSONObject {
    try #require(try JSONParser.parse(json).objectValue)
  }

  @Test(arguments: valid)
  func acceptsValidParams(_ c: ValidationCase) throws {
    let params = try Self.object(c.json)
    #expect(throws: Never.self) { try Fixtures.params.validate(params) }
  }

  @Test(arguments: invalid)
  func refusesInvalidParamsNamingTheField(_ c: ValidationCase) throws {
    let params = try Self.object(c.json)
    let error = #expect(throws: RPCError.self) { try Fixtures.params.validate(params) }
    #expect(error?.code == -32602)
    #expect(error?.field == c.field)
    #expect(error?.json["data"]?["field"] == c.field.map(JSONValue.string))
    #expect(error?.reason == c.reason)
    #expect(error?.message.contains(c.message) == true, "message: \(error?.message ?? "none")")
  }
}

@Suite struct StringLengthTests {
  static let secret = ObjectSchema("Secret", [Field("secret", .string(minLength: 8, maxLength: 12))])

  static func validate(_ value: String) throws(RPCError) {
    try secret.validate(["secret": .string(value)])
  }

  @Test func lengthLimitsCountCharactersNotBytes() throws {
    // Twelve two-byte characters (24 bytes) are within a limit of 12 characters.
    try Self.validate(String(repeating: "é", count: 12))
    let long = #expect(throws: RPCError.self) { try Self.validate(String(repeating: "é", count: 13)) }
    #expect(long?.reason == "too_long")
    try Self.validate("12345678")
    let short = #expect(throws: RPCError.self) { try Self.validate("1234567") }
    #expect(short?.reason == "too_short")
    #expect(short?.field == "secret")
  }

  @Test func minimumLengthCountsCharactersNotBytes() {
    // Four two-byte characters are 8 bytes but 4 characters: below a minimum of 8 characters, as the
    // JSON Schema `minLength` that the OpenRPC document publishes for this field says.
    let error = #expect(throws: RPCError.self) { try Self.validate("éééé") }
    #expect(error?.reason == "too_short")
  }
}
