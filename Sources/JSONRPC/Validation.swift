import JSON

extension ObjectSchema {
  /// Checks `params` against this schema: every required field present, every field of its type
  /// and range, no unknown or repeated member. `null` counts as omitted for optional fields.
  public func validate(_ object: JSONObject, path: String = "") throws(RPCError) {
    if open { return }
    // Objects here are small: a scan finds repeats without hashing every key. Paths and the
    // lists of names for messages are built only for an error.
    var seen = Set<String>()
    let members = object.members
    for (i, m) in members.enumerated() {
      let repeated =
        members.count <= 16
        ? members[..<i].contains { $0.key == m.key } : !seen.insert(m.key).inserted
      if repeated {
        let where_ = join(path, m.key)
        throw .invalidParams(
          "Field '\(where_)' appears more than once; send it once.", field: where_,
          reason: "duplicate_field")
      }
      if field(m.key) == nil {
        let where_ = join(path, m.key)
        let accepted = fields.map(\.name).joined(separator: ", ")
        throw .invalidParams(
          "Unknown field '\(where_)'. The accepted fields are: \(accepted).", field: where_,
          reason: "unknown_field")
      }
    }
    for f in fields {
      guard let value = object[f.name], !value.isNull else {
        if f.required {
          let where_ = join(path, f.name)
          throw .invalidParams(
            "Missing required field '\(where_)' (\(f.schema.expected))." + (f.hint.map { " \($0)" } ?? ""),
            field: where_, reason: "missing_field")
        }
        continue
      }
      try f.schema.validate(value, path: join(path, f.name))
    }
  }

  private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

extension Schema {
  /// A short phrase for messages: what a valid value is.
  public var expected: String {
    switch kind {
    case .string(let format, _, _): format?.expected ?? "a string"
    case .enumeration(let values): "one of " + values.map { "\"\($0)\"" }.joined(separator: ", ")
    case .integer(let lo, let hi): "an integer" + range(lo.map(String.init), hi.map(String.init))
    case .number(let lo, let hi): "a number" + range(lo.map(format), hi.map(format))
    case .boolean: "true or false"
    case .array: "an array"
    case .object, .tagged: "an object"
    case .any: "any value"
    case .null: "null"
    }
  }

  private func range(_ lo: String?, _ hi: String?) -> String {
    switch (lo, hi) {
    case (let lo?, let hi?): " from \(lo) to \(hi)"
    case (let lo?, nil): " of at least \(lo)"
    case (nil, let hi?): " of at most \(hi)"
    case (nil, nil): ""
    }
  }

  private func format(_ d: Double) -> String { JSONNumber(d).text }

  /// U+0000 is refused in every string, whatever the field: PostgreSQL's text cannot hold it, and
  /// both engines answer alike (SPEC section 7).
  private func refuseNUL(_ s: String, _ path: String) throws(RPCError) {
    if s.utf8.contains(0) {
      throw .invalidParams(
        "Field '\(path)' contains the character U+0000, which is not accepted in any text.", field: path,
        reason: "nul_character")
    }
  }

  public func validate(_ value: JSONValue, path: String) throws(RPCError) {
    func wrong(_ detail: String = "") -> RPCError {
      .invalidParams("Field '\(path)' must be \(expected)\(detail).", field: path)
    }
    switch kind {
    case .any:
      return
    case .null:
      guard value.isNull else { throw wrong() }
    case .string(let format, let minLength, let maxLength):
      guard case .string(let s) = value else { throw wrong() }
      try refuseNUL(s, path)
      let bytes = s.utf8.count
      if bytes > maxLength, s.unicodeScalars.count > maxLength {
        throw .invalidParams(
          "Field '\(path)' is too long: at most \(maxLength) characters.", field: path, reason: "too_long")
      }
      // Characters, not bytes; a string of 4 * minLength bytes or more has enough of them.
      if bytes < minLength * 4, s.unicodeScalars.count < minLength {
        throw .invalidParams(
          minLength == 1 ? "Field '\(path)' must not be empty." : "Field '\(path)' is too short.",
          field: path,
          reason: minLength == 1 ? "empty" : "too_short")
      }
      if let format, !format.isValid(s) { throw wrong() }
    case .enumeration(let values):
      guard case .string(let s) = value else { throw wrong() }
      try refuseNUL(s, path)
      guard values.contains(s) else { throw wrong() }
    case .integer(let lo, let hi):
      guard case .number(let n) = value, let i = n.int64 else { throw wrong() }
      if let lo, i < lo { throw wrong() }
      if let hi, i > hi { throw wrong() }
    case .number(let lo, let hi):
      guard case .number(let n) = value, let d = n.double, d.isFinite else { throw wrong() }
      if let lo, d < lo { throw wrong() }
      if let hi, d > hi { throw wrong() }
    case .boolean:
      guard case .bool = value else { throw wrong() }
    case .array(let items, let minItems, let maxItems):
      guard case .array(let a) = value else { throw wrong() }
      if a.count < minItems {
        throw .invalidParams(
          "Field '\(path)' must have at least \(minItems) item\(minItems == 1 ? "" : "s").", field: path,
          reason: "too_few_items")
      }
      if let maxItems, a.count > maxItems {
        throw .invalidParams(
          "Field '\(path)' may have at most \(maxItems) items.", field: path, reason: "too_many_items")
      }
      for (i, element) in a.enumerated() { try items.validate(element, path: "\(path)[\(i)]") }
    case .object(let o):
      guard case .object(let members) = value else { throw wrong() }
      try o.validate(members, path: path)
    case .tagged(let tag, let variants):
      guard case .object(let members) = value else { throw wrong() }
      var tagPath: String { "\(path).\(tag)" }
      var names: String { variants.map { "\"\($0.0)\"" }.joined(separator: ", ") }
      guard let t = members[tag] else {
        throw .invalidParams(
          "Missing required field '\(tagPath)' (one of \(names)).", field: tagPath,
          reason: "missing_field")
      }
      guard case .string(let s) = t, let variant = variants.first(where: { $0.0 == s }) else {
        throw .invalidParams("Field '\(tagPath)' must be one of \(names).", field: tagPath)
      }
      try variant.1.validate(members, path: path)
    }
  }
}
