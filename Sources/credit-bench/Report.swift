import JSON

/// One line of the results: a measured value, and for the headline of a figure, its target.
struct Row {
  var figure: String
  var key: String
  var label: String
  var value: Double
  var unit: String
  /// The value of each run (the row's value is their median).
  var samples: [Double]
  var target: Target?
  /// Other numbers worth keeping in the JSON (not in the table).
  var extra: [(String, Double)] = []
}

/// A target and how the measurement compares with it.
struct Target {
  enum Direction: String { case atMost, atLeast, below }
  var text: String
  /// The compared quantity: a ratio of two measurements, or the value over the target's bound.
  var ratio: Double
  /// The bound the ratio is held against.
  var bound: Double
  var direction: Direction

  var met: Bool {
    switch direction {
    case .atMost: ratio <= bound
    case .atLeast: ratio >= bound
    case .below: ratio < bound
    }
  }
}

struct Report {
  var command: String
  var binary: String
  var version: String
  var settings: [(String, String)]
  var rows: [Row]
  var datasets: [(learners: Int, path: String, bytes: Int, builtSeconds: Double?)]
  var seconds: Double

  func table() -> String {
    var out = "credit-bench: the figures of issue 7, each value the median of its runs\n"
    out += "command: \(command)\n"
    out += "binary: \(binary) (\(version))\n"
    for (name, value) in settings { out += "\(name): \(value)\n" }
    for d in datasets {
      out += "database: \(d.path): \(formatCount(d.learners)) learners, \(formatBytes(d.bytes))"
      if let s = d.builtSeconds { out += ", built in this run in \(format1(s)) s" }
      out += "\n"
    }
    out += "\n"
    let header = ["fig", "measure", "value", "target", "ratio", "result"]
    var cells: [[String]] = [header]
    for r in rows {
      cells.append([
        r.figure, r.label, formatValue(r.value, r.unit), r.target?.text ?? "",
        r.target.map { format2($0.ratio) + "x" } ?? "", r.target.map { $0.met ? "met" : "NOT MET" } ?? "",
      ])
    }
    let widths = (0..<header.count).map { c in cells.map { $0[c].count }.max()! }
    for (n, row) in cells.enumerated() {
      var line = ""
      for c in 0..<row.count {
        let cell = row[c]
        let pad = String(repeating: " ", count: widths[c] - cell.count)
        // Numbers right-aligned, words left-aligned.
        line += (c == 2 || c == 4) ? pad + cell : cell + pad
        if c < row.count - 1 { line += "  " }
      }
      while line.last == " " { line.removeLast() }
      out += line + "\n"
      if n == 0 { out += String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n" }
    }
    let targets = rows.compactMap(\.target)
    out += "\n\(targets.filter(\.met).count) of \(targets.count) targets met; total \(format1(seconds)) s\n"
    return out
  }

  func json() -> String {
    func number(_ x: Double) -> JSONValue { .number(JSONNumber(x.isFinite ? (x * 1e6).rounded() / 1e6 : 0)) }
    var figures: [JSONValue] = []
    for r in rows {
      var o: JSONObject = [
        "figure": .string(r.figure), "key": .string(r.key), "label": .string(r.label),
        "value": number(r.value),
        "unit": .string(r.unit), "samples": .array(r.samples.map(number)),
      ]
      if let t = r.target {
        o.append(
          "target",
          .object([
            "text": .string(t.text), "bound": number(t.bound), "direction": .string(t.direction.rawValue),
          ]))
        o.append("ratio", number(t.ratio))
        o.append("met", .bool(t.met))
      }
      for (k, v) in r.extra { o.append(k, number(v)) }
      figures.append(.object(o))
    }
    let root: JSONObject = [
      "tool": .string("credit-bench"), "command": .string(command), "binary": .string(binary),
      "version": .string(version),
      "settings": .object(JSONObject(members: settings.map { .init(key: $0.0, value: .string($0.1)) })),
      "databases": .array(
        datasets.map { d in
          var o: JSONObject = [
            "learners": .number(JSONNumber(d.learners)), "path": .string(d.path),
            "bytes": .number(JSONNumber(d.bytes)),
          ]
          if let s = d.builtSeconds { o.append("builtSeconds", number(s)) }
          return .object(o)
        }),
      "figures": .array(figures),
      "targetsMet": .number(JSONNumber(rows.compactMap(\.target).filter(\.met).count)),
      "targets": .number(JSONNumber(rows.compactMap(\.target).count)),
      "seconds": number(seconds),
    ]
    return JSONWriter.string(.object(root)) + "\n"
  }
}

// MARK: Number formatting (no Foundation needed)

/// `x` with `decimals` digits after the point.
func fixed(_ x: Double, _ decimals: Int) -> String {
  guard x.isFinite else { return "-" }
  var scale = 1.0
  for _ in 0..<decimals { scale *= 10 }
  let negative = x < 0
  let n = Int((abs(x) * scale).rounded())
  var digits = String(n)
  if decimals > 0 {
    if digits.count <= decimals {
      digits = String(repeating: "0", count: decimals - digits.count + 1) + digits
    }
    digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
  }
  return (negative ? "-" : "") + digits
}

func format1(_ x: Double) -> String { fixed(x, 1) }
func format2(_ x: Double) -> String { fixed(x, 2) }

/// 1234567 as 1,234,567.
func formatCount(_ n: Int) -> String {
  let digits = Array(String(abs(n)))
  var out = ""
  for (i, d) in digits.enumerated() {
    if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
    out.append(d)
  }
  return (n < 0 ? "-" : "") + out
}

func formatBytes(_ n: Int) -> String {
  if n >= 1 << 30 { return format2(Double(n) / Double(1 << 30)) + " GiB" }
  if n >= 1 << 20 { return format1(Double(n) / Double(1 << 20)) + " MiB" }
  return format1(Double(n) / 1024) + " KiB"
}

func formatValue(_ x: Double, _ unit: String) -> String {
  switch unit {
  case "ms": return (x < 1 ? fixed(x, 3) : x < 100 ? fixed(x, 2) : fixed(x, 1)) + " ms"
  case "req/s": return formatCount(Int(x.rounded())) + " req/s"
  case "MiB": return format1(x) + " MiB"
  case "x": return format2(x) + "x"
  case "us": return format1(x) + " us"
  default: return format2(x) + " " + unit
  }
}
