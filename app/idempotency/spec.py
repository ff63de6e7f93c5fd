"""The spec's side of answer reuse: the Idempotency-Key request header on every POST, and the
Idempotent-Replayed and Cache-Status headers of their answers. Added to the generated spec in
one place, as the middleware that implements them applies to every POST in one place."""

from __future__ import annotations

from typing import Any

from .header import MAX_LENGTH

PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe (IETF httpapi idempotency-key draft): a structured-field string, "
        f'e.g. `"8e03978e-40d5-43e8"`, or the same key bare, 1 to {MAX_LENGTH} characters. '
        "The first request with "
        "the key is processed and its 2xx answer kept (GATEWAY_IDEMPOTENCY_TTL_S, 24 h by "
        "default); the same request again with the key gets that answer, without a Bedrock "
        "call, marked `Idempotent-Replayed: true`; a repeat while the first runs waits for its "
        "answer. Keys belong to the API key that sent them. A key with spaces or other "
        "characters outside quotes is 400 `bad-idempotency-key`; the key sent with another "
        "request is 422 "
        "`idempotency-key-reused`; 503 `idempotency-unavailable` when its store does not answer."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH + 2},
    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
}
REPLAYED = {
    "description": "`true` when this answer is the one stored for the request's "
    "Idempotency-Key, replayed (no Bedrock call was made for it).",
    "schema": {"type": "string", "enum": ["true"]},
}
CACHE_STATUS = {
    "description": "With the result cache on (GATEWAY_CACHE), what it did (RFC 9211): "
    "`bedrock-gateway; hit; ttl=<s>` (no Bedrock call), `bedrock-gateway; fwd=uri-miss; "
    "stored`, `fwd=stale`, `fwd=request` (Cache-Control: no-cache or no-store), `fwd=bypass` "
    "(not reproducible: no seed).",
    "schema": {"type": "string"},
}


def document_reuse(spec: dict[str, Any]) -> None:
    """Add the header parameter and answer headers to every POST operation of `spec`."""
    for path, operations in spec.get("paths", {}).items():
        operation = operations.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(PARAMETER)
        for status, answer in operation.get("responses", {}).items():
            if not str(status).startswith("2"):
                continue
            headers = answer.setdefault("headers", {})
            headers["Idempotent-Replayed"] = REPLAYED
            if not path.startswith("/v1/jobs"):
                headers["Cache-Status"] = CACHE_STATUS
