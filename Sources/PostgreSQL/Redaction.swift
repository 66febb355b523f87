/// Keeps the password of a connection string out of every text the module produces.
public enum Redaction {
  /// The connection string with its password replaced by `***`: the `user:password@` of a URI,
  /// a `password=` URI parameter, a `password=` keyword of a key/value string.
  public static func redact(_ conninfo: String) -> String {
    redactWithSecrets(conninfo).text
  }

  /// The redacted text and the raw password substrings that were removed.
  static func redactWithSecrets(_ conninfo: String) -> (text: String, secrets: [String]) {
    var secrets: [String] = []
    if conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://") {
      let schemeEnd = conninfo.index(
        conninfo.startIndex, offsetBy: conninfo.hasPrefix("postgres://") ? 11 : 13)
      var rest = String(conninfo[schemeEnd...])
      var query = ""
      if let q = rest.firstIndex(of: "?") {
        query = String(rest[q...])
        rest = String(rest[..<q])
      }
      var authorityEnd = rest.endIndex
      if let slash = rest.firstIndex(of: "/") { authorityEnd = slash }
      var authority = String(rest[..<authorityEnd])
      let path = String(rest[authorityEnd...])
      if let at = authority.lastIndex(of: "@") {
        let userinfo = authority[..<at]
        if let colon = userinfo.firstIndex(of: ":") {
          let secret = String(userinfo[userinfo.index(after: colon)...])
          if !secret.isEmpty { secrets.append(secret) }
          authority = String(userinfo[..<colon]) + ":***" + String(authority[at...])
        }
      }
      if !query.isEmpty {
        let pairs = query.dropFirst().split(separator: "&", omittingEmptySubsequences: false).map {
          pair -> String in
          let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
          if parts.count == 2, parts[0] == "password" {
            if !parts[1].isEmpty { secrets.append(String(parts[1])) }
            return "password=***"
          }
          return String(pair)
        }
        query = "?" + pairs.joined(separator: "&")
      }
      return (String(conninfo[..<schemeEnd]) + authority + path + query, secrets)
    }
    // key = value pairs; a value may be single-quoted with backslash escapes.
    let s = Array(conninfo.utf8)
    var out: [UInt8] = []
    var i = 0
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
    while i < s.count {
      while i < s.count && isSpace(s[i]) {
        out.append(s[i])
        i += 1
      }
      let keyStart = i
      while i < s.count && s[i] != 0x3D && !isSpace(s[i]) { i += 1 }
      let key = String(decoding: s[keyStart..<i], as: UTF8.self)
      out.append(contentsOf: s[keyStart..<i])
      while i < s.count && isSpace(s[i]) {
        out.append(s[i])
        i += 1
      }
      guard i < s.count, s[i] == 0x3D else { continue }
      out.append(s[i])
      i += 1
      while i < s.count && isSpace(s[i]) {
        out.append(s[i])
        i += 1
      }
      let valueStart = i
      if i < s.count && s[i] == 0x27 {
        i += 1
        while i < s.count && s[i] != 0x27 {
          if s[i] == 0x5C { i += 1 }
          i += 1
        }
        i = min(i + 1, s.count)
      } else {
        while i < s.count && !isSpace(s[i]) {
          if s[i] == 0x5C { i += 1 }
          i += 1
        }
        i = min(i, s.count)
      }
      if key == "password" {
        var raw = String(decoding: s[valueStart..<i], as: UTF8.self)
        if raw.hasPrefix("'") && raw.hasSuffix("'") && raw.count >= 2 {
          raw = String(raw.dropFirst().dropLast())
        }
        if !raw.isEmpty { secrets.append(raw) }
        out.append(contentsOf: Array("***".utf8))
      } else {
        out.append(contentsOf: s[valueStart..<i])
      }
    }
    return (String(decoding: out, as: UTF8.self), secrets)
  }

  /// `text` with every secret replaced by `***`.
  static func scrub(_ text: String, _ secrets: [String]) -> String {
    var text = text
    for secret in secrets where !secret.isEmpty {
      text = text.replacing(secret, with: "***")
    }
    return text
  }
}
