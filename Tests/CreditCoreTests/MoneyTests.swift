import CreditCore
import Testing

@Suite struct MoneyTests {
  @Test(arguments: [
    ("300", Int64(30_000), "300.00"),
    ("300.5", 30_050, "300.50"),
    ("300.50", 30_050, "300.50"),
    ("300.00", 30_000, "300.00"),
    ("0.05", 5, "0.05"),
    ("0.5", 50, "0.50"),
    ("0", 0, "0.00"),
    ("1.500", 150, "1.50"),
    ("1.9900", 199, "1.99"),
    ("007", 700, "7.00"),
    ("999999999999.99", 99_999_999_999_999, "999999999999.99"),
  ])
  func parsesAmountToCentsAndWritesTwoDecimals(text: String, cents: Int64, normalised: String) {
    #expect(Money.parseAmount(text) == cents)
    #expect(Money(cents: cents, currency: "USD").amount == normalised)
  }

  @Test(arguments: [
    "1.999", "1.001", "-1", "+1", "abc", "1.", ".5", "", "1.2.3", " 1", "1 ", "1e2", "1,00", "0x10",
    "\u{0661}",
    "1234567890123",
  ])
  func refusesInvalidAmounts(text: String) {
    #expect(Money.parseAmount(text) == nil)
  }

  @Test func negativeCentsAreWrittenWithASign() {
    #expect(Money(cents: -5, currency: "USD").amount == "-0.05")
    #expect(Money(cents: -12_345, currency: "USD").amount == "-123.45")
  }
}

@Suite struct CourseKeyTests {
  @Test func splitsOrgNumberAndRun() throws {
    let parts = try #require(courseKeyParts("course-v1:MITx+6.002x+2026_T1"))
    #expect(parts.org == "MITx")
    #expect(parts.number == "6.002x")
    #expect(parts.run == "2026_T1")
  }

  @Test(arguments: [
    "MITx+6.002x+2026_T1", "course-v1:MITx+6.002x", "course-v1:MITx+6.002x+2026+extra",
    "course-v1:+6.002x+2026",
    "course-v1:MITx++2026", "course-v1:MITx+6.002x+", "course-v1:", "Course-v1:MITx+6.002x+2026", "",
  ])
  func refusesMalformedKeys(courseId: String) {
    #expect(courseKeyParts(courseId) == nil)
  }
}
