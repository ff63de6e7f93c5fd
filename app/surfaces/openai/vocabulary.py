"""OpenAI's image parameters in the native vocabulary: model, size, quality, formats, the rest.

Each OpenAI parameter is mapped to the native field it means, when the model serving the request
takes that field, or to what the surface does to the answer (its size, format, compression,
background, streaming); a hint the models cannot follow (style, quality on a model without one,
moderation=low) is ignored and the answer's `Warning` header says so, and a value that cannot be
honoured is refused naming its parameter. Who the caller is (user, safety_identifier) is accepted
silently; a native field (seed, negative_prompt, cfg_scale...) may be sent as it is, e.g. through
the SDK's `extra_body`; anything else is refused as OpenAI refuses an unknown parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ...families.base import ALWAYS_TAKEN, ModelEntry
from ...families.vocabulary import OpenAIVocabulary
from ...schemas.requests import REQUEST_MODELS, Task
from ...tasks.validation import RequestValidator
from .edit_inputs import Restore
from .errors import OpenAIError, bad_param
from .model_limits import ModelLimits
from .sizes import drawn_size, parse_size

ResponseFormat = Literal["b64_json", "url"]

# OpenAI's model names: a request naming one goes to the gateway's default model for the task.
OPENAI_MODEL_PREFIXES = ("dall-e", "gpt-image", "chatgpt-image")

# OpenAI's quality names (and `auto`, the model's own): each family maps them onto its own.
_QUALITIES = ("standard", "low", "medium", "hd", "high", "xhigh", "max")
OUTPUT_FORMATS = ("png", "jpeg", "webp")

# Accepted and without effect: who the caller is.
_SILENT = frozenset({"user", "safety_identifier"})
# Accepted, ignored, and said so: hints to OpenAI's own models, without which the Bedrock models
# still draw what was asked.
_IGNORED = frozenset(
    {"style", "complexity", "input_fidelity", "frame_count", "frame_duration_ms", "svg"}
)
_MAPPED = frozenset(
    {
        "model",
        "n",
        "prompt",
        "size",
        "quality",
        "response_format",
        "output_format",
        "output_compression",
        "background",
        "partial_images",
        "moderation",
    }
)
_TRUE = (True, "true", "True")
_FALSE = (None, False, "false", "False")
_OWN = frozenset({"stream", "markup", "image", "images", "mask"})


@dataclass
class Mapped:
    """An OpenAI request in the native vocabulary, with what the answer must do and say."""

    task: Task
    raw: dict[str, Any]
    response_format: ResponseFormat = "b64_json"
    output_format: str | None = None
    # JPEG/WebP quality (OpenAI's output_compression, 0-100).
    compression: int | None = None
    # The size asked for: every image of the answer is made exactly that size.
    size: tuple[int, int] | None = None
    transparent: bool = False
    stream: bool = False
    edit: bool = False  # POST /images/edits: its stream events are image_edit.*
    # OpenAI's name for the quality the model drew at (high, medium); None for a model without.
    quality: str | None = None
    # A masked edit of a scaled-down input: how to bring the answer back to the input's size.
    restore: Restore | None = None
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
    # How OpenAI's parameters map onto the model's family (its package says).
    vocabulary: OpenAIVocabulary = field(default_factory=OpenAIVocabulary)


def target(validator: RequestValidator, task: Task, fields: dict[str, Any]) -> Target:
    """The model `fields` name for `task`: a registry id or alias, or an OpenAI name (the task's
    default model). Unknown names are OpenAI's 404 `model_not_found`."""
    name = fields.get("model")
    if name is None or name == "":
        return _target(validator, None, validator.default_entry(task))
    if not isinstance(name, str):
        raise bad_param("model", "must be a string")
    entry = validator.registry.resolve(name)
    if entry is not None:
        return _target(validator, name, entry)
    if name.strip().lower().startswith(OPENAI_MODEL_PREFIXES):
        return _target(validator, None, validator.default_entry(task))
    raise OpenAIError(
        404,
        f"The model {name!r} does not exist on this gateway; name a Bedrock model id or alias "
        "(GET /v1/models lists them), or an OpenAI image model for the default one.",
        param="model",
        code="model_not_found",
    )


