"""Reading a batch: its JSONL body line by line as it arrives, each line validated exactly as its
synchronous request would be, the accepted ones stored (`jobs.batches.Draft`), never the whole
body in memory.

A line is `{"custom_id", "task" (or "url": "/v1/images/<task>"), "body", "method" (optional,
POST)}`, as OpenAI's Batch API input is. A batch with any bad line is refused whole (422
`invalid-batch`, listing the bad lines by number and custom_id), nothing queued: a caller fixes
its file and sends it again, rather than working out afterwards which of its requests never ran.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from ...auth.keys import ApiKey
from ...http.body import parse_json_object
from ...http.json_bounds import JsonBounds
from ...http.upload import ClientClosed
from ...jobs.batches import Draft, new_batch_id
from ...jobs.service import Jobs
from ...observability.facts import note_problem
from ...problems import FieldProblem, ProblemError, invalid
from ...problems.types import BATCH_TOO_LARGE, INVALID_BATCH, UNKNOWN_TASK, UNSUPPORTED_MEDIA_TYPE
from ...schemas.requests import Task
from ...tasks.runner import TaskRunner
from ...wording import did_you_mean

MEDIA_TYPES = ("application/jsonl", "application/x-ndjson", "application/jsonlines")
_KEYS = frozenset({"custom_id", "task", "url", "method", "body"})
_MAX_CUSTOM_ID = 64
# Below this a thread hop costs more than parsing the line.
_PARSE_INLINE_BYTES = 64 * 1024
# Bad lines listed in the refusal (all are counted).
MAX_LISTED = 100


class BatchReader:
    """One batch upload being read: the lines accepted so far, the bad ones reported."""

    def __init__(self, runner: TaskRunner, jobs: Jobs, key: ApiKey, max_lines: int) -> None:
        self.runner = runner
        self.key = key
        self.max_lines = max_lines
        self.bounds = JsonBounds.of(runner.validator.settings)
        self.draft = Draft(jobs.store, jobs.redis, new_batch_id())
        self.bad: list[dict[str, Any]] = []
        self.bad_count = 0
        self.lines = 0
        self._custom_ids: set[str] = set()

    async def read(self, request: Request) -> Draft:
        """Every line of the body, validated; the draft of a batch whose lines all hold, else the
        422 naming the bad ones (nothing is kept)."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in MEDIA_TYPES:
            raise UNSUPPORTED_MEDIA_TYPE.error(
                f"the body is {media or 'of no type'}; a batch is JSON Lines: "
                f"{', '.join(MEDIA_TYPES)}"
            )
        try:
            await self._read(request)
            if self.bad_count:
                raise self._refusal()
            if self.draft.count == 0:
                raise invalid([FieldProblem(field="body", message="the batch has no lines")])
            await self.draft.flush()
        except ClientDisconnect:
            await self.draft.discard()
            note_problem("client-closed-request")
            raise ClientClosed() from None
        except BaseException:
            await self.draft.discard()
            raise
        return self.draft

    async def _read(self, request: Request) -> None:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            start = 0
            while (end := buffer.find(b"\n", start)) >= 0:
                await self._line(bytes(buffer[start:end]))
                start = end + 1
            del buffer[:start]
        if buffer:
            await self._line(bytes(buffer))

    async def _line(self, raw: bytes) -> None:
        self.lines += 1
        if not raw.strip():
            return
        if self.draft.count + self.bad_count >= self.max_lines:
            raise BATCH_TOO_LARGE.error(
                f"a batch holds at most {self.max_lines:,} requests; line {self.lines} "
                "is one more: split the file"
            )
        custom_id: str | None = None
        try:
            raw = raw.rstrip(b"\r")
            if len(raw) <= _PARSE_INLINE_BYTES:
                line = parse_json_object(raw, self.bounds)
            else:  # a line carrying images: parsed off the event loop, as a request body is
                line = await asyncio.to_thread(parse_json_object, raw, self.bounds)
            named_id = line.get("custom_id")
            # Named in the report as soon as it is read, whatever else is wrong with the line.
            custom_id = named_id[:_MAX_CUSTOM_ID] if isinstance(named_id, str) else None
            custom_id = _custom_id(line)
            task = _task(line)
            body = line.get("body")
            if not isinstance(body, dict):
                raise invalid([FieldProblem(field="body", message="must be a JSON object")])
            if custom_id in self._custom_ids:
                raise invalid(
                    [FieldProblem(field="custom_id", message="is used by an earlier line")]
                )
            _, named = await self.runner.check(task, body, key=self.key)
        except ProblemError as problem:
            self._report(custom_id, problem)
            return
        self._custom_ids.add(custom_id)
        if self.bad_count:
            return  # the batch is refused: its lines are only checked now, not kept
        # The model is settled here, as a job's is.
        settled = body if body.get("model") is not None else {**body, "model": named.id}
        await self.draft.add({"custom_id": custom_id, "task": task.value, "body": settled})

    def _report(self, custom_id: str | None, problem: ProblemError) -> None:
        self.bad_count += 1
        if len(self.bad) >= MAX_LISTED:
            return
        body = problem.body(None, None)
        entry = {"line": self.lines, "custom_id": custom_id}
        entry.update({k: v for k, v in body.items() if k not in ("instance", "request_id")})
        self.bad.append(entry)

    def _refusal(self) -> ProblemError:
        listed = "" if self.bad_count <= MAX_LISTED else f" (the first {MAX_LISTED} are listed)"
        return INVALID_BATCH.error(
            f"{self.bad_count} of {self.lines} lines are not valid{listed}: the batch is "
            "refused whole and nothing was queued; fix them and send it again",
            extra={"bad_line_count": self.bad_count, "lines": self.bad},
        )


def _custom_id(line: dict[str, Any]) -> str:
    unknown = sorted(set(line) - _KEYS)
    if unknown:
        problems = [
            FieldProblem(field=name, message="is not a field of a batch line") for name in unknown
        ]
        raise invalid(problems)
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= _MAX_CUSTOM_ID:
        raise invalid(
            [
                FieldProblem(
                    field="custom_id",
                    message=f"must be a string of 1 to {_MAX_CUSTOM_ID} characters",
                )
            ]
        )
    return custom_id


def _task(line: dict[str, Any]) -> Task:
    method = line.get("method", "POST")
    if method != "POST":
        raise invalid([FieldProblem(field="method", message="must be POST")])
    names = [t.value for t in Task]
    if "task" in line and "url" in line:
        raise invalid([FieldProblem(field="url", message="give task or url, not both")])
    if "url" in line:
        url = line["url"]
        if not isinstance(url, str) or not url.startswith("/v1/images/"):
            raise invalid([FieldProblem(field="url", message="must be /v1/images/<task>")])
        name, field = url.removeprefix("/v1/images/"), "url"
    elif "task" in line:
        name, field = line["task"], "task"
        if not isinstance(name, str):
            raise invalid([FieldProblem(field="task", message="must be a string")])
    else:
        raise invalid([FieldProblem(field="task", message="is required (or url)")])
    if name not in names:
        hint = did_you_mean(name, names)
        raise UNKNOWN_TASK.error(
            f"there is no task {name[:64]!r}; {hint + ' ' if hint else ''}"
            f"tasks: {', '.join(names)}",
            errors=[FieldProblem(field=field, message="names no task")],
        )
    return Task(name)
