import CreditCrypto
import Testing

@Suite struct ConstantTimeTests {
  @Test func equalArrays() {
    #expect(constantTimeEquals([], []))
    #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
    let tag = SHA256.hash(Array("x".utf8))
    #expect(constantTimeEquals(tag, Array(tag)))
  }

  @Test(arguments: [0, 1, 15, 31])
  func differenceAtAnyPosition(index: Int) {
    let a = [UInt8](repeating: 0x5a, count: 32)
    var b = a
    b[index] ^= 0x01
    #expect(!constantTimeEquals(a, b))
  }

  @Test func differentLengths() {
    #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    #expect(!constantTimeEquals([], [0]))
  }
}
