"""Redis and the Celery app in tests: a redis-server of a test's own (to stop and restart), and this
process's Celery app pointed at a broker and queue for the length of a test."""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import kombu.pools
import pytest

from iea.celery import app


def fail_or_skip(reason: str):
    """The fixture's rule (tests/iea/test_celery_redis.py): skip without Redis, unless REQUIRE_REDIS=1."""
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(f"REQUIRE_REDIS=1: {reason}")
    pytest.skip(reason)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.exceptions.ConnectionError:
        return False


def free_port() -> int:
    """A port nothing listens on (now): connecting to it is refused, as to a Redis that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def app_on(broker: str, queue: str | None = None):
    """This process's Celery app sends to ``broker`` (and ``queue``), not eagerly, meanwhile."""

    def forget():
        # Broker connections are pooled per URL, process-wide: close them all (none is in use meanwhile).
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
        for cached in ("queues", "default_queue", "default_exchange", "router"):  # built once from the conf
            app.amqp.__dict__.pop(cached, None)

    changes = {"broker_url": broker, "task_always_eager": False}
    if queue is not None:
        changes["task_default_queue"] = queue
    overridden = {key: key in app.conf.changes for key in changes}
    previous = {key: app.conf.changes[key] for key in changes if overridden[key]}
    app.conf.update(**changes)
    forget()
    try:
        yield
    finally:
        for key in changes:
            if key in previous:
                app.conf.changes[key] = previous[key]
            else:
                app.conf.changes.pop(key, None)
        forget()


class RedisServer:
    """A Redis of this test's own, without persistence: killing it loses what it held, as a restart of a
    broker without AOF does (docker-compose's Redis keeps none either)."""

    def __init__(self, binary: str, root: Path):
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.root / "redis-server.log", "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.root)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while not redis_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start:\n{(self.root / 'redis-server.log').read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        fail_or_skip("needs the redis-server program, to restart a Redis of the test's own")
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
