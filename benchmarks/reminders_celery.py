"""10,000 due reminders: the outbox beside Django's mail API alone (``benchmarks/reminders.py``), then the
same reminders delivered by a real Celery worker on Redis, with that worker's peak memory.

    .venv/bin/python benchmarks/reminders_celery.py --out var/bench [--count 10000]

Database: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/iea_surge``), created,
migrated and dropped by the script. Data and the first two phases are reminders.py's, taken from outbox_phases.py (its
``build_data``, its SMTP sink, its phase processes, unchanged):

- **django**: the N mails built with the same templates and sent with Django's mail API, nothing recorded;
- **outbox**: ``dispatch(now)`` in one process, Celery eager: recorded, claimed, rendered, sent, marked;
- **celery**: the outbox emptied, ``dispatch(now)`` records and queues the N reminders on Redis (db 9, a
  queue of the run's own) and a real ``celery worker`` (prefork, concurrency 2, as docker-compose runs it)
  delivers them; timed from the dispatch to the last one marked sent. The worker's peak RSS (VmHWM) is
  read from /proc for its main process and each pool process.

Target: outbox / Django alone ≤ 1.5× the wall time (same single process, same sink).
"""

import argparse
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    _bench,  # noqa: E402
    outbox_phases,  # noqa: E402
)

NAME = "reminders_celery"
BASE_DIR = _bench.BASE_DIR
REDIS_URL = "redis://127.0.0.1:6379/9"
TARGET = 1.5


def celery_phase(env: dict, options, count: int) -> dict:
    from iea.notifications.models import Notification, NotificationState

    Notification.objects.all().delete()  # the same N reminders are due again
    queue = f"iea-bench-reminders-{uuid.uuid4().hex[:12]}"
    worker_env = {**env, "CELERY_BROKER_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "0",
                  "CELERY_TASK_DEFAULT_QUEUE": queue}
    command = [str(Path(sys.executable).parent / "celery"), "-A", "iea", "worker", "--loglevel", "WARNING",
               "--concurrency", str(options.concurrency), "-Q", queue, "--without-gossip", "--without-mingle",
               "--without-heartbeat"]
    worker = subprocess.Popen(command, cwd=BASE_DIR, env=worker_env)  # noqa: S603
    try:
        _bench.poll(lambda: len(_bench.children(worker.pid)) >= options.concurrency, timeout=60,
                    what="the Celery worker's pool")
        start = time.perf_counter()
        queued = outbox_phases.child("outbox", worker_env, options, tracemalloc=False)  # dispatch: records and queues
        dispatch_s = time.perf_counter() - start
        done = (NotificationState.SENT, NotificationState.FAILED, NotificationState.SKIPPED)
        _bench.poll(lambda: Notification.objects.filter(state__in=done).count() >= count,
                    timeout=options.time_limit, interval=0.25, what=f"{count} reminders delivered")
        # The dispatch process's own start-up (Django, imports) is not delivery: count only its dispatch.
        startup = dispatch_s - queued["wall"]
        wall = time.perf_counter() - start - startup
        pool = _bench.children(worker.pid)
        main_peak = (_bench.status_kib(worker.pid, "VmHWM") or 0) / 1024
        pool_peaks = [(_bench.status_kib(pid, "VmHWM") or 0) / 1024 for pid in pool]
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        _bench.purge_queue(REDIS_URL, queue)
    sent = Notification.objects.filter(state=NotificationState.SENT).count()
    return {"wall": wall, "dispatch_s": queued["wall"], "sent": sent, "sent_by_dispatch_process": queued["sent"],
            "worker_main_peak_mb": main_peak, "pool_peak_mb": max(pool_peaks, default=None),
            "pool_peaks_mb": pool_peaks, "concurrency": options.concurrency}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "bench")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=100, help="NOTIFICATIONS_BATCH_SIZE (default 100)")
    parser.add_argument("--concurrency", type=int, default=2, help="the Celery worker's pool (default 2)")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds the Celery delivery may last")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()
    options.profile = None  # what outbox_phases.child reads

    url = _bench.database_url()
    sink, port = outbox_phases.start_sink()
    try:
        env = _bench.base_env(url, CELERY_TASK_ALWAYS_EAGER="1", EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                              EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), EMAIL_USE_TLS="0",
                              NOTIFICATIONS_BATCH_SIZE=str(options.batch_size), SITE_URL="http://127.0.0.1")
        _bench.database_create(url)
        try:
            sys.stderr.write(f"reminders: migrating {_bench.database_name(url)}, building {options.count} due reminders…\n")
            _bench.migrate(env)
            _bench.django_setup(env)
            start = time.perf_counter()
            outbox_phases.build_data(options.count)
            results = {"count": options.count, "batch_size": options.batch_size, "build_s": time.perf_counter() - start}
            for phase in ("django", "outbox"):  # the outbox phase records rows: it goes second
                messages, sessions = outbox_phases.sink_stats(port)
                sys.stderr.write(f"reminders: {phase}…\n")
                results[phase] = outbox_phases.child(phase, env, options, tracemalloc=False)
                after_messages, after_sessions = outbox_phases.sink_stats(port)
                results[phase].update(received=after_messages - messages, sessions=after_sessions - sessions - 1)
            messages, _sessions = outbox_phases.sink_stats(port)
            sys.stderr.write(f"reminders: celery worker (concurrency {options.concurrency})…\n")
            results["celery"] = celery_phase(env, options, options.count)
            results["celery"]["received"] = outbox_phases.sink_stats(port)[0] - messages
        finally:
            from django.db import connections

            connections.close_all()
            if not options.keep:
                _bench.database_drop(url)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return report(options, results)


