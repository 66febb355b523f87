/// Rewrites SQLite's portable `?` placeholders to PostgreSQL's `$1..$n`, leaving a `?` inside a
/// string literal ('...', E'...', $tag$...$tag$), a quoted identifier or a comment alone.
/// Returns the new text and the number of parameters.
public func rewritePlaceholders(_ sql: String) -> (sql: String, count: Int) {
  let s = Array(sql.utf8)
  var out: [UInt8] = []
  out.reserveCapacity(s.count + 16)
  var count = 0
  var i = 0
  let quote: UInt8 = 0x27, dquote: UInt8 = 0x22, backslash: UInt8 = 0x5C, dollar: UInt8 = 0x24

  /// Copies a quoted run that starts at `i` and ends at the matching `close` (doubled closes stay
  /// inside; with `escapes`, so does a backslash-escaped one).
  func copyQuoted(_ close: UInt8, escapes: Bool) {
    out.append(s[i])
    i += 1
    while i < s.count {
      let c = s[i]
      out.append(c)
      i += 1
      if escapes && c == backslash && i < s.count {
        out.append(s[i])
        i += 1
      } else if c == close {
        if i < s.count && s[i] == close {
          out.append(s[i])
          i += 1
        } else {
          return
        }
      }
    }
  }

  func isIdentifierByte(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c >= 0x80
  }

  while i < s.count {
    let c = s[i]
    if c == quote {
      let escapes = i > 0 && (s[i - 1] == 0x45 || s[i - 1] == 0x65) && (i < 2 || !isIdentifierByte(s[i - 2]))
      copyQuoted(quote, escapes: escapes)
    } else if c == dquote {
      copyQuoted(dquote, escapes: false)
    } else if c == 0x2D, i + 1 < s.count, s[i + 1] == 0x2D {  // -- comment to the end of the line
      while i < s.count && s[i] != 0x0A {
        out.append(s[i])
        i += 1
      }
    } else if c == 0x2F, i + 1 < s.count, s[i + 1] == 0x2A {  // /* comment */
      out.append(contentsOf: [0x2F, 0x2A])
      i += 2
      while i < s.count && !(s[i] == 0x2A && i + 1 < s.count && s[i + 1] == 0x2F) {
        out.append(s[i])
        i += 1
      }
      if i < s.count {
        out.append(contentsOf: [0x2A, 0x2F])
        i += 2
      }
    } else if c == dollar, i == 0 || !isIdentifierByte(s[i - 1]) {
      // A dollar-quoted literal: $$...$$ or $tag$...$tag$ ($1 is a parameter, not a tag).
      var j = i + 1
      while j < s.count && isIdentifierByte(s[j]) && !(j == i + 1 && s[j] >= 0x30 && s[j] <= 0x39) { j += 1 }
      if j < s.count && s[j] == dollar {
        let tag = Array(s[i...j])
        out.append(contentsOf: tag)
        i = j + 1
        while i < s.count {
          if s[i] == dollar && i + tag.count <= s.count && Array(s[i..<(i + tag.count)]) == tag {
            out.append(contentsOf: tag)
            i += tag.count
            break
          }
          out.append(s[i])
          i += 1
        }
      } else {
        out.append(c)
        i += 1
      }
    } else if c == 0x3F {  // ?
      count += 1
      out.append(dollar)
      out.append(contentsOf: Array(String(count).utf8))
      i += 1
    } else {
      out.append(c)
      i += 1
    }
  }
  return (String(decoding: out, as: UTF8.self), count)
}
