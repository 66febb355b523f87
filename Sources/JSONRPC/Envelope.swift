import JSON

/// A valid JSON-RPC 2.0 request read off the wire.
public struct Request: Sendable {
  /// nil for a notification (no `id` member): it gets no response.
  public let id: JSONValue?
  public let method: String
  /// The by-name parameters; nil when omitted or null.
  public let params: JSONObject?
  /// `params` was an array (by position): refused with `RPCError.paramsNotObject`, but only once the
  /// method is known to exist (an unknown method is -32601 whatever its params).
  public let positionalParams: Bool

  public init(id: JSONValue?, method: String, params: JSONObject?, positionalParams: Bool = false) {
    self.id = id
    self.method = method
    self.params = params
    self.positionalParams = positionalParams
  }

  public var isNotification: Bool { id == nil }
}

/// What one message of a line turned out to be: a request to run, or an error to answer at once.
public enum Message: Sendable {
  case request(Request)
  /// `id` nil: a notification whose error nobody hears.
  case error(RPCError, id: JSONValue?)

  /// Reads the JSON-RPC 2.0 envelope of one parsed value. `"params": []` counts as no parameters
  /// (in both framings: Neovim encodes an empty table as `[]`).
  public init(_ value: JSONValue) {
    guard case .object(let o) = value else {
      self = .error(
        .invalidRequest(
          "A request must be a JSON object with jsonrpc, method and optionally id and params.",
          reason: "not_an_object"), id: .null)
      return
    }
    let idMember = o["id"]
    // The id we can echo: a string or a number; anything else is answered with null.
    let echoId: JSONValue
    switch idMember {
    case .string?, .number?: echoId = idMember!
    default: echoId = .null
    }
    if let idMember {
      switch idMember {
      case .string, .number, .null: break
      default:
        self = .error(
          .invalidRequest("The id must be a string, a number or null.", reason: "invalid_id"), id: .null)
        return
      }
    }
    guard case .string("2.0")? = o["jsonrpc"] else {
      self = .error(
        .invalidRequest("The member \"jsonrpc\" must be exactly \"2.0\".", reason: "invalid_jsonrpc_version"),
        id: echoId)
      return
    }
    guard case .string(let method)? = o["method"] else {
      self = .error(
        .invalidRequest(
          "The member \"method\" must be a string naming the method to call.", reason: "invalid_method"),
        id: echoId)
      return
    }
    let isNotification = idMember == nil
    var params: JSONObject?
    var positional = false
    switch o["params"] {
    case nil, .null?: params = nil
    case .object(let p)?: params = p
    case .array(let a)? where a.isEmpty: params = nil
    case .array?: positional = true
    default:
      self = .error(
        .invalidRequest(
          "The member \"params\" must be an object when present.", reason: "invalid_params_type"),
        id: echoId)
      return
    }
    self = .request(
      Request(
        id: isNotification ? nil : (idMember ?? .null), method: method, params: params,
        positionalParams: positional))
  }
}

extension RPCError {
  /// The answer to a known method called with `params` as an array.
  public static let paramsNotObject = RPCError.invalidParams(
    "Parameters are passed by name: \"params\" must be an object, not an array.", field: "params",
    reason: "params_not_object")
}

/// Writes one response object straight into `out`.
public func writeResponse(id: JSONValue, outcome: Result<JSONValue, RPCError>, into out: inout [UInt8]) {
  out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
  JSONWriter.write(id, into: &out)
  switch outcome {
  case .success(let result):
    out.append(contentsOf: #","result":"#.utf8)
    JSONWriter.write(result, into: &out)
  case .failure(let error):
    out.append(contentsOf: #","error":"#.utf8)
    JSONWriter.write(error.json, into: &out)
  }
  out.append(UInt8(ascii: "}"))
}
