"""The models the emulator serves, and how a model id as sent resolves to one of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from .base import BedrockError, ModelSpec, validation_error
from .nova_omni import SPECS as NOVA_OMNI_SPECS
from .sdxl import SPECS as SDXL_SPECS
from .services import SPECS as SERVICE_SPECS
from .stability import SPECS as STABILITY_SPECS
from .titan import SPECS as TITAN_SPECS

GEO_PREFIXES = ("us", "eu", "apac", "global")
INVALID_ID = "The provided model identifier is invalid."
END_OF_LIFE = (
    "This model version has reached the end of its life. "
    "Please refer to the AWS documentation for more details."
)


# Models Bedrock no longer serves whatever the emulator is told: any call is answered end of life.
GONE = frozenset({"stability.stable-diffusion-xl-v0"})


def all_specs() -> list[ModelSpec]:
    """Every model spec of every family module."""
    return [*TITAN_SPECS, *SDXL_SPECS, *STABILITY_SPECS, *SERVICE_SPECS, *NOVA_OMNI_SPECS]


@dataclass(frozen=True)
class Resolved:
    """A model id as sent, resolved: the spec and whether it came through an inference profile."""

    spec: ModelSpec
    through_profile: bool


class Registry:
    """Model specs by canonical id."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self.specs = {spec.model_id: spec for spec in specs}

    def lookup(self, requested: str) -> Resolved | None:
        """The model behind an id, ARN or inference-profile id; None when nothing matches."""
        model_id, through_profile = _strip_arn(requested)
        spec = self.specs.get(model_id)
        if spec is not None:
            return Resolved(spec, through_profile)
        prefix, _, rest = model_id.partition(".")
        if prefix in GEO_PREFIXES and rest in self.specs:
            return Resolved(self.specs[rest], True)
        return None

    def resolve(self, requested: str, retired: Collection[str]) -> ModelSpec:
        """The model to invoke, or the BedrockError Bedrock answers for this id."""
        model_id, _ = _strip_arn(requested)
        prefix, _, rest = model_id.partition(".")
        if model_id in GONE or (prefix in GEO_PREFIXES and rest in GONE):
            raise BedrockError("ResourceNotFoundException", 404, END_OF_LIFE)
        found = self.lookup(requested)
        if found is None:
            raise validation_error(INVALID_ID)
        spec = found.spec
        if spec.model_id in retired:
            raise BedrockError("ResourceNotFoundException", 404, END_OF_LIFE)
        if spec.profile_only and not found.through_profile:
            raise validation_error(
                f"Invocation of model ID {spec.model_id} with on-demand throughput isn't "
                "supported. Retry your request with the ID or ARN of an inference profile that "
                "contains this model."
            )
        return spec


def _strip_arn(requested: str) -> tuple[str, bool]:
    """`arn:aws:bedrock:<region>:<account>:<type>/<id>` -> (id, is an inference profile)."""
    if not requested.startswith("arn:"):
        return requested, False
    parts = requested.split(":", 5)
    if len(parts) != 6 or parts[2] != "bedrock":
        return requested, False
    kind, _, model_id = parts[5].partition("/")
    if kind == "foundation-model":
        return model_id, False
    if kind in ("inference-profile", "application-inference-profile"):
        return model_id, True
    return requested, False
