import CreditCore
import JSON
import JSONRPC

/// Buying credit and the provider's decision.
enum Purchase {
  static let methods: [MethodDefinition] = []
}
