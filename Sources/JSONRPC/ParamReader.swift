import JSON

/// Typed access to parameters that their schema has already validated, so that a read can only
/// fail through a programming error (a field read that the schema does not declare), which the
/// method tests catch.
public struct ParamReader: Sendable {
  public let object: JSONObject

  public init(_ object: JSONObject) { self.object = object }

  private func value(_ name: String) -> JSONValue? {
    guard let v = object[name], !v.isNull else { return nil }
    return v
  }

  public func has(_ name: String) -> Bool { value(name) != nil }

  public func optionalString(_ name: String) -> String? { value(name)?.stringValue }
  public func string(_ name: String) -> String {
    guard let s = optionalString(name) else {
      preconditionFailure("schema does not require string '\(name)'")
    }
    return s
  }

  public func optionalDouble(_ name: String) -> Double? { value(name)?.numberValue?.double }
  public func double(_ name: String) -> Double {
    guard let d = optionalDouble(name) else {
      preconditionFailure("schema does not require number '\(name)'")
    }
    return d
  }

  public func optionalInt(_ name: String) -> Int64? { value(name)?.numberValue?.int64 }
  public func int(_ name: String) -> Int64 {
    guard let i = optionalInt(name) else { preconditionFailure("schema does not require integer '\(name)'") }
    return i
  }

  public func optionalBool(_ name: String) -> Bool? { value(name)?.boolValue }

  public func bool(_ name: String, default defaultValue: Bool) -> Bool {
    value(name)?.boolValue ?? defaultValue
  }

  public func optionalObject(_ name: String) -> ParamReader? {
    value(name)?.objectValue.map(ParamReader.init)
  }
  public func object(_ name: String) -> ParamReader {
    guard let o = optionalObject(name) else {
      preconditionFailure("schema does not require object '\(name)'")
    }
    return o
  }

  public func array(_ name: String) -> [JSONValue] { value(name)?.arrayValue ?? [] }
  public func objects(_ name: String) -> [ParamReader] {
    array(name).compactMap { $0.objectValue.map(ParamReader.init) }
  }
  public func strings(_ name: String) -> [String] { array(name).compactMap(\.stringValue) }
}
