"""docker-compose.yml and deploy/nginx.conf agree with each other and with the gateway's settings.

No Docker engine runs the tests: the files are read as Compose and nginx would read them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from app.settings import Settings
from tests.support.files import ROOT


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = compose["services"]
    return found


@pytest.fixture(scope="module")
def nginx() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def directive(conf: str, name: str) -> str:
    found = re.findall(rf"^\s*{name}\s+([^;{{]+);", conf, re.M)
    assert len(found) == 1, name
    value: str = found[0]
    return value


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return float(match[1])


def test_replicas_share_redis_and_take_keys_from_the_environment(
    services: dict[str, Any],
) -> None:
    gateway = services["gateway"]
    assert gateway["deploy"]["replicas"] >= 2
    # Replicas cannot share a host port: only the balancer publishes one.
    assert "ports" not in gateway
    env = gateway["environment"]
    assert env["GATEWAY_QUOTA_BACKEND"] == "redis"
    assert env["GATEWAY_REDIS_URL"].startswith("redis://redis:")
    assert env["GATEWAY_API_KEYS"].startswith("${GATEWAY_API_KEYS:?")
    assert env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == "http://emulator:8001"
    assert set(gateway["depends_on"]) == {"emulator", "redis"}
    assert all(services[name]["healthcheck"] for name in gateway["depends_on"])
    assert "/healthz" in gateway["healthcheck"]["test"][-1]


def test_stopping_leaves_time_to_drain(services: dict[str, Any]) -> None:
    grace = Settings(_env_file=None).shutdown_grace_s
    assert seconds(services["gateway"]["stop_grace_period"]) > grace
    assert seconds(services["nginx"]["stop_grace_period"]) > grace


def test_the_balancer_serves_its_config_on_the_published_port(
    services: dict[str, Any], nginx: str
) -> None:
    balancer = services["nginx"]
    mount = next(v for v in balancer["volumes"] if v.endswith(":/etc/nginx/conf.d/default.conf:ro"))
    assert (ROOT / mount.split(":")[0]).resolve() == ROOT / "deploy" / "nginx.conf"
    listen = directive(nginx, "listen")
    assert [port.rsplit(":", 1)[1] for port in balancer["ports"]] == [listen]
    assert directive(nginx, "server") == "gateway:8000 resolve"
    assert balancer["depends_on"]["gateway"]["condition"] == "service_healthy"


def test_the_balancer_cuts_no_request_the_gateway_would_serve(nginx: str) -> None:
    settings = Settings(_env_file=None)
    size = directive(nginx, "client_max_body_size")
    assert size.endswith("m")
    assert int(size[:-1]) * 1024 * 1024 >= settings.max_body_bytes
    assert seconds(directive(nginx, "proxy_read_timeout")) >= settings.request_deadline_s
    # A POST may already have spent quota and called Bedrock: never replayed on another replica.
    assert "non_idempotent" not in directive(nginx, "proxy_next_upstream")
    assert "proxy_ignore_client_abort off;" in nginx


def test_metrics_stay_per_replica(nginx: str) -> None:
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", nginx)


def test_the_health_checks_agree_with_what_their_comments_say(services: dict[str, Any]) -> None:
    """The image's own check and the compose file's both probe /healthz, the compose one more
    often (so nginx starts sooner), as the comment above it says."""
    image = (ROOT / "Dockerfile").read_text()
    probe = re.search(r"HEALTHCHECK --interval=(\d+)s[^\n]*\n\s+CMD ([^\n]+)", image)
    assert probe is not None
    assert "/healthz" in probe[2]
    compose = services["gateway"]["healthcheck"]
    assert seconds(compose["interval"]) < float(probe[1])
    text = (ROOT / "docker-compose.yml").read_text()
    gateway = text[text.index("\n  gateway:\n") :]
    comment = gateway[gateway.index("    healthcheck:\n") :].split("      test:")[0]
    assert "probes /healthz too" in comment
    assert f"every {probe[1]} s" in comment
    assert f"every {compose['interval'].removesuffix('s')} s here" in comment
    assert "predates" not in text


def test_workers_scale_and_share_the_queue_and_results_with_the_gateway(
    services: dict[str, Any],
) -> None:
    worker, gateway = services["worker"], services["gateway"]
    assert worker["command"] == ["python", "-m", "app.worker"]
    # `--scale worker=N` needs no fixed name and no host port.
    assert "ports" not in worker
    assert "container_name" not in worker
    for name in ("GATEWAY_JOBS_REDIS_URL", "GATEWAY_RESULTS_DIR", "GATEWAY_RESULTS_SECRET"):
        assert worker["environment"][name] == gateway["environment"][name], name
    assert worker["volumes"] == gateway["volumes"] == ["results:/results"]
    assert set(worker["depends_on"]) == {"emulator", "redis"}
