"""The gateway's settings, read from the environment (and a `.env` file) by pydantic-settings."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Backend(StrEnum):
    """Where "Bedrock" is: the local emulator (the default) or AWS."""

    EMULATOR = "emulator"
    AWS = "aws"


class Settings(BaseSettings):
    """Every knob of the gateway; the README's settings table lists them."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    host: Annotated[str, Field(validation_alias=AliasChoices("HOST", "GATEWAY_HOST"))] = "127.0.0.1"
    port: Annotated[int, Field(validation_alias=AliasChoices("PORT", "GATEWAY_PORT"))] = 8000
    backend: Backend = Backend.EMULATOR
    emulator_port: Annotated[
        int, Field(validation_alias=AliasChoices("EMULATOR_PORT", "GATEWAY_EMULATOR_PORT"))
    ] = 8001
    # botocore's own variable: when set, the gateway calls that endpoint whatever the backend.
    endpoint_url: Annotated[
        str | None,
        Field(
            validation_alias=AliasChoices(
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "GATEWAY_ENDPOINT_URL"
            )
        ),
    ] = None
    region: Annotated[
        str,
        Field(validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "GATEWAY_REGION")),
    ] = "us-east-1"

    # Bedrock calls: image models can take tens of seconds; AWS advises a read timeout of >= 300 s.
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 300.0
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_concurrency_per_model: int = Field(default=16, ge=1)

    # Request limits: bounded memory whatever a caller sends.
    max_body_bytes: int = 40 * 1024 * 1024
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000

    # Default model per task (an alias or a Bedrock id). A task the default model cannot do goes
    # to the first registry model that can; for upscale and control, `mode`/`control` picks it.
    default_model: str = "titan"
    default_models: dict[str, str] = Field(default_factory=dict)

    # The model registry: entries added to the built-in ones, or changing the built-in entry with
    # the same id (JSON list of objects; see README "Models").
    models: list[dict[str, Any]] = Field(default_factory=list)
    # The replacement map: retired model (id or alias) -> {task: successor}; an empty object takes
    # the built-in successors for every task. Off (empty) by default: nothing changes model
    # unless an operator says so.
    replacements: dict[str, dict[str, str]] = Field(default_factory=dict)

    def endpoint(self) -> str | None:
        """The URL the Bedrock client calls; None lets botocore pick AWS's regional endpoint."""
        if self.endpoint_url:
            return self.endpoint_url
        if self.backend is Backend.EMULATOR:
            return f"http://127.0.0.1:{self.emulator_port}"
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
