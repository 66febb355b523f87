import CreditCore
import JSON
import JSONRPC

/// The string formats of the wire contract, each a check and its JSON Schema words.
public enum Formats {
  /// Ids chosen by clients: 1-200 characters, no control characters, no surrounding spaces.
  public static func isIdentifier(_ s: String) -> Bool {
    let utf8 = s.utf8
    guard let first = utf8.first, let last = utf8.last, utf8.count <= 800 else { return false }
    // Printable ASCII, the usual case, is decided from the bytes alone.
    if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
      return first != 0x20 && last != 0x20 && utf8.count <= 200
    }
    guard s.unicodeScalars.count <= 200 else { return false }
    if s.first!.isWhitespace || s.last!.isWhitespace { return false }
    return !s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
  }

  public static let identifier = StringFormat(
    expected: "an id of 1 to 200 characters without control characters or surrounding spaces",
    jsonSchema: [
      "pattern": #"^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]{0,198}[^\s\u0000-\u001f\u007f])?$"#
    ],
    isValid: isIdentifier)

  public static let courseId = StringFormat(
    expected: "a course id of the form course-v1:ORG+NUMBER+RUN",
    jsonSchema: ["pattern": #"^course-v1:[^+\s]+\+[^+\s]+\+[^+\s]+$"#],
    isValid: { s in
      let utf8 = s.utf8
      guard utf8.count <= 200, s.hasPrefix("course-v1:") else { return false }
      // Three non-empty parts split by '+', with no spaces or control characters.
      var plus = 0
      var previous: UInt8 = UInt8(ascii: ":")
      for b in utf8.dropFirst(10) {
        if b == UInt8(ascii: "+") {
          if previous == UInt8(ascii: "+") || previous == UInt8(ascii: ":") { return false }
          plus += 1
        } else if b <= 0x20 || b == 0x7F {
          return false
        }
        previous = b
      }
      guard plus == 2, previous != UInt8(ascii: "+"), previous != UInt8(ascii: ":") else { return false }
      return utf8.allSatisfy { $0 < 0x80 }
        || !s.unicodeScalars.contains { $0.properties.isWhitespace || $0.value == 0x85 }
    })

  public static let dateTime = StringFormat(
    expected: "an RFC 3339 timestamp such as 2026-06-30T23:59:59Z",
    jsonSchema: ["format": "date-time"],
    isValid: { RFC3339.parse($0) != nil })

  public static let email = StringFormat(
    expected: "an email address such as ada@example.org",
    jsonSchema: ["format": "email", "pattern": #"^[^@\s]+@[^@\s]+$"#],
    isValid: { s in
      let parts = s.split(separator: "@", omittingEmptySubsequences: false)
      return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
        && !s.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    })

  public static let country = StringFormat(
    expected: "an ISO 3166-1 alpha-2 country code such as US",
    jsonSchema: ["pattern": "^[A-Z]{2}$"],
    isValid: { isoCountries.contains($0) })

  public static let url = StringFormat(
    expected: "an http or https URL",
    jsonSchema: ["format": "uri", "pattern": "^https?://"],
    isValid: { s in
      (s.hasPrefix("https://") || s.hasPrefix("http://"))
        && !s.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    })

  public static let currency = StringFormat(
    expected: "a three-letter ISO 4217 currency code such as USD",
    jsonSchema: ["pattern": "^[A-Z]{3}$"],
    isValid: { $0.utf8.count == 3 && $0.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5A } })

  public static let amount = StringFormat(
    expected: "a decimal amount with at most two decimals, such as \"300.00\"",
    jsonSchema: ["pattern": #"^[0-9]{1,12}(\.[0-9]{1,2}0*)?$"#],
    isValid: { Money.parseAmount($0) != nil })

  public static let base64 = StringFormat(
    expected: "a base64-encoded image",
    jsonSchema: ["contentEncoding": "base64"],
    isValid: { _ in true })

  /// An HMAC-SHA256 in hex: 64 hexadecimal digits, either case.
  public static let hmacHex = StringFormat(
    expected: "an HMAC-SHA256 in hex (64 hexadecimal digits)",
    jsonSchema: ["pattern": "^[0-9a-fA-F]{64}$"],
    isValid: { s in
      s.utf8.count == 64
        && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
    })

  /// The officially assigned ISO 3166-1 alpha-2 codes.
  static let isoCountries: Set<String> = Set(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
    JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
    MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
    RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
    TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
}
