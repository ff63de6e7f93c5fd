"""Webhooks: when a job ends, its status is POSTed to the `webhook_url` it was submitted with,
signed per the Standard Webhooks specification (the `standardwebhooks` package signs:
`webhook-id`, `webhook-timestamp`, `webhook-signature`).

The URL is checked against SSRF at submission and again before each delivery, after DNS
resolution: no loopback, link-local (cloud metadata included), private, reserved, multicast or
unspecified address, unless the operator's allow-list (`GATEWAY_WEBHOOK_ALLOW`, networks) holds
it. A delivery is an arq job of its own: a receiver that fails (not 2xx, unreachable, too slow)
gets it again with a doubling delay, capped at 10 minutes, for over an hour; every attempt carries
the same `webhook-id`, so a receiver drops the copies it has already handled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from ..problems import FieldProblem, ProblemError, invalid
from ..problems.types import VALIDATION_ERROR

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Attempts of one delivery: 10 s doubling to a 600 s cap adds up to more than an hour by the 12th.
MAX_ATTEMPTS = 14
_MAX_URL = 2048


def retry_delay(attempt: int, base_s: float) -> float:
    """The pause after failed attempt `attempt` (1-based): doubling from `base_s`, at most 600 s."""
    return float(min(600.0, base_s * 2 ** (attempt - 1)))


def allow_list(entries: Iterable[str]) -> list[IpNetwork]:
    """The operator's allowed networks (`127.0.0.0/8`, `10.1.2.3`)."""
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


async def check_url(url: str, allowed: list[IpNetwork], timeout_s: float = 5.0) -> None:
    """Raise a 422 naming `webhook_url` unless `url` is http(s) and every address it resolves to
    may be called."""
    reason = await unsafe(url, allowed, timeout_s)
    if reason is not None:
        raise invalid([FieldProblem(field="webhook_url", message=reason)])


async def unsafe(url: str, allowed: list[IpNetwork], timeout_s: float) -> str | None:
    """Why the gateway will not call `url`, or None when it may."""
    if len(url) > _MAX_URL:
        return f"longer than {_MAX_URL} characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http or https URL with a host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    try:
        async with asyncio.timeout(timeout_s):
            found = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        return f"its host {parts.hostname!r} does not resolve"
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if any(ip in network for network in allowed):
            continue
        if not ip.is_global or ip.is_multicast:
            return (
                f"its host {parts.hostname!r} resolves to {ip}, a loopback, link-local, private "
                "or reserved address, which the gateway does not call (GATEWAY_WEBHOOK_ALLOW)"
            )
    return None


def headers(secret: str, webhook_id: str, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    now = datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, now, body),
    }


async def post(
    url: str, secret: str, webhook_id: str, payload: dict[str, Any], timeout_s: float
) -> str | None:
    """One attempt; None when the receiver took it (2xx), else why not."""
    body = orjson.dumps(payload)
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
            answer = await http.post(url, content=body, headers=headers(secret, webhook_id, body))
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if answer.is_success:
        return None
    return f"answered {answer.status_code}"


def unavailable() -> ProblemError:
    """Webhooks asked for on a gateway without a signing secret."""
    return VALIDATION_ERROR.error(
        detail="this gateway signs no webhooks: GATEWAY_WEBHOOK_SECRET is not set",
        errors=[FieldProblem(field="webhook_url", message="webhooks are not configured")],
    )
