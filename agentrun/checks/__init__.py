"""Imperative checks: compile an ImperativeSpec into an awaitable Check."""
