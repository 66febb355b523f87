import Foundation
import JSON
import Testing

/// Parses `bytes`, returning the error (or nil when it parses).
private func parseError(_ bytes: [UInt8], maxDepth: Int = 512) -> JSONParseError? {
  do {
    _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
    return nil
  } catch {
    return error
  }
}

private func parseError(_ text: String, maxDepth: Int = 512) -> JSONParseError? {
  parseError(Array(text.utf8), maxDepth: maxDepth)
}

private func nested(_ depth: Int) -> String {
  String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
}

@Suite struct JSONParserTests {
  // MARK: Values

  @Test func parsesEveryKindOfValue() throws {
    let value = try JSONParser.parse(
      #" { "a" : [ 1 , -2.5e3 , true , false , null , "s" , { } , [ ] ] , "b" : {"c":"d"} } "#)
    let expected: JSONValue = [
      "a": [
        .number(JSONNumber(text: "1")), .number(JSONNumber(text: "-2.5e3")), true, false, .null, "s", [:], [],
      ],
      "b": ["c": "d"],
    ]
    #expect(value == expected)
    #expect(try JSONParser.parse("\t\r\n 7 \n") == 7)
    #expect(try JSONParser.parse("\"\"") == "")
  }

  @Test func everyEntryPointAgrees() throws {
    let text = #"{"jsonrpc":"2.0","id":1,"method":"m","params":["é",2]}"#
    let bytes = Array(text.utf8)
    let fromString = try JSONParser.parse(text)
    #expect(try JSONParser.parse(bytes) == fromString)
    #expect(try JSONParser.parse(([0x20] + bytes + [0x20])[1...]) == fromString)
    #expect(try bytes.withUnsafeBytes { try JSONParser.parse($0) } == fromString)
    #expect(try JSONParser.parse(bytes[..<9] + bytes[9...]) == fromString)
    // A slice not starting at index 0.
    let padded: [UInt8] = Array("xx".utf8) + bytes
    #expect(try JSONParser.parse(padded[2...]) == fromString)
  }

  @Test func numberTextIsKept() throws {
    for text in ["1.50", "-0", "1E+2", "1e999", "-0.0e-0", "0", "12345678901234567890123", "1E-400", "0.1"] {
      let value = try JSONParser.parse("[\(text)]")
      #expect(value.arrayValue?.first?.numberValue?.text == text)
      #expect(JSONWriter.string(value) == "[\(text)]")
    }
    #expect(try JSONParser.parse("-0").numberValue?.text == "-0")
  }

  @Test func rejectsNumbersOutsideTheGrammar() {
    for text in [
      "01", "-01", "00", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-", "--1", "NaN", "Infinity", "-Infinity",
      "0x10", "1_000", "1.5.5", "1ee5", "[1.]", "[-]", "[01]", "[1e]", "1 2", "- 1",
    ] {
      let error = parseError(text)
      #expect(error?.reason == .invalidJSON, "\(text)")
    }
    #expect(parseError("01")?.message == "leading zero in number at byte 0")
    #expect(parseError("[-01]")?.offset == 2)
  }

  @Test func rejectsOtherSyntaxErrors() {
    for text in [
      "", " ", "[", "]", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}", "{\"a\" 1}", "{1:1}", "{'a':1}",
      "[1 2]", "[1,,2]", "tru", "truex", "nul", "True", "[1]]", "{}}", "[1] x", "/* c */ 1", "1 // c",
      "[1]\u{0C}", "\u{0C}[1]", "\u{A0}1", "\"abc", "'a'", "[\"a\",]", "{\"a\":1 \"b\":2}", "nulll",
    ] {
      #expect(parseError(text)?.reason == .invalidJSON, "\(text.debugDescription)")
    }
  }

  // MARK: Error reports

  @Test func errorsSayWhatAndWhere() {
    let garbage = parseError("[1, 2, x]")
    #expect(
      garbage
        == JSONParseError(
          reason: .invalidJSON, offset: 7, message: "unexpected character 'x' at byte 7, expected a value"))
    #expect(parseError("[1,]")?.offset == 3)
    #expect(parseError("{\"a\":\"xyz")?.message == "unterminated string starting at byte 5")
    #expect(parseError("{\"a\":\"xyz")?.offset == 5)
    #expect(parseError("[1")?.message == "unexpected end of input at byte 2, expected ',' or ']'")
    #expect(parseError("")?.reason == .invalidJSON)
    #expect(parseError("[\"a\u{1}\"]")?.message == "unescaped control character U+0001 in string at byte 3")
    #expect(parseError("\"\\x\"")?.message == "invalid escape 'x' at byte 1")
    #expect(parseError(#"["\u12"]"#)?.message == "invalid \\u escape at byte 2: expected four hex digits")
    #expect(parseError(#"["\u12"#)?.message == "unterminated string starting at byte 1")
    #expect(parseError("[é]")?.message == "unexpected character 'é' at byte 1, expected a value")
    #expect(
      parseError([0x22, 0x61, 0xFF, 0x22])
        == JSONParseError(
          reason: .invalidUTF8, offset: 2, message: "invalid UTF-8 at byte 2"))
    #expect(parseError(nested(600))?.message == "nesting deeper than 512 levels at byte 512")
    #expect(JSONParseError.Reason.invalidJSON.rawValue == "invalid_json")
    #expect(JSONParseError.Reason.invalidUTF8.rawValue == "invalid_utf8")
    #expect(JSONParseError.Reason.nestingTooDeep.rawValue == "nesting_too_deep")
  }

  @Test func byteOrderMarkIsInvalidJSON() {
    let error = parseError([0xEF, 0xBB, 0xBF, 0x7B, 0x7D])
    #expect(error?.reason == .invalidJSON)
    #expect(error?.offset == 0)
    #expect(parseError([0xEF, 0xBB])?.reason == .invalidUTF8)
  }

  // MARK: Nesting

  @Test func depthLimit() {
    #expect(parseError(nested(512)) == nil)
    #expect(parseError(nested(513))?.reason == .nestingTooDeep)
    #expect(parseError(nested(513))?.offset == 512)
    let objects512 = String(repeating: "{\"a\":", count: 511) + "{}" + String(repeating: "}", count: 511)
    #expect(parseError(objects512) == nil)
    let objects513 = String(repeating: "{\"a\":", count: 512) + "{}" + String(repeating: "}", count: 512)
    #expect(parseError(objects513)?.reason == .nestingTooDeep)
    let mixed513 = String(repeating: "[{\"k\":", count: 256) + "[1]" + String(repeating: "}]", count: 256)
    #expect(parseError(mixed513)?.reason == .nestingTooDeep)
    #expect(parseError(nested(3), maxDepth: 3) == nil)
    #expect(parseError(nested(4), maxDepth: 3)?.reason == .nestingTooDeep)
    #expect(parseError("[]", maxDepth: 0)?.reason == .nestingTooDeep)
    #expect(parseError("1", maxDepth: 0) == nil)
  }

  @Test func hundredThousandOpeningBracketsAreTooDeep() {
    let error = parseError([UInt8](repeating: 0x5B, count: 100_000))
    #expect(error?.reason == .nestingTooDeep)
    #expect(parseError(String(repeating: "{\"a\":", count: 100_000))?.reason == .nestingTooDeep)
    #expect(parseError(String(repeating: "[{\"\":", count: 50_000))?.reason == .nestingTooDeep)
    // A generous limit is still safe: the parser does not recurse.
    let deep = [UInt8](repeating: 0x5B, count: 100_000) + [UInt8](repeating: 0x5D, count: 100_000)
    #expect(parseError(deep, maxDepth: 50_000)?.reason == .nestingTooDeep)
  }

  /// Parsing, writing and freeing 512 levels on a thread with a 512 KiB stack (in a debug build).
  @Test func depth512OnASmallStack() async {
    let text = String(repeating: "[{\"a\":", count: 256) + "1" + String(repeating: "}]", count: 256)
    let written = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
      let thread = Thread {
        var result: String?
        do {
          let written = JSONWriter.string(try JSONParser.parse(text))
          if JSONWriter.string(try JSONParser.parse(written)) == written { result = written }
        } catch {}
        continuation.resume(returning: result)
      }
      thread.stackSize = 512 * 1024
      thread.start()
    }
    #expect(written == text)
  }

  // MARK: Strings

  @Test func escapes() throws {
    #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == "\"\\/\u{8}\u{C}\n\r\t")
    #expect(try JSONParser.parse(#""\u0041\u00e9\u00E9\u20AC\u0000""#) == "Aéé€\u{0}")
    #expect(try JSONParser.parse(#""a\nb""#).stringValue?.utf8.count == 3)
    for bad in [#""\x""#, #""\U0041""#, #""\u12""#, #""\u12G4""#, #""\'""#, #""\""#, #""\u"#, "\"\\\u{0}\""] {
      #expect(parseError(bad)?.reason == .invalidJSON, "\(bad)")
    }
  }

  @Test func surrogatePairsMakeOneScalar() throws {
    #expect(try JSONParser.parse(#""\ud83d\ude00""#) == "😀")
    #expect(try JSONParser.parse(#""\uD834\uDD1E""#) == "\u{1D11E}")
    #expect(try JSONParser.parse(#""\udbff\udfff""#) == "\u{10FFFF}")
    #expect(try JSONParser.parse(#""\ud800\udc00""#) == "\u{10000}")
    #expect(try JSONParser.parse(#""x\ud83d\ude00y""#).stringValue?.unicodeScalars.count == 3)
  }

  @Test func loneSurrogatesBecomeReplacementCharacters() throws {
    #expect(try JSONParser.parse(#""\ud800""#) == "\u{FFFD}")
    #expect(try JSONParser.parse(#""\udc00""#) == "\u{FFFD}")
    #expect(try JSONParser.parse(#""\udfff""#) == "\u{FFFD}")
    #expect(try JSONParser.parse(#""\ud800x""#) == "\u{FFFD}x")
    #expect(try JSONParser.parse(#""\ud800\u0041""#) == "\u{FFFD}A")
    #expect(try JSONParser.parse(#""\ud800\ud800""#) == "\u{FFFD}\u{FFFD}")
    #expect(try JSONParser.parse(#""\ud800\ud800\udc00""#) == "\u{FFFD}\u{10000}")
    #expect(try JSONParser.parse(#""\ude00\ud83d""#) == "\u{FFFD}\u{FFFD}")
    #expect(try JSONParser.parse(#""\ud800\n""#) == "\u{FFFD}\n")
    #expect(try JSONParser.parse(#"{"\udc00":1}"#) == ["\u{FFFD}": 1])
    #expect(parseError(#""\ud800\u12""#)?.reason == .invalidJSON)
    #expect(parseError(#""\ud800"#)?.reason == .invalidJSON)
  }

  @Test func controlCharactersMustBeEscaped() throws {
    for c in UInt8(0)..<0x20 {
      #expect(parseError([0x22, 0x61, c, 0x22])?.reason == .invalidJSON, "raw \(c)")
      #expect(parseError([0x22, 0x5C, 0x6E, c, 0x22])?.reason == .invalidJSON, "raw \(c) after an escape")
    }
    #expect(try JSONParser.parse([0x22, 0x7F, 0x22]) == "\u{7F}")
    #expect(try JSONParser.parse(#""\u0000""#).stringValue == "\u{0}")
    #expect(parseError([0x5B, 0x00, 0x5D])?.reason == .invalidJSON)
    #expect(parseError([0x31, 0x00])?.reason == .invalidJSON)
  }

  @Test func validUTF8IsAccepted() throws {
    let text = "é€😀\u{200F}\u{2028}\u{10FFFF}\u{FEFF}日本語"
    #expect(try JSONParser.parse("\"\(text)\"") == .string(text))
    #expect(try JSONParser.parse("{\"\(text)\":\"\\n\(text)\"}") == [text: .string("\n" + text)])
  }

  @Test func invalidUTF8IsRejectedEverywhere() {
    let bad: [[UInt8]] = [
      [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
      [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
      [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF],
      [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3, 0x41], [0xE2, 0x41, 0x82],
      [0xFC, 0x80, 0x80, 0x80, 0x80, 0xAF],
    ]
    for sequence in bad {
      #expect(parseError([0x22] + sequence + [0x22])?.reason == .invalidUTF8, "in a string: \(sequence)")
      #expect(parseError([0x22, 0x5C, 0x6E] + sequence + [0x22])?.reason == .invalidUTF8, "after an escape")
      #expect(parseError([0x22] + sequence)?.reason == .invalidUTF8, "truncated: \(sequence)")
      #expect(parseError([0x5B] + sequence + [0x5D])?.reason == .invalidUTF8, "in an array: \(sequence)")
      #expect(parseError([0x31, 0x20] + sequence)?.reason == .invalidUTF8, "after the value: \(sequence)")
      #expect(parseError([0x7B, 0x22, 0x61, 0x22] + sequence)?.reason == .invalidUTF8, "after a key")
    }
    #expect(parseError([0x22, 0x61, 0x62, 0xED, 0xA0, 0x80, 0x22])?.offset == 3)
  }

  /// Each kind of special byte at every position across the word-at-a-time scan's boundaries.
  @Test func specialBytesAtEveryPosition() throws {
    for length in 0..<40 {
      for position in 0..<max(length, 1) {
        var plain = [UInt8](repeating: 0x61, count: length)
        #expect(
          try JSONParser.parse([0x22] + plain + [0x22]) == .string(String(repeating: "a", count: length)))
        guard length > 0 else { continue }
        plain[position] = 0x0A
        #expect(parseError([0x22] + plain + [0x22])?.offset == position + 1)
        plain[position] = 0xFF
        #expect(
          parseError([0x22] + plain + [0x22])
            == JSONParseError(
              reason: .invalidUTF8, offset: position + 1, message: "invalid UTF-8 at byte \(position + 1)"))
        plain[position] = 0x22
        #expect(parseError([0x22] + plain + [0x22])?.offset == position + 2)
        var escaped = Array(repeating: "a", count: length)
        escaped[position] = "\\n"
        var expected = Array(repeating: "a", count: length)
        expected[position] = "\n"
        #expect(try JSONParser.parse("\"\(escaped.joined())\"") == .string(expected.joined()))
        escaped[position] = "é"
        #expect(try JSONParser.parse("\"\(escaped.joined())\"") == .string(escaped.joined()))
        escaped[position] = "\u{7F}"
        #expect(try JSONParser.parse("\"\(escaped.joined())\"") == .string(escaped.joined()))
      }
    }
  }

  @Test func duplicateKeysAreKeptInOrder() throws {
    let object = try #require(try JSONParser.parse(#"{"b":1,"a":2,"b":3,"a":4}"#).objectValue)
    #expect(object.keys == ["b", "a", "b", "a"])
    #expect(object.members.map(\.value) == [1, 2, 3, 4])
    #expect(object["b"] == 3)
    #expect(object == object)
    #expect(JSONWriter.string(.object(object)) == #"{"b":1,"a":2,"b":3,"a":4}"#)
  }

  // MARK: Robustness

  @Test func hugeStrings() throws {
    let size = 10 * 1024 * 1024
    var bytes = [UInt8](repeating: 0x61, count: size + 2)
    bytes[0] = 0x22
    bytes[size + 1] = 0x22
    #expect(try JSONParser.parse(bytes).stringValue?.utf8.count == size)
    bytes[size] = 0x6E
    bytes[size - 1] = 0x5C
    #expect(try JSONParser.parse(bytes).stringValue?.utf8.count == size - 1)
    bytes.removeLast()
    #expect(parseError(bytes)?.message == "unterminated string starting at byte 0")
    let nonASCII = "\"" + String(repeating: "é€😀", count: 300_000) + "\""
    #expect(try JSONParser.parse(nonASCII).stringValue?.unicodeScalars.count == 900_000)
  }

  @Test func everyTruncationIsRejected() {
    let text = Array(
      #"{"jsonrpc":"2.0","id":[1.5e-3,true,false,null],"method":"é😀\u00e9\ud83d\ude00","params":{"a":{}}}"#
        .utf8)
    #expect(parseError(text) == nil)
    for end in 0..<text.count {
      #expect(parseError(Array(text[..<end])) != nil, "prefix of \(end) bytes")
    }
  }

  @Test func randomAndMutatedInputNeverCrash() {
    var rng = SplitMix64(seed: 0x5EED)
    let seeds = [
      #"{"jsonrpc":"2.0","id":1,"method":"getRequirements","params":{"learnerId":"alice"}}"#,
      #"[1,-2.5e+3,"\ud83d\ude00\n",{"a":[true,false,null]},"é€",0]"#,
    ].map { Array($0.utf8) }
    let alphabet = Array(#"{}[]:,"\/ubfnrt0123456789+-.eE aé"#.utf8) + [0x00, 0x0A, 0xFF, 0xC3, 0xED, 0xF4]
    var parsed = 0
    for round in 0..<30_000 {
      var bytes: [UInt8]
      switch round % 3 {
      case 0:
        bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      case 1:
        bytes = (0..<Int(rng.next() % 64)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
      default:
        bytes = seeds[Int(rng.next() % 2)]
        for _ in 0...(rng.next() % 3) {
          let at = Int(rng.next() % UInt64(bytes.count))
          switch rng.next() % 3 {
          case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
          case 1: bytes.remove(at: at)
          default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
          }
        }
      }
      if let value = try? JSONParser.parse(bytes) {
        parsed += 1
        #expect((try? JSONParser.parse(JSONWriter.bytes(value))) == value, "\(bytes)")
      }
    }
    #expect(parsed > 0)
  }
}

/// A small seeded generator, so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
