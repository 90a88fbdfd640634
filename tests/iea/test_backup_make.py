"""``make backup`` and ``make restore`` on a host that runs the compose stack: they work inside the web
container, on the stack's database and volumes, not on the host's own settings (SQLite in var/); without the
stack, on the host's. No Docker engine here: a fake ``docker`` first on PATH logs its arguments and answers
``docker compose ps`` with a container id, or nothing."""

import os
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
ARCHIVE = "/data/backups/iea-20261202T031500Z.tar.gz"

FAKE_DOCKER = f"""#!/bin/sh
echo "$*" >> "$DOCKER_LOG"
case "$*" in
  "compose ps --status running --quiet web") test -z "$FAKE_WEB" || echo "$FAKE_WEB" ;;
  "compose exec -T web test -f "*) exit "${{FAKE_IN_VOLUME:-1}}" ;;
  "compose exec -T web python manage.py backup")
    echo "Backed up the PostgreSQL database 'iea' on postgres:5432 (52 tables, 1,234 rows) and 3 uploaded file(s)."
    echo "{ARCHIVE}" ;;
esac
"""


@pytest.fixture
def docker(tmp_path):
    """Runs ``make`` with the fake docker first on PATH; returns (run, log)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "docker").write_text(FAKE_DOCKER)
    (folder / "docker").chmod(0o755)
    log = tmp_path / "docker.log"

    def run(*arguments: str, web: str = "", in_volume: bool = False, path: str | None = None,
            env_file: str = "POSTGRES_PASSWORD=secret\n"):
        """``env_file``: the content of the compose stack's .env on this host (none: "")."""
        stack_env = tmp_path / "stack.env"
        stack_env.write_text(env_file)
        env = {**os.environ, "PATH": path or f"{folder}:{os.environ['PATH']}", "DOCKER_LOG": str(log),
               "FAKE_WEB": web, "FAKE_IN_VOLUME": "0" if in_volume else "1", "STACK_ENV_FILE": str(stack_env)}
        for name in ("BACKUP_DIR", "LOCAL", "FORCE", "BACKUP"):
            env.pop(name, None)
        return subprocess.run(["make", "--no-print-directory", *arguments], cwd=BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    def logged() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    return run, logged


PS = "compose ps --status running --quiet web"


def test_backup_runs_inside_the_stack_when_its_web_service_runs_here(docker):
    run, logged = docker

    result = run("backup", web="3f2a9c1d")

    assert result.returncode == 0, result.stderr
    assert logged() == [PS, "compose exec -T web python manage.py backup"]
    assert result.stdout.splitlines() == [
        "The compose stack runs on this host (web container 3f2a9c1d): backing up the stack's database and files, "
        "inside it, into its backups volume (/data/backups).",
        "Backed up the PostgreSQL database 'iea' on postgres:5432 (52 tables, 1,234 rows) and 3 uploaded file(s).",
        ARCHIVE,
    ]


def test_backup_dir_copies_the_stacks_new_archive_to_the_host(docker, tmp_path):
    run, logged = docker
    host = tmp_path / "offsite"

    result = run("backup", f"BACKUP_DIR={host}", web="3f2a9c1d")

    assert result.returncode == 0, result.stderr
    assert logged() == [PS, "compose exec -T web python manage.py backup", f"compose cp web:{ARCHIVE} {host}/"]
    assert result.stdout.splitlines()[-1] == f"Copied to {host}/iea-20261202T031500Z.tar.gz"


def test_without_the_stack_backup_uses_the_hosts_settings(docker):
    run, logged = docker

    result = run("-n", "backup", env_file="")

    assert result.returncode == 0, result.stderr
    assert logged() == [PS]
    assert result.stdout.splitlines()[-1].split() == [".venv/bin/python", "manage.py", "backup"]


def test_without_docker_backup_uses_the_hosts_settings(docker):
    run, logged = docker

    result = run("-n", "backup", path="/usr/bin:/bin", env_file="")

    assert result.returncode == 0, result.stderr
    assert logged() == []
    assert "No compose stack runs on this host" in result.stdout
    assert result.stdout.splitlines()[-1].split() == [".venv/bin/python", "manage.py", "backup"]


def test_restore_copies_a_host_archive_into_the_stack_then_restores_it_there(docker, tmp_path):
    run, logged = docker
    archive = tmp_path / "iea-20261202T031500Z.tar.gz"
    archive.write_bytes(b"an archive")

    result = run("restore", f"BACKUP={archive}", "FORCE=1", web="3f2a9c1d")

    assert result.returncode == 0, result.stderr
    assert logged() == [
        PS,
        f"compose exec -T web test -f {ARCHIVE}",
        f"compose cp {archive} web:{ARCHIVE}",
        f"compose exec -T --user root web chown iea {ARCHIVE}",
        f"compose exec -T web python manage.py restore {ARCHIVE} --force",
    ]
    assert "Copying" in result.stdout
    assert "into the stack's database and files (web container 3f2a9c1d)" in result.stdout


def test_restore_uses_an_archive_already_in_the_stacks_volume(docker):
    run, logged = docker

    result = run("restore", "BACKUP=iea-20261202T031500Z.tar.gz", web="3f2a9c1d", in_volume=True)

    assert result.returncode == 0, result.stderr
    assert logged() == [
        PS,
        f"compose exec -T web test -f {ARCHIVE}",
        f"compose exec -T web python manage.py restore {ARCHIVE}",
    ]


def test_restore_of_an_archive_found_nowhere_stops(docker):
    run, logged = docker

    result = run("restore", "BACKUP=missing.tar.gz", web="3f2a9c1d")

    assert result.returncode == 2
    assert logged() == [PS, "compose exec -T web test -f /data/backups/missing.tar.gz"]
    assert result.stderr.splitlines()[0] == (
        "No archive missing.tar.gz on this host, nor /data/backups/missing.tar.gz in the stack's backups volume.")


def test_without_the_stack_restore_uses_the_hosts_settings(docker):
    run, logged = docker

    result = run("-n", "restore", "BACKUP=var/backups/iea-20261202T031500Z.tar.gz", env_file="")

    assert result.returncode == 0, result.stderr
    assert logged() == [PS]
    assert result.stdout.splitlines()[-1].split() == [
        ".venv/bin/python", "manage.py", "restore", '"var/backups/iea-20261202T031500Z.tar.gz"']


@pytest.mark.parametrize("target", ["backup", "restore"])
def test_a_stopped_stack_stops_the_command_rather_than_use_the_hosts_database(docker, target):
    run, logged = docker

    result = run(target, "BACKUP=iea-20261202T031500Z.tar.gz", env_file="SECRET_KEY=x\nPOSTGRES_PASSWORD=secret\n")

    assert result.returncode == 2
    assert logged() == [PS]
    assert result.stderr.splitlines()[0].endswith(
        f"is the compose stack's, but its web service is not running on this host: start it (docker compose up "
        f"-d) to {target} the stack's database, or add LOCAL=1 for this host's own settings.")


def test_local_1_uses_the_hosts_database_beside_a_stopped_stack(docker):
    run, logged = docker

    result = run("-n", "backup", "LOCAL=1")

    assert result.returncode == 0, result.stderr
    assert logged() == [PS]
    assert result.stdout.splitlines()[-1].split() == [".venv/bin/python", "manage.py", "backup"]


def test_other_targets_never_ask_docker(docker):
    run, logged = docker

    result = run("-n", "lint")

    assert result.returncode == 0, result.stderr
    assert logged() == []
