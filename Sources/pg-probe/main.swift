print("pg-probe")
