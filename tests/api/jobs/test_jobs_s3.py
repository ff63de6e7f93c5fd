"""Job results in S3 (moto's server on loopback): stored in the bucket under the prefix, fetched
by presigned URLs, covered by /readyz."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import image_size
from tests.support.jobs import jobs_gateway
from tests.support.redis_server import RedisServer
from tests.support.s3_server import S3Server

BODY = {"prompt": "a red kite", "width": 512, "height": 512, "n": 2}


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, bedrock_env: EmulatorServer) -> str:
    """A fresh bucket (the dummy credentials of bedrock_env sign the calls)."""
    s3_server.reset()
    boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket="results")
    return "results"


async def test_results_go_to_the_bucket_and_are_fetched_by_presigned_urls(
    emulator: EmulatorServer, redis: RedisServer, s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    options = {
        "results_s3_bucket": bucket,
        "results_s3_prefix": "jobs/",
        "results_s3_endpoint_url": s3_server.url,
    }
    async with jobs_gateway(emulator, redis, tmp_path / "unused", **options) as gateway:
        assert (await gateway.get("/readyz")).status_code == 200
        job = (await gateway.post("/v1/jobs/text-to-image", json=BODY)).json()
        done = (await gateway.get(f"/v1/jobs/{job['id']}", params={"wait": 30})).json()
    assert done["status"] == "succeeded"
    listed = boto3.client("s3", endpoint_url=s3_server.url).list_objects_v2(Bucket=bucket)
    assert sorted(item["Key"] for item in listed["Contents"]) == [
        f"jobs/{job['id']}-0.png",
        f"jobs/{job['id']}-1.png",
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for image in done["images"]:
            assert image["url"].startswith(f"{s3_server.url}/{bucket}/jobs/{job['id']}-")
            assert "X-Amz-Signature=" in image["url"]
            fetched = await http.get(image["url"])
            assert fetched.status_code == 200
            assert image_size(fetched.content) == (512, 512)
    assert not (tmp_path / "unused").exists()


async def test_readiness_covers_the_bucket(
    emulator: EmulatorServer, redis: RedisServer, s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    options = {"results_s3_bucket": "no-such-bucket", "results_s3_endpoint_url": s3_server.url}
    async with jobs_gateway(emulator, redis, tmp_path, **options) as gateway:
        answer = await gateway.get("/readyz")
    assert answer.status_code == 503
    assert "no-such-bucket" in answer.json()["detail"]
