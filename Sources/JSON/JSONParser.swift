/// Why a text is not accepted as JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Reason: String, Sendable {
    case invalidJSON = "invalid_json"
    case invalidUTF8 = "invalid_utf8"
    case nestingTooDeep = "nesting_too_deep"
  }

  public let reason: Reason
  /// The byte offset (from 0) at which the problem was found.
  public let offset: Int
  /// A short human sentence, such as "unexpected character 'x' at byte 17".
  public let message: String

  public init(reason: Reason, offset: Int, message: String) {
    self.reason = reason
    self.offset = offset
    self.message = message
  }

  public var description: String { message }
}

/// A strict RFC 8259 parser working on raw UTF-8 bytes.
///
/// Exactly one value, surrounded by optional whitespace (space, tab, LF, CR). Invalid UTF-8 is
/// rejected wherever it occurs; a lone surrogate written as a `\u` escape becomes U+FFFD. The
/// parser is iterative: nesting costs heap, not stack, and is bounded by `maxDepth`.
/// Errors report the first problem met when reading from left to right.
public enum JSONParser {
  public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) throws(JSONParseError)
    -> JSONValue
  {
    guard let base = bytes.baseAddress, bytes.count > 0 else {
      throw JSONParseError(reason: .invalidJSON, offset: 0, message: "empty input: expected a JSON value")
    }
    var parser = Parser(
      base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, maxDepth: maxDepth)
    return try parser.parseDocument()
  }

  public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
    let result = bytes.withUnsafeBytes { buffer in
      Result { () throws(JSONParseError) -> JSONValue in try parse(buffer, maxDepth: maxDepth) }
    }
    return try result.get()
  }

  public static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = 512) throws(JSONParseError)
    -> JSONValue
  {
    let result = bytes.withUnsafeBytes { buffer in
      Result { () throws(JSONParseError) -> JSONValue in try parse(buffer, maxDepth: maxDepth) }
    }
    return try result.get()
  }

  public static func parse(_ text: String, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
    var text = text
    let result = text.withUTF8 { buffer in
      Result { () throws(JSONParseError) -> JSONValue in
        try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
      }
    }
    return try result.get()
  }
}

// MARK: - The parser

private enum ASCII {
  static let quote: UInt8 = 0x22
  static let backslash: UInt8 = 0x5C
  static let slash: UInt8 = 0x2F
  static let comma: UInt8 = 0x2C
  static let colon: UInt8 = 0x3A
  static let minus: UInt8 = 0x2D
  static let plus: UInt8 = 0x2B
  static let dot: UInt8 = 0x2E
  static let zero: UInt8 = 0x30
  static let nine: UInt8 = 0x39
  static let openBracket: UInt8 = 0x5B
  static let closeBracket: UInt8 = 0x5D
  static let openBrace: UInt8 = 0x7B
  static let closeBrace: UInt8 = 0x7D
  static let space: UInt8 = 0x20
  static let tab: UInt8 = 0x09
  static let lf: UInt8 = 0x0A
  static let cr: UInt8 = 0x0D
  static let lowerE: UInt8 = 0x65
  static let upperE: UInt8 = 0x45
  static let lowerT: UInt8 = 0x74
  static let lowerF: UInt8 = 0x66
  static let lowerN: UInt8 = 0x6E
  static let lowerU: UInt8 = 0x75
  static let lowerB: UInt8 = 0x62
  static let lowerR: UInt8 = 0x72
}

/// An array or object being read, waiting for its next element.
private struct Frame {
  var isObject: Bool
  var key: String
  var elements: [JSONValue]
  var members: [JSONObject.Member]
}

private struct Parser {
  let bytes: UnsafePointer<UInt8>
  let count: Int
  let maxDepth: Int
  var i = 0
  /// Reused for strings with escapes.
  var scratch: [UInt8] = []

