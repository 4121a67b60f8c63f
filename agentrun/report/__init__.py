"""Serialisers of a run: the JSON report and the JSONL event log."""
