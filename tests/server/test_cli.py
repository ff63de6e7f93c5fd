"""The command line as a user runs it: `python -m app` and the `bedrock-image-gateway` script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.auth.keygen import hash_key
from emulator.testing import EmulatorServer
from tests.support.cli import cli
from tests.support.files import ROOT
from tests.support.served import free_port


def test_help_lists_the_commands_and_every_setting() -> None:
    done = cli("--help")
    assert done.returncode == 0, done.stderr
    for command in ("serve", "keys", "emulator"):
        assert f"\n    {command} " in done.stdout
    assert "  PORT or GATEWAY_PORT (default: 8000)\n" in done.stdout
    assert "  GATEWAY_MAX_ATTEMPTS (default: 3)\n" in done.stdout
    assert "  GATEWAY_API_KEYS\n" in done.stdout
    assert done.stdout.count("\n  GATEWAY_") >= 30


def test_the_console_script_is_the_same_command() -> None:
    script = Path(sys.executable).parent / "bedrock-image-gateway"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == cli("--help").stdout


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"PORT": "abc"},
            "gateway: bad setting PORT='abc': Input should be a valid integer, unable to parse "
            "string as an integer",
        ),
        (
            {"GATEWAY_MAX_ATTEMPTS": "50"},
            "gateway: bad setting GATEWAY_MAX_ATTEMPTS='50': Input should be less than or equal "
            "to 10",
        ),
        (
            {"GATEWAY_API_KEYS": "nope"},
            "gateway: bad setting GATEWAY_API_KEYS: not valid JSON (Expecting value: line 1 "
            "column 1 (char 0))",
        ),
        (
            {"GATEWAY_DEFAULT_LIMITS": '{"requests_per_minute": "x"}'},
            "gateway: bad setting GATEWAY_DEFAULT_LIMITS[requests_per_minute]: Input should be a "
            "valid integer, unable to parse string as an integer",
        ),
        (
            {"GATEWAY_JOBS_EMBEDDED": "true"},
            "gateway: bad setting GATEWAY_JOBS_EMBEDDED='true': Value error, needs "
            "GATEWAY_JOBS_WORKER_IN_PROCESS=true: jobs run by other processes share the "
            "per-model cap only through Redis",
        ),
        (
            {"GATEWAY_MODELS": '[{"id": "mine", "family": "titan"}]'},
            "gateway: refusing to start: GATEWAY_MODELS entry 'mine': tasks: Field required",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_78(env: dict[str, str], line: str) -> None:
    for args in ((), ("serve",)):
        done = cli(*args, env=env)
        assert done.returncode == 78
        assert done.stderr.splitlines() == [line]
        assert done.stdout == ""


def test_keys_create_needs_no_installed_package() -> None:
    """`-S`: no site-packages at all, as with a system Python that never saw the virtualenv."""
    bare = cli("keys", "create", "--name", "studio", python=("-S",))
    assert bare.returncode == 0, bare.stderr
    shown, title, entry_line = bare.stdout.splitlines()
    key = shown.rsplit(" ", 1)[1]
    assert title == "GATEWAY_API_KEYS entry:"
    assert json.loads(entry_line) == {"name": "studio", "hash": hash_key(key)}
    too_long = cli("keys", "create", "--name", "x" * 101, python=("-S",))
    assert too_long.returncode == 2
    assert too_long.stderr.endswith("error: name: 1 to 100 characters\n")


def test_keys_checks_tasks_by_the_gateways_rules() -> None:
    done = cli("keys", "create", "--name", "x", "--tasks", "paint")
    assert done.returncode == 2
    assert "tasks.0: Input should be 'text-to-image'" in done.stderr
    assert done.stdout == ""


@contextmanager
def running(*args: str, env: dict[str, str], ready: str) -> Iterator[subprocess.Popen[str]]:
    """A long-running command, until the line saying it serves."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**base, **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if ready in line:
                break
        else:
            pytest.fail(f"exited with {process.wait()} before serving")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


def test_serve_takes_its_port_as_a_flag(emulator: EmulatorServer) -> None:
    port = free_port()
    env = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url, "PORT": "1"}
    with running("serve", "--port", str(port), env=env, ready=f"127.0.0.1:{port}"):
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    assert answer.status_code == 200


def test_emulator_serves_the_emulator_alone() -> None:
    port = free_port()
    with running("emulator", "--port", str(port), env={}, ready=f"127.0.0.1:{port}"):
        answer = httpx.get(f"http://127.0.0.1:{port}/_emulator/models", timeout=10)
    assert answer.status_code == 200
    assert "amazon.titan-image-generator-v1" in answer.text


def test_the_docker_pages_key_command_runs_as_written() -> None:
    """docs/docker.md's first command, on a Python with no package installed (`-S`)."""
    page = (ROOT / "docs" / "docker.md").read_text()
    line = next(line for line in page.splitlines() if "-m app keys create" in line)
    command = line.split("#")[0].split()
    assert command[:4] == ["python3", "-m", "app", "keys"]
    done = cli(*command[3:], python=("-S",))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "GATEWAY_API_KEYS entry:"
