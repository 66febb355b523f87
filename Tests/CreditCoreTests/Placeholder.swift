import Testing

@Test func placeholder_CreditCoreTests() { #expect(Bool(true)) }
