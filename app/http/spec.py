"""OpenAPI declarations the routes cannot infer: JSON/multipart bodies, binary answers, problems.

FastAPI emits one body media type per route, so edit tasks declare theirs here. The multipart
schema marks file fields `format: binary` and the body is `required: false`: both are what
openapi-python-client needs to generate a client that really uploads files (reference §5).
Enums whose values are not names ("16:9", "3d-model") carry `x-enum-varnames`, which generators
use instead of naming the members by position (`make clients` runs the generated clients).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel

from ..families.registry import ModelRegistry
from ..problems import PROBLEM_JSON, Problem, ProblemType
from ..problems.types import (
    BODY_TIMEOUT,
    DEADLINE_EXCEEDED,
    FORBIDDEN,
    GATEWAY_BUSY,
    HEADERS_TOO_LARGE,
    INVALID_JSON,
    MODEL_NOT_FOUND,
    MODEL_RETIRED,
    NOT_ACCEPTABLE,
    PAYLOAD_TOO_LARGE,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    UPSTREAM_MODEL_ERROR,
    UPSTREAM_THROTTLED,
    VALIDATION_ERROR,
)
from ..schemas.images import ImagesResponse
from ..schemas.requests import IMAGE_FIELDS, REQUEST_MODELS, Task

# Tasks that need an image take multipart too; those whose images are optional are JSON only.
MULTIPART_TASKS = frozenset(Task) - {Task.TEXT_TO_IMAGE, Task.COLOR_GUIDED}
_BINARY = {"type": "string", "format": "binary"}
_REF = "#/components/schemas/{model}"


def request_body(task: Task, model: type[BaseModel], *, multipart: bool) -> dict[str, Any]:
    """`openapi_extra` for a route whose body is `model`, as JSON and optionally multipart."""
    # Its examples are the families' (`with_examples`, once the registry is known).
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
    }
    if multipart:
        content["multipart/form-data"] = {
            "schema": {"$ref": _REF.format(model=_multipart_name(model))}
        }
    return {"requestBody": {"required": False, "content": content}}


# The operations whose body is a task's request: the task is the path's last part.
_TASK_PATHS = ("/v1/images/", "/v1/jobs/")


def with_examples(schema: dict[str, Any], registry: ModelRegistry) -> None:
    """Put each task's request examples, as the families give them, on every operation whose
    body is that task's request (the task's own route and its job submission)."""
    for path, item in schema.get("paths", {}).items():
        for prefix in _TASK_PATHS:
            name = path[len(prefix) :] if path.startswith(prefix) else None
            if name not in _TASKS or "post" not in item:
                continue
            examples = registry.examples(Task(name))
            content = item["post"].get("requestBody", {}).get("content", {})
            if examples and "application/json" in content:
                content["application/json"]["examples"] = examples


_TASKS = frozenset(task.value for task in Task)
_REQUEST_ID = {
    "X-Request-ID": {
        "description": "The request's id: the caller's own `X-Request-ID` when it is safe to "
        "echo, else one the gateway made. Problems carry it as `request_id` too.",
        "required": True,
        "schema": {"type": "string"},
    }
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


# One example body per status, each a problem the gateway really answers with that status (the
# Problem schema's own examples are a 422's, which viewers would otherwise show for every status).
_PROBLEM_EXAMPLES: dict[int, tuple[ProblemType, str]] = {
    400: (
        INVALID_JSON,
        "Expecting ',' delimiter: line 1 column 24",
    ),
    404: (
        MODEL_NOT_FOUND,
        "no model is named 'titan-v3' (did you mean 'titan-v2'?); GET /v1/models lists them",
    ),
    406: (
        NOT_ACCEPTABLE,
        "an image/png answer holds one image and n is 2: ask for application/json, or n=1",
    ),
    408: (
        BODY_TIMEOUT,
        "the body did not arrive within 60 s",
    ),
    410: (
        MODEL_RETIRED,
        "amazon.titan-image-generator-v1 has reached its end of life and Bedrock no longer "
        "serves it: move to sd3.5-large (stability.sd3-5-large-v1:0), or let the gateway serve "
        'its requests with its successors by setting GATEWAY_REPLACEMENTS={"amazon.titan-image-'
        'generator-v1":{}}',
    ),
    413: (
        PAYLOAD_TOO_LARGE,
        "the body is over the limit of 26 MiB (27262976 bytes)",
    ),
    415: (
        UNSUPPORTED_MEDIA_TYPE,
        "the body is text/plain; this endpoint takes application/json or multipart/form-data",
    ),
    431: (
        HEADERS_TOO_LARGE,
        "the request line and headers are over the limit of 32 KiB (32768 bytes) or 100 headers",
    ),
    422: (
        VALIDATION_ERROR,
        "2 fields are not valid for amazon.titan-image-generator-v1",
    ),
    429: (UPSTREAM_THROTTLED, "Too many requests, please wait."),
    502: (UPSTREAM_MODEL_ERROR, "The model failed to process the request."),
    503: (
        GATEWAY_BUSY,
        "the gateway is already handling its limit of 256 requests; retry after a moment",
    ),
    504: (
        DEADLINE_EXCEEDED,
        "the call to amazon.titan-image-generator-v1 did not finish within the request's deadline",
    ),
}
_EXAMPLE_ERRORS = [
    {"field": "width", "message": "1000x1000 is not a size amazon.titan-image-generator-v1 "
     "accepts; allowed: 1024x1024, 768x768, 512x512, ..."},
    {"field": "propmt", "message": "Extra inputs are not permitted; did you mean 'prompt'?"},
]  # fmt: skip


def _example(status: int) -> dict[str, Any]:
    kind, detail = _PROBLEM_EXAMPLES[status]
    body: dict[str, Any] = {
        "type": f"/problems/{kind.slug}",
        "title": kind.title,
        "status": status,
        "detail": detail,
        "instance": "/v1/images/text-to-image",
        "request_id": "6f1c2a9e0b7d4c1e8f3a2b5c4d6e7f80",
    }
    if status == 422:
        body["errors"] = _EXAMPLE_ERRORS
    return body


# The examples live once in components/examples; each response refers to its own.
_EXAMPLES: dict[str, dict[str, Any]] = {}


def _problem(
    status: int,
    description: str,
    *,
    retry_after: bool = False,
    example: tuple[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    headers = {**_REQUEST_ID, **(_RETRY_AFTER if retry_after else {})}
    name, value = example or (f"problem-{status}", _example(status))
    _EXAMPLES[name] = {"summary": f"{status} {value['type'].rsplit('/', 1)[1]}", "value": value}
    return {
        "description": description,
        "headers": headers,
        "content": {
            PROBLEM_JSON: {
                "schema": {"$ref": _REF.format(model="Problem")},
                "examples": {name: {"$ref": f"#/components/examples/{name}"}},
            }
        },
    }


def problem_answer(
    kind: ProblemType,
    description: str,
    *,
    detail: str,
    instance: str,
    name: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A documented problem answer of type `kind` with an example of its own, named `name`
    (the type's slug by default; for routes of other surfaces that answer problems this module
    has no example of)."""
    value = {**_example(422), "status": kind.status, "instance": instance, **extra}
    value.update(type=f"/problems/{kind.slug}", title=kind.title, detail=detail)
    if kind.status != 422:
        value.pop("errors")
    return _problem(kind.status, description, example=(name or kind.slug, value))


