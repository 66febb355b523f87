import CreditCrypto
import Testing

struct Base64Vector: Sendable, CustomTestStringConvertible {
  let plain: String
  let encoded: String

  var testDescription: String { "\"\(plain)\"" }
}

struct Base64Rejection: Sendable, CustomTestStringConvertible {
  let input: String
  let error: Base64.DecodeError

  var testDescription: String { "\"\(input)\" -> \(error)" }
}

@Suite struct Base64Tests {
  static let limit = 1 << 20

  /// RFC 4648 section 10.
  static let rfc4648: [Base64Vector] = [
    ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
    ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
  ].map { Base64Vector(plain: $0.0, encoded: $0.1) }

  @Test(arguments: rfc4648)
  func encodes(_ vector: Base64Vector) {
    #expect(Base64.encode(Array(vector.plain.utf8)) == vector.encoded)
  }

  @Test(arguments: rfc4648)
  func decodesPadded(_ vector: Base64Vector) throws {
    #expect(try Base64.decode(vector.encoded, maxDecodedBytes: Self.limit) == Array(vector.plain.utf8))
  }

  @Test(arguments: rfc4648)
  func decodesUnpadded(_ vector: Base64Vector) throws {
    var unpadded = vector.encoded
    while unpadded.hasSuffix("=") { unpadded.removeLast() }
    #expect(try Base64.decode(unpadded, maxDecodedBytes: Self.limit) == Array(vector.plain.utf8))
  }

  @Test(arguments: rfc4648)
  func digestMatchesVector(_ vector: Base64Vector) throws {
    let result = try Base64.digest(vector.encoded, maxDecodedBytes: Self.limit)
    #expect(result.sha256 == SHA256.hash(Array(vector.plain.utf8)))
    #expect(result.byteCount == vector.plain.utf8.count)
  }

  @Test func fullAlphabet() throws {
    let bytes: [UInt8] = [0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0xff, 0xef, 0xbe]
    #expect(Base64.encode(bytes) == "ABCDEFGHIJKL/+++")
    #expect(try Base64.decode("ABCDEFGHIJKL/+++", maxDecodedBytes: 12) == bytes)
  }

  static let rejections: [Base64Rejection] = [
    // Characters outside the alphabet, with their UTF-8 byte offset.
    Base64Rejection(input: "Zm9v!mFy", error: .invalidCharacter(offset: 4)),
    Base64Rejection(input: "Zm9vYmF-", error: .invalidCharacter(offset: 7)),
    Base64Rejection(input: "Zm9vYmF_", error: .invalidCharacter(offset: 7)),
    Base64Rejection(input: "Zm9v Ym", error: .invalidCharacter(offset: 4)),
    Base64Rejection(input: "Zm9v\nYmFy", error: .invalidCharacter(offset: 4)),
    Base64Rejection(input: " Zm9v", error: .invalidCharacter(offset: 0)),
    Base64Rejection(input: "Zé==", error: .invalidCharacter(offset: 1)),
    Base64Rejection(input: "Z!", error: .invalidCharacter(offset: 1)),
    // Bad padding.
    Base64Rejection(input: "Zg=", error: .invalidPadding),
    Base64Rejection(input: "Zg===", error: .invalidPadding),
    Base64Rejection(input: "Z===", error: .invalidPadding),
    Base64Rejection(input: "=Zg=", error: .invalidPadding),
    Base64Rejection(input: "====", error: .invalidPadding),
    Base64Rejection(input: "==", error: .invalidPadding),
    Base64Rejection(input: "Zg==Zg==", error: .invalidPadding),
    Base64Rejection(input: "Zm9=v", error: .invalidPadding),
    Base64Rejection(input: "Z=", error: .invalidPadding),
    // The first problem wins: a bad character before a misplaced '=' and vice versa.
    Base64Rejection(input: "Z!=g", error: .invalidCharacter(offset: 1)),
    Base64Rejection(input: "Z=!g", error: .invalidPadding),
    // Characters are checked before length and padding structure.
    Base64Rejection(input: "Zm9vY!", error: .invalidCharacter(offset: 5)),
    Base64Rejection(input: "Z!=", error: .invalidCharacter(offset: 1)),
    Base64Rejection(input: "!", error: .invalidCharacter(offset: 0)),
    // Non-zero unused bits in the last symbol (non-canonical encodings of "f" and "fo").
    Base64Rejection(input: "Zh==", error: .invalidPadding),
    Base64Rejection(input: "Zh", error: .invalidPadding),
    Base64Rejection(input: "Zm9=", error: .invalidPadding),
    // A single leftover symbol cannot encode a byte.
    Base64Rejection(input: "Z", error: .invalidLength),
    Base64Rejection(input: "Zm9vY", error: .invalidLength),
  ]

