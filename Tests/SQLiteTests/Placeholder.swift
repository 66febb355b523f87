import Testing

@Test func placeholder_SQLiteTests() { #expect(Bool(true)) }
