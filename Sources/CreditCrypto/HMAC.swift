/// HMAC with SHA-256 (RFC 2104, test vectors in RFC 4231).
public enum HMACSHA256 {
  /// Returns the 32-byte HMAC-SHA256 tag of `message` under `key`.
  /// Keys longer than the 64-byte block size are hashed first, as RFC 2104 requires.
  public static func authenticate(key: [UInt8], message: [UInt8]) -> [UInt8] {
    let blockSize = SHA256.blockByteCount
    var blockKey = key.count > blockSize ? SHA256.hash(key) : key
    blockKey.append(contentsOf: repeatElement(0, count: blockSize - blockKey.count))

    var inner = SHA256()
    inner.update(blockKey.map { $0 ^ 0x36 })
    inner.update(message)
    let innerDigest = inner.finalize()

    var outer = SHA256()
    outer.update(blockKey.map { $0 ^ 0x5c })
    outer.update(innerDigest)
    return outer.finalize()
  }
}
