/// A value to bind to a statement parameter, and the types the wrapper reads back: BIGINT, DOUBLE
/// PRECISION, TEXT and BYTEA (SQLite's INTEGER, REAL, TEXT and BLOB).
public enum Value: Sendable, Equatable {
  case null
  case int(Int64)
  case double(Double)
  case text(String)
  case blob([UInt8])

  public static func int(_ v: Int) -> Value { .int(Int64(v)) }
  public static func bool(_ v: Bool) -> Value { .int(v ? 1 : 0) }
  public static func optional(_ s: String?) -> Value { s.map(Value.text) ?? .null }
  public static func optional(_ d: Double?) -> Value { d.map(Value.double) ?? .null }
  public static func optional(_ i: Int64?) -> Value { i.map(Value.int) ?? .null }

  /// The parameter type a statement is prepared with when this is the first value bound to it
  /// (0 lets the server infer it from the SQL): int8, float8, text, bytea.
  var typeOID: UInt32 {
    switch self {
    case .null: return 0
    case .int: return 20
    case .double: return 701
    case .text: return 25
    case .blob: return 17
    }
  }
}

/// The text PostgreSQL parses back into the same double: Swift's shortest round-trip digits.
func doubleText(_ d: Double) -> String {
  if d.isNaN { return "NaN" }
  if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
  return "\(d)"
}

/// A double from PostgreSQL's text output ("0.7", "1e+20", "Infinity", "NaN").
func parseDouble(_ s: String) -> Double {
  switch s {
  case "Infinity": return .infinity
  case "-Infinity": return -.infinity
  case "NaN": return .nan
  default: return Double(s) ?? 0
  }
}

/// The bytes of a BYTEA in text output: hex (`\x0a0b`, the default) or the old escape format.
func decodeBytea(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8] {
  func hexDigit(_ c: UInt8) -> UInt8 {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x61...0x66: return c - 0x61 + 10
    case 0x41...0x46: return c - 0x41 + 10
    default: return 0
    }
  }
  if p.count >= 2, p[0] == 0x5C, p[1] == 0x78 {
    var out: [UInt8] = []
    out.reserveCapacity((p.count - 2) / 2)
    var i = 2
    while i + 1 < p.count {
      out.append(hexDigit(p[i]) << 4 | hexDigit(p[i + 1]))
      i += 2
    }
    return out
  }
  var out: [UInt8] = []
  var i = 0
  while i < p.count {
    if p[i] == 0x5C, i + 1 < p.count, p[i + 1] == 0x5C {
      out.append(0x5C)
      i += 2
    } else if p[i] == 0x5C, i + 3 < p.count {
      out.append((p[i + 1] - 0x30) << 6 | (p[i + 2] - 0x30) << 3 | (p[i + 3] - 0x30))
      i += 4
    } else {
      out.append(p[i])
      i += 1
    }
  }
  return out
}
