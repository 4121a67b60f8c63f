"""agentrun: run multi-agent paradigms with structured concurrency."""

__version__ = "0.1.0"
