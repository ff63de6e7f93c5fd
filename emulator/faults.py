"""Fault injection and latency, changed at run time through `PUT /_emulator/faults`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .models.base import BedrockError
from .protocol import ERROR_STATUS, bedrock_error

DROP_CONNECTION = "DropConnection"
SLOW_RESPONSE = "SlowResponse"
# The faults that fail a call.
FAULT_NAMES: tuple[str, ...] = (*ERROR_STATUS, DROP_CONNECTION, SLOW_RESPONSE)
# Not a failure: the call is answered as the model answers a prompt its content filter blocks, so
# a test can filter one image of a fan-out whose calls all carry the same prompt.
CONTENT_FILTERED = "ContentFiltered"
INJECTABLE: tuple[str, ...] = (*FAULT_NAMES, CONTENT_FILTERED)

# What Bedrock says for each code, so an injected fault reads like a real one.
DEFAULT_MESSAGES: dict[str, str] = {
    "ValidationException": "Malformed input request, please reformat your input and try again.",
    "ServiceQuotaExceededException": "Your request exceeds the service quota for your account.",
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
    "ResourceNotFoundException": "Could not resolve the foundation model from the provided "
    "model identifier.",
    "ModelTimeoutException": "Model has timed out in processing the request. "
    "Try your request again.",
    "ModelErrorException": "The model returned an error. Try your request again.",
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "ModelNotReadyException": "Model is not ready to serve inference requests. "
    "Try your request again.",
    "InternalServerException": "The system encountered an unexpected error during processing. "
    "Try your request again.",
    "ServiceUnavailableException": "Bedrock is unable to process your request.",
}


class FaultConfigError(ValueError):
    """A control request the emulator cannot apply; str(err) says why."""


@dataclass
class ScheduledFault:
    """One schedule entry: the next `times` calls matching `model` fail with `fault`."""

    fault: str
    model: str = "*"
    times: int = 1
    message: str | None = None
    original_status_code: int = 500

    def as_dict(self) -> dict[str, Any]:
        """The entry as the control API shows it."""
        return {
            "fault": self.fault,
            "model": self.model,
            "times": self.times,
            "message": self.message,
            "original_status_code": self.original_status_code,
        }


@dataclass
class PoisonedBody:
    """Every call matching `model` whose body contains `marker` fails with `fault`, every time:
    a body the model cannot serve, however often it is sent (unlike `schedule`, never used up)."""

    fault: str
    marker: str
    model: str = "*"

    def as_dict(self) -> dict[str, Any]:
        """The entry as the control API shows it."""
        return {"fault": self.fault, "marker": self.marker, "model": self.model}


class FaultInjector:
    """Decides, call by call, the latency and the fault (if any) an invocation gets."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """No latency, no faults."""
        self.latency: dict[str, int] = {}
        self.schedule: list[ScheduledFault] = []
        self.poison: list[PoisonedBody] = []
        self.rates: dict[str, float] = {}
        self.seed = 0
        self.slow_ms = 0
        self._rng = random.Random(0)

    def configure(self, config: dict[str, Any]) -> None:
        """Apply a `PUT /_emulator/faults` body: each key given replaces that part of the plan."""
        unknown = set(config) - {"latency_ms", "schedule", "poison", "rates", "seed", "slow_ms"}
        if unknown:
            raise FaultConfigError(f"unknown keys: {', '.join(sorted(unknown))}")
        latency = _latency(config["latency_ms"]) if "latency_ms" in config else self.latency
        schedule = _schedule(config["schedule"]) if "schedule" in config else self.schedule
        self.poison = _poison(config["poison"]) if "poison" in config else self.poison
        rates = _rates(config["rates"]) if "rates" in config else self.rates
        seed = _non_negative(config["seed"], "seed") if "seed" in config else self.seed
        slow_ms = _non_negative(config["slow_ms"], "slow_ms") if "slow_ms" in config else None
        self.latency, self.schedule, self.rates = latency, schedule, rates
        if slow_ms is not None:
            self.slow_ms = slow_ms
        if "rates" in config or "seed" in config:
            self.seed = seed
            self._rng = random.Random(seed)

    def snapshot(self) -> dict[str, Any]:
        """The current plan, as `GET /_emulator/faults` shows it."""
        return {
            "latency_ms": dict(self.latency),
            "schedule": [entry.as_dict() for entry in self.schedule],
            "poison": [entry.as_dict() for entry in self.poison],
            "rates": dict(self.rates),
            "seed": self.seed,
            "slow_ms": self.slow_ms,
        }

    def latency_ms(self, model_ids: tuple[str, ...]) -> int:
        """Latency for a call to any of `model_ids` (as sent, resolved); `*` is the fallback."""
        for model_id in model_ids:
            if model_id in self.latency:
                return self.latency[model_id]
        return self.latency.get("*", 0)

    def draw(self, model_ids: tuple[str, ...], body: bytes | None = None) -> ScheduledFault | None:
        """The fault this call gets: the first poison entry whose marker `body` holds, else the
        first matching schedule entry, else a seeded draw."""
        for poisoned in self.poison:
            if (poisoned.model == "*" or poisoned.model in model_ids) and (
                body is not None and poisoned.marker.encode() in body
            ):
                return ScheduledFault(poisoned.fault, poisoned.model)
        for index, entry in enumerate(self.schedule):
            if entry.model == "*" or entry.model in model_ids:
                entry.times -= 1
                if entry.times <= 0:
                    del self.schedule[index]
                return entry
        if not self.rates:
            return None
        roll = self._rng.random()
        for name, probability in self.rates.items():
            if roll < probability:
                return ScheduledFault(name)
            roll -= probability
        return None


def fault_error(fault: ScheduledFault, model_id: str, region: str) -> BedrockError:
    """The Bedrock error an injected error fault answers with."""
    message = fault.message or DEFAULT_MESSAGES[fault.fault]
    extra: dict[str, Any] | None = None
    if fault.fault == "ModelErrorException":
        extra = {
            "originalStatusCode": fault.original_status_code,
            "resourceName": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        }
    return bedrock_error(fault.fault, message, extra)


def _latency(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise FaultConfigError("latency_ms must be an object of model id (or *) to milliseconds")
    return {str(key): _non_negative(ms, f"latency_ms[{key}]") for key, ms in value.items()}


def _schedule(value: Any) -> list[ScheduledFault]:
    if not isinstance(value, list):
        raise FaultConfigError("schedule must be a list")
    entries = []
    for item in value:
        if not isinstance(item, dict):
            raise FaultConfigError("each schedule entry must be an object")
        unknown = set(item) - {"fault", "model", "times", "message", "original_status_code"}
        if unknown:
            raise FaultConfigError(f"unknown schedule keys: {', '.join(sorted(unknown))}")
        entry = ScheduledFault(
            fault=_fault_name(item.get("fault")),
            model=str(item.get("model", "*")),
            times=_non_negative(item.get("times", 1), "times"),
            message=None if item.get("message") is None else str(item["message"]),
            original_status_code=_non_negative(
                item.get("original_status_code", 500), "original_status_code"
            ),
        )
        if entry.times > 0:
            entries.append(entry)
    return entries


def _poison(value: Any) -> list[PoisonedBody]:
    if not isinstance(value, list):
        raise FaultConfigError("poison must be a list")
    entries = []
    for item in value:
        if not isinstance(item, dict):
            raise FaultConfigError("each poison entry must be an object")
        unknown = set(item) - {"fault", "marker", "model"}
        if unknown:
            raise FaultConfigError(f"unknown poison keys: {', '.join(sorted(unknown))}")
        marker = item.get("marker")
        if not isinstance(marker, str) or not marker:
            raise FaultConfigError("a poison entry's marker must be a non-empty string")
        fault = _fault_name(item.get("fault"))
        entries.append(PoisonedBody(fault=fault, marker=marker, model=str(item.get("model", "*"))))
    return entries


def _rates(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise FaultConfigError("rates must be an object of fault name to probability")
    rates: dict[str, float] = {}
    for name, probability in value.items():
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise FaultConfigError(f"rate of {name} must be a number")
        if not 0 <= probability <= 1:
            raise FaultConfigError(f"rate of {name} must be between 0 and 1")
        rates[_fault_name(name)] = float(probability)
    if sum(rates.values()) > 1:
        raise FaultConfigError("rates must add up to at most 1")
    return rates


def _fault_name(value: Any) -> str:
    if value not in INJECTABLE:
        raise FaultConfigError(f"unknown fault {value!r}; known: {', '.join(INJECTABLE)}")
    return str(value)


def _non_negative(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultConfigError(f"{name} must be a non-negative integer")
    return value
