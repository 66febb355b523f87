/// Hexadecimal encoding of byte strings.
public enum Hex {
  /// Lowercase hex, two characters per byte.
  public static func encode(_ bytes: [UInt8]) -> String {
    guard !bytes.isEmpty else { return "" }
    let digits: StaticString = "0123456789abcdef"
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
      digits.withUTF8Buffer { digit in
        for (i, byte) in bytes.enumerated() {
          out[2 * i] = digit[Int(byte &>> 4)]
          out[2 * i + 1] = digit[Int(byte & 0x0f)]
        }
      }
      return bytes.count * 2
    }
  }

  /// Decodes hex in either case. Returns `nil` for an odd number of characters or any
  /// character outside `0-9`, `a-f`, `A-F`.
  public static func decode(_ s: String) -> [UInt8]? {
    let utf8 = s.utf8
    guard utf8.count % 2 == 0 else { return nil }
    var result = [UInt8]()
    result.reserveCapacity(utf8.count / 2)
    var high: UInt8? = nil
    for char in utf8 {
      guard let nibble = nibbleValue(char) else { return nil }
      if let h = high {
        result.append(h &<< 4 | nibble)
        high = nil
      } else {
        high = nibble
      }
    }
    return result
  }

  private static func nibbleValue(_ char: UInt8) -> UInt8? {
    switch char {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
