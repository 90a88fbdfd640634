""".env.example reads the same in a shell (``set -a; . ./.env.example``), for django-environ (iea/settings.py
reads .env with it) and for docker compose's env_file (single quotes: the value between them, as is)."""

import re
import subprocess
from pathlib import Path

import environ
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
EXAMPLE = BASE_DIR / ".env.example"


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_a_shell_and_django_environ_read_the_same_values(shell, monkeypatch):
    keys = re.findall(r"^([A-Za-z_][A-Za-z_0-9]*)=", EXAMPLE.read_text(), flags=re.MULTILINE)
    sourced = subprocess.run([shell, "-c", "set -a; . ./.env.example; env -0"], cwd=BASE_DIR,
                             env={"PATH": "/usr/bin:/bin"}, capture_output=True, check=False)
    assert sourced.returncode == 0, sourced.stderr.decode()
    assert sourced.stderr == b""
    exported = dict(item.split("=", 1) for item in sourced.stdout.decode().split("\0") if item)
    read: dict[str, str] = {}
    monkeypatch.setattr(environ.Env, "ENVIRON", read)

    environ.Env.read_env(EXAMPLE)

    assert {key: exported.get(key) for key in keys} == read
    assert read["DEFAULT_FROM_EMAIL"] == "IEA <no-reply@iea.example.org>"
    assert len(keys) == 8


def compose_value(raw: str) -> str:
    """What docker compose's env_file gives for a value written in one of the two forms it reads as is (no
    Docker here): single-quoted, the text between the quotes; unquoted, the text itself when it holds nothing
    compose would interpret (quotes, $, a comment, surrounding spaces)."""
    if quoted := re.fullmatch(r"'([^']*)'", raw):
        return quoted[1]
    assert re.fullmatch(r"[^\s'\"$#\\`]*", raw), f"{raw!r}: quote it"
    return raw


def test_docker_compose_reads_the_same_values(monkeypatch):
    written = dict(re.findall(r"^([A-Za-z_][A-Za-z_0-9]*)=(.*)$", EXAMPLE.read_text(), flags=re.MULTILINE))
    read: dict[str, str] = {}
    monkeypatch.setattr(environ.Env, "ENVIRON", read)

    environ.Env.read_env(EXAMPLE)

    assert {key: compose_value(raw) for key, raw in written.items()} == read
