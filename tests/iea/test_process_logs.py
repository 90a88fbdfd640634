"""The production processes, started with the compose services' own commands and environment (local values
for what needs a server), print nothing but JSON log lines: gunicorn's own lines and one access line per
request (with the response's request id, without the invitation token), the Celery worker and beat without
their banners or shutdown lines."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.staticfiles.finders import get_finders

from tests.iea.test_deploy import ROOT, compose, service_environment
from tests.iea.test_notification_faults import _database_url

BIN = Path(sys.executable).parent
START_DEADLINE = 120  # seconds: three Django processes starting at once on a loaded CI machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_environment(service: str, tmp: Path, port: int) -> dict[str, str]:
    env = service_environment(service)
    assert (env["LOG_FORMAT"], env["DEBUG"]) == ("json", "0")
    env.update({
        "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": f"http://127.0.0.1:{port}",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}", "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": _database_url(), "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "filesystem://", "CELERY_BROKER_FOLDER": str(tmp / "broker"),
        "PRIVATE_MEDIA_ROOT": str(tmp / "private"), "STATIC_ROOT": str(tmp / "static"),
        "BACKUP_DIR": str(tmp / "backups"),
    })
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return {**inherited, **env}


def command(service: str, tmp: Path, port: int) -> list[str]:
    args = list(compose()["services"][service]["command"])
    args = [f"127.0.0.1:{port}" if a == "0.0.0.0:8000" else a for a in args]
    beat_schedule = "/tmp/celerybeat-schedule"  # noqa: S108 (the compose file's, swapped for one in tmp)
    args = [str(tmp / "celerybeat-schedule") if a == beat_schedule else a for a in args]
    return [str(BIN / args[0]), *args[1:]]


def write_static_manifest(static_root: Path) -> None:
    """collectstatic takes a minute: a manifest naming every static file as itself lets the pages render."""
    static_root.mkdir()
    paths = {path: path for finder in get_finders() for path, _ in finder.list(None)}
    (static_root / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "test"}))


def get(url: str) -> tuple[int | None, dict]:
    try:
        # The first request waits for a gunicorn worker to load the app: as long as the start may take.
        with urllib.request.urlopen(url, timeout=START_DEADLINE) as response:  # noqa: S310 (a local test server)
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)
    except urllib.error.URLError:
        return None, {}  # not listening yet


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_until(condition, processes, what: str) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while not condition():
        exited = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
        assert not exited, f"exited while waiting for {what}: {exited}"
        assert time.monotonic() < deadline, f"no {what} after {START_DEADLINE} s"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)  # the processes use the test database
def test_every_line_the_web_worker_and_beat_print_is_json(tmp_path):
    port, token = free_port(), secrets.token_urlsafe(32)
    write_static_manifest(tmp_path / "static")
    processes, outputs = {}, {}
    for service in ("web", "worker", "beat"):
        outputs[service] = (tmp_path / f"{service}.out", tmp_path / f"{service}.err")
        with outputs[service][0].open("w") as out, outputs[service][1].open("w") as err:
            processes[service] = subprocess.Popen(command(service, tmp_path, port), cwd=ROOT, stdout=out, stderr=err,
                                                  env=local_environment(service, tmp_path, port))

    def logged(service, text):
        return lambda: any(text in line for line in lines_of(outputs[service][1]))

    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, processes, "answer from gunicorn")
        answers = {}
        for path in ("/", "/api/v1/calls/", "/nope/", f"/proposals/partner/{token}/?from={token}"):
            answers[path] = get(f"http://127.0.0.1:{port}{path}")
        wait_until(logged("worker", " ready."), processes, "ready worker")
        wait_until(logged("beat", "beat: Starting"), processes, "started beat")
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=60)

    printed = {f"{service} {stream.suffix}": lines_of(stream) for service, streams in outputs.items() for stream in streams}
    not_json = {name: [line for line in lines if not _is_json_object(line)] for name, lines in printed.items()}
    assert not_json == {name: [] for name in printed}
    assert [name for name, lines in printed.items() if any(token in line for line in lines)] == []

    access = [json.loads(line) for line in printed["web .err"] + printed["web .out"]
              if json.loads(line)["logger"] == "gunicorn.access" and json.loads(line)["path"] != "/healthz"]
    # Two gunicorn workers: a worker writes its access line after the response, so the next request's line,
    # answered by the other worker, may come first. One line per request, in any order.
    assert sorted((a["method"], a["path"], a["status"], a["request_id"]) for a in access) == sorted([
        ("GET", "/", 200, answers["/"][1]["X-Request-ID"]),
        ("GET", "/api/v1/calls/", 200, answers["/api/v1/calls/"][1]["X-Request-ID"]),
        ("GET", "/nope/", 404, answers["/nope/"][1]["X-Request-ID"]),
        ("GET", "/proposals/partner/…/", 403, answers[f"/proposals/partner/{token}/?from={token}"][1]["X-Request-ID"]),
    ])
    assert all(a["bytes"] > 0 and a["duration_ms"] > 0 and a["remote_addr"] == "127.0.0.1"
               and a["user_agent"].startswith("Python-urllib") and a["event"] == "http.access" for a in access)
    messages = {service: [json.loads(line)["message"] for line in printed[f"{service} .err"]]
                for service in ("web", "worker", "beat")}
    assert "Shutting down: Master" in messages["web"]
    assert "worker: Warm shutdown (MainProcess)" in messages["worker"]


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
