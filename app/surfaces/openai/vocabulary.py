"""OpenAI's image parameters in the native vocabulary: model, size, quality, formats, the rest.

Each OpenAI parameter is mapped to the native field it means, when the model serving the request
takes that field; otherwise it is ignored and the answer's `Warning` header says so. Parameters
OpenAI's SDK sends that have no effect here (user, moderation...) are accepted silently; a native
field (seed, negative_prompt, cfg_scale...) may be sent as it is, e.g. through the SDK's
`extra_body`; anything else is refused as OpenAI refuses an unknown parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ...adapters.base import ALWAYS_TAKEN, ModelEntry
from ...schemas.requests import REQUEST_MODELS, Task
from ...tasks.validation import RequestValidator
from .errors import OpenAIError, bad_param

ResponseFormat = Literal["b64_json", "url"]

# OpenAI's model names: a request naming one goes to the gateway's default model for the task.
OPENAI_MODEL_PREFIXES = ("dall-e", "gpt-image", "chatgpt-image")

_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*$")
# OpenAI's quality -> the Titan family's (the only models with a quality setting).
_QUALITY = {
    "standard": "standard",
    "low": "standard",
    "medium": "standard",
    "hd": "premium",
    "high": "premium",
    "xhigh": "premium",
    "max": "premium",
}
OUTPUT_FORMATS = ("png", "jpeg", "webp")

# Accepted and without effect: who the caller is, moderation level, streaming-only knobs.
_SILENT = frozenset({"user", "safety_identifier", "moderation", "partial_images"})
# Accepted, ignored, and said so: they would change the picture on OpenAI's models.
_IGNORED = frozenset(
    {
        "style",
        "complexity",
        "input_fidelity",
        "output_compression",
        "frame_count",
        "frame_duration_ms",
        "svg",
    }
)
_MAPPED = frozenset(
    {"model", "n", "prompt", "size", "quality", "response_format", "output_format", "background"}
)
_OWN = frozenset({"stream", "markup", "image", "images", "mask"})


@dataclass
class Mapped:
    """An OpenAI request in the native vocabulary, with what the answer must do and say."""

    task: Task
    raw: dict[str, Any]
    response_format: ResponseFormat = "b64_json"
    output_format: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Native field -> the parameter the caller sent it as, for error messages.
    params: dict[str, str] = field(default_factory=dict)

    def param_of(self, name: str) -> str | None:
        """The caller's parameter for a native field name (`images[1]`, `width`, `body`)."""
        if name == "body":
            return None
        if name in self.params:
            return self.params[name]
        base = name.split("[", 1)[0].split(".", 1)[0]
        if base in self.params:
            return self.params[base] + name[len(base) :]  # keeps an index: images[1]
        return name


@dataclass(frozen=True)
class Target:
    """The model a request goes to, as far as the surface needs to know before validation."""

    name: str | None  # what goes in the native `model`; None for the task's default
    entry: ModelEntry | None


def target(validator: RequestValidator, task: Task, fields: dict[str, Any]) -> Target:
    """The model `fields` name for `task`: a registry id or alias, or an OpenAI name (the task's
    default model). Unknown names are OpenAI's 404 `model_not_found`."""
    name = fields.get("model")
    if name is None or name == "":
        return Target(None, validator.default_entry(task))
    if not isinstance(name, str):
        raise bad_param("model", "must be a string")
    entry = validator.registry.resolve(name)
    if entry is not None:
        return Target(name, entry)
    if name.strip().lower().startswith(OPENAI_MODEL_PREFIXES):
        return Target(None, validator.default_entry(task))
    raise OpenAIError(
        404,
        f"The model {name!r} does not exist on this gateway; name a Bedrock model id or alias "
        "(GET /v1/models lists them), or an OpenAI image model for the default one.",
        param="model",
        code="model_not_found",
    )


def taken(validator: RequestValidator, chosen: Target, task: Task) -> frozenset[str] | None:
    """The native fields the chosen model takes for `task`; None when it cannot do the task
    (validation then names the model)."""
    entry = chosen.entry
    if entry is None or task not in entry.tasks:
        return None
    return validator.registry.adapter(entry).fields_for(entry, task) | ALWAYS_TAKEN


def map_common(
    fields: dict[str, Any],
    mapped: Mapped,
    chosen: Target,
    own: frozenset[str] | None,
    model_label: str,
) -> None:
    """Map every parameter but the images and the prompt into `mapped.raw`."""
    raw = mapped.raw
    if chosen.name is not None:
        raw["model"] = chosen.name
    if fields.get("n") is not None:
        raw["n"] = fields["n"]
    stream = fields.get("stream")
    if stream not in (None, False, "false", "False"):
        raise bad_param("stream", "streaming is not supported by this gateway", "unsupported_value")
    if fields.get("markup") is not None:
        raise bad_param(
            "markup", "markup images are not supported by this gateway", "unsupported_value"
        )
    mapped.response_format = _response_format(fields.get("response_format"))
    mapped.output_format = _output_format(fields.get("output_format"))
    size = _size(fields.get("size"))
    if size is not None:
        _offer(mapped, own, {"width": size[0], "height": size[1]}, "size", model_label)
    quality = _quality(fields.get("quality"))
    if quality is not None:
        _offer(mapped, own, {"quality": quality}, "quality", model_label)
    if fields.get("background") == "transparent":
        mapped.warnings.append(
            "background=transparent is not supported: the images have an opaque background"
        )
    for name in sorted(_IGNORED & fields.keys()):
        if fields[name] is not None:
            mapped.warnings.append(f"{name} is ignored: the Bedrock models have no such setting")
    native = frozenset(REQUEST_MODELS[mapped.task].model_fields) - _OWN - {"mask_convention"}
    for name, value in fields.items():
        if name in _MAPPED | _SILENT | _IGNORED | _OWN:
            continue
        if name not in native:
            raise bad_param(name, f"Unknown parameter: {name!r}.", "unknown_parameter")
        raw[name] = value  # a native field: validated as the native API validates it


def _offer(
    mapped: Mapped,
    own: frozenset[str] | None,
    values: dict[str, Any],
    param: str,
    model_label: str,
) -> None:
    """Set native fields when the model takes them; otherwise say the parameter was ignored."""
    if own is None or set(values) <= own:
        mapped.raw.update(values)
        mapped.params.update(dict.fromkeys(values, param))
        return
    mapped.warnings.append(f"{param} is ignored: {model_label} takes no {param} for {mapped.task}")


def _size(value: Any) -> tuple[int, int] | None:
    if value is None or value == "auto":
        return None
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise bad_param(
            "size", f"{value!r} is not a size: give WIDTHxHEIGHT (e.g. 1024x1024) or auto"
        )
    return int(match.group(1)), int(match.group(2))


def _quality(value: Any) -> str | None:
    if value is None or value == "auto":
        return None
    if value not in _QUALITY:
        allowed = ", ".join([*_QUALITY, "auto"])
        raise bad_param("quality", f"{value!r} is not a quality; one of {allowed}")
    return _QUALITY[value]


def _response_format(value: Any) -> ResponseFormat:
    if value is None or value == "b64_json":
        return "b64_json"
    if value == "url":
        return "url"
    raise bad_param("response_format", f"{value!r} is not a response format; one of b64_json, url")


def _output_format(value: Any) -> str | None:
    if value is None or value in OUTPUT_FORMATS:
        return value if isinstance(value, str) else None
    allowed = ", ".join(OUTPUT_FORMATS)
    raise bad_param(
        "output_format", f"{value!r} is not an output format this gateway makes; one of {allowed}"
    )
