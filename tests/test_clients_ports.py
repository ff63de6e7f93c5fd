"""`make clients` runs the gateway on fixed ports (8010, 8011) that variables move; a taken port
stops it at once, before any generation, saying which variable to change."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.support.files import ROOT

# Run from `make test`, make would tell the nested make it is nested (and it would say so).
OUTSIDE_MAKE = {
    k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
}


def make_dry_run(*variables: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "clients", *variables],
        cwd=ROOT,
        env=OUTSIDE_MAKE,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_fixed_ports_by_default_moved_by_variables() -> None:
    assert make_dry_run() == ".venv/bin/python clients/run.py --port 8010 --emulator-port 8011"
    assert make_dry_run("CLIENTS_PORT=9010", "CLIENTS_EMULATOR_PORT=0") == (
        ".venv/bin/python clients/run.py --port 9010 --emulator-port 0"
    )


def test_a_taken_port_stops_the_run_before_anything_is_generated() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "clients/run.py", "--port", "0", "--emulator-port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"make clients: port {port} is taken (CLIENTS_EMULATOR_PORT); free it or pick another: "
        "make clients CLIENTS_EMULATOR_PORT=<port>"
    ]
    assert done.stdout == ""
