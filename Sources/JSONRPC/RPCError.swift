import JSON

/// A JSON-RPC error object: a code, a message a plugin author can act on, and `data` carrying at
/// least `reason` (snake_case) and, for parameter errors, `field`.
public struct RPCError: Error, Sendable, Equatable {
  public var code: Int
  public var message: String
  public var data: JSONObject

  public init(code: Int, message: String, reason: String, field: String? = nil, extra: JSONObject = [:]) {
    self.code = code
    self.message = message
    var data: JSONObject = ["reason": .string(reason)]
    if let field { data.append("field", .string(field)) }
    for m in extra { data.append(m.key, m.value) }
    self.data = data
  }

  public var reason: String { data["reason"]?.stringValue ?? "" }
  public var field: String? { data["field"]?.stringValue }

  public var json: JSONValue {
    ["code": .int(code), "message": .string(message), "data": .object(data)]
  }

  // The JSON-RPC 2.0 codes.
  public static let parseErrorCode = -32700
  public static let invalidRequestCode = -32600
  public static let methodNotFoundCode = -32601
  public static let invalidParamsCode = -32602
  public static let internalErrorCode = -32603

  public static func parseError(_ message: String, reason: String = "invalid_json") -> RPCError {
    RPCError(code: parseErrorCode, message: message, reason: reason)
  }
  public static func invalidRequest(_ message: String, reason: String) -> RPCError {
    RPCError(code: invalidRequestCode, message: message, reason: reason)
  }
  public static func methodNotFound(_ method: String) -> RPCError {
    RPCError(
      code: methodNotFoundCode,
      message: "There is no method named '\(method)'; rpc.discover lists the methods this service offers.",
      reason: "method_not_found", extra: ["method": .string(method)])
  }
  public static func invalidParams(_ message: String, field: String?, reason: String = "invalid_params")
    -> RPCError
  {
    RPCError(code: invalidParamsCode, message: message, reason: reason, field: field)
  }
  public static func internalError(
    _ message: String = "The service hit an internal error; the request was not applied."
  )
    -> RPCError
  {
    RPCError(code: internalErrorCode, message: message, reason: "internal_error")
  }
}
