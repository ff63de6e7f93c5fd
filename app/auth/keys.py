"""API keys as configured (GATEWAY_API_KEYS): a name, a hash, what the key may use, its limits.

Settings hold only hashes, `sha256:<64 hex digits>` of the key. Keys are made by
`python -m app keys create` (keygen.py) from 32 bytes of `secrets.token_urlsafe` (256 bits of
randomness), so a plain SHA-256 is enough: a slow KDF protects guessable passwords, and nobody
can guess or search 2**256 keys whatever the hash costs. A fast hash keeps the check per request
cheap.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.types import Scope

from ..families.base import ModelEntry
from ..problems import ProblemError
from ..problems.types import FORBIDDEN, UNAUTHORIZED
from ..schemas.requests import Task
from .keygen import NAME_MAX_LENGTH, hash_key

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


class Limits(BaseModel):
    """One key's quotas; None means the settings' default_limits decide (or no limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_minute: int | None = Field(default=None, ge=1)
    images_per_minute: int | None = Field(default=None, ge=1)
    concurrent_requests: int | None = Field(default=None, ge=1)


class Budget(BaseModel):
    """What a key may spend, in USD, per UTC day, per UTC calendar month and in all; None means
    the settings' default_budget decides (or no limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    usd_per_day: float | None = Field(default=None, ge=0)
    usd_per_month: float | None = Field(default=None, ge=0)
    usd_total: float | None = Field(default=None, ge=0)


class ApiKey(BaseModel):
    """A configured key: its name (shown in logs, metrics, 403s), the hash, what it may use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    hash: str
    # Model ids or aliases, and task names; None: every model, every task.
    models: tuple[str, ...] | None = None
    tasks: tuple[Task, ...] | None = None
    limits: Limits = Field(default_factory=Limits)
    budget: Budget = Field(default_factory=Budget)
    # An admin key reads every key's usage (GET /v1/usage); it is no different otherwise.
    admin: bool = False

    @field_validator("hash")
    @classmethod
    def _hash_format(cls, value: str) -> str:
        if value and not _HASH.fullmatch(value):
            raise ValueError(
                "must be 'sha256:' and 64 lowercase hex digits, as `python -m app keys create` "
                "prints it"
            )
        return value

    def permit(self, entry: ModelEntry, task: Task | None) -> None:
        """Raise 403 forbidden unless this key may use `entry` for `task`.

        `task` None is a request whose task the gateway cannot tell (a Bedrock pass-through body
        it does not read): a key limited to some tasks may not make it.
        """
        if self.models is not None and not ({entry.id, *entry.aliases} & set(self.models)):
            raise Forbidden(self.name, f"model {entry.id}")
        if self.tasks is not None and (task is None or task not in self.tasks):
            what = f"task {task.value}" if task is not None else "this request (task unknown)"
            raise Forbidden(self.name, f"{what} with {entry.id}")


ANONYMOUS = ApiKey(name="anonymous", hash="")


class Forbidden(ProblemError):
    """403 forbidden: the key is valid but may not use this model or task."""

    def __init__(self, key_name: str, what: str) -> None:
        super().__init__(
            *FORBIDDEN.head,
            detail=f"the API key '{key_name}' may not use {what}",
        )


class Unauthorized(ProblemError):
    """401 unauthorized: no API key, or one the gateway does not know."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            *UNAUTHORIZED.head,
            detail=detail,
            headers={"WWW-Authenticate": 'Bearer realm="bedrock-image-gateway"'},
        )


class KeyConfigError(ValueError):
    """GATEWAY_API_KEYS holds an entry that is not a valid key (raised at start-up)."""


def load_keys(
    entries: Iterable[dict[str, Any]],
    resolve: Callable[[str], ModelEntry | None] | None = None,
) -> tuple[ApiKey, ...]:
    """The configured keys, each checked; a bad entry raises KeyConfigError naming the entry.

    With `resolve` (the registry's), each model a key lists must be one the gateway knows, and is
    stored as its Bedrock id, so `permit` matches whatever name a caller uses for it.
    """
    keys: list[ApiKey] = []
    for index, entry in enumerate(entries):
        label = f"GATEWAY_API_KEYS[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({entry['name']!r})"
        try:
            key = ApiKey.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
            )
            raise KeyConfigError(f"{label} is not a valid API key: {problems}") from None
        if not key.hash:
            raise KeyConfigError(f"{label} is not a valid API key: hash: is required")
        if resolve is not None and key.models is not None:
            ids: list[str] = []
            for name in key.models:
                model = resolve(name)
                if model is None:
                    raise KeyConfigError(f"{label}: models: no model is named {name[:100]!r}")
                ids.append(model.id)
            key = key.model_copy(update={"models": tuple(dict.fromkeys(ids))})
        keys.append(key)
    names = [k.name for k in keys]
    hashes = [k.hash for k in keys]
    if len(set(names)) != len(names):
        raise KeyConfigError("GATEWAY_API_KEYS: two keys have the same name")
    if len(set(hashes)) != len(hashes):
        raise KeyConfigError("GATEWAY_API_KEYS: two keys have the same hash")
    return tuple(keys)


def find_key(keys: Iterable[ApiKey], presented: str) -> ApiKey | None:
    """The key whose hash matches `presented`, compared in constant time against every hash.

    Every configured hash is compared (no early exit), so the time taken says nothing about
    which key, or how much of one, matched.
    """
    digest = hash_key(presented).encode()
    found: ApiKey | None = None
    for key in keys:
        if hmac.compare_digest(digest, key.hash.encode()):
            found = key
    return found


def current_key(scope: Scope) -> ApiKey:
    """The key the auth middleware bound to this request; ANONYMOUS when none is asked for."""
    state: dict[str, Any] = scope.get("state", {})
    key = state.get("api_key")
    return key if isinstance(key, ApiKey) else ANONYMOUS
