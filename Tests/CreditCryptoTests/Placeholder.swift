import Testing

@Test func placeholder_CreditCryptoTests() { #expect(Bool(true)) }
