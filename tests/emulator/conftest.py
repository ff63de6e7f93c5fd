"""Fixtures of the emulator's tests: a boto3 client that reaches the emulator, no retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator.testing import EmulatorServer


@pytest.fixture
def runtime(bedrock_env: EmulatorServer) -> Iterator[Any]:
    """A bedrock-runtime client on the emulator; botocore retries nothing, so faults surface."""
    client = boto3.client(
        "bedrock-runtime",
        config=Config(retries={"max_attempts": 0}, read_timeout=30, connect_timeout=5),
    )
    yield client
    client.close()
