"""Running a task: plan the Bedrock calls, make them concurrently, gather every image."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from datetime import time as day_start
from typing import Any

from ..auth.keys import ANONYMOUS, ApiKey
from ..bedrock.client import BedrockClient
from ..bedrock.errors import upstream_problem
from ..cache.rules import reproducible
from ..cache.service import ResultCache
from ..families.base import Call, Lifecycle, ModelAdapter, ModelEntry, Notes
from ..observability import facts
from ..problems import ProblemError
from ..quotas import Quotas
from ..quotas.memory import MemoryBackend
from ..schemas.images import FinishReason, GeneratedImage
from ..schemas.requests import IMAGE_FIELDS, Task, TaskRequest
from ..spend.budgets import Spend
from ..spend.prices import FREE, Cost, PriceTable, Quote
from .replacement import ReplacementMap, Translation, fit
from .validation import RequestValidator


@dataclass(frozen=True)
class TaskResult:
    """The images of one request, in order, produced or not."""

    model_id: str
    images: list[GeneratedImage]
    notes: Notes = field(default_factory=Notes)
    # Set when a successor served a request for a retired model: that model's id, and the unix
    # time it was deprecated (RFC 9745's `Deprecation`).
    requested_model: str | None = None
    deprecated_at: int | None = None
    # The key's RateLimit and RateLimit-Policy headers after this request was charged.
    quota_headers: dict[str, str] = field(default_factory=dict)
    # What the images cost (app/spend).
    cost: Cost | None = None

    @property
    def produced(self) -> list[GeneratedImage]:
        """The images that came out."""
        return [i for i in self.images if i.finish_reason is FinishReason.SUCCESS]

    @property
    def filtered(self) -> bool:
        """Whether content filters blocked every image (a caller's answer, not the gateway's)."""
        return all(i.finish_reason is FinishReason.CONTENT_FILTERED for i in self.images)


class TaskRunner:
    """Validates, plans and fans a task out to Bedrock."""

    def __init__(
        self,
        validator: RequestValidator,
        bedrock: BedrockClient,
        quotas: Quotas | None = None,
        spend: Spend | None = None,
        cache: ResultCache | None = None,
    ) -> None:
        self.validator = validator
        self.bedrock = bedrock
        # Without quotas and spend (a runner built by hand), no key has a limit or a budget.
        self.quotas = quotas or Quotas(MemoryBackend())
        self.spend = spend or Spend(PriceTable())
        # The result cache (GATEWAY_CACHE), when it is on.
        self.cache = cache
        self._rng = random.SystemRandom()
        self.replacements = ReplacementMap(validator.registry, validator.settings.replacements)

    def replaced(self, entry: ModelEntry, task: Task) -> bool:
        """Whether requests for `entry` doing `task` go to a successor (the replacement map)."""
        return self.replacements.replaced(entry, task)

    async def run(self, task: Task, raw: dict[str, Any], *, key: ApiKey = ANONYMOUS) -> TaskResult:
        """Validate `raw` for `task`, check `key` may use the model, call Bedrock, and return
        every image. `raw` is consumed: it is emptied once the calls are built.

        With images, validation and body building decode base64 and masks: CPU work, so it runs
        in a thread. Without, it takes less than the thread hop would (about 0.1 ms).
        """
        # One deadline for the whole request: every call of the fan-out shares it.
        deadline = time.monotonic() + self.validator.settings.request_deadline_s
        prompt = raw.get("prompt")
        try:
            if IMAGE_FIELDS.isdisjoint(raw):
                plan = self._prepare(task, raw)
            else:
                plan = await asyncio.to_thread(self._prepare, task, raw)
            # The calls' payloads hold the images from here: a request waiting for Bedrock
            # keeps them once, not also as the caller sent them.
            raw.clear()
            count = sum(call.count for call in plan.calls)
            facts.note(
                model=plan.entry.id,
                task=task.value,
                n=count,
                prompt=prompt if isinstance(prompt, str) else None,
            )
            # The model and task the caller asked for: a successor the operator's replacement
            # map picks serves what the key was allowed.
            key.permit(plan.caller or plan.entry, task)
            # Charged once the request is known valid: its price held against the key's budgets
            # (given back if the quotas refuse it, settled to the images returned), and the
            # key's concurrency slot held until every image is in.
            charge = await self.spend.hold(key, plan.entry.id, task.value, plan.quote, count)
            async with charge, await self.quotas.admit(key, count) as lease:
                result, fresh = await self._served(plan, task, key, deadline)
                # An answer from the result cache made no Bedrock call: it costs nothing.
                cost = plan.quote.cost(result.images) if fresh else FREE
                await charge.settle(cost)
        except ProblemError as problem:
            # The surfaces' error shapes do not all keep the slug; metrics and logs need it.
            facts.note_problem(problem.slug)
            raise
        facts.note_images(len(result.produced))
        return replace(result, quota_headers=lease.headers, cost=cost)

    async def check(
        self, task: Task, raw: dict[str, Any], *, key: ApiKey = ANONYMOUS
    ) -> tuple[ModelEntry, ModelEntry]:
        """Validate `raw` for `task` and `key` exactly as `run` does, calling nothing: the model
        that would serve it and the one the request names (itself, or without `model` the
        default it was given; a retired one when the replacement map serves it), or the
        ProblemError `run` would raise. `raw` is left as it was."""
        try:
            if IMAGE_FIELDS.isdisjoint(raw):
                plan = self._prepare(task, raw)
            else:
                plan = await asyncio.to_thread(self._prepare, task, raw)
            key.permit(plan.caller or plan.entry, task)
        except ProblemError as problem:
            facts.note_problem(problem.slug)
            raise
        return plan.entry, plan.caller or plan.entry

    async def _served(
        self, plan: _Plan, task: Task, key: ApiKey, deadline: float
    ) -> tuple[TaskResult, bool]:
        """The plan's result, and whether Bedrock made it (False: the result cache had it)."""
        if self.cache is None:
            return await self._execute(plan, deadline), True
        made: list[TaskResult] = []

        async def compute() -> TaskResult:
            made.append(await self._execute(plan, deadline))
            return made[0]

        result = await self.cache.serve(key.name, plan.cache_parts(task), compute)
        return result, bool(made)

    async def _execute(self, plan: _Plan, deadline: float) -> TaskResult:
        entry, adapter, calls = plan.entry, plan.adapter, plan.calls
        outcomes = await asyncio.gather(
            *(self._invoke(entry, adapter, call, deadline) for call in calls),
            return_exceptions=True,
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
        if plan.caller is None:
            return TaskResult(model_id=entry.id, images=images, notes=plan.notes)
        size = plan.translation.resize_to if plan.translation else None
        if size is not None:
            # The caller's model would have answered at this size: keep its promise.
            images = await asyncio.to_thread(lambda: [fit(image, size) for image in images])
        return TaskResult(
            model_id=entry.id,
            images=images,
            notes=plan.notes,
            requested_model=plan.caller.id,
            deprecated_at=_deprecated_at(plan.caller),
        )

    def _prepare(self, task: Task, raw: dict[str, Any]) -> _Plan:
        request, entry, adapter = self.validator.validate(task, raw)
        if not self.replaced(entry, task):
            handler = self.validator.registry.handler(entry, task)
            calls = [call.encoded() for call in handler.plan(entry, request, self._rng)]
            again = reproducible(task, entry, adapter, request)
            quote = self.spend.quote(entry.id, task, _sizing(request))
            return _Plan(entry, adapter, calls, handler.notes(entry, request), again, quote)
        translation = self.replacements.translate(task, _given(request), entry)
        try:
            request, successor, adapter = self.validator.validate(translation.task, translation.raw)
        except ProblemError as problem:
            raise replace(
                problem,
                detail=f"{problem.detail} (the request for retired {entry.id} is served by "
                f"{translation.successor.id})",
            ) from None
        handler = self.validator.registry.handler(successor, translation.task)
        calls = [call.encoded() for call in handler.plan(successor, request, self._rng)]
        notes = handler.notes(successor, request)
        merged = Notes(
            applied={**translation.applied, **notes.applied},
            warnings=translation.warnings + notes.warnings,
        )
        again = reproducible(translation.task, successor, adapter, request)
        quote = self.spend.quote(successor.id, translation.task, _sizing(request))
        return _Plan(
            successor,
            adapter,
            calls,
            merged,
            again,
            quote,
            caller=entry,
            translation=translation,
        )

    async def _invoke(
        self, entry: ModelEntry, adapter: ModelAdapter, call: Call, deadline: float
    ) -> list[GeneratedImage]:
        body = call.payload or call.body
        try:
            if call.operation == "Converse":
                payload = await self.bedrock.converse(entry, body, deadline=deadline)
            else:
                payload = await self.bedrock.invoke(
                    entry, body, deadline=deadline, payload_sha256=call.payload_sha256
                )
        except Exception as exc:
            raise upstream_problem(
                exc,
                entry.id,
                retired=entry.status is Lifecycle.RETIRED,
                successors=self.successor_names(entry),
            ) from exc
        if call.operation == "Converse":
            # Converse answers are decoded and fitted to the size asked: CPU work.
            return await asyncio.to_thread(adapter.parse, call, payload)
        return adapter.parse(call, payload)

    def successor_names(self, entry: ModelEntry) -> list[str]:
        """`entry`'s successors as a caller reads them: `alias (id)`."""
        names = []
        for name in entry.successors:
            successor = self.validator.registry.resolve(name)
            names.append(f"{name} ({successor.id})" if successor and successor.id != name else name)
        return names


@dataclass(frozen=True)
class _Plan:
    """A request ready to call: the model that serves it and, when replaced, the one it named."""

    entry: ModelEntry
    adapter: ModelAdapter
    calls: list[Call]
    notes: Notes
    # Whether the same request gives the same images (the result cache may answer it).
    reproducible: bool
    quote: Quote
    caller: ModelEntry | None = None
    translation: Translation | None = None

    def cache_parts(self, task: Task) -> list[bytes] | None:
        """What identifies the answer for the result cache, or None when it is not reproducible:
        the task, the models and every call as it would be sent."""
        if not self.reproducible:
            return None
        names = [task.value, self.entry.id, self.caller.id if self.caller else ""]
        parts = [name.encode() for name in names]
        for call in self.calls:
            parts += [call.operation.encode(), call.payload or b""]
        return parts


def _sizing(request: TaskRequest) -> dict[str, Any]:
    """The fields a price may depend on (size and quality), as validated."""
    return {name: getattr(request, name, None) for name in ("width", "height", "quality")}


def _given(request: TaskRequest) -> dict[str, Any]:
    """The fields the caller set, as validated (images decoded): the vocabulary translated."""
    return {name: getattr(request, name) for name in request.given()}


def _deprecated_at(entry: ModelEntry) -> int:
    """When `entry` was deprecated: its end of life, else its legacy date, else (retired with no
    date known) now, the latest moment it can have been."""
    when = entry.end_of_life or entry.legacy_date
    if when is None:
        return int(time.time())
    return int(datetime.combine(when, day_start(), tzinfo=UTC).timestamp())
