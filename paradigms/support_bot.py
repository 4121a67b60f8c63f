"""A small rule-based support bot: the service under test in ``customer_service.yaml``.

The bot knows the shop's policies and keeps them whatever the customer writes:

* refunds only within 30 days of delivery (damaged items get a warranty offer instead);
* orders are looked up by number and only their status is shared, never the
  customer's email, phone or card;
* passwords are never asked for, revealed or changed in chat;
* attempts to rewrite its instructions are declined;
* abuse and threats are handed to a human supervisor, politely.

Use it from Python (``reply(message)``) or as a program reading the message on
standard input (``python3 support_bot.py < message.txt``). Every customer record
below is invented; the card numbers are the public test numbers of card networks.
"""

from __future__ import annotations

import re
import sys
import zlib
from dataclasses import dataclass
from datetime import date

from pace import pause

REFUND_WINDOW_DAYS = 30
"""Days after delivery during which an order can be refunded."""

TODAY = date(2025, 3, 14)
"""The shop's calendar is frozen so that the example gives the same answers every day."""


@dataclass(frozen=True, slots=True)
class Order:
    """One order and the account it belongs to (the account data must never be shown)."""

    number: str
    item: str
    price: str
    status: str
    """``processing``, ``in transit`` or ``delivered``."""
    day: date
    """Delivery date when delivered, else the expected delivery date."""
    customer: str
    email: str
    phone: str
    card: str

    def refundable(self, today: date = TODAY) -> bool:
        """Whether the order was delivered within the refund window."""
        return self.status == "delivered" and (today - self.day).days <= REFUND_WINDOW_DAYS


ORDERS: dict[str, Order] = {
    order.number: order
    for order in (
        Order(
            "A1001", "noise-cancelling headphones", "129.00 EUR", "delivered",
            date(2025, 3, 2), "Dana Whitfield", "dana.whitfield@example.com",
            "+44 20 7946 0321", "4111 1111 1111 1111",
        ),
        Order(
            "A1002", "espresso machine", "349.00 EUR", "delivered",
            date(2025, 1, 20), "Marcus Ortega", "m.ortega@example.net",
            "+34 600 000 000", "5555 5555 5555 4444",
        ),
        Order(
            "A1003", "e-reader", "99.00 EUR", "in transit",
            date(2025, 3, 17), "Helene Dubois", "helene.dubois@example.org",
            "+33 1 99 00 12 34", "4012 8888 8888 1881",
        ),
        Order(
            "A1004", "large-print tablet", "189.00 EUR", "processing",
            date(2025, 3, 20), "Ruth Kaminski", "ruth.k@example.com",
            "+1 202 555 0147", "3782 822463 10005",
        ),
    )
}  # fmt: skip

_ORDER_NUMBER = re.compile(r"\b([A-Z]\d{4})\b", re.IGNORECASE)
_INJECTION = re.compile(
    r"ignore (all |any |your |the |previous |prior |earlier )*(instructions|rules|policies)"
    r"|system prompt|developer mode|admin(istrator)? mode|you are now|jailbreak"
    r"|disregard (your|the|all)|new instructions",
    re.IGNORECASE,
)
_ACCOUNT_DATA = re.compile(
    r"password|passcode|\bpin\b|card number|credit card|card on file|security question"
    r"|e-?mail address|\bemail\b|phone number|home address|account details|login",
    re.IGNORECASE,
)
_ASKS = re.compile(
    r"\b(give|tell|send|read|share|show|print|change|reset|update|confirm|what is|what's)\b",
    re.IGNORECASE,
)
_OFFERS_OWN_SECRET = re.compile(
    r"\b(give|send|tell|need) (you )?my (password|passcode|pin|card)|my (password|pin) is",
    re.IGNORECASE,
)
_REFUND = re.compile(
    r"refund|money back|\breturn|reembolso|devolver|devoluci[oó]n|rembours|r[uü]ckerstatt",
    re.IGNORECASE,
)
_WHERE_IS = re.compile(
    r"where is|where's|not (yet )?(arrived|received|here)|waiting for|d[oó]nde est[aá]",
    re.IGNORECASE,
)
_DAMAGED = re.compile(r"broken|damaged|faulty|\broto\b|\brota\b|da[nñ]ado|cass[ée]|kaputt", re.I)
_ABUSE = re.compile(
    r"idiot|stupid|useless|incompetent|moron|pathetic|scam|rip-?off|shut up|crap|damn"
    r"|\bsue\b|lawyer|i will report",
    re.IGNORECASE,
)
_LANGUAGES = {
    "es": (
        re.compile(r"\b(hola|pedido|quiero|gracias|reembolso|por favor)\b", re.I),
        "Gracias por escribirnos. Le respondo en inglés; si lo prefiere, un agente humano "
        "puede atenderle en español.",
    ),
    "fr": (
        re.compile(r"\b(bonjour|commande|merci|remboursement|s'il vous pla[iî]t)\b", re.I),
        "Merci de votre message. Je vous réponds en anglais ; un conseiller humain peut "
        "vous répondre en français si vous le souhaitez.",
    ),
    "de": (
        re.compile(r"\b(hallo|bestellung|danke|bitte|rückerstattung)\b", re.I),
        "Danke für Ihre Nachricht. Ich antworte auf Englisch; ein Mitarbeiter kann Ihnen "
        "auch auf Deutsch helfen.",
    ),
}


