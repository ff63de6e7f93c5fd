"""The gateway's settings, read from the environment (and a `.env` file) by pydantic-settings."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Backend(StrEnum):
    """Where "Bedrock" is: the local emulator (the default) or AWS."""

    EMULATOR = "emulator"
    AWS = "aws"


class Settings(BaseSettings):
    """Every knob of the gateway; docs/settings.md lists them."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=".env", extra="ignore", populate_by_name=True
    )

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
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=300.0, gt=0)
    # Everything one request may spend waiting for Bedrock: the wait for a slot, every attempt and
    # the pauses between them. An attempt never outlives it, whatever the read timeout.
    request_deadline_s: float = Field(default=180.0, gt=0)
    # Calls per Bedrock invocation, the first included, across regions (the gateway's own retry
    # layer; botocore's is off). Pauses between rounds: full jitter, base * 2^round, capped.
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_base_s: float = Field(default=0.5, ge=0)
    retry_cap_s: float = Field(default=10.0, ge=0)

    # Backpressure: calls in flight per model, callers waiting for a slot per model (more are
    # refused at once with 429), and the longest wait for one (then 503); plus requests the whole
    # gateway holds at once, refused before their body is read, so memory stays bounded.
    max_concurrency_per_model: int = Field(default=16, ge=1)
    max_queue_per_model: int = Field(default=64, ge=0)
    queue_timeout_s: float = Field(default=30.0, ge=0)
    max_requests_in_flight: int = Field(default=256, ge=1)
    # Request body bytes the whole gateway holds at once. A request holds a few times its body
    # (the upload, its images, the Bedrock body, the answer), so this bounds memory under uploads
    # the way max_requests_in_flight bounds it under many small requests. Past it a request waits
    # (up to queue_timeout_s) before its body is read, leaving it in the kernel's buffers.
    max_body_bytes_in_flight: int = Field(default=20 * 1024 * 1024, ge=1)
    # How long a request may take to send its whole body, from its first byte read. A 25 MB body
    # needs about 420 KB/s to make it; a slower client gets 408 and its connection is closed,
    # so it holds its bytes of the budget (charged as they arrive) no longer than this.
    body_read_timeout_s: float = Field(default=60.0, gt=0)

    # Circuit breaking per (model, region): this many failures in a row open it; after the
    # cool-down one probe call may pass, and its outcome closes or reopens it.
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)

    # Endpoint per region, for regions not at AWS's own endpoint (VPC endpoints, a second emulator);
    # models list the regions to fail over to in `fallback_regions` (GATEWAY_MODELS).
    endpoints: dict[str, str] = Field(default_factory=dict)

    # SIGTERM: stop accepting, then let in-flight requests finish for up to this long.
    shutdown_grace_s: float = Field(default=30.0, ge=0)

    # Request limits: bounded memory whatever a caller sends. Bedrock refuses bodies over
    # 25,000,000 bytes, so no valid request needs much more than that.
    max_body_bytes: int = Field(default=26 * 1024 * 1024, ge=1)
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    # A JSON body is measured before it is parsed: its nesting, its object keys and its strings,
    # across the whole body. Every valid request has a few dozen of each; a body of a million
    # unknown keys would otherwise cost a million Python objects and as many errors.
    max_json_depth: int = Field(default=32, ge=1)
    max_json_keys: int = Field(default=1_000, ge=1)
    max_json_strings: int = Field(default=10_000, ge=1)
    # Request heads: the request line and headers together, and the number of headers. The server
    # stops reading a head past max_header_bytes; either bound is answered 431. A head must arrive
    # within header_read_timeout_s of its first byte (or of the connection), else 408.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    max_header_count: int = Field(default=100, ge=1)
    header_read_timeout_s: float = Field(default=10.0, gt=0)
    # Idle keep-alive connections are closed after this long (uvicorn's timeout_keep_alive).
    keep_alive_s: int = Field(default=5, ge=1)

    # The OpenAI surface, given a prompt longer than the model takes: `shorten` it (at a word
    # boundary, with a Warning) or `refuse` it (400 naming the limit). Shortened by default: that
    # surface's callers were written for OpenAI's 4,000-32,000 characters and, unlike native
    # callers (who can read the limit in GET /v1/models), have no way to react to a 400 but fail.
    openai_long_prompts: Literal["shorten", "refuse"] = "shorten"

    # Default model per task (an alias or a Bedrock id). A task the default model cannot do goes
    # to the first registry model that can; for upscale and control, `mode`/`control` picks it.
    # SD3.5 Large, a model Bedrock serves today: a request without `model` works against real
    # Bedrock as against the emulator (the edit tasks then go to the Image Services, edit to Nova 2
    # Omni). Requests naming a retired model (`titan`, `sdxl`) are served as they are named.
    default_model: str = "sd3.5-large"
    default_models: dict[str, str] = Field(default_factory=dict)

    # The model registry: entries added to the built-in ones, or changing the built-in entry with
    # the same id (JSON list of objects; see docs/models.md).
    models: list[dict[str, Any]] = Field(default_factory=list)
    # More model families: importable packages or modules, each exporting FAMILY (a family's
    # adapter, built-in entries, Bedrock-surface reader and writer; see docs/layout.md).
    families: list[str] = Field(default_factory=list)
    # The replacement map: retired model (id or alias) -> {task: successor}; an empty object takes
    # the built-in successors for every task. Off (empty) by default: nothing changes model
    # unless an operator says so.
    replacements: dict[str, dict[str, str]] = Field(default_factory=dict)

    # API keys: JSON list of {"name", "hash" (`python -m app keys create` prints it), optional
    # "models", "tasks" (what the key may use; all when omitted) and "limits"}. None configured
    # means no key is asked for, and then the server binds only to loopback unless `public`.
    api_keys: list[dict[str, Any]] = Field(default_factory=list)
    public: bool = False

    # Quotas per key (requests_per_minute, images_per_minute, concurrent_requests), for keys
    # without limits of their own and for every caller when no keys are configured; counted in
    # this process (`memory`) or in Redis, shared by every replica (`redis`).
    default_limits: dict[str, int] = Field(default_factory=dict)
    quota_backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every Redis command's longest wait: a frozen Redis makes admission a 503 quota-unavailable
    # after this long instead of a hang; releases run in the background under the same bound.
    redis_timeout_s: float = Field(default=1.0, gt=0)

    # Spend (docs/spend.md): prices replacing or adding to the built-in table, by model id or
    # alias; whether every served model must have one; budgets in USD (usd_per_day, usd_per_month,
    # usd_total) for keys without their own. Held where the quotas are (quota_backend).
    prices: dict[str, Any] = Field(default_factory=dict)
    require_prices: bool = False
    default_budget: dict[str, Any] = Field(default_factory=dict)

    # Logs: one JSON line per request; prompts only when asked for.
    log_level: str = "info"
    log_prompts: bool = False

    # /readyz: how long one check of credentials and Bedrock's reachability is reused.
    readiness_cache_s: float = Field(default=10.0, ge=0)

    # Browsers: origins allowed to call the gateway (no "*" together with credentials).
    cors_origins: list[str] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    # Jobs (docs/jobs.md): arq's queue in this Redis (none: /v1/jobs answers 503; `python -m app`
    # starts a private redis-server for them when one is installed), run by `python -m app.worker`
    # processes, or by the gateway itself when jobs_worker_in_process. A job whose worker dies
    # runs again jobs_timeout_s + 10 s after it started; 429s and 503s retry it (jobs_max_tries).
    jobs_redis_url: str | None = None
    jobs_worker_in_process: bool = False
    # Set by the embedded mode: the queue's Redis is this process's own and its worker runs here,
    # so the per-model cap (held as Redis leases when other processes may share the queue) is
    # held in this process, one gate for requests and jobs alike. A worker elsewhere could not
    # share it: it needs jobs_worker_in_process.
    jobs_embedded: bool = False
    jobs_per_worker: int = Field(default=16, ge=1)
    jobs_timeout_s: float = Field(default=300.0, gt=0)
    jobs_max_tries: int = Field(default=20, ge=1)
    # Requests one batch (POST /v1/batches) may hold; its bytes are capped by max_body_bytes.
    batch_max_lines: int = Field(default=50_000, ge=1)
    # Where job results go, how long URLs to them hold and results are kept; the HMAC secret of
    # /v1/files URLs (every replica needs the same one; unset: one per process).
    results_dir: str = ".results"
    results_url_ttl_s: int = Field(default=3600, ge=1)
    results_retention_s: int = Field(default=24 * 3600, ge=60)
    results_secret: str | None = None
    # Results in S3 instead (any S3-compatible endpoint), fetched by presigned URLs.
    results_s3_bucket: str | None = None
    results_s3_prefix: str = "results/"
    results_s3_endpoint_url: str | None = None
    # Webhooks: the Standard Webhooks secret (`whsec_` and base64) that signs them (none: a job
    # with a webhook_url is refused), networks they may reach despite the SSRF rules (e.g.
    # ["127.0.0.0/8"] for a receiver on this machine), one attempt's timeout, the first retry's
    # pause (doubling to 10 minutes, for over an hour).
    webhook_secret: str | None = None
    webhook_allow: list[str] = Field(default_factory=list)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_retry_base_s: float = Field(default=10.0, gt=0)

    # Idempotency-Key (docs/idempotency.md): how long a first answer is kept for its retries, and
    # the largest answer kept (a larger one is not stored: its retry is processed again). The
    # index is in Redis (`redis_url`) when quota_backend is redis, so every replica shares it.
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=1)
    idempotency_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1)

    # The result cache (docs/idempotency.md): off unless asked for; reproducible requests only
    # (an explicit seed, a deterministic tool). Bounded by the bytes it holds (least recently used
    # go first) and by age; a key sees only its own entries unless cache_shared.
    cache: bool = False
    cache_max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    cache_max_age_s: int = Field(default=24 * 3600, ge=1)
    cache_shared: bool = False

    @field_validator("jobs_embedded")
    @classmethod
    def _embedded_runs_its_jobs(cls, embedded: bool, info: ValidationInfo) -> bool:
        if embedded and not info.data.get("jobs_worker_in_process"):
            raise ValueError(
                "needs GATEWAY_JOBS_WORKER_IN_PROCESS=true: jobs run by other processes share "
                "the per-model cap only through Redis"
            )
        return embedded

    def endpoint(self, region: str | None = None) -> str | None:
        """The URL the Bedrock client calls for `region`; None lets botocore pick AWS's own."""
        if region is not None and region in self.endpoints:
            return self.endpoints[region]
        if self.endpoint_url:
            return self.endpoint_url
        if self.backend is Backend.EMULATOR:
            return f"http://127.0.0.1:{self.emulator_port}"
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
