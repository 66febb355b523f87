import CreditCore
import JSON
import JSONRPC

/// The string formats of the wire contract, each a check and its JSON Schema words.
public enum Formats {
  /// Ids chosen by clients: 1-200 characters, no control characters, no surrounding spaces.
  public static func isIdentifier(_ s: String) -> Bool {
    guard !s.isEmpty, s.utf8.count <= 800, s.unicodeScalars.count <= 200 else { return false }
    // ASCII first: Character.isWhitespace is costly and ids are checked on every request.
    func blank(_ c: Character) -> Bool { c.isASCII ? (c == " " || c == "\t") : c.isWhitespace }
    if blank(s.first!) || blank(s.last!) { return false }
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
      guard s.utf8.count <= 200, let parts = courseKeyParts(s) else { return false }
      return [parts.org, parts.number, parts.run].allSatisfy { p in
        !p.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
      }
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
