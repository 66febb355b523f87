/// SHA-256 as specified in FIPS 180-4, implemented on the Swift standard library only.
///
/// The hasher is streaming: feed data with any number of `update` calls, then call
/// `finalize()` once. Only a 64-byte block buffer is kept, so arbitrarily large inputs can be
/// hashed without copying them.
public struct SHA256: Sendable {
  /// Size of the digest in bytes.
  public static let digestByteCount = 32
  /// Size of one compression block in bytes.
  public static let blockByteCount = 64

  private var h0: UInt32 = 0x6a09_e667
  private var h1: UInt32 = 0xbb67_ae85
  private var h2: UInt32 = 0x3c6e_f372
  private var h3: UInt32 = 0xa54f_f53a
  private var h4: UInt32 = 0x510e_527f
  private var h5: UInt32 = 0x9b05_688c
  private var h6: UInt32 = 0x1f83_d9ab
  private var h7: UInt32 = 0x5be0_cd19

  /// Partial block waiting for more input; only the first `bufferCount` bytes are meaningful.
  private var buffer = InlineArray<64, UInt8>(repeating: 0)
  private var bufferCount = 0
  /// Total number of message bytes seen so far (modulo 2^64).
  private var messageByteCount: UInt64 = 0

  public init() {}

  /// Adds raw bytes to the message. This is the fast path every other `update` ends up in.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    let count = bytes.count
    messageByteCount &+= UInt64(count)
    var offset = 0

    if bufferCount > 0 {
      let take = Swift.min(Self.blockByteCount - bufferCount, count)
      for i in 0..<take {
        buffer[bufferCount + i] = bytes[i]
      }
      bufferCount += take
      offset = take
      guard bufferCount == Self.blockByteCount else { return }
      compressBuffer()
    }

    let fullBlocks = (count - offset) / Self.blockByteCount
    if fullBlocks > 0 {
      compress(base + offset, blocks: fullBlocks)
      offset += fullBlocks * Self.blockByteCount
    }

    let rest = count - offset
    for i in 0..<rest {
      buffer[i] = bytes[offset + i]
    }
    bufferCount = rest
  }

  /// Adds the bytes of an array to the message.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Adds any sequence of bytes to the message. Contiguous collections (arrays, slices, buffer
  /// pointers) take the fast path; other sequences are consumed byte by byte.
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
    if handled != nil { return }
    for byte in bytes {
      buffer[bufferCount] = byte
      bufferCount += 1
      messageByteCount &+= 1
      if bufferCount == Self.blockByteCount {
        compressBuffer()
      }
    }
  }

  /// Pads the message, returns the 32-byte digest and resets the hasher to its initial state,
  /// so it can be reused for a new message.
  public mutating func finalize() -> [UInt8] {
    let bitLength = messageByteCount &<< 3
    // 0x80, zeros up to 56 mod 64, then the 64-bit big-endian message length in bits.
    let zeroPadded = bufferCount < 56 ? 56 - bufferCount : 120 - bufferCount
    var tail = [UInt8](repeating: 0, count: zeroPadded + 8)
    tail[0] = 0x80
    for i in 0..<8 {
      tail[zeroPadded + i] = UInt8(truncatingIfNeeded: bitLength &>> UInt64(56 - 8 * i))
    }
    update(tail)
    assert(bufferCount == 0)

    var digest = [UInt8]()
    digest.reserveCapacity(Self.digestByteCount)
    for word in [h0, h1, h2, h3, h4, h5, h6, h7] {
      digest.append(UInt8(truncatingIfNeeded: word &>> 24))
      digest.append(UInt8(truncatingIfNeeded: word &>> 16))
      digest.append(UInt8(truncatingIfNeeded: word &>> 8))
      digest.append(UInt8(truncatingIfNeeded: word))
    }
    self = SHA256()
    return digest
  }

  /// One-shot SHA-256 of `bytes`.
  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalize()
  }

  // MARK: - Compression

  private mutating func compressBuffer() {
    var block = buffer
    withUnsafeBytes(of: &block) { compress($0.baseAddress!, blocks: 1) }
    bufferCount = 0
  }

  /// Runs the compression function over `blocks` consecutive 64-byte blocks starting at `data`.
  private mutating func compress(_ data: UnsafeRawPointer, blocks: Int) {
    var (s0, s1, s2, s3, s4, s5, s6, s7) = (h0, h1, h2, h3, h4, h5, h6, h7)
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
      sha256RoundConstants.withUnsafeBufferPointer { k in
        var block = data
        for _ in 0..<blocks {
          for t in 0..<16 {
            w[t] = block.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self).bigEndian
          }
          for t in 16..<64 {
            let x = w[t - 15]
            let y = w[t - 2]
            let sigma0 = rotateRight(x, 7) ^ rotateRight(x, 18) ^ (x &>> 3)
            let sigma1 = rotateRight(y, 17) ^ rotateRight(y, 19) ^ (y &>> 10)
            w[t] = w[t - 16] &+ sigma0 &+ w[t - 7] &+ sigma1
          }

          var (a, b, c, d, e, f, g, h) = (s0, s1, s2, s3, s4, s5, s6, s7)
          for t in 0..<64 {
            let bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
            let choose = (e & f) ^ (~e & g)
            let t1 = h &+ bigSigma1 &+ choose &+ k[t] &+ w[t]
            let bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = bigSigma0 &+ majority
            h = g
            g = f
            f = e
            e = d &+ t1
            d = c
            c = b
            b = a
            a = t1 &+ t2
          }
          s0 &+= a
          s1 &+= b
          s2 &+= c
          s3 &+= d
          s4 &+= e
          s5 &+= f
          s6 &+= g
          s7 &+= h
          block += Self.blockByteCount
        }
      }
    }
    (h0, h1, h2, h3, h4, h5, h6, h7) = (s0, s1, s2, s3, s4, s5, s6, s7)
  }
}

@inline(__always)
private func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 {
  (x &>> n) | (x &<< (32 &- n))
}

/// FIPS 180-4 section 4.2.2: first 32 bits of the fractional parts of the cube roots of the
/// first 64 primes.
private let sha256RoundConstants: [UInt32] = [
  0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
  0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
  0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
  0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
  0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
  0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
  0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
  0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]
