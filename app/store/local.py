"""The local result store: one file per stored object under a directory, and the signatures that
let `GET /v1/files/{name}` serve one to whoever holds its URL until the URL expires.

A name is written once, atomically (a temporary file renamed into place), so a job run twice (its
first worker died) leaves one copy of each result, never a half-written one. Names are made by
the gateway (`<job id>-<n>.<ext>`), never by a caller; a name with anything but letters, digits,
`-`, `_` and `.` is refused before it reaches the file system.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")


def valid_name(name: str) -> bool:
    """Whether `name` is one the store could have made (no separators, no leading dot)."""
    return _NAME.fullmatch(name) is not None


class LocalStore:
    """Objects as files under `root`, fetched at URLs `signer` signs."""

    def __init__(self, root: str | os.PathLike[str], signer: SignedUrls) -> None:
        self.root = Path(root)
        self.signer = signer

    async def url(self, name: str, base_url: str, ttl_s: int | None = None) -> str:
        """The signed `/v1/files` URL of `name` for answers read at `base_url`, valid for `ttl_s`
        (the signer's default when None)."""
        return base_url.rstrip("/") + self.signer.path(name, ttl_s=ttl_s)

    def _path(self, name: str) -> Path:
        if not valid_name(name):
            raise ValueError(f"not a store name: {name[:50]!r}")
        return self.root / name

    async def put(self, name: str, data: bytes) -> None:
        """Store `data` as `name`, replacing any earlier copy whole."""
        await asyncio.to_thread(self._write, self._path(name), data)

    def _write(self, path: Path, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".part-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)

    async def get(self, name: str) -> bytes | None:
        """The object's bytes; None when there is no such object."""
        path = self._path(name)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, name: str) -> None:
        """Remove the object, if it is there."""
        await asyncio.to_thread(self._path(name).unlink, missing_ok=True)

    async def names(self, prefix: str) -> list[str]:
        """The stored names that start with `prefix`."""

        def listing() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(p.name for p in self.root.iterdir() if p.name.startswith(prefix))

        return await asyncio.to_thread(listing)

    async def sweep(self, older_than_s: float, now: float | None = None) -> int:
        """Delete every object stored more than `older_than_s` seconds ago; how many went."""
        cutoff = (time.time() if now is None else now) - older_than_s

        def remove() -> int:
            if not self.root.is_dir():
                return 0
            gone = 0
            for path in self.root.iterdir():
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    gone += 1
            return gone

        return await asyncio.to_thread(remove)

    async def check(self) -> str | None:
        """Why the store cannot be written to, or None when it can (for /readyz)."""

        def probe() -> str | None:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return f"the result directory {self.root} cannot be made: {exc.strerror}"
            if not os.access(self.root, os.W_OK):
                return f"the result directory {self.root} is not writable"
            return None

        return await asyncio.to_thread(probe)


class SignedUrls:
    """`/v1/files/{name}?expires=...&signature=...`: an HMAC-SHA256 over the name and expiry.

    The secret is the operator's (GATEWAY_RESULTS_SECRET), shared by every replica; without one,
    each process makes its own, and its URLs hold only for that process.
    """

    def __init__(self, secret: str | None, ttl_s: int) -> None:
        self._key = (secret or secrets.token_urlsafe(32)).encode()
        self.ttl_s = ttl_s

    def _signature(self, name: str, expires: int) -> str:
        message = f"{name}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def path(self, name: str, now: float | None = None, ttl_s: int | None = None) -> str:
        """The signed path of `name`, valid for `ttl_s` (else the default) from now."""
        expires = int(time.time() if now is None else now) + (ttl_s or self.ttl_s)
        return f"/v1/files/{name}?expires={expires}&signature={self._signature(name, expires)}"

    def verify(self, name: str, expires: str | None, signature: str | None) -> str | None:
        """Why the URL does not hold (tampered, expired, unsigned), or None when it does."""
        if not expires or not signature:
            return "the URL carries no signature: use the URL the job's status gives"
        if not expires.isdigit() or len(expires) > 12:
            return "the URL's expires is not a unix time"
        if not hmac.compare_digest(self._signature(name, int(expires)), signature):
            return "the URL's signature does not match: it was altered or made by another gateway"
        if int(expires) < time.time():
            return "the URL has expired: fetch the job's status again for a fresh one"
        return None
