import Testing

@Test func placeholder_CreditRPCTests() { #expect(Bool(true)) }
