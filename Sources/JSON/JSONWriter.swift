/// Compact JSON output as UTF-8 bytes.
///
/// No spaces; object members in stored order; numbers as their `text`. Strings escape `"`, `\`,
/// the control characters (`\n` `\r` `\t` `\b` `\f` by name, the rest and U+007F as `\u00xx`)
/// and U+2028/U+2029 (`\u2028`, `\u2029`); `/` and all other non-ASCII are written as they are.
public enum JSONWriter {
  public static func write(_ value: JSONValue, into out: inout [UInt8]) {
    switch value {
    case .null:
      appendLiteral("null", into: &out)
    case .bool(let b):
      appendLiteral(b ? "true" : "false", into: &out)
    case .number(let n):
      out.append(contentsOf: n.text.utf8)
    case .string(let s):
      writeString(s, into: &out)
    case .array(let elements):
      writeArray(elements, into: &out)
    case .object(let object):
      writeObject(object.members, into: &out)
    }
  }

  // Kept apart from `write` so that its frame, which each level of nesting repeats, stays small.
  static func writeArray(_ elements: [JSONValue], into out: inout [UInt8]) {
    out.append(0x5B)
    var i = 0
    while i < elements.count {
      if i > 0 { out.append(0x2C) }
      write(elements[i], into: &out)
      i += 1
    }
    out.append(0x5D)
  }

  static func writeObject(_ members: [JSONObject.Member], into out: inout [UInt8]) {
    out.append(0x7B)
    var i = 0
    while i < members.count {
      if i > 0 { out.append(0x2C) }
      writeString(members[i].key, into: &out)
      out.append(0x3A)
      write(members[i].value, into: &out)
      i += 1
    }
    out.append(0x7D)
  }

  public static func bytes(_ value: JSONValue) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(128)
    write(value, into: &out)
    return out
  }

  public static func string(_ value: JSONValue) -> String {
    String(decoding: bytes(value), as: UTF8.self)
  }

  /// Appends `s` quoted and escaped.
  public static func writeString(_ s: String, into out: inout [UInt8]) {
    out.append(0x22)
    var s = s
    s.withUTF8 { appendEscaped($0, into: &out) }
    out.append(0x22)
  }

  @inline(__always)
  static func appendLiteral(_ literal: StaticString, into out: inout [UInt8]) {
    out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
  }

  static func appendEscaped(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
    guard let base = text.baseAddress else { return }
    let count = text.count
    var i = 0
    var run = 0
    while true {
      while i &+ 8 <= count {
        let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if writerWordNeedsAttention(word) { break }
        i &+= 8
      }
      guard i < count else { break }
      let c = base[i]
      if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C {
        i += 1
        continue
      }
      if c >= 0x80 {
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; other non-ASCII passes through.
        if c == 0xE2, i + 2 < count, base[i + 1] == 0x80, base[i + 2] & 0xFE == 0xA8 {
          out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run))
          appendLiteral(base[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", into: &out)
          i += 3
          run = i
        } else {
          i += 1
        }
        continue
      }
      out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run))
      switch c {
      case 0x22: appendLiteral("\\\"", into: &out)
      case 0x5C: appendLiteral("\\\\", into: &out)
      case 0x0A: appendLiteral("\\n", into: &out)
      case 0x0D: appendLiteral("\\r", into: &out)
      case 0x09: appendLiteral("\\t", into: &out)
      case 0x08: appendLiteral("\\b", into: &out)
      case 0x0C: appendLiteral("\\f", into: &out)
      default:
        let hex: StaticString = "0123456789abcdef"
        appendLiteral("\\u00", into: &out)
        out.append(hex.utf8Start[Int(c >> 4)])
        out.append(hex.utf8Start[Int(c & 0xF)])
      }
      i += 1
      run = i
    }
    out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: count - run))
  }
}
