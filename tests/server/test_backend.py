"""Where the gateway sends its calls: the emulator, or any endpoint given by botocore's variable."""

from __future__ import annotations

import os

import pytest

from app.settings import Backend, Settings
from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway


def test_endpoint_variable_wins_over_the_emulator_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://bedrock.internal:9000")
    monkeypatch.setenv("EMULATOR_PORT", "8123")
    settings = Settings(_env_file=None)
    assert settings.backend is Backend.EMULATOR
    assert settings.endpoint() == "http://bedrock.internal:9000"
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    assert Settings(_env_file=None).endpoint() == "http://127.0.0.1:8123"


def test_settings_made_in_code_take_field_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fields read from several variables (endpoint_url, region, ...) are also set by their name,
    # as tests and embedding code write them; a name that matched nothing used to be dropped.
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", raising=False)
    settings = Settings(_env_file=None, endpoint_url="http://bedrock.internal:9000")
    assert settings.endpoint() == "http://bedrock.internal:9000"


def test_aws_backend_lets_botocore_pick_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", raising=False)
    assert Settings(_env_file=None, backend="aws").endpoint() is None


async def test_another_endpoint_needs_no_aws_credentials(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fronting a Bedrock-compatible server under the emulator backend: no keys in sight."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name != "AWS_ENDPOINT_URL_BEDROCK_RUNTIME":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    async with open_gateway(Settings(_env_file=None, emulator_port=1)) as client:
        response = await client.post(
            "/v1/images/text-to-image", json={"prompt": "x", "width": 512, "height": 512}
        )
    assert response.status_code == 200, response.text
    assert len(emulator.requests()) == 1