def report(options, results: dict) -> int:
    django_run, outbox, celery = results["django"], results["outbox"], results["celery"]
    ratio = outbox["wall"] / django_run["wall"]
    celery_ratio = celery["wall"] / django_run["wall"]
    results.update(ratio=ratio, celery_ratio=celery_ratio)
    missed = []
    if ratio > TARGET:
        missed.append(f"outbox {ratio:.2f}× Django alone (target ≤ {TARGET}×)")
    count = options.count
    for label, run in (("django", django_run), ("outbox", outbox), ("celery", celery)):
        if run["received"] != count:
            missed.append(f"{label}: the sink received {run['received']} of {count}")
    results["targets_missed"] = missed
    lines = [
        f"## Reminders: {count:,} due draft reminders, outbox beside Django's mail API",
        "",
        "To a local SMTP sink over Django's SMTP backend (`benchmarks/outbox_phases.py`: the data, sink and phases of `reminders.py`). "
        f"PostgreSQL, batches of {options.batch_size}.",
        "",
        "| path | mails received | wall (s) | mails/s | × Django alone | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
        f"| Django mail API, one connection, one process | {django_run['received']:,} | {django_run['wall']:.1f} | "
        f"{count / django_run['wall']:.0f} | 1.00× | {django_run['maxrss']:.0f} |",
        f"| outbox: dispatch → deliver, one process (Celery eager) | {outbox['received']:,} | {outbox['wall']:.1f} | "
        f"{count / outbox['wall']:.0f} | **{ratio:.2f}×** | {outbox['maxrss']:.0f} |",
        f"| outbox through Redis and a real Celery worker ({celery['concurrency']} pool processes) | "
        f"{celery['received']:,} | {celery['wall']:.1f} | {count / celery['wall']:.0f} | {celery_ratio:.2f}× | "
        f"main {celery['worker_main_peak_mb']:.0f}, pool {_bench.fmt(celery['pool_peak_mb'], 0)} |",
        "",
        f"- **Celery worker peak RSS (VmHWM)** delivering {count:,} reminders: main process "
        f"{celery['worker_main_peak_mb']:.0f} MB, pool processes " + ", ".join(f"{v:.0f} MB" for v in celery["pool_peaks_mb"])
        + f" (dispatch, recording and queueing: {celery['dispatch_s']:.1f} s of the {celery['wall']:.1f} s)",
        "",
        f"Target: outbox / Django alone ≤ {TARGET}× — " + ("held." if not missed else "**missed**: " + "; ".join(missed)),
        "",
        f"Reproduce: `{_bench.command_line()}` (BENCH_DATABASE_URL={_bench.database_url()})",
    ]
    _bench.write_results(options.out, NAME, results, "\n".join(lines))
    print("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
