"""What the outbox costs: N due draft reminders sent by ``dispatch`` vs the same N mails sent by Django alone.

    .venv/bin/python benchmarks/reminders.py [--count 10000] [--batch-size 100] [--keep] [--profile outbox]

Runs against the database ``DATABASE_URL`` names (SQLite in var/ when unset), in a database of its own
that it creates and drops (``var/bench-reminders.sqlite3``; on PostgreSQL ``bench_reminders`` next to the
named one): N PIs, each with one draft (with its support letter) in one open call closing in six days,
so each is due its D−7 draft reminder. Then, each in a fresh process (so that peak RSS is its own):

- **outbox**: ``iea.notifications.domain.dispatch(now)``, Celery eager: the schedules find the N drafts,
  record N rows, queue them in batches of ``NOTIFICATIONS_BATCH_SIZE``; each batch is claimed, rendered
  (kind's context, templates, in the PI's language), sent and marked sent row by row;
- **django**: the same N messages (same kind context, same templates, same Message-ID header) built
  with ``iea.mail.build_message`` and sent with Django's mail API over one SMTP connection, nothing
  recorded.

Both send to a local SMTP sink (a small asyncio SMTP server in its own process, below), over
Django's SMTP backend: real sockets and SMTP dialogue, no disk. The sink counts messages and sessions.
Wall time is measured without tracemalloc; tracemalloc's peak comes from a second, smaller run of each
phase (``--trace-count``, tracemalloc slows Python down several times); ``ru_maxrss`` is each phase
process's peak RSS, with its RSS before the phase.
"""

import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.outbox_phases import build_data, child, setup_django, sink_stats, start_sink  # noqa: E402

# --- orchestration --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=100, help="NOTIFICATIONS_BATCH_SIZE (default 100)")
    parser.add_argument("--trace-count", type=int, default=None,
                        help="reminders in the tracemalloc runs (default: count/10, at least 200; 0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database")
    parser.add_argument("--profile", choices=["outbox", "django"], help="print a cProfile of that phase (stderr)")
    options = parser.parse_args()

    sink, port = start_sink()
    try:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "EMAIL_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "iea.settings", "CELERY_TASK_ALWAYS_EAGER": "1", "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port), "EMAIL_USE_TLS": "0", "NOTIFICATIONS_BATCH_SIZE": str(options.batch_size),
            "SQLITE_TEST_NAME": str(BASE_DIR / "var" / "bench-reminders.sqlite3"),
        })
        os.environ.update(env)
        setup_django()
        from django.apps import apps
        from django.conf import settings
        from django.db import connection

        # A database of the benchmark's own, with tables made from the models (like the tests).
        settings.MIGRATION_MODULES = {config.label: None for config in apps.get_app_configs()}
        db = connection.settings_dict
        if db["ENGINE"] != "django.db.backends.sqlite3":
            db.setdefault("TEST", {})["NAME"] = "bench_reminders"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        engine = "SQLite" if db["ENGINE"] == "django.db.backends.sqlite3" else "PostgreSQL"
        if engine == "SQLite":
            env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
        else:
            from urllib.parse import quote

            auth = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
            env["DATABASE_URL"] = f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        try:
            results = measure(options, env, port)
        finally:
            if not options.keep:
                connection.creation.destroy_test_db(db["NAME"], verbosity=0)
        report(options, engine, results)
    finally:
        sink.terminate()
        sink.wait(timeout=10)


def measure(options, env: dict, port: int) -> dict:
    sys.stderr.write(f"building {options.count} due draft reminders…\n")
    start = time.perf_counter()
    build_data(options.count)
    results = {"build": time.perf_counter() - start}
    for phase in ("django", "outbox"):  # the outbox phase records rows: it goes second
        messages, sessions = sink_stats(port)
        sys.stderr.write(f"{phase}…\n")
        results[phase] = child(phase, env, options, tracemalloc=False)
        after_messages, after_sessions = sink_stats(port)
        results[phase].update(received=after_messages - messages, sessions=after_sessions - sessions - 1)
    trace_count = options.trace_count if options.trace_count is not None else max(options.count // 10, 200)
    if trace_count > 0:
        # tracemalloc, on a smaller set: the first trace_count drafts stay drafts, the others are withdrawn.
        from iea.notifications.models import Notification
        from proposals.models import Proposal, ProposalState

        last = Proposal.objects.order_by("pk").values_list("pk", flat=True)[trace_count - 1]
        Proposal.objects.filter(pk__gt=last).update(state=ProposalState.WITHDRAWN)
        Notification.objects.all().delete()
        for phase in ("django", "outbox"):
            sys.stderr.write(f"{phase} (tracemalloc, {trace_count})…\n")
            results[f"{phase}_traced"] = child(phase, env, options, tracemalloc=True)
    results["trace_count"] = trace_count
    return results


def report(options, engine: str, results: dict) -> None:
    django_run, outbox = results["django"], results["outbox"]
    print(f"\n### {options.count} draft reminders — {engine}, batches of {options.batch_size}\n")
    print("SMTP: a local asyncio SMTP sink (its own process), through Django's SMTP backend. "
          f"Data built with bulk_create in {results['build']:.1f} s.\n")
    head = "| path | mails sent | SMTP sessions | wall (s) | mails/s | RSS before (MB) | peak RSS (MB) |"
    if results["trace_count"]:
        head += f" tracemalloc peak, {results['trace_count']} mails (MB) |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for label, key in (("Django mail API, one connection", "django"), ("outbox: dispatch → deliver", "outbox")):
        run = results[key]
        line = (f"| {label} | {run['sent']} ({run['received']} received) | {run['sessions']} | {run['wall']:.2f} | "
                f"{run['sent'] / run['wall']:.0f} | {run['rss_before']:.0f} | {run['maxrss']:.0f} |")
        if results["trace_count"]:
            line += f" {results[key + '_traced']['traced_peak']:.1f} |"
        print(line)
    ratio = outbox["wall"] / django_run["wall"]
    print(f"\noutbox / Django alone: {ratio:.2f}× the wall time, "
          f"{outbox['maxrss'] / django_run['maxrss']:.2f}× the peak RSS"
          + (f", {results['outbox_traced']['traced_peak'] / results['django_traced']['traced_peak']:.2f}× "
             "the tracemalloc peak" if results["trace_count"] else "") + ".")


if __name__ == "__main__":
    main()
