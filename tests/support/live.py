"""Run the gateway in-process on a real port, for clients (boto3) that need a URL.

with GatewayServer(settings_for(emulator)) as gateway:
    boto3.client("bedrock-runtime", endpoint_url=gateway.url, ...)
"""

from __future__ import annotations

import socket
import threading

import uvicorn

from app.main import create_app
from app.settings import Settings
from tests.support.running import Running


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is serving."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class GatewayServer(Running):
    """`create_app(settings)` under uvicorn in a daemon thread, lifespan included."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1") -> None:
        self.settings = settings
        self.host = host
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. for boto3's endpoint_url."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> GatewayServer:
        """Bind a free port and return once the server has started (its lifespan included)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.settings), log_level="warning", timeout_graceful_shutdown=1
        )
        ready = threading.Event()
        server = self._server = _Server(config, ready)

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            finally:
                ready.set()  # a failed startup ends the thread: wake the waiter either way

        self._thread = threading.Thread(target=serve, name="gateway", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=60) or not server.started:
            raise RuntimeError("the gateway did not start")
        return self

    def stop(self) -> None:
        """Shut the server down (lifespan shutdown closes the Bedrock clients) and join it."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
