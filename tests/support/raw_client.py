"""A POST written by hand on its own socket (h11), for clients no library imitates: one that sends
its body a few bytes at a time, or hangs up halfway through."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11


@dataclass
class Answer:
    """What came back: the status, the headers (names lower-cased), the body, and whether the
    server closed the connection after it."""

    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool


class RawPost:
    """A POST to `path`: `start()` sends its head (chunked unless `length` is given), `send()`
    body bytes, `answer()` reads what comes back."""

    def __init__(
        self,
        url: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._conn = h11.Connection(h11.CLIENT)
        self._path = path
        self._headers = [("Host", parts.netloc), *(headers or {}).items()]
        if length is None:
            self._headers.append(("Transfer-Encoding", "chunked"))
        else:
            self._headers.append(("Content-Length", str(length)))
        self.sock: socket.socket | None = None

    def start(self) -> RawPost:
        """Connect and send the head."""
        self.sock = socket.create_connection(self._address, timeout=60)
        request = h11.Request(method="POST", target=self._path, headers=self._headers)
        self.sock.sendall(self._conn.send(request))
        return self

    def send(self, data: bytes) -> bool:
        """Send body bytes (a chunk when chunked); False once the server has closed."""
        assert self.sock is not None
        try:
            self.sock.sendall(self._conn.send(h11.Data(data=data)))
        except (BrokenPipeError, ConnectionResetError, h11.LocalProtocolError):
            return False
        return True

    def answered(self) -> bool:
        """Whether anything (an answer, or the connection's end) has arrived, without waiting."""
        assert self.sock is not None
        self.sock.setblocking(False)
        try:
            self.sock.recv(1, socket.MSG_PEEK)  # b"" when closed: that is an answer too
            return True
        except BlockingIOError:
            return False
        finally:
            self.sock.setblocking(True)

    def answer(self, timeout_s: float = 60) -> Answer:
        """Read the answer, then whether the connection closes after it."""
        assert self.sock is not None
        self.sock.settimeout(timeout_s)
        status, headers, body = 0, {}, b""
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                self._conn.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        try:
            closed = self.sock.recv(1) == b""
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
        return Answer(status, headers, body, closed)

    def close(self) -> None:
        """Hang up."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
