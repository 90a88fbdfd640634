"""The crawl in the suite: the demo seeded on a database of its own, served by ``runserver`` as ``make run`` does,
and every page of every role looked at in Chromium (tests/crawl/crawler.py). It fails with the list of what a
person would stumble on; the screenshots and their index are in var/screens/crawl/.

One test, run on CI's SQLite leg (the server has its own SQLite file whatever the suite's database): it
parallelises its pages itself, across roles, languages and sizes.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.sqlite, pytest.mark.crawl]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args, env, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          stdout=subprocess.DEVNULL, **kwargs)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crawl")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}", "MEDIA_ROOT": str(folder / "media"),
           "SITE_URL": f"http://127.0.0.1:{port}", "CELERY_BROKER_URL": "memory://", "DEBUG": "1",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "DJANGO_SETTINGS_MODULE": "iea.settings"}
    env.pop("PYTEST_XDIST_WORKER", None)
    _manage("migrate", "--noinput", "--verbosity", "0", env=env)
    _manage("seed_demo", env=env)
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("w"))
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo server did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)  # the server's socket: a poll, not a wait for an effect
    yield {"url": f"http://127.0.0.1:{port}", "env": env, "log": folder / "server.log"}
    server.terminate()
    server.wait(timeout=10)


# About 400 pages × 4 variants: 19 minutes alone on two cores (December 2026, with the statistics pages), more
# beside the rest of the suite.
CRAWL_TIMEOUT = 2400


def test_every_page_of_every_role(demo_server):
    out = ROOT / "var" / "screens" / "crawl"
    completed = subprocess.run(
        [sys.executable, "-m", "tests.crawl", "--base-url", demo_server["url"], "--out", str(out), "--with-cosign"],
        cwd=ROOT, env=demo_server["env"], capture_output=True, text=True, timeout=CRAWL_TIMEOUT,
    )
    print(completed.stdout[-20000:])
    summary = [line for line in completed.stdout.splitlines() if line.startswith("crawl:")]
    assert completed.returncode == 0, "\n".join(
        [*summary, *completed.stdout.splitlines()[:200], completed.stderr[-3000:],
         demo_server["log"].read_text()[-3000:]])
