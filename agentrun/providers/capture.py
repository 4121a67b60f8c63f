"""Bounded capture of what an agent produces: the head and the tail, never all of it.

A program that writes without end (``yes``) or a server that sends gigabytes
must not take the runner's memory with it. Each attempt keeps at most
``max_output`` bytes (default :data:`DEFAULT_MAX_OUTPUT`): the first half and
the last half, with a note in between saying how much was left out.
"""

from __future__ import annotations

from agentrun.errors import ProviderError
from agentrun.sizes import format_size

DEFAULT_MAX_OUTPUT = 1024 * 1024
"""Bytes of output kept per attempt unless the agent sets ``max_output``."""
READ_LIMIT_FACTOR = 8
"""A program is read up to this many times ``max_output`` (to reach the tail of its
output), then stopped: past that it is producing without end."""


class HeadTail:
    """Keeps the first ``head`` and the last ``tail`` bytes of a stream, counting the rest."""

    def __init__(self, head: int, tail: int) -> None:
        self._head_size = head
        self._tail_size = tail
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0
        """Bytes seen, kept or not."""

    def add(self, chunk: bytes) -> None:
        """Take the next piece of the stream."""
        self.total += len(chunk)
        room = self._head_size - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            excess = len(self._tail) - self._tail_size
            if excess > 0:
                del self._tail[:excess]

    @property
    def truncated(self) -> bool:
        """Whether bytes were left out."""
        return self.total > len(self._head) + len(self._tail)

    def tail_bytes(self) -> bytes:
        """The kept tail (all that is kept when ``head`` is 0)."""
        return bytes(self._tail)

    def text(self) -> str:
        """The kept text, with a note where bytes were left out."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if not self.truncated:
            return head + tail
        return head + omission(self.total, len(self._head) + len(self._tail)) + tail


def capture_for(max_output: int) -> HeadTail:
    """A capture keeping ``max_output`` bytes: half the head, half the tail."""
    return HeadTail(max_output - max_output // 2, max_output // 2)


def omission(total: int, kept: int) -> str:
    """The note that stands where output was left out."""
    return (
        f"\n[… output truncated: {total} bytes in all, {total - kept} left out "
        f"to keep {format_size(kept)} (max_output) …]\n"
    )


def clip_text(text: str, max_output: int) -> tuple[str, int | None]:
    """A returned text cut to ``max_output`` bytes (head and tail), and its full length
    in bytes when it was cut."""
    if len(text) * 4 <= max_output:  # no UTF-8 character is longer than 4 bytes
        return text, None
    data = text.encode("utf-8")
    if len(data) <= max_output:
        return text, None
    capture = capture_for(max_output)
    capture.add(data)
    return capture.text(), len(data)


def too_large(who: str, max_output: int) -> ProviderError:
    """The error for a reply that does not fit: a body cut short cannot be parsed."""
    error = ProviderError(f"{who}: reply larger than max_output ({format_size(max_output)})")
    error.retryable = False  # the same request brings the same reply
    return error
