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
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


# --- the SMTP sink ------------------------------------------------------------------------------------

def run_sink() -> None:
    """An SMTP server that accepts everything and keeps nothing; prints its port, then serves.
    ``XSTAT`` answers ``250 <messages> <sessions>``."""
    stats = {"messages": 0, "sessions": 0}

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["sessions"] += 1
        writer.write(b"220 sink ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 104857600\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    await reader.readuntil(b"\r\n.\r\n")
                    stats["messages"] += 1
                    writer.write(b"250 OK\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    break
                elif verb == b"XSTA":
                    writer.write(f"250 {stats['messages']} {stats['sessions']}\r\n".encode())
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(session, "127.0.0.1", 0, limit=64 * 1024 * 1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def sink_stats(port: int) -> tuple[int, int]:
    import smtplib

    with smtplib.SMTP("127.0.0.1", port) as client:
        code, text = client.docmd("XSTAT")
    messages, sessions = text.decode().split()
    return int(messages), int(sessions)  # sessions: this one included


# --- the phases (each in a process of its own) ----------------------------------------------------------

def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log growing with N


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def phase_outbox(now: dt.datetime) -> int:
    from iea.notifications.domain import dispatch
    from iea.notifications.models import Notification, NotificationState

    dispatch(now=now)
    return Notification.objects.filter(state=NotificationState.SENT).count()


def phase_django(now: dt.datetime, batch_size: int) -> int:
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.core.mail import get_connection
    from django.utils import translation

    from iea.mail import build_message
    from iea.notifications.kinds import KINDS
    from iea.notifications.models import Notification
    from proposals.models import Proposal, ProposalState

    kind = KINDS["draft_reminder"]
    host = urlsplit(settings.SITE_URL).hostname
    proposals = (Proposal.objects.filter(state=ProposalState.DRAFT).select_related(*kind.select_related)
                 .prefetch_related(*kind.prefetch_related).order_by("pk"))
    sent = 0
    with get_connection() as connection:  # one SMTP session
        for proposal in proposals.iterator(chunk_size=batch_size):
            pi = proposal.pi
            # What the kind's context and templates are given (an unsaved row, as ``domain.build`` does).
            row = Notification(kind=kind.name, object_id=proposal.pk, occurrence="-7d", recipient=pi, email=pi.email,
                               language=pi.language, due_at=now, created_at=now)
            with translation.override(pi.language):
                context = {**kind.context(proposal, row), "notification": row, "recipient": pi}
            message = build_message(name=kind.template, to=[pi.email], language=pi.language, context=context,
                                    headers={"Message-ID": f"<reminder-{proposal.pk}@{host}>"})
            sent += connection.send_messages([message])
    return sent


def run_phase(name: str, options) -> None:
    """In a child process: run one phase, print one JSON line."""
    setup_django()
    from django.db import connection
    from django.utils import timezone

    connection.ensure_connection()
    now = timezone.now()
    if options.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    before = rss_mb()
    profiler = None
    if options.profile == name:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    sent = phase_outbox(now) if name == "outbox" else phase_django(now, options.batch_size)
    wall = time.perf_counter() - start
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        sys.stderr.write(out.getvalue())
    peak = None
    if options.tracemalloc:
        import tracemalloc

        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps({"sent": sent, "wall": wall, "rss_before": before, "maxrss": maxrss_mb(),
                      "traced_peak": peak}), flush=True)


# --- the data -------------------------------------------------------------------------------------------

def build_data(count: int) -> None:
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import transaction
    from django.utils import timezone

    from calls.models import Call, CallState
    from iea.accounts.models import User
    from proposals.models import Proposal, SupportLetter

    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.create(
            year=2099, title_fr="IEA banc d'essai", title_en="IEA benchmark", state=CallState.OPEN,
            opens_at=now - dt.timedelta(days=30), closes_at=now + dt.timedelta(days=6, hours=12))
        users = User.objects.bulk_create(
            [User(email=f"pi{index:06d}@bench.example.org", full_name=f"PI {index}", password=UNUSABLE_PASSWORD_PREFIX,
                  language="fr" if index % 2 else "en") for index in range(count)], batch_size=2000)
        if users[0].pk is None:  # backends that do not return ids
            users = list(User.objects.filter(email__endswith="@bench.example.org").order_by("email"))
        proposals = Proposal.objects.bulk_create(
            [Proposal(call=call, pi=user, reference=f"BENCH-{index:06d}", title="Coastal erosion under storms",
                      acronym="COAST", abstract="We study coastal erosion with partners abroad.",
                      partner_name="Ana Souza", partner_email="ana@usp.example.br", partner_country="BR",
                      created_at=now, updated_at=now) for index, user in enumerate(users)], batch_size=2000)
        if proposals[0].pk is None:
            proposals = list(Proposal.objects.filter(call=call).order_by("reference"))
        SupportLetter.objects.bulk_create(
            [SupportLetter(proposal=proposal, file=f"letters/{proposal.reference}.pdf", original_name="letter.pdf",
                           size=1000, sha256="0" * 64, pages=1, uploaded_at=now, uploaded_by=proposal.pi)
             for proposal in proposals], batch_size=2000)


# --- orchestration --------------------------------------------------------------------------------------

def child(phase: str, env: dict, options, *, tracemalloc: bool) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--batch-size", str(options.batch_size)]
    if tracemalloc:
        command.append("--tracemalloc")
    if options.profile == phase and not tracemalloc:
        command += ["--profile", phase]
    result = subprocess.run(command, env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, text=True, check=True)  # noqa: S603
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=100, help="NOTIFICATIONS_BATCH_SIZE (default 100)")
    parser.add_argument("--trace-count", type=int, default=None,
                        help="reminders in the tracemalloc runs (default: count/10, at least 200; 0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database")
    parser.add_argument("--profile", choices=["outbox", "django"], help="print a cProfile of that phase (stderr)")
    parser.add_argument("--phase", choices=["outbox", "django"], help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.sink:
        return run_sink()
    if options.phase:
        return run_phase(options.phase, options)

    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        port = int(sink.stdout.readline())
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
