"""Running a task: plan the Bedrock calls, make them concurrently, gather every image."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from ..adapters.base import Call, ModelAdapter, ModelEntry, Notes
from ..bedrock.client import BedrockClient
from ..bedrock.errors import upstream_problem
from ..problems import ProblemError
from ..schemas.images import FinishReason, GeneratedImage
from ..schemas.requests import Task
from .validation import RequestValidator


@dataclass(frozen=True)
class TaskResult:
    """The images of one request, in order, produced or not."""

    model_id: str
    images: list[GeneratedImage]
    notes: Notes = field(default_factory=Notes)

    @property
    def produced(self) -> list[GeneratedImage]:
        """The images that came out."""
        return [i for i in self.images if i.finish_reason is FinishReason.SUCCESS]


class TaskRunner:
    """Validates, plans and fans a task out to Bedrock."""

    def __init__(self, validator: RequestValidator, bedrock: BedrockClient) -> None:
        self.validator = validator
        self.bedrock = bedrock
        self._rng = random.SystemRandom()

    def replaced(self, entry: ModelEntry, task: Task) -> bool:
        """Whether requests for `entry` doing `task` go to a successor (the replacement map)."""
        return False

    async def run(self, task: Task, raw: dict[str, Any]) -> TaskResult:
        """Validate `raw` for `task`, call Bedrock, and return every image.

        Validation and body building decode base64 and masks: CPU work, so it runs in a thread.
        """
        entry, adapter, calls, notes = await asyncio.to_thread(self._prepare, task, raw)
        outcomes = await asyncio.gather(
            *(self._invoke(entry, adapter, call) for call in calls), return_exceptions=True
        )
        images: list[GeneratedImage] = []
        failures: list[ProblemError] = []
        for call, outcome in zip(calls, outcomes, strict=True):
            if isinstance(outcome, ProblemError):
                failures.append(outcome)
                images += [
                    GeneratedImage(
                        b64=None, seed=seed, finish_reason=FinishReason.ERROR, error=outcome.detail
                    )
                    for seed in call.seeds
                ]
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                images += outcome
        if failures and len(failures) == len(calls):
            # Nothing came back: the caller gets the upstream failure itself, not an empty list.
            raise failures[0]
        return TaskResult(model_id=entry.id, images=images, notes=notes)

    def _prepare(
        self, task: Task, raw: dict[str, Any]
    ) -> tuple[ModelEntry, ModelAdapter, list[Call], Notes]:
        request, entry, adapter = self.validator.validate(task, raw)
        calls = adapter.plan(entry, task, request, self._rng)
        return entry, adapter, calls, adapter.notes(entry, task, request)

    async def _invoke(
        self, entry: ModelEntry, adapter: ModelAdapter, call: Call
    ) -> list[GeneratedImage]:
        try:
            payload = await self.bedrock.invoke(entry, call.body)
        except Exception as exc:
            raise upstream_problem(exc, entry.id) from exc
        return adapter.parse(call, payload)