  init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
    self.bytes = base
    self.count = count
    self.maxDepth = maxDepth
  }

  mutating func parseDocument() throws(JSONParseError) -> JSONValue {
    if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
      throw JSONParseError(
        reason: .invalidJSON, offset: 0, message: "byte-order mark at byte 0 is not allowed")
    }
    let value = try parseValue()
    skipWhitespace()
    if i != count { throw unexpected(at: i, expecting: "end of input after the JSON value") }
    return value
  }

  @inline(__always)
  mutating func skipWhitespace() {
    while i < count {
      let c = bytes[i]
      guard c == ASCII.space || c == ASCII.lf || c == ASCII.cr || c == ASCII.tab else { return }
      i += 1
    }
  }

  mutating func parseValue() throws(JSONParseError) -> JSONValue {
    var stack: [Frame] = []
    while true {
      // Read the start of one value; a non-empty container pushes a frame and goes round again.
      var value: JSONValue
      skipWhitespace()
      guard i < count else { throw unexpected(at: i, expecting: "a value") }
      switch bytes[i] {
      case ASCII.quote:
        value = .string(try parseString())
      case ASCII.openBrace:
        guard stack.count < maxDepth else { throw tooDeep() }
        i += 1
        skipWhitespace()
        if i < count, bytes[i] == ASCII.closeBrace {
          i += 1
          value = .object(JSONObject())
        } else {
          let key = try parseKey()
          var members: [JSONObject.Member] = []
          members.reserveCapacity(4)
          if stack.isEmpty { stack.reserveCapacity(4) }
          stack.append(Frame(isObject: true, key: key, elements: [], members: members))
          continue
        }
      case ASCII.openBracket:
        guard stack.count < maxDepth else { throw tooDeep() }
        i += 1
        skipWhitespace()
        if i < count, bytes[i] == ASCII.closeBracket {
          i += 1
          value = .array([])
        } else {
          var elements: [JSONValue] = []
          elements.reserveCapacity(4)
          if stack.isEmpty { stack.reserveCapacity(4) }
          stack.append(Frame(isObject: false, key: "", elements: elements, members: []))
          continue
        }
      case ASCII.lowerT:
        try parseLiteral("true")
        value = .bool(true)
      case ASCII.lowerF:
        try parseLiteral("false")
        value = .bool(false)
      case ASCII.lowerN:
        try parseLiteral("null")
        value = .null
      case ASCII.minus, ASCII.zero...ASCII.nine:
        value = .number(try parseNumber())
      default:
        throw unexpected(at: i, expecting: "a value")
      }

      // Hand the value to the enclosing containers, closing those that end here.
      while true {
        guard !stack.isEmpty else { return value }
        let top = stack.count - 1
        skipWhitespace()
        guard i < count else {
          throw unexpected(at: i, expecting: stack[top].isObject ? "',' or '}'" : "',' or ']'")
        }
        let c = bytes[i]
        if stack[top].isObject {
          let key = stack[top].key
          stack[top].members.append(JSONObject.Member(key: key, value: value))
          if c == ASCII.comma {
            i += 1
            skipWhitespace()
            stack[top].key = try parseKey()
            break
          } else if c == ASCII.closeBrace {
            i += 1
            value = .object(JSONObject(members: stack.removeLast().members))
          } else {
            throw unexpected(at: i, expecting: "',' or '}'")
          }
        } else {
          stack[top].elements.append(value)
          if c == ASCII.comma {
            i += 1
            break
          } else if c == ASCII.closeBracket {
            i += 1
            value = .array(stack.removeLast().elements)
          } else {
            throw unexpected(at: i, expecting: "',' or ']'")
          }
        }
      }
    }
  }

  /// A member name and its colon; whitespace before the name has been skipped.
  mutating func parseKey() throws(JSONParseError) -> String {
    guard i < count, bytes[i] == ASCII.quote else { throw unexpected(at: i, expecting: "a string key") }
    let key = try parseString()
    skipWhitespace()
    guard i < count, bytes[i] == ASCII.colon else { throw unexpected(at: i, expecting: "':'") }
    i += 1
    return key
  }

  mutating func parseLiteral(_ literal: StaticString) throws(JSONParseError) {
    let text = literal.utf8Start
    for k in 0..<literal.utf8CodeUnitCount {
      guard i + k < count, bytes[i + k] == text[k] else {
        throw unexpected(at: i + k, expecting: "'\(literal)'")
      }
    }
    i += literal.utf8CodeUnitCount
  }

  // MARK: Numbers

  @inline(__always)
  func isDigit(_ c: UInt8) -> Bool { c &- ASCII.zero < 10 }

  mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
    let start = i
    if bytes[i] == ASCII.minus { i += 1 }
    guard i < count else { throw unexpected(at: i, expecting: "a digit") }
    if bytes[i] == ASCII.zero {
      i += 1
      if i < count, isDigit(bytes[i]) {
        throw JSONParseError(
          reason: .invalidJSON, offset: i - 1, message: "leading zero in number at byte \(i - 1)")
      }
    } else if isDigit(bytes[i]) {
      i += 1
      while i < count, isDigit(bytes[i]) { i += 1 }
    } else {
      throw unexpected(at: i, expecting: "a digit")
    }
    if i < count, bytes[i] == ASCII.dot {
      i += 1
      try digits()
    }
    if i < count, bytes[i] == ASCII.lowerE || bytes[i] == ASCII.upperE {
      i += 1
      if i < count, bytes[i] == ASCII.plus || bytes[i] == ASCII.minus { i += 1 }
      try digits()
    }
    return JSONNumber(
      text: String(decoding: UnsafeBufferPointer(start: bytes + start, count: i - start), as: UTF8.self))
  }

  /// One or more digits.
  mutating func digits() throws(JSONParseError) {
    guard i < count, isDigit(bytes[i]) else { throw unexpected(at: i, expecting: "a digit") }
    i += 1
    while i < count, isDigit(bytes[i]) { i += 1 }
  }

  // MARK: Strings

  /// A string starting at the opening quote under `i`.
  mutating func parseString() throws(JSONParseError) -> String {
    let start = i
    i += 1
    let contentStart = i
    while true {
      while i &+ 8 <= count {
        let stop = stringStop(loadWord(bytes + i))
        i &+= stop
        if stop < 8 { break }
      }
      guard i < count else { throw unterminated(start) }
      let c = bytes[i]
      if c == ASCII.quote {
        let s = String(
          decoding: UnsafeBufferPointer(start: bytes + contentStart, count: i - contentStart), as: UTF8.self)
        i += 1
        return s
      } else if c == ASCII.backslash {
        return try parseEscapedString(start: start, contentStart: contentStart)
      } else if c < 0x20 {
        throw controlCharacter(at: i)
      } else if c < 0x80 {
        i += 1
      } else {
        i += try utf8Sequence()
      }
    }
  }

  /// The slow path: the string holds escapes. `i` is at the first backslash.
  mutating func parseEscapedString(start: Int, contentStart: Int) throws(JSONParseError) -> String {
    scratch.removeAll(keepingCapacity: true)
    var run = contentStart
    while true {
      while i &+ 8 <= count {
        let stop = stringStop(loadWord(bytes + i))
        i &+= stop
        if stop < 8 { break }
      }
      guard i < count else { throw unterminated(start) }
      let c = bytes[i]
      if c >= 0x20 && c != ASCII.quote && c != ASCII.backslash {
        if c < 0x80 { i += 1 } else { i += try utf8Sequence() }
        continue
      }
      scratch.append(contentsOf: UnsafeBufferPointer(start: bytes + run, count: i - run))
      if c == ASCII.quote {
        i += 1
        return String(decoding: scratch, as: UTF8.self)
      } else if c < 0x20 {
        throw controlCharacter(at: i)
      }
      // A backslash.
      let escapeStart = i
      i += 1
      guard i < count else { throw unterminated(start) }
      switch bytes[i] {
      case ASCII.quote, ASCII.backslash, ASCII.slash: scratch.append(bytes[i])
      case ASCII.lowerB: scratch.append(0x08)
      case ASCII.lowerF: scratch.append(0x0C)
      case ASCII.lowerN: scratch.append(0x0A)
      case ASCII.lowerR: scratch.append(0x0D)
      case ASCII.lowerT: scratch.append(0x09)
      case ASCII.lowerU:
        guard let unit = hex4(at: i + 1) else {
          // Running out of input within the four digits leaves the string unterminated.
          var k = i + 1
          while k < count, k < i + 5, hexDigit(bytes[k]) != nil { k += 1 }
          if k == count { throw unterminated(start) }
          throw JSONParseError(
            reason: .invalidJSON, offset: escapeStart,
            message: "invalid \\u escape at byte \(escapeStart): expected four hex digits")
        }
        i += 4
        var scalar = unit
        if unit >= 0xD800 && unit <= 0xDBFF {
          // A high surrogate: it makes a scalar only with a low surrogate right after it.
          if i + 2 < count, bytes[i + 1] == ASCII.backslash, bytes[i + 2] == ASCII.lowerU,
            let low = hex4(at: i + 3), low >= 0xDC00 && low <= 0xDFFF
          {
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            i += 6
          } else {
            scalar = 0xFFFD
          }
        } else if unit >= 0xDC00 && unit <= 0xDFFF {
          scalar = 0xFFFD
        }
        appendUTF8(scalar)
      default:
        throw JSONParseError(
          reason: .invalidJSON, offset: escapeStart,
          message: "invalid escape \(describe(at: i)) at byte \(escapeStart)")
      }
      i += 1
      run = i
    }
  }

  /// The value of the four hex digits at `p`, or nil if there are not four.
  func hex4(at p: Int) -> UInt32? {
    guard p + 4 <= count else { return nil }
    var v: UInt32 = 0
    for k in 0..<4 {
      guard let d = hexDigit(bytes[p + k]) else { return nil }
      v = v << 4 | UInt32(d)
    }
    return v
  }

  @inline(__always)
  func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
  }

  mutating func appendUTF8(_ scalar: UInt32) {
    switch scalar {
    case 0..<0x80:
      scratch.append(UInt8(scalar))
    case 0x80..<0x800:
      scratch.append(UInt8(0xC0 | scalar >> 6))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
      scratch.append(UInt8(0xE0 | scalar >> 12))
      scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    default:
      scratch.append(UInt8(0xF0 | scalar >> 18))
      scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
      scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    }
  }

  /// The length of the well-formed multi-byte UTF-8 sequence at `i`, or an invalidUTF8 error.
  mutating func utf8Sequence() throws(JSONParseError) -> Int {
    let n = utf8SequenceLength(at: i)
    guard n > 0 else { throw invalidUTF8(at: i) }
    return n
  }

  /// The length of the well-formed UTF-8 sequence at `p` (1 to 4), or 0 if it is not one
  /// (overlong, surrogate, beyond U+10FFFF, stray continuation byte, truncated).
  func utf8SequenceLength(at p: Int) -> Int {
    let c = bytes[p]
    if c < 0x80 { return 1 }
    @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
      p + k < count && bytes[p + k] >= lo && bytes[p + k] <= hi
    }
    switch c {
    case 0xC2...0xDF:
      return cont(1) ? 2 : 0
    case 0xE0:
      return cont(1, 0xA0) && cont(2) ? 3 : 0
    case 0xE1...0xEC, 0xEE...0xEF:
      return cont(1) && cont(2) ? 3 : 0
    case 0xED:
      return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
    case 0xF0:
      return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
    case 0xF1...0xF3:
      return cont(1) && cont(2) && cont(3) ? 4 : 0
    case 0xF4:
      return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
    default:
      return 0
    }
  }

  // MARK: Errors (kept out of line)

  /// The character at `p` for a message: `'x'`, `U+000C`, or `'é'`.
  func describe(at p: Int) -> String {
    let c = bytes[p]
    if c > 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
    if c < 0x80 { return "U+00" + (c < 0x10 ? "0" : "") + String(c, radix: 16, uppercase: true) }
    let n = utf8SequenceLength(at: p)
    if n == 0 { return "byte 0x" + String(c, radix: 16, uppercase: true) }
    return "'" + String(decoding: UnsafeBufferPointer(start: bytes + p, count: n), as: UTF8.self) + "'"
  }

  @inline(never)
  func unexpected(at p: Int, expecting: String) -> JSONParseError {
    if p >= count {
      return JSONParseError(
        reason: .invalidJSON, offset: p,
        message: "unexpected end of input at byte \(p), expected \(expecting)")
    }
    if bytes[p] >= 0x80 && utf8SequenceLength(at: p) == 0 { return invalidUTF8(at: p) }
    return JSONParseError(
      reason: .invalidJSON, offset: p,
      message: "unexpected character \(describe(at: p)) at byte \(p), expected \(expecting)")
  }

  @inline(never)
  func invalidUTF8(at p: Int) -> JSONParseError {
    JSONParseError(reason: .invalidUTF8, offset: p, message: "invalid UTF-8 at byte \(p)")
  }

  @inline(never)
  func unterminated(_ start: Int) -> JSONParseError {
    JSONParseError(
      reason: .invalidJSON, offset: start, message: "unterminated string starting at byte \(start)")
  }

  @inline(never)
  func controlCharacter(at p: Int) -> JSONParseError {
    JSONParseError(
      reason: .invalidJSON, offset: p,
      message: "unescaped control character \(describe(at: p)) in string at byte \(p)")
  }

  @inline(never)
  func tooDeep() -> JSONParseError {
    JSONParseError(
      reason: .nestingTooDeep, offset: i, message: "nesting deeper than \(maxDepth) levels at byte \(i)")
  }
}
