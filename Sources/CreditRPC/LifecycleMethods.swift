import JSON
import JSONRPC

/// The lifecycle that full LSP clients (Neovim's `vim.lsp.start_client`, Emacs eglot) drive before
/// and after their calls: SPEC section 6. Open to every principal; they change nothing.
enum LifecycleMethods {
  static let methods: [MethodDefinition] = [
    MethodDefinition(
      "initialize",
      "The LSP handshake: takes any parameters and answers the server's name and version (no "
        + "capabilities).",
      access: .everyone, mutates: false, params: [], resultName: "InitializeResult",
      result: .object(
        ObjectSchema(
          "InitializeResult",
          [
            Field("capabilities", .object(ObjectSchema(nil, [], open: true))),
            Field(
              "serverInfo",
              .object(
                ObjectSchema(
                  "ServerInfo", [Field("name", .enumeration(["credit-rpc"])), Field("version", .string())]))),
          ])), openParams: true
    ) { _, _ in
      [
        "capabilities": .object([:]),
        "serverInfo": ["name": "credit-rpc", "version": .string(OpenRPC.version)],
      ]
    },
    MethodDefinition(
      "shutdown",
      "The LSP request before exit: answers null; the session goes on until exit or end of input.",
      access: .everyone, mutates: false, params: [], resultName: "null", result: .null, openParams: true
    ) { _, _ in .null },
    MethodDefinition(
      "exit",
      "As a notification, ends the session as end of input does: everything before it is answered and "
        + "committed, and the process exits 0. Called with an id, it only answers null.",
      access: .everyone, mutates: false, params: [], resultName: "null", result: .null, openParams: true,
      endsSession: true
    ) { _, _ in .null },
  ]
}