def problem_examples() -> dict[str, Any]:
    """components/examples: one example problem per status the routes declare."""
    return dict(sorted(_EXAMPLES.items()))


# GET /v1/models/{model_id} and GET /v1/models?task=...
# With GATEWAY_API_KEYS set, every route but the open ones (health, docs, signed file URLs)
# answers these; without keys, none does.
KEY_MISSING = problem_answer(
    UNAUTHORIZED,
    "The gateway has API keys and the request carries none, or one it does not know "
    "(`unauthorized`; the answer has `WWW-Authenticate: Bearer`).",
    name="key-missing",
    detail="an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
    instance="/v1/images/text-to-image",
)
KEY_NOT_PERMITTED = problem_answer(
    FORBIDDEN,
    "The API key may not use the model or the task it asked for (`forbidden`).",
    name="key-not-permitted",
    detail="the API key 'studio' may not use text-to-image with stability.stable-image-ultra-v1:1",
    instance="/v1/images/text-to-image",
)
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: KEY_MISSING,
    404: _problem(
        404,
        "No model has that name (`model-not-found`, with a suggestion when one is close).",
        example=("model-not-found", {**_example(404), "instance": "/v1/models/titan-v3"}),
    ),
    422: _problem(
        422,
        "A query parameter is not valid (`errors` names it).",
        example=(
            "unknown-task",
            {
                **_example(422),
                "detail": "1 field is not valid",
                "instance": "/v1/models",
                "errors": [
                    {
                        "field": "task",
                        "message": "Input should be 'text-to-image', 'inpaint', 'outpaint', ...",
                    }
                ],
            },
        ),
    ),
}


IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The images: JSON with base64 images by default; the image bytes themselves for "
            "`Accept: image/png`, `image/jpeg` or `image/webp` when n is 1."
        ),
        "headers": {
            **_REQUEST_ID,
            "Served-Model": {
                "description": "The id of the model that made the images (a successor's, when "
                "the replacement map sent the request on).",
                "required": True,
                "schema": {"type": "string"},
            },
            "Warning": {
                "description": 'What the gateway changed or ignored, as `299 - "text"` values '
                "separated by commas; JSON answers list them in `warnings` too.",
                "schema": {"type": "string"},
            },
            "Deprecation": {
                "description": "The model asked for is retired and a successor served it: "
                "`@` and the Unix time of the retirement (RFC 9745).",
                "schema": {"type": "string", "pattern": "^@-?[0-9]+$"},
            },
            "Seed": {
                "description": "Binary answers of models that take a seed: the image's seed.",
                "schema": {"type": "integer"},
            },
            "Finish-Reason": {
                "description": "Binary answers: always `success`.",
                "schema": {"type": "string"},
            },
            "Cost-USD": {
                "description": "What the answer cost at the gateway's prices, in USD "
                "(docs/spend.md): the images produced, or the tokens used; absent when the "
                "model's price is unknown. JSON answers give it in `usage` too.",
                "schema": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
            },
        },
        "content": {
            "application/json": {"schema": {"$ref": _REF.format(model="ImagesResponse")}},
            "image/png": {"schema": _BINARY},
            "image/jpeg": {"schema": _BINARY},
            "image/webp": {"schema": _BINARY},
        },
    },
    400: _problem(
        400,
        "Malformed JSON or multipart, JSON past the parse bounds (`json-too-complex`), or "
        "Bedrock refused the request.",
    ),
    401: KEY_MISSING,
    402: _problem(
        402,
        "The API key's budget in USD is spent (`budget-exceeded`): `window` (day, month or "
        "total) says which, `remaining_usd` what is left and `resets_at` when it starts over. "
        "402, not 429: retrying does not help until the window resets, and SDKs retry 429s.",
        example=(
            "budget-exceeded",
            {
                **_example(406),
                "type": "/problems/budget-exceeded",
                "title": "The API key's budget is spent",
                "status": 402,
                "detail": "the API key 'studio' has $0.02 left of its $1.00 daily budget and "
                "this request needs $0.14; it resets at 2026-12-06T00:00:00Z",
                "window": "day",
                "limit_usd": 1.0,
                "remaining_usd": 0.02,
                "requested_usd": 0.14,
                "resets_at": "2026-12-06T00:00:00Z",
            },
        ),
    ),
    403: KEY_NOT_PERMITTED,
    406: _problem(406, "The Accept header allows no answer type, or asks for an image with n > 1."),
    408: _problem(
        408,
        "The body (`body-timeout`) or the headers (`header-timeout`) did not arrive in time; "
        "the connection is closed.",
    ),
    410: _problem(410, "The model is retired and no successor is configured (`model-retired`)."),
    413: _problem(413, "The body is over the size limit."),
    415: _problem(415, "The body or an uploaded image is of a type the endpoint does not take."),
    431: _problem(
        431,
        "The request line and headers are over the size or count limit (`headers-too-large`); "
        "the connection is closed.",
    ),
    422: _problem(
        422,
        "A field is not valid for the model (`errors` lists them, the first 20 when there are "
        "more, and `error_count` counts them), or content filters blocked every image "
        "(`content-filtered`).",
    ),
    429: _problem(
        429,
        "Bedrock is throttling (`upstream-throttled`) or its quota is spent (`upstream-quota`), "
        "or the model's queue of waiting requests is full (`overloaded`).",
        retry_after=True,
    ),
    502: _problem(502, "Bedrock failed, or the gateway may not call the model."),
    503: _problem(
        503,
        "Bedrock or the model is unavailable (`upstream-unavailable`, "
        "`upstream-model-not-ready`), no call slot came free in time (`queue-timeout`), the "
        "model's circuit is open in every region it may use (`circuit-open`), the gateway "
        "has as many requests in flight as it takes (`gateway-busy`), or its spend store "
        "cannot be reached (`spend-unavailable`).",
        retry_after=True,
    ),
    504: _problem(
        504,
        "Bedrock did not answer in time (`upstream-timeout`), or the request's deadline passed "
        "(`deadline-exceeded`).",
    ),
}


class TaskDefault(NamedTuple):
    """The model a request without `model` goes to, and the fields it takes for the task."""

    model: str
    fields: frozenset[str]
    # The task's request examples, as the families give them (the registry's).
    examples: Mapping[str, Mapping[str, Any]]


