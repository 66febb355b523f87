print("credit-rpc")
