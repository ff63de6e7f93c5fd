"""`python -m app` run once as a user runs it, for the tests of the command line and its checks."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.files import ROOT


def cli(
    *args: str, env: dict[str, str] | None = None, python: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` in the repository, with a clean gateway environment plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    base.pop("PORT", None)
    base.pop("HOST", None)
    return subprocess.run(
        [sys.executable, *python, "-m", "app", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
