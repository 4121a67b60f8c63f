"""Chains between agents (fallbacks, judges): cycles and depth, without recursion.

A paradigm may chain thousands of agents; walking such a chain by recursion would
overflow Python's stack, so both walks here keep their own stack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

MAX_CHAIN = 32
"""The longest fallback chain a paradigm may declare (agents after the first)."""


def find_cycles(
    edges: Mapping[str, Sequence[str]], order: Sequence[str]
) -> Iterator[tuple[str, ...]]:
    """Cycles of ``edges``, each rotated to start at its first agent in ``order``.

    A depth-first walk from each agent in ``order``, in order; a cycle is reported
    when an edge leads back to an agent on the current path.
    """
    rank = {name: i for i, name in enumerate(order)}
    done: set[str] = set()
    for root in order:
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(edges.get(root, ()))]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
            elif target in on_path:
                cycle = path[path.index(target) :]
                start = min(range(len(cycle)), key=lambda i: rank[cycle[i]])
                yield tuple(cycle[start:] + cycle[:start])
            elif target not in done:
                path.append(target)
                on_path.add(target)
                stack.append(iter(edges.get(target, ())))


def chain_depths(edges: Mapping[str, Sequence[str]], names: Sequence[str]) -> dict[str, int]:
    """For each agent, how many agents its longest chain of edges reaches (0: none).

    Edges that close a cycle are ignored (cycles are reported on their own).
    """
    depth: dict[str, int] = {}
    for root in names:
        if root in depth:
            continue
        on_path = {root}
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(edges.get(root, ())))]
        while stack:
            name, pending = stack[-1]
            target = next(pending, None)
            if target is None:
                stack.pop()
                on_path.discard(name)
                reach = [depth[t] + 1 for t in edges.get(name, ()) if t in depth]
                depth[name] = max(reach, default=0)
            elif target not in depth and target not in on_path:
                on_path.add(target)
                stack.append((target, iter(edges.get(target, ()))))
    return depth
