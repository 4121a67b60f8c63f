"""Serialisers of a run: JSON report, JUnit XML, JSONL event log, step summary, text summary.

Nothing here imports the display or rich."""