def _target(validator: RequestValidator, name: str | None, entry: ModelEntry | None) -> Target:
    if entry is None:
        return Target(name, None)
    return Target(name, entry, validator.registry.family(entry).openai)


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
    limits: ModelLimits,
) -> None:
    """Map every parameter but the images and the prompt into `mapped.raw`."""
    raw = mapped.raw
    if chosen.name is not None:
        raw["model"] = chosen.name
    if fields.get("n") is not None:
        raw["n"] = fields["n"]
    mapped.stream = _stream(fields.get("stream"))
    _partial_images(fields.get("partial_images"), mapped)
    _moderation(fields.get("moderation"), mapped)
    if fields.get("markup") is not None:
        raise bad_param(
            "markup", "markup images are not supported by this gateway", "unsupported_value"
        )
    mapped.response_format = _response_format(fields.get("response_format"), fields.get("model"))
    mapped.output_format = _output_format(fields.get("output_format"))
    mapped.compression = _compression(fields.get("output_compression"), mapped.output_format)
    mapped.transparent = _transparent(fields.get("background"), mapped.output_format)
    size = parse_size(fields.get("size"))
    if size is not None:
        mapped.size = size
        drawn = drawn_size(limits, size)
        if own is not None and {"width", "height"} <= own:
            width, height = drawn or size
            raw.update(width=width, height=height)
            mapped.params.update(width="size", height="size")
    vocabulary = chosen.vocabulary
    quality = _quality(fields.get("quality"))
    if quality is not None:
        if quality in vocabulary.quality:
            _offer(mapped, own, {"quality": vocabulary.quality[quality]}, "quality", model_label)
        elif chosen.entry is not None:
            _ignored(mapped, "quality", model_label)
    drawn = raw.get("quality", vocabulary.default_quality)
    if own is not None and "quality" in own and isinstance(drawn, str):
        mapped.quality = vocabulary.drawn_quality.get(drawn)
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
    _ignored(mapped, param, model_label)


def _ignored(mapped: Mapped, param: str, model_label: str) -> None:
    mapped.warnings.append(f"{param} is ignored: {model_label} takes no {param} for {mapped.task}")


def _quality(value: Any) -> str | None:
    """OpenAI's quality asked, or None for the model's own (`auto`, or none given)."""
    if value is None or value == "auto":
        return None
    if value not in _QUALITIES:
        allowed = ", ".join([*_QUALITIES, "auto"])
        raise bad_param("quality", f"{value!r} is not a quality; one of {allowed}")
    return str(value)


def _stream(value: Any) -> bool:
    if value in _FALSE:
        return False
    if value not in _TRUE:
        raise bad_param("stream", f"{value!r} is not a boolean")
    return True


def _partial_images(value: Any, mapped: Mapped) -> None:
    """OpenAI's 0-3 partial images: none are sent, since Bedrock returns only final images."""
    if value is None:
        return
    count = _integer(value, "partial_images", 0, 3)
    if count:
        mapped.warnings.append(
            f"partial_images={count}: no partial images are sent, the Bedrock models return "
            "only the final image"
        )


def _moderation(value: Any, mapped: Mapped) -> None:
    """OpenAI's `auto` is what Bedrock does; its filters cannot be made less strict (`low`)."""
    if value is None or value == "auto":
        return
    if value != "low":
        raise bad_param("moderation", f"{value!r} is not a moderation level; one of low, auto")
    mapped.warnings.append(
        "moderation=low is not honoured: Bedrock's content filters have one, fixed level"
    )


def _response_format(value: Any, model: Any) -> ResponseFormat:
    if value is None:
        # OpenAI answers its DALL-E models with URLs unless asked otherwise; some callers read
        # nothing else (LangChain's DALL-E wrapper, LibreChat's DALL-E 3 tool).
        dall_e = isinstance(model, str) and model.strip().lower().startswith("dall-e")
        return "url" if dall_e else "b64_json"
    if value == "b64_json":
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


def _compression(value: Any, output_format: str | None) -> int | None:
    """The JPEG/WebP quality; PNG is lossless, so only 100 (no loss) goes with it."""
    if value is None:
        return None
    level = _integer(value, "output_compression", 0, 100)
    if output_format in ("jpeg", "webp"):
        return level
    if level < 100:
        raise bad_param(
            "output_compression",
            f"output_compression={level} applies to jpeg and webp; the answer is "
            f"{output_format or 'png'}, which is lossless: set output_format to jpeg or webp",
        )
    return None


def _transparent(value: Any, output_format: str | None) -> bool:
    if value is None or value in ("auto", "opaque"):
        return False
    if value != "transparent":
        raise bad_param(
            "background", f"{value!r} is not a background; one of transparent, opaque, auto"
        )
    if output_format == "jpeg":
        raise bad_param(
            "background",
            "a transparent background needs output_format png or webp; jpeg has no alpha",
        )
    return True


def _integer(value: Any, param: str, low: int, high: int) -> int:
    """An integer parameter; multipart sends it as text."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_param(param, f"{value!r} is not an integer from {low} to {high}")
    return value
