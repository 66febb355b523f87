import CreditCrypto
import Testing

struct DigestVector: Sendable, CustomTestStringConvertible {
  let name: String
  let message: [UInt8]
  let expectedHex: String

  var testDescription: String { name }
}

private func bytesModulo256(_ count: Int) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}

@Suite struct SHA256Tests {
  /// FIPS 180-4 / NIST CSRC example values.
  static let nistVectors: [DigestVector] = [
    DigestVector(
      name: "abc", message: Array("abc".utf8),
      expectedHex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    DigestVector(
      name: "empty", message: [],
      expectedHex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    DigestVector(
      name: "448 bits",
      message: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
      expectedHex: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    DigestVector(
      name: "896 bits",
      message: Array(
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
          + "mnopqrstnopqrstu").utf8),
      expectedHex: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    DigestVector(
      name: "one million a", message: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
      expectedHex: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
  ]

  /// Messages of bytes 0, 1, 2, ... around the padding boundaries; expected values from
  /// `python3 -c 'import hashlib; print(hashlib.sha256(bytes(i % 256 for i in range(n))).hexdigest())'`.
  static let boundaryVectors: [DigestVector] = [
    (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
    (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
    (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
    (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
    (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
    (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
    (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
    (128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5"),
  ].map { DigestVector(name: "\($0.0) bytes", message: bytesModulo256($0.0), expectedHex: $0.1) }

  @Test(arguments: nistVectors + boundaryVectors)
  func oneShot(_ vector: DigestVector) {
    #expect(Hex.encode(SHA256.hash(vector.message)) == vector.expectedHex)
  }

  @Test(arguments: boundaryVectors)
  func byteAtATimeThroughGenericSequence(_ vector: DigestVector) {
    var hasher = SHA256()
    // A lazy map has no contiguous storage, so this exercises the byte-by-byte path.
    hasher.update(vector.message.lazy.map { $0 })
    #expect(Hex.encode(hasher.finalize()) == vector.expectedHex)
  }

  @Test(arguments: [1, 3, 7, 13, 55, 63, 64, 65, 127, 1000, 4099])
  func streamingInChunksEqualsOneShot(chunkSize: Int) {
    let message = randomBytes(count: 10_007, seed: 0x5a256 &+ UInt64(chunkSize))
    var hasher = SHA256()
    var start = 0
    var toggle = false
    while start < message.count {
      let end = min(start + chunkSize, message.count)
      // Alternate between the array-slice (generic, contiguous) and raw-pointer entry points.
      if toggle {
        hasher.update(message[start..<end])
      } else {
        message[start..<end].withUnsafeBytes { hasher.update($0) }
      }
      toggle.toggle()
      start = end
    }
    #expect(hasher.finalize() == SHA256.hash(message))
  }

  @Test func mixedEntryPointsAndReuseAfterFinalize() {
    let message = randomBytes(count: 300, seed: 42)
    var hasher = SHA256()
    hasher.update(Array(message[0..<10]))
    hasher.update(message[10..<100].lazy.map { $0 })
    hasher.update(AnySequence(message[100..<200]))
    message[200...].withUnsafeBytes { hasher.update($0) }
    #expect(hasher.finalize() == SHA256.hash(message))
    // finalize() resets the hasher.
    hasher.update(Array("abc".utf8))
    #expect(
      Hex.encode(hasher.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }
}
