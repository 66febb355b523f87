import CreditCore
import JSON
import JSONRPC

/// Builds the OpenRPC document from the method table, so that the two cannot drift.
public enum OpenRPC {
  public static let version = "0.1.0"

  static let errorTable: [(Int, String, String)] = [
    (-32700, "Parse error", "Not JSON, invalid UTF-8, or nested deeper than 512 levels."),
    (-32600, "Invalid request", "Not a JSON-RPC 2.0 request; line too long; empty or oversized batch."),
    (-32601, "Method not found", "No such method."),
    (
      -32602, "Invalid params",
      "Missing, unknown or mistyped field; bad format or range (data.field names it)."
    ),
    (-32603, "Internal error", "A bug; the request was not applied."),
    (
      -32001, "notFound",
      "A learner, course, provider, exam, attempt, verification or request that does not exist."
    ),
    (-32002, "alreadyExists", "Creating an id that exists with other data."),
    (-32003, "invalidState", "Not allowed in the current state."),
    (-32004, "notEligible", "Purchase without eligibility or outside the credit track."),
    (-32005, "deadlinePassed", "Purchase window closed, course ended, exam time over."),
    (-32006, "paymentDeclined", "The payment processor declined."),
    (-32007, "forbidden", "The principal may not do this."),
    (-32008, "invalidSignature", "Provider signature or timestamp rejected."),
    (-32009, "conflict", "Idempotency key reused with other parameters; a competing purchase."),
    (-32010, "unavailable", "Database busy past the timeout, read-only or full."),
  ]

  public static func document(methods: [MethodDefinition]) -> JSONValue {
    var components = JSONObject()
    var methodList: [JSONValue] = []
    let errors: [JSONValue] = errorTable.map { ["code": .int($0.0), "message": .string($0.1)] }
    for m in methods {
      let params: [JSONValue] = m.params.fields.map { f in
        var o: JSONObject = ["name": .string(f.name), "required": .bool(f.required)]
        if let d = f.schema.description { o.append("description", .string(d)) }
        o.append("schema", jsonSchema(f.schema, defaultValue: f.defaultValue, into: &components))
        return .object(o)
      }
      let result: JSONValue = [
        "name": .string(m.resultName), "schema": jsonSchema(m.result, defaultValue: nil, into: &components),
      ]
      var o: JSONObject = [
        "name": .string(m.name), "summary": .string(m.summary),
        "description": .string("Who may call it: \(m.access.summary).\(m.mutates ? " Changes state." : "")"),
        "paramStructure": "by-name", "params": .array(params), "result": result, "errors": .array(errors),
      ]
      // Parameters are taken and ignored whatever they are (the LSP lifecycle).
      if m.params.open { o.append("x-any-params", true) }
      if let ex = Examples.byMethod[m.name] { o.append("examples", .array(ex)) }
      methodList.append(.object(o))
    }
    // rpc.discover is the service describing itself.
    methodList.append(
      [
        "name": "rpc.discover", "summary": "This OpenRPC document.", "paramStructure": "by-name",
        "params": [],
        "result": ["name": "OpenRPC", "schema": ["type": "object"]],
      ])
    let sorted = components.members.sorted { $0.key < $1.key }
    return [
      "openrpc": "1.3.2",
      "info": [
        "title": "credit-rpc",
        "version": .string(version),
        "description": .string(
          "The academic-credit workflow of an online course platform as JSON-RPC 2.0 over stdin/stdout, "
            + "one message per line or Content-Length framed (LSP style). See Protocol/README.md."),
      ],
      "methods": .array(methodList),
      "components": ["schemas": .object(JSONObject(members: sorted))],
    ]
  }

  /// JSON Schema for `s`; named object schemas go into components once and are referenced.
  static func jsonSchema(_ s: Schema, defaultValue: JSONValue?, into components: inout JSONObject)
    -> JSONValue
  {
    var o = JSONObject()
    switch s.kind {
    case .any:
      break
    case .null:
      o.append("type", "null")
    case .string(let format, let minLength, let maxLength):
      o.append("type", "string")
      if minLength > 0 { o.append("minLength", .int(minLength)) }
      o.append("maxLength", .int(maxLength))
      if let format { for m in format.jsonSchema { o.append(m.key, m.value) } }
    case .enumeration(let values):
      o.append("type", "string")
      o.append("enum", .array(values.map(JSONValue.string)))
    case .integer(let lo, let hi):
      o.append("type", "integer")
      if let lo { o.append("minimum", .number(JSONNumber(lo))) }
      if let hi { o.append("maximum", .number(JSONNumber(hi))) }
    case .number(let lo, let hi):
      o.append("type", "number")
      if let lo { o.append("minimum", .double(lo)) }
      if let hi { o.append("maximum", .double(hi)) }
    case .boolean:
      o.append("type", "boolean")
    case .array(let items, let minItems, let maxItems):
      o.append("type", "array")
      o.append("items", jsonSchema(items, defaultValue: nil, into: &components))
      if minItems > 0 { o.append("minItems", .int(minItems)) }
      if let maxItems { o.append("maxItems", .int(maxItems)) }
    case .object(let obj):
      let body = objectSchema(obj, into: &components)
      if let name = obj.name {
        if components[name] == nil { components[name] = body }
        o.append("$ref", .string("#/components/schemas/\(name)"))
      } else {
        o = body.objectValue!
      }
    case .tagged(_, let variants):
      o.append(
        "oneOf",
        .array(variants.map { jsonSchema(Schema.object($0.1), defaultValue: nil, into: &components) }))
    }
    if let d = s.description, o["$ref"] == nil { o.append("description", .string(d)) }
    if let defaultValue { o.append("default", defaultValue) }
    if s.nullable {
      return ["oneOf": [.object(o), ["type": "null"]]]
    }
    return .object(o)
  }

  static func objectSchema(_ obj: ObjectSchema, into components: inout JSONObject) -> JSONValue {
    var props = JSONObject()
    for f in obj.fields {
      props.append(f.name, jsonSchema(f.schema, defaultValue: f.defaultValue, into: &components))
    }
    var o: JSONObject = ["type": "object", "properties": .object(props)]
    let required = obj.fields.filter(\.required).map { JSONValue.string($0.name) }
    if !required.isEmpty { o.append("required", .array(required)) }
    o.append("additionalProperties", .bool(!obj.open))
    if let d = obj.description { o.append("description", .string(d)) }
    return .object(o)
  }
}

/// Example pairings for the OpenRPC document, by method name, from `MethodExamples`.
enum Examples {
  static let byMethod: [String: [JSONValue]] = {
    var out: [String: [JSONValue]] = [:]
    let resultNames = Dictionary(uniqueKeysWithValues: Methods.all.map { ($0.name, $0.resultName) })
    for e in MethodExamples.all {
      guard let params = try? JSONParser.parse(e.params).objectValue,
        let result = try? JSONParser.parse(e.result)
      else { continue }
      let pairing: JSONValue = [
        "name": .string(e.name),
        "params": .array(params.members.map { ["name": .string($0.key), "value": $0.value] }),
        "result": ["name": .string(resultNames[e.method] ?? "result"), "value": result],
      ]
      out[e.method, default: []].append(pairing)
    }
    return out
  }()
}
