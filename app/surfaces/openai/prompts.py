"""Prompts longer than the model takes, on the OpenAI surface: shortened or refused, by setting.

OpenAI takes 4,000 (dall-e-3) to 32,000 characters (the GPT image models); Titan takes 512, Nova
Canvas 1,024. Callers of this surface (LLM-written prompts from agent tools) cannot react to a
400, so by default (`GATEWAY_OPENAI_LONG_PROMPTS=shorten`) the prompt is cut at the last word
boundary within the limit and the answer's Warning says so; `refuse` leaves it to validation,
whose 400 names `prompt` and the limit, as the native API always does.
"""

from __future__ import annotations

import annotated_types

from ...schemas.requests import REQUEST_MODELS, Task


def prompt_limit(task: Task, model_max: int | None) -> int | None:
    """The most characters a prompt may have: the model's limit, within the task schema's."""
    field = REQUEST_MODELS[task].model_fields.get("prompt")
    schema_max = None
    if field is not None:
        schema_max = next(
            (m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)), None
        )
    limits = [limit for limit in (model_max, schema_max) if limit is not None]
    return min(limits) if limits else None


def shorten(prompt: str, limit: int) -> str:
    """`prompt` cut to at most `limit` characters, at a word boundary when one is in the last
    fifth (a cut mid-word would hand the model a fragment), without trailing spaces."""
    head = prompt[:limit]
    if len(prompt) > limit and not prompt[limit].isspace():
        boundary = head.rstrip().rfind(" ")
        if boundary >= limit * 4 // 5:
            head = head[:boundary]
    return head.rstrip()
