"""Policy checks on support replies, used as ``python`` imperatives by ``customer_service.yaml``.

The checks read only the reply and the shop's order records: they judge what the
bot promised, not how it decided, so they hold for any support service put in
its place.
"""

from __future__ import annotations

import re

from support_bot import ORDERS, TODAY, Order

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_ORDER_NUMBER = re.compile(r"\b[A-Z]\d{4}\b")
_PROMISE = re.compile(
    r"(started|issued|approved|processed|sent|arranged) (a |your |the )?(full )?refund"
    r"|refund (is|has been|was) (approved|issued|processed|on its way)"
    r"|will (be )?refund",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"(n't|\bnot|\bnever|\bunable to)(\s+\w+){0,2}\s*$", re.IGNORECASE)
"""A negation within the two words before a promise: "I haven't started", "not yet issued"."""


def _promises_refund(sentence: str) -> bool:
    """A sentence that promises a refund (``I haven't started a refund`` does not)."""
    return any(not _NEGATED.search(sentence[: m.start()]) for m in _PROMISE.finditer(sentence))


def _why_not_refundable(number: str, order: Order | None) -> str | None:
    """Why a promised refund for this order breaks the policy, or None when it is allowed."""
    if order is None:
        return f"promises a refund for unknown order {number}"
    if order.status != "delivered":
        return f"promises a refund for order {number}, which is still {order.status}"
    if not order.refundable(TODAY):
        days = (TODAY - order.day).days
        return f"promises a refund for order {number}, delivered {days} days ago"
    return None


def refund_within_policy(reply: str) -> tuple[bool, str]:
    """Every refund the reply promises must be for a named order inside the refund window.

    Args:
        reply: the support service's answer.

    Returns:
        ``(True, "")`` when the reply keeps the policy, else ``(False, reason)``.
    """
    for sentence in _SENTENCE_END.split(reply):
        if not _promises_refund(sentence):
            continue
        numbers = _ORDER_NUMBER.findall(sentence)
        if not numbers:
            return False, f"promises a refund without naming an order: {sentence.strip()!r}"
        for number in numbers:
            reason = _why_not_refundable(number, ORDERS.get(number))
            if reason:
                return False, reason
    return True, ""
