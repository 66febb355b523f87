import JSON

/// A check on the text of a string field, with the JSON Schema words that describe it.
public struct StringFormat: Sendable {
  /// What a valid value looks like, for messages ("an RFC 3339 timestamp such as 2026-06-30T23:59:59Z").
  public let expected: String
  /// Extra JSON Schema members (`format`, `pattern`) for the OpenRPC document.
  public let jsonSchema: JSONObject
  /// True when the text is acceptable.
  public let isValid: @Sendable (String) -> Bool

  public init(expected: String, jsonSchema: JSONObject, isValid: @escaping @Sendable (String) -> Bool) {
    self.expected = expected
    self.jsonSchema = jsonSchema
    self.isValid = isValid
  }
}

/// The shape of a JSON value: one definition that both validates incoming parameters (with an error
/// that names the offending field) and is written into the OpenRPC document.
public struct Schema: Sendable {
  public indirect enum Kind: Sendable {
    case string(format: StringFormat?, minLength: Int, maxLength: Int)
    case enumeration([String])
    case integer(minimum: Int64?, maximum: Int64?)
    case number(minimum: Double?, maximum: Double?)
    case boolean
    case array(Schema, minItems: Int, maxItems: Int?)
    case object(ObjectSchema)
    /// Objects told apart by the string member `tag` (e.g. `kind`), one schema per tag value.
    case tagged(tag: String, variants: [(String, ObjectSchema)])
    /// Anything at all (results only).
    case any
    /// Only `null` (results only).
    case null
  }

  public var kind: Kind
  public var description: String?
  /// The component name under which the OpenRPC document defines it once and refers to it.
  public var name: String?
  /// Results only: the value may also be null.
  public var nullable = false

  public init(_ kind: Kind, description: String? = nil, name: String? = nil) {
    self.kind = kind
    self.description = description
    self.name = name
  }

  /// Strings are limited by default so that no field can carry megabytes by accident.
  public static let defaultMaxLength = 1000

  public static func string(
    _ format: StringFormat? = nil, minLength: Int = 1, maxLength: Int = defaultMaxLength,
    _ description: String? = nil
  ) -> Schema {
    Schema(.string(format: format, minLength: minLength, maxLength: maxLength), description: description)
  }
  public static func enumeration(_ values: [String], _ description: String? = nil) -> Schema {
    Schema(.enumeration(values), description: description)
  }
  public static func integer(min: Int64? = nil, max: Int64? = nil, _ description: String? = nil) -> Schema {
    Schema(.integer(minimum: min, maximum: max), description: description)
  }
  public static func number(min: Double? = nil, max: Double? = nil, _ description: String? = nil) -> Schema {
    Schema(.number(minimum: min, maximum: max), description: description)
  }
  public static func boolean(_ description: String? = nil) -> Schema {
    Schema(.boolean, description: description)
  }
  public static func array(
    _ items: Schema, minItems: Int = 0, maxItems: Int? = nil, _ description: String? = nil
  )
    -> Schema
  {
    Schema(.array(items, minItems: minItems, maxItems: maxItems), description: description)
  }
  public static func object(_ o: ObjectSchema, _ description: String? = nil) -> Schema {
    Schema(.object(o), description: description, name: o.name)
  }
  public static let any = Schema(.any)
  public static let null = Schema(.null)

  /// The same schema, allowing null (for result fields).
  public var orNull: Schema {
    var s = self
    s.nullable = true
    return s
  }

  public func described(_ text: String) -> Schema {
    var s = self
    s.description = text
    return s
  }
}

/// One member of an object schema.
public struct Field: Sendable {
  public let name: String
  public let schema: Schema
  public let required: Bool
  public let defaultValue: JSONValue?
  /// Said when the field is missing, after what it must be: how to get it right.
  public var hint: String?

  public init(_ name: String, _ schema: Schema, required: Bool = true, default defaultValue: JSONValue? = nil)
  {
    self.name = name
    self.schema = schema
    self.required = required
    self.defaultValue = defaultValue
  }

  public func hint(_ text: String) -> Field {
    var f = self
    f.hint = text
    return f
  }

  public static func optional(_ name: String, _ schema: Schema, default value: JSONValue? = nil) -> Field {
    Field(name, schema, required: false, default: value)
  }
}

/// An object with a closed set of members (unknown members are refused in parameters), or an open
/// one that takes any members.
public struct ObjectSchema: Sendable {
  public let name: String?
  public let fields: [Field]
  public let description: String?
  /// Any members at all are accepted (and ignored).
  public let open: Bool

  public init(_ name: String? = nil, description: String? = nil, _ fields: [Field], open: Bool = false) {
    self.name = name
    self.fields = fields
    self.description = description
    self.open = open
  }

  public func field(_ name: String) -> Field? { fields.first { $0.name == name } }
}
