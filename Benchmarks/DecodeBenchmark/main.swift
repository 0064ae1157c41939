print("decode benchmark: not yet built")
