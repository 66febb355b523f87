/// A JSON value as it travels on the wire.
///
/// Numbers keep their source text so that an id such as `1.50` or `1e3` is echoed back exactly as
/// the client wrote it; objects keep their members in order (and any duplicates), so that the
/// layer above can decide what a duplicate means.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(JSONNumber)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)
}

/// A JSON number, kept as the text of its literal (which the parser has checked against the JSON
/// grammar, or which one of the initialisers below wrote).
public struct JSONNumber: Sendable, Equatable, Hashable, CustomStringConvertible {
  public let text: String

  /// `text` must be a valid JSON number literal.
  public init(text: String) { self.text = text }
  public init(_ value: Int) { self.text = String(value) }
  public init(_ value: Int64) { self.text = String(value) }

  /// Writes a finite double in its shortest round-tripping form; integral values without a
  /// fraction (`1` rather than `1.0`). Non-finite values become 0, which JSON cannot express.
  public init(_ value: Double) {
    guard value.isFinite else {
      self.text = "0"
      return
    }
    if value == value.rounded(.towardZero), abs(value) < 1e15 {
      self.text = String(Int64(value))
    } else {
      self.text = "\(value)"
    }
  }

  public var description: String { text }

  public var double: Double? { Double(text) }

  /// The value as an integer when the literal denotes one exactly (`3`, `3.0`, `3e2`), else nil.
  public var int64: Int64? {
    if let exact = Int64(text) { return exact }
    guard let d = Double(text), d.isFinite, d == d.rounded(.towardZero), abs(d) <= 9.007_199_254_740_992e15
    else { return nil }
    return Int64(d)
  }

  /// Numbers compare by value, so that `1` and `1.0` are the same number.
  public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
    if lhs.text == rhs.text { return true }
    guard let l = lhs.double, let r = rhs.double else { return false }
    return l == r
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(double ?? 0) }
}

/// The members of a JSON object, in order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
    public init(key: String, value: JSONValue) {
      self.key = key
      self.value = value
    }
  }

  public var members: [Member]

  public init() { members = [] }
  public init(members: [Member]) { self.members = members }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    members = elements.map { Member(key: $0.0, value: $0.1) }
  }

  public var count: Int { members.count }
  public var isEmpty: Bool { members.isEmpty }
  public var keys: [String] { members.map(\.key) }

  /// The value of the last member named `key` (the last one wins, as in most parsers), or nil.
  public subscript(key: String) -> JSONValue? {
    get {
      var i = members.count - 1
      while i >= 0 {
        if members[i].key == key { return members[i].value }
        i -= 1
      }
      return nil
    }
    set {
      if let i = members.lastIndex(where: { $0.key == key }) {
        if let newValue { members[i].value = newValue } else { members.remove(at: i) }
      } else if let newValue {
        members.append(Member(key: key, value: newValue))
      }
    }
  }

  /// Appends without looking for an existing member: the writer's fast path.
  public mutating func append(_ key: String, _ value: JSONValue) {
    members.append(Member(key: key, value: value))
  }

  public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }

  /// Objects compare as sets of members, ignoring order. A member whose counterpart in `rhs` at
  /// the same position has the same key compares with it, so that an object holding duplicate keys
  /// equals itself; others compare with the last member of `rhs` of the same name.
  public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
    guard lhs.members.count == rhs.members.count else { return false }
    var k = 0
    while k < lhs.members.count {
      let m = lhs.members[k]
      let other = rhs.members[k].key == m.key ? rhs.members[k].value : rhs[m.key]
      if other != m.value { return false }
      k += 1
    }
    return true
  }
}

extension JSONValue {
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
  public var objectValue: JSONObject? {
    if case .object(let o) = self { return o }
    return nil
  }
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
  public var numberValue: JSONNumber? {
    if case .number(let n) = self { return n }
    return nil
  }
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }
  public var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// The member `key` of an object (nil for anything else).
  public subscript(key: String) -> JSONValue? { objectValue?[key] }

  public static func int(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
  public static func double(_ v: Double) -> JSONValue { .number(JSONNumber(v)) }
  /// A string, or null when nil.
  public static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
  public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(JSONObject(members: elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
  }
}
