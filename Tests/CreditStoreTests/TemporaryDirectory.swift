#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fresh directory under /tmp, removed with everything in it when the value goes away.
final class TemporaryDirectory {
  let path: String

  init() {
    var template = Array("/tmp/credit-core-tests-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  deinit {
    if let dir = opendir(path) {
      while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name != "." && name != ".." { unlink("\(path)/\(name)") }
      }
      closedir(dir)
    }
    rmdir(path)
  }

  func file(_ name: String) -> String { "\(path)/\(name)" }

  /// Writes `bytes` to a file in this directory.
  func create(_ name: String, _ bytes: [UInt8]) {
    let fd = open(file(name), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot create \(name)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
  }

  /// The permission bits of a file, or nil when it does not exist.
  func mode(_ name: String) -> mode_t? {
    var st = stat()
    guard stat(file(name), &st) == 0 else { return nil }
    return st.st_mode & 0o777
  }
}
