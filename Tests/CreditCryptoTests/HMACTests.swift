import CreditCrypto
import Testing

struct HMACVector: Sendable, CustomTestStringConvertible {
  let number: Int
  let key: [UInt8]
  let data: [UInt8]
  /// Expected tag in hex; may be a prefix of the full tag (test case 5 is truncated).
  let expectedHex: String

  var testDescription: String { "RFC 4231 test case \(number)" }
}

@Suite struct HMACTests {
  static let largeKey = [UInt8](repeating: 0xaa, count: 131)

  static let rfc4231: [HMACVector] = [
    HMACVector(
      number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
      expectedHex: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    HMACVector(
      number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
      expectedHex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    HMACVector(
      number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
      expectedHex: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    HMACVector(
      number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
      expectedHex: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    HMACVector(
      number: 5, key: [UInt8](repeating: 0x0c, count: 20), data: Array("Test With Truncation".utf8),
      expectedHex: "a3b6167473100ee06e0c796c2955552b"),
    HMACVector(
      number: 6, key: largeKey,
      data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
      expectedHex: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    HMACVector(
      number: 7, key: largeKey,
      data: Array(
        ("This is a test using a larger than block-size key and a larger than block-size data. "
          + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
      expectedHex: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
  ]

  @Test(arguments: rfc4231)
  func rfc4231TestCase(_ vector: HMACVector) {
    let tag = HMACSHA256.authenticate(key: vector.key, message: vector.data)
    #expect(tag.count == 32)
    let expected = Hex.decode(vector.expectedHex)!
    #expect(Array(tag.prefix(expected.count)) == expected)
  }

  @Test func keyOfExactlyBlockSizeIsNotHashed() {
    let key = [UInt8](repeating: 0x42, count: 64)
    let message = Array("block-size key".utf8)
    #expect(
      HMACSHA256.authenticate(key: key, message: message)
        != HMACSHA256.authenticate(key: SHA256.hash(key), message: message))
    let longKey = [UInt8](repeating: 0x42, count: 65)
    #expect(
      HMACSHA256.authenticate(key: longKey, message: message)
        == HMACSHA256.authenticate(key: SHA256.hash(longKey), message: message))
  }
}
