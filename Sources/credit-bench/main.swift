// The benchmark program: see README, Performance.
print("credit-bench: not written yet")
