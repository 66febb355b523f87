// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "credit-rpc",
  products: [
    .executable(name: "credit-rpc", targets: ["credit-rpc"]),
    .executable(name: "credit-bench", targets: ["credit-bench"]),
  ],
  targets: [
    .systemLibrary(
      name: "CSQLite",
      path: "Sources/CSQLite",
      pkgConfig: "sqlite3",
      providers: [.apt(["libsqlite3-dev"])]
    ),
    .target(name: "SQLite", dependencies: ["CSQLite"]),
    .systemLibrary(
      name: "CLibPQ",
      path: "Sources/CLibPQ",
      pkgConfig: "libpq",
      providers: [.apt(["libpq-dev"])]
    ),
    .target(name: "PostgreSQL", dependencies: ["CLibPQ"]),
    // Drives the PostgreSQL module for the failover tests and Benchmarks/postgresql.md.
    .executableTarget(name: "pg-probe", dependencies: ["PostgreSQL"]),
    .target(name: "JSON", linkerSettings: [.linkedLibrary("m")]),
    .target(name: "CreditCrypto"),
    .target(name: "JSONRPC", dependencies: ["JSON"]),
    .target(name: "CreditCore", dependencies: ["CreditCrypto"]),
    .target(name: "CreditStore", dependencies: ["CreditCore", "SQLite", "PostgreSQL"]),
    .target(name: "CreditRPC", dependencies: ["CreditCore", "JSONRPC", "JSON", "CreditCrypto"]),
    .executableTarget(
      name: "credit-rpc",
      dependencies: ["CreditRPC", "CreditCore", "CreditStore", "JSONRPC", "SQLite", "PostgreSQL"],
      // A statically linked Swift runtime halves the start-up time (see README, Performance).
      linkerSettings: [.unsafeFlags(["-static-stdlib"])]
    ),
    .executableTarget(name: "credit-bench", dependencies: ["JSON", "CreditCrypto"]),
    .testTarget(name: "JSONTests", dependencies: ["JSON"]),
    .testTarget(name: "CreditCryptoTests", dependencies: ["CreditCrypto"]),
    .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
    .testTarget(name: "PostgreSQLTests", dependencies: ["PostgreSQL", "CreditStore", "CreditCore"]),
    .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC", "JSON"]),
    .testTarget(name: "CreditCoreTests", dependencies: ["CreditCore", "CreditStore"]),
    .testTarget(name: "CreditStoreTests", dependencies: ["CreditStore", "CreditCore", "SQLite"]),
    .testTarget(
      name: "CreditRPCTests", dependencies: ["CreditRPC", "CreditCore", "CreditStore", "JSON", "JSONRPC"]),
    .testTarget(name: "EndToEndTests", dependencies: ["JSON"]),  // drives the built credit-rpc (`swift build` first)
  ]
)
