"""Who an agent instance is: its :class:`Role` and its :class:`InstanceId`.

One agent of a paradigm can run many times in one run: in several pipeline
stages, once per item of a ``for_each`` stage, as another agent's fallback, as a
judge of several outputs, as a pattern-level fallback. Each run is an *instance*
with a structured identity built where it starts, so no consumer ever has to
take a label apart again.

An :class:`InstanceId` *is* its label (a ``str``), so reports, event logs, keys
and messages keep the words users know:

========================  ===========================================
``critic``                an agent of the pattern
``critic@review``         an agent listed in several stages
``theorist[1]``           item 1 of a ``for_each`` stage
``industry>backup``       the fallback ``backup`` standing in for ``industry``
``a/judge:referee#3``     the judge ``referee`` called on an output of ``a``
``rescue:safe``           a pattern-level fallback
========================  ===========================================

Labels read back from a report or written by hand become identities through
:meth:`InstanceId.parse`; agent names cannot contain the separators
(``[``, ``@``, ``>``, ``/``, ``:``, ``#``), so the reading is unambiguous.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Why an instance runs; values are the words in reports and events."""

    AGENT = "agent"
    """An agent the pattern starts."""
    FALLBACK = "fallback"
    """Stands in for another instance that failed every attempt."""
    JUDGE = "judge"
    """Judges another instance's output for an imperative."""
    RESCUE = "rescue"
    """A pattern-level fallback, run after the pattern failed."""

    @property
    def top_level(self) -> bool:
        """Whether instances of this role are rows of their own in reports and views."""
        return self is Role.AGENT or self is Role.RESCUE


class InstanceId(str):
    """The identity of one agent instance; the string value is its label.

    Build one with :meth:`of`, :meth:`fallback`, :meth:`judge` or :meth:`rescue`
    (never by formatting a label), and read its parts from the attributes.
    """

    agent: str
    """The agent's name in the paradigm."""
    role: Role
    stage: str | None
    """The pipeline stage it runs in, if any."""
    item: int | None
    """The item of a ``for_each`` stage it runs on, if any."""
    parent: InstanceId | None
    """The instance a fallback or judge serves."""
    planned: str
    """The label this instance had in the run's plan (``theorist`` for ``theorist[1]``)."""

    def __new__(
        cls,
        label: str,
        *,
        agent: str,
        role: Role = Role.AGENT,
        stage: str | None = None,
        item: int | None = None,
        parent: InstanceId | None = None,
        planned: str | None = None,
    ) -> InstanceId:
        self = super().__new__(cls, label)
        self.agent = agent
        self.role = role
        self.stage = stage
        self.item = item
        self.parent = parent
        self.planned = label if planned is None else planned
        return self

    @classmethod
    def of(
        cls,
        agent: str,
        *,
        stage: str | None = None,
        qualified: bool = False,
        item: int | None = None,
    ) -> InstanceId:
        """An agent the pattern starts.

        Args:
            agent: the agent's name.
            stage: the pipeline stage, if any.
            qualified: the agent is listed in several stages, so its label names the stage.
            item: the item of a ``for_each`` stage.
        """
        base = f"{agent}@{stage}" if qualified and stage is not None else agent
        label = base if item is None else f"{base}[{item}]"
        return cls(label, agent=agent, stage=stage, item=item, planned=base)

    @classmethod
    def fallback(cls, parent: InstanceId, agent: str) -> InstanceId:
        """The fallback ``agent`` standing in for ``parent``."""
        return cls(
            f"{parent}>{agent}",
            agent=agent,
            role=Role.FALLBACK,
            stage=parent.stage,
            item=parent.item,
            parent=parent,
        )

    @classmethod
    def judge(cls, parent: InstanceId, agent: str, serial: int) -> InstanceId:
        """The judge ``agent`` called (the ``serial``-th judge call of the run) on ``parent``."""
        return cls(
            f"{parent}/judge:{agent}#{serial}",
            agent=agent,
            role=Role.JUDGE,
            stage=parent.stage,
            parent=parent,
        )

    @classmethod
    def rescue(cls, agent: str) -> InstanceId:
        """The pattern-level fallback ``agent``."""
        return cls(f"rescue:{agent}", agent=agent, role=Role.RESCUE)

    @classmethod
    def parse(cls, label: str, stage: str | None = None) -> InstanceId:
        """The identity a label stands for (labels read back from reports or written by hand).

        Args:
            label: an instance label such as ``theorist[1]`` or ``a>backup``.
            stage: the stage the instance ran in, when known from elsewhere.
        """
        if isinstance(label, InstanceId):
            return label
        head, judged, tail = label.rpartition("/judge:")
        if judged:
            agent, _, serial = tail.partition("#")
            return cls.judge(cls.parse(head, stage), agent, int(serial) if serial.isdigit() else 0)
        head, arrow, agent = label.rpartition(">")
        if arrow:
            return cls.fallback(cls.parse(head, stage), agent)
        if label.startswith("rescue:"):
            return cls.rescue(label.removeprefix("rescue:"))
        base, bracket, rest = label.partition("[")
        item = int(rest[:-1]) if bracket and rest[:-1].isdigit() else None
        agent, at, named_stage = base.partition("@")
        return cls(
            label,
            agent=agent,
            stage=named_stage if at else stage,
            item=item,
            planned=base,
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling (for workers in other processes) keeps the structure, not only the text.
        return (
            _rebuild,
            (str(self), self.agent, self.role, self.stage, self.item, self.parent, self.planned),
        )


def _rebuild(
    label: str,
    agent: str,
    role: Role,
    stage: str | None,
    item: int | None,
    parent: InstanceId | None,
    planned: str,
) -> InstanceId:
    return InstanceId(
        label, agent=agent, role=role, stage=stage, item=item, parent=parent, planned=planned
    )


def identity_of(instance: str) -> InstanceId:
    """``instance`` as an identity: itself when the engine built it, else parsed from its label."""
    return instance if isinstance(instance, InstanceId) else InstanceId.parse(instance)
