import Foundation
import JSON
import Testing

/// The parsing corpus of JSONTestSuite, vendored in `Tests/Vendor/json-test-suite` (MIT licence).
@Suite struct JSONTestSuiteTests {
  static let corpus: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Tests/JSONTests
    .deletingLastPathComponent()  // Tests
    .appendingPathComponent("Vendor/json-test-suite/test_parsing")

  /// The files whose name starts with `prefix`, with their bytes; records an issue when the corpus
  /// is missing or has no such file.
  static func files(_ prefix: String) -> [(name: String, bytes: [UInt8])] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: corpus.path) else {
      Issue.record("JSONTestSuite corpus is missing: expected it at \(corpus.path)")
      return []
    }
    let files = names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted().compactMap {
      name -> (name: String, bytes: [UInt8])? in
      guard let data = FileManager.default.contents(atPath: corpus.appendingPathComponent(name).path) else {
        Issue.record("cannot read \(name)")
        return nil
      }
      return (name, [UInt8](data))
    }
    if files.isEmpty { Issue.record("JSONTestSuite corpus at \(corpus.path) has no \(prefix)* files") }
    return files
  }

  @Test func acceptsEveryYFileAndRoundTripsIt() {
    let files = Self.files("y_")
    var accepted = 0
    for file in files {
      let value: JSONValue
      do {
        value = try JSONParser.parse(file.bytes)
      } catch {
        Issue.record("\(file.name) must parse: \(error.message)")
        continue
      }
      accepted += 1
      let written = JSONWriter.bytes(value)
      do {
        let again = try JSONParser.parse(written)
        #expect(again == value, "\(file.name): round trip changed the value")
        #expect(JSONWriter.bytes(again) == written, "\(file.name): writing is not stable")
      } catch {
        Issue.record(
          "\(file.name): written form \(JSONWriter.string(value)) does not parse: \(error.message)")
      }
    }
    #expect(accepted == files.count)
    #expect(files.count >= 95)
  }

  @Test func rejectsEveryNFile() {
    let files = Self.files("n_")
    for file in files {
      do {
        let value = try JSONParser.parse(file.bytes)
        Issue.record("\(file.name) must be rejected, parsed as \(JSONWriter.string(value))")
      } catch {
        #expect(!error.message.isEmpty)
        #expect(error.offset >= 0 && error.offset <= file.bytes.count, "\(file.name): offset \(error.offset)")
      }
    }
    #expect(files.count >= 188)
  }

  @Test func decidesEveryIFileWithoutCrashing() {
    let files = Self.files("i_")
    for file in files {
      if let value = try? JSONParser.parse(file.bytes) {
        let again = try? JSONParser.parse(JSONWriter.bytes(value))
        #expect(again == value, "\(file.name): round trip changed the value")
      }
    }
    #expect(files.count >= 35)
  }

  /// The implementation-defined cases, decided as this parser documents.
  @Test func implementationDefinedChoices() throws {
    let files = Dictionary(uniqueKeysWithValues: Self.files("i_").map { ($0.name, $0.bytes) })
    guard !files.isEmpty else { return }  // the issue is recorded
    func parse(_ name: String) throws(JSONParseError) -> JSONValue {
      guard let bytes = files[name] else {
        Issue.record("\(name) is missing from the corpus")
        return .null
      }
      return try JSONParser.parse(bytes)
    }
    // Huge numbers keep their text.
    let huge = String(decoding: files["i_number_huge_exp.json"] ?? [], as: UTF8.self)
      .trimmingCharacters(in: CharacterSet(charactersIn: "[]\n"))
    #expect(huge.hasPrefix("0.4e0066999"))
    #expect(try parse("i_number_huge_exp.json").arrayValue?.first?.numberValue?.text == huge)
    // Lone surrogates become U+FFFD.
    #expect(try parse("i_string_lone_second_surrogate.json") == ["\u{FFFD}"])
    #expect(try parse("i_string_1st_surrogate_but_2nd_missing.json") == ["\u{FFFD}"])
    #expect(try parse("i_structure_500_nested_arrays.json").arrayValue != nil)
    // Invalid UTF-8 and byte-order marks are rejected.
    for name in [
      "i_string_UTF-8_invalid_sequence.json", "i_string_UTF8_surrogate_U+D800.json",
      "i_string_overlong_sequence_2_bytes.json", "i_string_truncated-utf-8.json",
      "i_string_not_in_unicode_range.json", "i_string_lone_utf8_continuation_byte.json",
    ] {
      do {
        _ = try parse(name)
        Issue.record("\(name) must be rejected")
      } catch {
        #expect(error.reason == .invalidUTF8, "\(name): \(error.message)")
      }
    }
    do {
      _ = try parse("i_structure_UTF-8_BOM_empty_object.json")
      Issue.record("a byte-order mark must be rejected")
    } catch {
      #expect(error.reason == .invalidJSON)
    }
  }
}