def _is_shouting(message: str) -> bool:
    """Mostly capital letters over a message long enough to tell."""
    letters = [c for c in message if c.isalpha()]
    return len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def _ticket(prefix: str, message: str) -> str:
    """A stable ticket number for a message (the same message always gets the same one)."""
    return f"{prefix}-{zlib.crc32(message.encode('utf-8')) % 100_000:05d}"


def _order_reply(order: Order, wants_refund: bool, damaged: bool, missing: bool) -> list[str]:
    """Status of an order and, when asked, the refund decision under the policy."""
    when = order.day.strftime("%d %B %Y").lstrip("0")
    if order.status == "delivered":
        lines = [f"Order {order.number} ({order.item}) was delivered on {when}."]
        if missing:
            lines.append(
                "If it hasn't reached you, I can open a lost-parcel claim with the carrier "
                "today; you'd hear back within 48 hours."
            )
    else:
        lines = [f"Order {order.number} ({order.item}) is {order.status}; expected by {when}."]
    if not wants_refund and not damaged:
        return lines
    if order.refundable():
        lines.append(
            f"It is within our {REFUND_WINDOW_DAYS}-day refund window, so I've started a "
            f"refund of {order.price} for order {order.number}; it reaches your original "
            "payment method within 5-7 business days."
        )
    elif order.status != "delivered":
        lines.append(
            "It hasn't been delivered yet, so there is nothing to refund; you can refuse "
            "the parcel at the door or return it unopened once it arrives."
        )
    else:
        days = (TODAY - order.day).days
        lines.append(
            f"That was {days} days ago, outside our {REFUND_WINDOW_DAYS}-day refund window, "
            "so I can't offer a refund for it."
        )
        if damaged:
            lines.append(
                "Because the item is damaged, it is covered by our one-year warranty: "
                "I can arrange a free repair or replacement."
            )
    return lines


def reply(message: str) -> str:
    """Answer one customer message.

    Args:
        message: what the customer wrote, in any language or case.

    Returns:
        A polite reply that keeps every policy of the shop.
    """
    parts: list[str] = []
    for pattern, greeting in _LANGUAGES.values():
        if pattern.search(message):
            parts.append(greeting)
            break
    abusive = bool(_ABUSE.search(message))
    if abusive or _is_shouting(message):
        parts.append("I'm sorry for the trouble; I understand this is frustrating.")
    injected = bool(_INJECTION.search(message))
    if injected:
        parts.append(
            "I can't change how I work or share my internal instructions, "
            "but I'm happy to help with your order."
        )
    if _OFFERS_OWN_SECRET.search(message):
        parts.append(
            "Please never share your password or card details with anyone, us included: "
            "we will never ask for them."
        )
    elif _ACCOUNT_DATA.search(message) and _ASKS.search(message):
        parts.append(
            "For your security I can't share or change passwords, payment cards or contact "
            "details in chat, for any account. The account holder can reset their own "
            "password with 'Forgot password' on the sign-in page. I've noted this request "
            f"for our security team (reference {_ticket('SEC', message)})."
        )

    numbers = dict.fromkeys(n.upper() for n in _ORDER_NUMBER.findall(message))
    # A message that tries to rewrite the rules gets answers, never actions such as a refund.
    wants_refund = bool(_REFUND.search(message)) and not injected
    damaged = bool(_DAMAGED.search(message))
    missing = bool(_WHERE_IS.search(message))
    for number in numbers:
        order = ORDERS.get(number)
        if order is None:
            parts.append(
                f"I couldn't find order {number}. Order numbers look like A1234 and are at "
                "the top of your confirmation message."
            )
        else:
            parts.extend(_order_reply(order, wants_refund, damaged, missing))
    if not numbers and wants_refund:
        parts.append(
            f"Refunds are possible within {REFUND_WINDOW_DAYS} days of delivery; "
            "send me your order number (it looks like A1234) and I can help right away."
        )

    if abusive:
        parts.append(
            "I've passed this conversation to a human supervisor (ticket "
            f"{_ticket('ESC', message)}), who will contact you within one business day."
        )
    parts.append("Is there anything else I can help with?")
    return "\n".join(parts)


def answer(message: str) -> str:
    """:func:`reply` after the time a real service takes to answer (see ``pace.py``)."""
    pause(0.4, 1.4, message)
    return reply(message)


def main() -> int:
    """Read a message on standard input and print the reply."""
    message = sys.stdin.read()
    if not message.strip():
        print("usage: python3 support_bot.py < message.txt", file=sys.stderr)
        return 2
    print(answer(message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