  @Test(arguments: rejections)
  func rejectsInDecode(_ rejection: Base64Rejection) {
    #expect(throws: rejection.error) { try Base64.decode(rejection.input, maxDecodedBytes: Self.limit) }
  }

  @Test(arguments: rejections)
  func rejectsInDigest(_ rejection: Base64Rejection) {
    #expect(throws: rejection.error) { try Base64.digest(rejection.input, maxDecodedBytes: Self.limit) }
  }

  @Test func invalidCharacterOffsetBeyondFirstDigestChunk() {
    var encoded = Base64.encode(randomBytes(count: 30_000, seed: 7))
    let index = encoded.utf8.index(encoded.utf8.startIndex, offsetBy: 25_001)
    encoded.replaceSubrange(index...index, with: "*")
    #expect(throws: Base64.DecodeError.invalidCharacter(offset: 25_001)) {
      try Base64.digest(encoded, maxDecodedBytes: Self.limit)
    }
    #expect(throws: Base64.DecodeError.invalidCharacter(offset: 25_001)) {
      try Base64.decode(encoded, maxDecodedBytes: Self.limit)
    }
  }

  @Test func limitIsExact() throws {
    #expect(try Base64.decode("Zm9vYmFy", maxDecodedBytes: 6).count == 6)
    #expect(try Base64.decode("Zm9vYg==", maxDecodedBytes: 4).count == 4)
    #expect(try Base64.decode("Zm9vYg", maxDecodedBytes: 4).count == 4)
    #expect(try Base64.decode("", maxDecodedBytes: 0) == [])
    #expect(throws: Base64.DecodeError.tooLarge(limit: 5)) {
      try Base64.decode("Zm9vYmFy", maxDecodedBytes: 5)
    }
    #expect(throws: Base64.DecodeError.tooLarge(limit: 3)) {
      try Base64.digest("Zm9vYg==", maxDecodedBytes: 3)
    }
  }

  @Test func tooLargeIsDecidedFromLengthAlone() {
    // 100 MiB of characters that are not even valid base64: if anything were decoded first, the
    // error would be `.invalidCharacter(offset: 0)`, so `.tooLarge` proves the length came first.
    let hugeCount = 100 << 20
    let huge = String(unsafeUninitializedCapacity: hugeCount) { buffer in
      buffer.initialize(repeating: UInt8(ascii: "!"))
      return hugeCount
    }
    #expect(huge.utf8.count == hugeCount)
    let limit = 10 << 20
    #expect(throws: Base64.DecodeError.tooLarge(limit: limit)) {
      try Base64.decode(huge, maxDecodedBytes: limit)
    }
    #expect(throws: Base64.DecodeError.tooLarge(limit: limit)) {
      try Base64.digest(huge, maxDecodedBytes: limit)
    }
  }

  /// Sizes around the 12 288-byte (16 384-symbol) digest chunk, and a few others.
  @Test(arguments: [0, 1, 2, 3, 4, 100, 12_287, 12_288, 12_289, 24_576, 50_001])
  func digestEqualsHashOfDecode(size: Int) throws {
    let bytes = randomBytes(count: size, seed: 0xb64 &+ UInt64(size))
    let padded = Base64.encode(bytes)
    var unpadded = padded
    while unpadded.hasSuffix("=") { unpadded.removeLast() }

    let decoded = try Base64.decode(padded, maxDecodedBytes: size)
    #expect(decoded == bytes)
    #expect(try Base64.decode(unpadded, maxDecodedBytes: size) == bytes)

    for input in [padded, unpadded] {
      let result = try Base64.digest(input, maxDecodedBytes: size)
      #expect(result.sha256 == SHA256.hash(decoded))
      #expect(result.byteCount == size)
    }
  }

  @Test func decodesNonNativeStringStorage() throws {
    // A substring-derived string, to make sure storage handling is not tied to one representation.
    let text = "xxZm9vYmFyxx"
    let middle = String(text.dropFirst(2).dropLast(2))
    #expect(try Base64.decode(middle, maxDecodedBytes: 6) == Array("foobar".utf8))
  }
}
