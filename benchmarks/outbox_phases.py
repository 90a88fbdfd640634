"""The outbox benchmark's parts that ``reminders.py`` and ``reminders_celery.py`` share: a local SMTP sink, the
data (N due draft reminders), and the two phases, each run in a process of its own (so that its peak RSS
is its own) by ``child``, which runs this module as a script:

    python benchmarks/outbox_phases.py --sink                    # prints its port, then serves
    python benchmarks/outbox_phases.py --phase outbox|django     # one phase, one JSON line on stdout
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


# --- the processes ---------------------------------------------------------------------------------------

def start_sink() -> tuple[subprocess.Popen, int]:
    """The SMTP sink in a process of its own, and its port."""
    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdout=subprocess.PIPE, text=True)  # noqa: S603
    return sink, int(sink.stdout.readline())


def child(phase: str, env: dict, options, *, tracemalloc: bool) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--batch-size", str(options.batch_size)]
    if tracemalloc:
        command.append("--tracemalloc")
    if options.profile == phase and not tracemalloc:
        command += ["--profile", phase]
    result = subprocess.run(command, env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, text=True, check=True)  # noqa: S603
    return json.loads(result.stdout.strip().splitlines()[-1])


def _main() -> None:
    parser = argparse.ArgumentParser(description="One part of the outbox benchmark, in a process of its own.")
    parser.add_argument("--sink", action="store_true")
    parser.add_argument("--phase", choices=["outbox", "django"])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--profile", choices=["outbox", "django"])
    options = parser.parse_args()
    if options.sink:
        run_sink()
    elif options.phase:
        run_phase(options.phase, options)
    else:
        parser.error("--sink or --phase")


if __name__ == "__main__":
    _main()
