"""What the benchmark scripts share: their own database (created, migrated, dropped), the environment of
the processes they start, peak memory from /proc, percentiles and the two output files.

The contract with ``benchmarks/run.py``: each script is run as ``python benchmarks/<name>.py --out DIR``
with ``BENCH_DATABASE_URL``; it writes ``DIR/<name>.json`` and ``DIR/<name>.md`` (a section starting with
``## ``) and exits 1 when a target is missed (the files are written first).
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/iea_surge"
# Databases that belong to others on the shared machine (CI, the colleague's dataset): never dropped.
FORBIDDEN = re.compile(r"^(test|test_test_gw\d*|test_gw\d*|iea_bench|postgres|template[01])$")


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name or FORBIDDEN.match(name):
        raise SystemExit(f"refusing to use database {name!r}: it is not the benchmark's own")
    return name


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1) if parts.scheme == "postgres" else parts.scheme,
                        parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin, autocommit=True)


def database_create(url: str) -> None:
    """A fresh, empty database of that name (any earlier one of the benchmark's is dropped)."""
    from psycopg import sql

    name = database_name(url)
    with _admin_connection(url) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(url: str) -> None:
    from psycopg import sql

    name = database_name(url)
    with _admin_connection(url) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def base_env(url: str, **extra: str) -> dict:
    """The environment of every process of a benchmark: its database, quiet logs, no mail out."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CELERY_", "EMAIL_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"))}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="iea.settings", LOG_LEVEL="WARNING",
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", ALLOW_UNDELIVERED_MAIL="1",
               PYTHONPATH=str(BASE_DIR))
    env.update(extra)
    return env


def migrate(env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],  # noqa: S603
                   cwd=BASE_DIR, env=env, check=True)


def collect_static(env: dict) -> None:
    """``collectstatic`` into ``env["STATIC_ROOT"]`` (production's manifest and compressed copies), only
    when the static sources changed since the last benchmark: compressing them all takes a minute.
    Call after ``django_setup(env)``; a lock keeps two benchmarks from collecting at once."""
    import fcntl
    import hashlib

    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    root = Path(env["STATIC_ROOT"])
    root.mkdir(parents=True, exist_ok=True)
    stamp = root / ".bench-sources"
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest.hexdigest() and (root / "staticfiles.json").exists():
            return
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],  # noqa: S603
                       cwd=BASE_DIR, env=env, check=True)
        stamp.write_text(digest.hexdigest())


def django_setup(env: dict) -> None:
    """Set up Django in this process against the benchmark's database."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log growing with the run


def status_kib(pid: int, field: str) -> int | None:
    """A field of /proc/<pid>/status in KiB (VmHWM: peak resident set; VmRSS: current)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far, user and system (/proc/<pid>/stat); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15


def children(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers, Celery's pool processes)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(item) for item in handle.read().split()]
    except FileNotFoundError:
        return []


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def poll(predicate, *, timeout: float, interval: float = 0.1, what: str = "the condition"):
    """Call ``predicate`` until it returns something truthy; raise TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(interval)


def purge_queue(redis_url: str, queue: str) -> None:
    """Remove a benchmark's own Celery queue and kombu's bindings of it from Redis."""
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        client.delete(queue, *(f"{queue}\x06\x16{n}" for n in (3, 6, 9)),
                      f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
                      "_kombu.binding_deadlines")  # the stopped worker's control-queue deadlines (db 9 is ours)
    except Exception as error:  # noqa: BLE001 — a leftover key in db 9 is harmless; say so and go on
        sys.stderr.write(f"could not purge the queue {queue}: {error}\n")


def command_line() -> str:
    return " ".join(shlex.quote(part) for part in [".venv/bin/python", *[os.path.relpath(sys.argv[0], BASE_DIR)], *sys.argv[1:]])


def write_results(out: Path, name: str, numbers: dict, markdown: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(numbers, indent=2, default=str) + "\n")
    (out / f"{name}.md").write_text(markdown.rstrip() + "\n")


def fmt(value, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"
