import CreditCore
import Testing

@Suite struct RFC3339ParseTests {
  @Test(arguments: [
    ("2026-06-30T23:59:59Z", Instant(1_782_863_999)),
    ("2026-06-30t23:59:59z", 1_782_863_999),
    ("2026-07-01T01:59:59+02:00", 1_782_863_999),
    ("2026-06-30T18:29:59-05:30", 1_782_863_999),
    ("2026-06-30T23:59:59+00:00", 1_782_863_999),
    ("2026-06-30T23:59:59-00:00", 1_782_863_999),
    ("2026-06-30T23:59:59.999Z", 1_782_863_999),
    ("2026-06-30T23:59:59.1Z", 1_782_863_999),
    ("2026-06-30T23:59:59.123456789+00:00", 1_782_863_999),
    ("1970-01-01T00:00:00Z", 0),
    ("1969-12-31T23:59:59Z", -1),
    ("1900-01-01T00:00:00Z", -2_208_988_800),
    ("0001-01-01T00:00:00Z", -62_135_596_800),
    ("9999-12-31T23:59:59Z", 253_402_300_799),
  ])
  func parsesValidTimestamps(text: String, expected: Instant) {
    #expect(RFC3339.parse(text) == expected)
  }

  @Test func acceptsFractionsOfAnyLength() {
    // RFC 3339: time-secfrac = "." 1*DIGIT.
    #expect(RFC3339.parse("2026-06-30T23:59:59.123456789Z") == 1_782_863_999)
    #expect(RFC3339.parse("2026-06-30T23:59:59.1234567891Z") == 1_782_863_999)
  }

  @Test(arguments: [
    ("2024-02-29T12:00:00Z", Instant(1_709_208_000)),  // divisible by 4
    ("2000-02-29T00:00:00Z", 951_782_400),  // divisible by 400
  ])
  func acceptsFebruary29InLeapYears(text: String, expected: Instant) {
    #expect(RFC3339.parse(text) == expected)
  }

  @Test(arguments: [
    "2026-02-29T00:00:00Z",  // not a leap year
    "1900-02-29T00:00:00Z",  // divisible by 100, not by 400
    "2100-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:60:00Z",
    "2026-01-01T00:00:00",  // missing offset
    "2026-01-01T00:00:00Zjunk",
    "2026-01-01T00:00:00Z ",
    "2026-01-01T00:00:00+02:00x",
    "2026-01-01T00:00:00+0200",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00.Z",
    "2026-01-01",
    "2026-1-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "",
    "not a time",
  ])
  func refusesInvalidTimestamps(text: String) {
    #expect(RFC3339.parse(text) == nil)
  }
}

@Suite struct RFC3339FormatTests {
  @Test(arguments: [
    (Instant(1_782_863_999), "2026-06-30T23:59:59Z"),
    (0, "1970-01-01T00:00:00Z"),
    (-1, "1969-12-31T23:59:59Z"),
    (-86_400, "1969-12-31T00:00:00Z"),
    (-86_401, "1969-12-30T23:59:59Z"),
    (-2_208_988_800, "1900-01-01T00:00:00Z"),
    (1_709_208_000, "2024-02-29T12:00:00Z"),
    (951_782_400, "2000-02-29T00:00:00Z"),
    (253_402_300_799, "9999-12-31T23:59:59Z"),
  ])
  func formatsUTCWithWholeSeconds(instant: Instant, expected: String) {
    #expect(RFC3339.format(instant) == expected)
  }

  @Test(arguments: [
    "2026-06-30T23:59:59Z", "1970-01-01T00:00:00Z", "1969-07-20T20:17:40Z", "1600-03-01T00:00:00Z",
    "2024-02-29T23:59:59Z", "2024-12-31T23:59:59Z", "2100-03-01T00:00:00Z", "0001-01-01T00:00:00Z",
  ])
  func formatOfParseRoundTrips(text: String) throws {
    let t = try #require(RFC3339.parse(text))
    #expect(RFC3339.format(t) == text)
  }

  @Test func parseOfFormatRoundTripsAcrossDaysAndYears() {
    // Every 7 hours and 13 seconds over about 130 years around the epoch, including leap days.
    var t: Instant = -2_000_000_000
    while t < 2_100_000_000 {
      #expect(RFC3339.parse(RFC3339.format(t)) == t)
      t += 7 * 3600 + 13
    }
  }
}
