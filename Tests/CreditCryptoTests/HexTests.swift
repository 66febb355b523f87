import CreditCrypto
import Testing

@Suite struct HexTests {
  @Test func encodesLowercase() {
    #expect(Hex.encode([]) == "")
    #expect(Hex.encode([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]) == "00017f80abff")
  }

  @Test(arguments: [0, 1, 2, 31, 32, 255])
  func roundTrip(count: Int) {
    let bytes = randomBytes(count: count, seed: UInt64(count))
    #expect(Hex.decode(Hex.encode(bytes)) == bytes)
  }

  @Test func acceptsEitherCase() {
    #expect(Hex.decode("DEADbeef") == [0xde, 0xad, 0xbe, 0xef])
    #expect(Hex.decode("ABCDEF") == Hex.decode("abcdef"))
    #expect(Hex.decode("") == [])
  }

  @Test(arguments: ["0", "abc", "0g", "zz", " 00", "00 ", "0x00", "é0", "-1", "１２"])
  func rejects(_ input: String) {
    #expect(Hex.decode(input) == nil)
  }
}
