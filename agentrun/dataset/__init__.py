"""Dataset runs: one paradigm over many cases, with a results stream, an aggregate
report, thresholds, a response cache, resuming and comparing runs."""
