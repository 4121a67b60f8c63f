"""Every network provider goes through ``HTTP_PROXY`` (and around it for ``NO_PROXY``).

The proxy is a real forward proxy on 127.0.0.1: it records each request line and
relays it to the fake server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer


class ForwardProxy:
    """A tiny HTTP/1.1 forward proxy in a thread: absolute-form requests, relayed as is."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # Connections the client kept alive are still being served: end them cleanly.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                await self._relay(head, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _relay(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        self.seen.append(f"{method} {target}")
        authority, _, path = target.removeprefix("http://").partition("/")
        host, _, port = authority.partition(":")
        headers = [h for h in lines if h and not h.lower().startswith(("connection", "proxy-"))]
        length = next(
            (int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length")), 0
        )
        body = await reader.readexactly(length)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        forwarded = "".join(f"{h}\r\n" for h in headers)
        up_writer.write(
            f"{method} /{path} {version}\r\n{forwarded}Connection: close\r\n\r\n".encode("latin-1")
            + body
        )
        reply = await up_reader.read()  # the server closes after one reply
        up_writer.close()
        writer.write(reply)
        await writer.drain()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0, reply="Hello through the proxy.") as srv:
        yield srv


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    with ForwardProxy() as running:
        for name in ("NO_PROXY", "no_proxy", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{running.port}")
        yield running


def paradigm(server: FakeLLMServer) -> str:
    return (
        "pattern: independent\nproviders:\n"
        f"  o: {{type: openai, base_url: '{server.openai_url}', api_key: k}}\n"
        f"  s: {{type: openai, base_url: '{server.openai_url}', api_key: k, stream: true}}\n"
        f"  c: {{type: anthropic, base_url: '{server.base_url}', api_key: k}}\n"
        "agents:\n"
        "  plain: {provider: o, model: m}\n"
        "  streamed: {provider: s, model: m}\n"
        "  claude: {provider: c, model: m}\n"
        f"  hook: {{provider: http, url: '{server.hook_url}', output_path: data.reply}}\n"
    )


def test_every_network_provider_goes_through_the_proxy(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, proxy: ForwardProxy
) -> None:
    ran = run_paradigm(paradigm(server))
    assert ran.statuses() == dict.fromkeys(["plain", "streamed", "claude", "hook"], "passed")
    assert ran.agent("claude").output == "Hello through the proxy."
    assert sorted(proxy.seen) == sorted(
        [
            f"POST {server.openai_url}/chat/completions",
            f"POST {server.openai_url}/chat/completions",
            f"POST {server.base_url}/v1/messages",
            f"POST {server.hook_url}",
        ]
    )


def test_no_proxy_goes_around_it(
    run_paradigm: Callable[..., Ran],
    server: FakeLLMServer,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    ran = run_paradigm(paradigm(server))
    assert set(ran.statuses().values()) == {"passed"}
    assert proxy.seen == []
