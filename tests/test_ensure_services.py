"""scripts/ensure-services, which `make test` runs first: what it installs, and how, on each kind of
machine. It runs with a PATH of stand-ins for uname, id, apt-get and brew that record their calls
(the real apt-get is what `make test` uses; here each decision is checked without changing the
machine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "ensure-services"
BASH = shutil.which("bash") or "/bin/bash"
CHMOD = shutil.which("chmod") or "/bin/chmod"
# Run from `make test`, make would tell the nested make it is nested (and it would say so).
OUTSIDE_MAKE = {
    k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
}


def tool(bin_dir: Path, name: str, body: str) -> None:
    """A stand-in program on the test's PATH."""
    path = bin_dir / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def machine(tmp_path: Path, system: str, uid: int, installers: tuple[str, ...]) -> Path:
    """A PATH directory for one kind of machine: its uname and id, and the installers it has.
    An installer records its arguments and, on install, puts a redis-server on the PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool(bin_dir, "uname", f"echo {system}")
    tool(bin_dir, "id", f"echo {uid}")
    # The examples' programs are there: each test is about redis-server.
    for present in ("curl", "jq", "npm", "chromium", "chromedriver"):
        tool(bin_dir, present, "exit 0")
    install = (
        f'printf "#!{BASH}\\n" > "{bin_dir}/redis-server"; {CHMOD} +x "{bin_dir}/redis-server"'
    )
    for installer in installers:
        tool(
            bin_dir,
            installer,
            f'echo "{installer} $*" >> "{tmp_path}/calls"\n'
            f'if [ "$1" = install ] || [ "$2" = install ]; then {install}; fi',
        )
    return bin_dir


def run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(SCRIPT)], env={"PATH": str(bin_dir)}, capture_output=True, text=True, check=False
    )


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_debian_as_root_installs_the_package_with_apt_get(tmp_path: Path) -> None:
    done = run(machine(tmp_path, "Linux", 0, ("apt-get",)))
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["apt-get install -y -qq redis-server"]
    assert "running apt-get install -y redis-server" in done.stdout
    assert (tmp_path / "bin" / "redis-server").exists()


def test_debian_without_package_lists_updates_them_then_installs(tmp_path: Path) -> None:
    bin_dir = machine(tmp_path, "Linux", 0, ())
    lists = tmp_path / "lists"
    # This apt-get knows no package until `apt-get update` has run, as on a fresh machine.
    tool(
        bin_dir,
        "apt-get",
        f'echo "apt-get $*" >> "{tmp_path}/calls"\n'
        f'if [ "$1" = update ]; then : > "{lists}"; exit 0; fi\n'
        f'[ -e "{lists}" ] || exit 100\n'
        f'printf "#!{BASH}\\n" > "{bin_dir}/redis-server"; {CHMOD} +x "{bin_dir}/redis-server"',
    )
    done = run(bin_dir)
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == [
        "apt-get install -y -qq redis-server",
        "apt-get update -qq",
        "apt-get install -y -qq redis-server",
    ]


def test_debian_without_root_fails_at_once_naming_the_command(tmp_path: Path) -> None:
    done = run(machine(tmp_path, "Linux", 1000, ("apt-get",)))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ensure-services: not root, so not installing; run: sudo apt-get install -y redis-server"
    ]
    assert calls(tmp_path) == []


def test_macos_installs_the_formula_with_homebrew(tmp_path: Path) -> None:
    done = run(machine(tmp_path, "Darwin", 501, ("brew",)))
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["brew install redis"]
    assert "running brew install redis" in done.stdout


def test_macos_without_homebrew_names_what_to_install(tmp_path: Path) -> None:
    done = run(machine(tmp_path, "Darwin", 501, ()))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ensure-services: install Homebrew (https://brew.sh), then run: brew install redis"
    ]


@pytest.mark.parametrize("uid", [0, 1000])
def test_another_system_fails_at_once_with_one_line(tmp_path: Path, uid: int) -> None:
    done = run(machine(tmp_path, "Linux", uid, ("dnf",)))
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert "Debian: apt-get install -y redis-server, macOS: brew install redis" in done.stderr
    assert calls(tmp_path) == []


def test_nothing_is_installed_when_everything_is_there(tmp_path: Path) -> None:
    bin_dir = machine(tmp_path, "Linux", 0, ("apt-get",))
    tool(bin_dir, "redis-server", "exit 0")
    done = run(bin_dir)
    assert done.returncode == 0
    assert calls(tmp_path) == []
    assert done.stdout.splitlines() == [
        f"ensure-services: redis-server (the quota tests): {bin_dir}/redis-server",
        "ensure-services: curl (the documentation's examples, run by "
        f"tests/server/test_doc_examples.py): {bin_dir}/curl",
        f"ensure-services: jq (the documentation's examples): {bin_dir}/jq",
        f"ensure-services: npm (openai-node's stream tests and make clients): {bin_dir}/npm",
        f"ensure-services: chromium (the browser tests (tests/browser)): {bin_dir}/chromium",
        "ensure-services: chromedriver (the browser tests, driving chromium): "
        f"{bin_dir}/chromedriver",
    ]


def test_everything_missing_is_installed_in_one_command(tmp_path: Path) -> None:
    bin_dir = machine(tmp_path, "Linux", 0, ("apt-get",))
    for present in ("curl", "jq", "npm", "chromium", "chromedriver"):
        (bin_dir / present).unlink()
    done = run(bin_dir)
    # The stand-in installs only redis-server: the script then names what is still missing.
    assert calls(tmp_path) == [
        "apt-get install -y -qq redis-server curl jq nodejs npm chromium chromium-driver"
    ]
    assert done.returncode == 1
    assert "curl is still missing after the install" in done.stderr


def test_an_install_that_leaves_the_program_off_the_path_fails(tmp_path: Path) -> None:
    bin_dir = machine(tmp_path, "Linux", 0, ())
    tool(bin_dir, "apt-get", "exit 0")
    done = run(bin_dir)
    assert done.returncode == 1
    assert "redis-server is still missing after the install" in done.stderr


def test_ci_runs_the_readme_path_and_nothing_else() -> None:
    ci = (SCRIPT.parent.parent / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set "))]
    assert commands == [
        'cd "$(dirname "$0")/.."',
        "make test",
        "make clients",
        "make lint",
        "make docs",
    ]


def test_make_test_runs_the_script_before_the_suite() -> None:
    dry = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-o",
            ".venv/.installed",
            "-o",
            "tests/api/openai/openai_node/node_modules/.package-lock.json",
            "test",
        ],
        cwd=SCRIPT.parent.parent,
        env=OUTSIDE_MAKE,
        capture_output=True,
        text=True,
        check=True,
    )
    assert dry.stdout.splitlines() == ["bash scripts/ensure-services", ".venv/bin/python -m pytest"]
