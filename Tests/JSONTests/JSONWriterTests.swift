import JSON
import Testing

/// The escaping the writer promises, one scalar at a time: the reference for the fast writer.
private func referenceEscape(_ s: String) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar.value {
    case 0x22: out += "\\\""
    case 0x5C: out += "\\\\"
    case 0x0A: out += "\\n"
    case 0x0D: out += "\\r"
    case 0x09: out += "\\t"
    case 0x08: out += "\\b"
    case 0x0C: out += "\\f"
    case 0..<0x20, 0x7F:
      let hex = String(scalar.value, radix: 16)
      out += "\\u00" + (hex.count < 2 ? "0" : "") + hex
    case 0x2028: out += "\\u2028"
    case 0x2029: out += "\\u2029"
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

private func written(_ s: String) -> [UInt8] {
  var out: [UInt8] = []
  JSONWriter.writeString(s, into: &out)
  return out
}

@Suite struct JSONWriterTests {
  @Test func escapesExactly() {
    let input = "a\"b\\c/d\n\r\t\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}\u{2028}\u{2029}é😀\u{200F}"
    let expected = #""a\"b\\c/d\n\r\t\b\f\u0000\u0001\u001f\u007f\u2028\u2029é😀"# + "\u{200F}\""
    #expect(written(input) == Array(expected.utf8))
    #expect(JSONWriter.string(.string(input)) == expected)
    #expect(written("") == [0x22, 0x22])
    #expect(written("/") == [0x22, 0x2F, 0x22])
    #expect(written("\u{1B}") == Array(#""\u001b""#.utf8))
    #expect(written("\u{2027}\u{202A}\u{E2}") == Array("\"\u{2027}\u{202A}\u{E2}\"".utf8))
  }

  @Test func everyASCIICharacterMatchesTheReference() {
    for c in 0..<0x80 {
      let s = String(UnicodeScalar(UInt8(c)))
      #expect(written(s) == Array(referenceEscape(s).utf8), "U+\(String(c, radix: 16))")
      // And in the middle of a run long enough for the word-at-a-time scan.
      let long = "0123456789" + s + "abcdefghijklmnopq"
      #expect(written(long) == Array(referenceEscape(long).utf8))
    }
  }

  @Test func specialCharactersAtEveryPosition() throws {
    for special in ["\"", "\\", "\n", "\u{0}", "\u{7F}", "\u{2028}", "\u{2029}", "é", "😀", "\u{200F}"] {
      for length in 0..<24 {
        for position in 0...length {
          var parts = Array(repeating: "x", count: length)
          parts.insert(special, at: position)
          let s = parts.joined()
          #expect(written(s) == Array(referenceEscape(s).utf8))
          #expect(try JSONParser.parse(written(s)) == .string(s))
        }
      }
    }
  }

  @Test func compactOutputInStoredOrder() {
    var object = JSONObject()
    object.append("z", 1)
    object.append(
      "a", [true, false, .null, .number(JSONNumber(text: "1.50")), .number(JSONNumber(text: "-0"))])
    object.append("z", ["k": "v"])
    object.append("e", [:])
    object.append("f", [])
    object.append("n", .number(JSONNumber(text: "1E+2")))
    #expect(
      JSONWriter.string(.object(object))
        == #"{"z":1,"a":[true,false,null,1.50,-0],"z":{"k":"v"},"e":{},"f":[],"n":1E+2}"#)
    #expect(JSONWriter.bytes(.null) == Array("null".utf8))
    #expect(JSONWriter.string(true) == "true")
    #expect(JSONWriter.string(false) == "false")
    #expect(JSONWriter.string(.number(JSONNumber(text: "1e999"))) == "1e999")
  }

  @Test func writeAppends() {
    var out = Array("prefix:".utf8)
    JSONWriter.write(["a": "b"], into: &out)
    JSONWriter.writeString("c\n", into: &out)
    #expect(String(decoding: out, as: UTF8.self) == #"prefix:{"a":"b"}"c\n""#)
  }

  @Test func trickyStringsRoundTrip() throws {
    let strings = [
      "\u{0}", "a\u{0}b", "\u{2028}", "\u{2029}x\u{2028}", "😀", "👩‍👩‍👧‍👦", "\u{200F}שלום\u{200E}", "e\u{301}",
      "\u{FEFF}", "\u{FFFD}", "\u{10FFFF}", "\"\\/\u{8}\u{C}\n\r\t",
      String(repeating: "é\u{1}😀", count: 1000),
      "\u{7F}\u{80}\u{9F}\u{A0}",
    ]
    for s in strings {
      let value: JSONValue = ["k\(s)": [.string(s)]]
      let bytes = JSONWriter.bytes(value)
      #expect(try JSONParser.parse(bytes) == value)
      #expect(try JSONParser.parse(bytes).objectValue?.keys == ["k\(s)"])
      #expect(
        try JSONParser.parse(bytes)["k\(s)"]?.arrayValue?.first?.stringValue?.utf8.elementsEqual(s.utf8)
          == true)
    }
  }

  /// Outputs far beyond the writer's first (stack) buffer, and strings straddling its end.
  @Test func largeOutputs() throws {
    var elements: [JSONValue] = []
    var expected = "["
    for k in 0..<3000 {
      let s = String(repeating: "x", count: k % 37) + (k % 5 == 0 ? "\n\u{2028}" : "é") + String(k)
      elements.append(.string(s))
      expected += (k == 0 ? "" : ",") + referenceEscape(s)
    }
    expected += "]"
    #expect(JSONWriter.string(.array(elements)) == expected)
    #expect(try JSONParser.parse(JSONWriter.bytes(.array(elements))) == .array(elements))
    for length in 1000..<1040 {
      let s = String(repeating: "a", count: length) + "\""
      #expect(JSONWriter.string([.string(s)]) == "[" + referenceEscape(s) + "]")
    }
    let huge = String(repeating: "abcdefghij", count: 1_048_576) + "\u{0}"
    let bytes = JSONWriter.bytes(.string(huge))
    #expect(bytes.count == huge.utf8.count + 7)
    #expect(try JSONParser.parse(bytes) == .string(huge))
  }

  @Test func randomStringsMatchTheReference() throws {
    var rng = SplitMix64(seed: 42)
    let pool: [Unicode.Scalar] =
      (0..<0x80).map { Unicode.Scalar(UInt8($0)) } + [
        "é", "€", "😀", "\u{2028}", "\u{2029}", "\u{200F}", "\u{E2}", "\u{2000}", "\u{10FFFF}",
      ]
    for _ in 0..<2_000 {
      var s = String.UnicodeScalarView()
      for _ in 0..<Int(rng.next() % 40) { s.append(pool[Int(rng.next() % UInt64(pool.count))]) }
      let string = String(s)
      #expect(written(string) == Array(referenceEscape(string).utf8))
      #expect(try JSONParser.parse(written(string)) == .string(string))
    }
  }
}
