"""What a run has spent so far, in tokens and dollars: the figures cost checks bound."""

from __future__ import annotations

from agentrun.results import Usage


class Spending:
    """Running usage totals of one run: the whole run's, and each agent instance's."""

    __slots__ = ("_by_instance", "run")

    def __init__(self) -> None:
        self.run: Usage | None = None
        """Every reply of the run so far."""
        self._by_instance: dict[str, Usage] = {}

    def add(self, instance: str, usage: Usage | None) -> tuple[Usage | None, Usage | None]:
        """Count one reply's usage; return the instance's total and the run's."""
        if usage is not None:
            mine = self._by_instance.get(instance)
            self._by_instance[instance] = usage if mine is None else mine + usage
            self.run = usage if self.run is None else self.run + usage
        return self._by_instance.get(instance), self.run