def component_schemas(default_models: Mapping[Task, TaskDefault] | None = None) -> dict[str, Any]:
    """Schemas the routes reference: request bodies (JSON and multipart), answers, problems.

    Each task's default model becomes its request schemas' `model` example, and when that model
    takes a prompt the task's first example prompt becomes the `prompt` example: Swagger UI starts
    its "Try it out" forms from them, so the first click sends a request that works.
    """
    defaults = default_models or {}
    schemas: dict[str, Any] = {}
    for answer in (ImagesResponse, Problem):
        _add(schemas, answer.__name__, _named_enums(answer.model_json_schema(ref_template=_REF)))
    for task, request in REQUEST_MODELS.items():
        json_schema = _named_enums(request.model_json_schema(ref_template=_REF))
        json_schema = _with_examples(json_schema, task, defaults.get(task))
        _add(schemas, request.__name__, json_schema)
        if task in MULTIPART_TASKS:
            _add(schemas, _multipart_name(request), _as_multipart(json_schema))
    return schemas


def _with_examples(
    schema: dict[str, Any], task: Task, default: TaskDefault | None
) -> dict[str, Any]:
    """`schema` with the default model as its `model` example, and an example prompt."""
    if default is None:
        return schema
    schema = copy.deepcopy(schema)
    properties = schema.get("properties", {})
    if "model" in properties:
        properties["model"]["examples"] = [default.model]
    examples = default.examples.values()
    prompts = [e["value"]["prompt"] for e in examples if "prompt" in e["value"]]
    # The default model's own example gives the other values it needs (Stability outpaint's
    # pixels to add): a form filled with only a model and a prompt would be refused.
    own: dict[str, Any] = next(
        (e["value"] for e in examples if e["value"].get("model") == default.model),
        {},
    )
    prompts = [own["prompt"]] if "prompt" in own else prompts
    prompt = properties.get("prompt")
    if prompts and prompt is not None and "examples" not in prompt and "prompt" in default.fields:
        prompt["examples"] = prompts[:1]
    for name, value in own.items():
        field = properties.get(name)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and name in default.fields and field is not None and "examples" not in field:
            field["examples"] = [value]
    return schema


def _named_enums(schema: Any, field: str = "") -> Any:
    """`schema` with `x-enum-varnames` on every enum that has a value not starting with a letter.

    openapi-python-client names such members VALUE_0, VALUE_1, ... by position, so a value added
    to the enum would rename the members after it in every generated client.
    """
    if isinstance(schema, list):
        return [_named_enums(item, field) for item in schema]
    if not isinstance(schema, dict):
        return schema
    named = {
        key: _named_enums(value, field)
        for key, value in schema.items()
        if key not in ("properties", "examples", "default")
    }
    if "properties" in schema:
        named["properties"] = {
            name: _named_enums(prop, name) for name, prop in schema["properties"].items()
        }
    for key in ("examples", "default"):
        if key in schema:
            named[key] = schema[key]
    values = schema.get("enum")
    if values and not all(str(value)[:1].isalpha() for value in values):
        named["x-enum-varnames"] = [_member_name(field, value) for value in values]
    return named


def _member_name(field: str, value: object) -> str:
    """A member name for `value`: RATIO_16_9 for aspect_ratio's "16:9", ANALOG_FILM, ..."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", str(value)).strip("_").upper()
    if not name[:1].isalpha():
        name = f"{field.rsplit('_', 1)[-1].upper() or 'VALUE'}_{name}"
    return name


def _add(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    schema = copy.deepcopy(schema)
    for def_name, definition in schema.pop("$defs", {}).items():
        schemas[def_name] = definition
    schemas[name] = schema


def _as_multipart(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    schema["title"] = f"{schema.get('title', '')}Multipart"
    for name, prop in schema.get("properties", {}).items():
        schema["properties"][name] = prop = _without_null(prop)
        if name in IMAGE_FIELDS:
            description = prop.get("description")
            binary: dict[str, Any] = (
                {"type": "array", "items": dict(_BINARY)} if name == "images" else dict(_BINARY)
            )
            for key in ("minItems", "maxItems"):
                if key in prop:
                    binary[key] = prop[key]
            if description:
                binary["description"] = description
            schema["properties"][name] = binary
    return schema


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A form field is sent or left out; it cannot be null. Generated clients given a nullable
    field send the text "None" or "null" for it, which the gateway rightly refuses."""
    options = prop.get("anyOf", [])
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) == len(options):
        return prop
    rest = {k: v for k, v in prop.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


def _multipart_name(model: type[BaseModel]) -> str:
    return f"{model.__name__}Multipart"
