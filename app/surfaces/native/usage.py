"""GET /v1/usage: what a key spent, by UTC day, model and task, over a range of days.

A key reads its own usage; an admin key (`"admin": true` in GATEWAY_API_KEYS) reads every key's,
or one key's with `key`. Amounts are at the gateway's prices (docs/spend.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ...auth.keys import Forbidden, current_key
from ...http.services import SpendDep
from ...http.spec import KEY_MISSING, problem_answer
from ...problems import FieldProblem, ProblemError
from ...problems.types import FORBIDDEN, SPEND_UNAVAILABLE, VALIDATION_ERROR
from ...spend.prices import MICROS

router = APIRouter(prefix="/v1", tags=["usage"])

MAX_DAYS = 366
_INSTANCE = "/v1/usage?from=2026-12-01&to=2026-12-05"


class UsageRow(BaseModel):
    """What one key spent on one model and task on one UTC day."""

    date: date
    key: str = Field(description="The API key's name.")
    model: str = Field(examples=["stability.stable-image-ultra-v1:1"])
    task: str = Field(examples=["text-to-image"])
    cost_usd: float = Field(examples=[0.42])
    images: int = Field(description="Images charged (produced).", examples=[3])
    requests: int = Field(description="Requests (and jobs) that cost something.", examples=[1])


class UsageReport(BaseModel):
    """Spend over a range of UTC days, with its totals."""

    from_: date = Field(alias="from", serialization_alias="from", description="First UTC day.")
    to: date = Field(description="Last UTC day, included.")
    key: str | None = Field(description="The key reported on; null: every key (admin keys).")
    cost_usd: float = Field(description="The rows' sum.", examples=[0.42])
    images: int = Field(examples=[3])
    requests: int = Field(examples=[1])
    usage: list[UsageRow] = Field(description="By date, key, model and task.")

    model_config = {"populate_by_name": True}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: KEY_MISSING,
    403: problem_answer(
        FORBIDDEN,
        "`key` names another key and the calling key is not an admin key (`forbidden`).",
        name="usage-forbidden",
        detail="the API key 'alice' may not use the usage of another key (only admin keys may)",
        instance="/v1/usage?key=bob",
    ),
    422: problem_answer(
        VALIDATION_ERROR,
        "A query parameter is not valid (`errors` names it).",
        name="usage-bad-parameter",
        detail="1 field is not valid",
        instance=_INSTANCE,
        errors=[{"field": "from", "message": "is after `to`"}],
    ),
    503: problem_answer(
        SPEND_UNAVAILABLE,
        "The spend store cannot be reached (`spend-unavailable`).",
        detail="the gateway cannot reach its spend store; try again shortly",
        instance=_INSTANCE,
    ),
}


@router.get(
    "/usage",
    operation_id="getUsage",
    summary="Spend and images by day, model and task",
    response_model=UsageReport,
    responses=_RESPONSES,
)
async def get_usage(
    request: Request,
    spend: SpendDep,
    since: Annotated[
        date | None,
        Query(alias="from", description="First UTC day (default: the first of `to`'s month)."),
    ] = None,
    to: Annotated[
        date | None, Query(description="Last UTC day, included (default: today).")
    ] = None,
    key: Annotated[
        str | None,
        Query(max_length=200, description="Admin keys: only this key (default: every key)."),
    ] = None,
) -> UsageReport:
    """The calling key's spend (an admin key's: every key's, or `key`'s) from `from` to `to`."""
    caller = current_key(request.scope)
    if not caller.admin:
        if key is not None and key != caller.name:
            raise Forbidden(caller.name, "the usage of another key (only admin keys may)")
        key = caller.name
    last = to or datetime.fromtimestamp(spend.clock(), UTC).date()
    first = since or last.replace(day=1)
    if first > last:
        raise _bad("from", "is after `to`")
    if (last - first).days >= MAX_DAYS:
        raise _bad("from", f"the range is over {MAX_DAYS} days: ask for less")
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    rows = await spend.usage(days, key)
    rows.sort(key=lambda r: (r.day, r.key, r.model, r.task))
    listed = [
        UsageRow(
            date=date.fromisoformat(r.day),
            key=r.key,
            model=r.model,
            task=r.task,
            cost_usd=r.micros / MICROS,
            images=r.images,
            requests=r.requests,
        )
        for r in rows
    ]
    return UsageReport(
        from_=first,
        to=last,
        key=key,
        cost_usd=sum(r.micros for r in rows) / MICROS,
        images=sum(r.images for r in rows),
        requests=sum(r.requests for r in rows),
        usage=listed,
    )


def _bad(field: str, message: str) -> ProblemError:
    return VALIDATION_ERROR.error(
        detail="1 field is not valid",
        errors=[FieldProblem(field=field, message=message)],
    )
