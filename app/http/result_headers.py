"""The headers every answer of a task carries, whatever the surface."""

from __future__ import annotations

from ..tasks.runner import TaskResult


def answer_headers(result: TaskResult) -> dict[str, str]:
    """The headers every answer of `result` carries, whatever its shape: the model that served
    it, warnings, (a successor serving a retired model) RFC 9745's `Deprecation`, and the key's
    RateLimit and RateLimit-Policy."""
    headers = {"Served-Model": result.model_id}
    if result.notes.warnings:
        headers["Warning"] = ", ".join(warning_value(w) for w in result.notes.warnings)
    if result.deprecated_at is not None:
        headers["Deprecation"] = f"@{result.deprecated_at}"
    headers.update(result.quota_headers)
    usage = [image.usage for image in result.images if image.usage is not None]
    if usage:
        # Models priced per token: what the answer cost, summed over its calls.
        spent, made = sum(u[0] for u in usage), sum(u[1] for u in usage)
        headers["Token-Usage"] = f"input={spent}, output={made}, total={spent + made}"
    return headers


def warning_value(text: str) -> str:
    """One `Warning` header value (RFC 7234 form, code 299: a persistent warning)."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{quoted}"'
