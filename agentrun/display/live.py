"""The live view: a Rich table redrawn in place while the run goes on, then a summary.

Events are folded into a :class:`RunState` (O(1) each); the screen is redrawn at
most :data:`MAX_FPS` times a second (fewer if a frame is slow to draw, so drawing
never takes more than :data:`DRAW_SHARE` of the time), on an event or on a timer
that keeps the times ticking while nothing happens. The timer is a plain ``loop.call_later``
handle, not a task: it never outlives the run, because :meth:`LiveDisplay.handle`
cancels it on ``RunFinished`` and :meth:`LiveDisplay.close` in any case. Rich's
``Live`` runs without its own refresh thread (``auto_refresh=False``), so the
state is only ever read on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from rich.console import Console, RenderableType
from rich.live import Live

from agentrun.display.state import RunState
from agentrun.display.view import ViewOptions, final_summary, partial_summary, render_view
from agentrun.events.records import Event, RunFinished, RunStarted
from agentrun.outputs.text_summary import printable
from agentrun.redact import Redactor

MAX_FPS = 10.0
"""Redraws per second at most, however many events arrive."""
DRAW_SHARE = 0.1
"""Drawing may take at most this share of the time: a slow frame spaces out the next ones."""


class LiveDisplay:
    """An event sink drawing the run on a terminal with Rich."""

    def __init__(
        self,
        console: Console,
        redact: Redactor,
        report_path: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_fps: float = MAX_FPS,
    ) -> None:
        self._console = console
        self._redact = redact
        self._report_path = report_path
        self._clock = clock
        self._interval = 1.0 / max_fps
        self.state = RunState()
        self._live: Live | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._origin = 0.0
        self._next_draw = 0.0
        self._final = False
        self._summarised = False
        self.redraws = 0
        """How many frames were drawn (for tests and benchmarks)."""

    def handle(self, event: Event) -> None:
        """Fold the event; start, redraw or finish the view as needed."""
        self.state.handle(event)
        if isinstance(event, RunStarted):
            self._start(event)
        elif isinstance(event, RunFinished):
            self._finish()
        elif self._live is not None and self._clock() >= self._next_draw:
            self._draw()

    def close(self) -> None:
        """Give the terminal back; if the run never finished, say how far it got."""
        if not self._summarised:
            self._finish()

    def _start(self, event: RunStarted) -> None:
        self._origin = self._clock() - event.t
        self._live = Live(
            console=self._console,
            auto_refresh=False,
            transient=False,
            get_renderable=self._frame,
            vertical_overflow="ellipsis",
            # Rich's redirect would take what user code prints before the routers
            # of engine/capture.py can send it to the attempt's log.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        self._draw()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # fed outside an event loop (tests): redraws follow events only
        self._timer = loop.call_later(self._interval, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._live is None or self._final:
            return
        if self._clock() >= self._next_draw:
            self._draw()
        self._timer = loop.call_later(self._interval, self._tick, loop)

    def _draw(self) -> None:
        assert self._live is not None
        began = self._clock()
        self.redraws += 1
        self._live.refresh()
        cost = self._clock() - began
        self._next_draw = began + max(self._interval, cost / DRAW_SHARE)

    def _finish(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._final = True
        if self._live is not None:
            # stop() draws the final frame once more, in full, and leaves it on screen.
            self._live.stop()
            self._live = None
            if not self._console.is_terminal:
                # On a terminal stop() ends the frame's last line; elsewhere it is left open.
                self._console.line()
        if self._summarised:
            return
        self._summarised = True
        result = self.state.result
        summary: RenderableType
        if result is not None:
            summary = final_summary(result, self._clean, self._report_path)
        elif self.state.paradigm:
            summary = partial_summary(self.state, self._clean)
        else:
            return
        self._console.print(summary)

    def _frame(self) -> RenderableType:
        now = self.state.last_t if self._final else self._clock() - self._origin
        options = ViewOptions(
            now=now, height=self._console.size.height, final=self._final, clean=self._clean
        )
        return render_view(self.state, options)

    def _clean(self, text: str) -> str:
        return printable(self._redact(text))
