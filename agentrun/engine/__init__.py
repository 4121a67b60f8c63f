"""The engine: a session that owns provider clients and limits, the agent runner,
retries and backoff, and the run-wide limits."""
