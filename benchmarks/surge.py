"""A deadline surge: N simulated PIs at once edit, upload their letter and submit, on the real app under
gunicorn (2 sync workers) on PostgreSQL, beside a bare Django view doing the same writes in the same run.

    .venv/bin/python benchmarks/surge.py --out var/bench [--pis 200] [--time-limit 300]

Database: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/iea_surge``), created,
migrated and dropped by the script. Data: one open call, 2 × N PIs (N for the app, N for the bare view),
each with a draft holding its two team members, a unit, and a session made in advance (no password
hashing in the surge: PBKDF2 would measure the hasher, not the deadline).

Each PI's journey, as a browser with htmx does it, one request after the other:
  app:  GET the editor → POST autosave (every field, budget) → POST the letter (a real PDF, htmx) →
        POST submit → GET the proposal's page (the redirect), which shows the version and its receipt;
  bare: the same five requests on ``benchmarks/bare_views.py``: the same writes without the app's rules.
All N journeys of a phase start at once (the bare phase first, then the app's, after a warm-up of both).
Bounded: N × 5 requests a phase, ``--time-limit`` seconds a phase, loopback only.

Counted: errors (an unexpected status, a time-out, a refused connection), *lost* (the client was told its
submission succeeded with version v, the database has no version v), *phantom* (a version row the client
was not told about), per-request latency (p50/p95/p99), journeys per second, and each gunicorn worker's
peak RSS (VmHWM). Mail: the app queues each receipt on Redis (db 9, a queue of the run's own) as in
production, and no worker consumes it during the surge: the PDF receipts are not rendered inside the
requests (eager Celery would, and no production runs that way). ``--deliver`` then starts a real Celery
worker (as docker-compose runs it) that delivers every queued receipt to a local SMTP sink, and measures
its peak RSS.

Targets: 0 errors, 0 lost, 0 phantom, app throughput ≥ 0.5 × bare, each web worker < 200 MB.
"""

import argparse
import asyncio
import contextlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _bench, outbox_phases  # noqa: E402

NAME = "surge"
BASE_DIR = _bench.BASE_DIR
REDIS_URL = "redis://127.0.0.1:6379/9"
TARGET_RATIO = 0.5
TARGET_WORKER_MB = 200
PASSWORD = "bench-surge-never-used"  # noqa: S105  (the PIs' sessions are made in advance)

FIELDS = {
    "title": "Coastal memories of storms", "acronym": "COAST",
    "abstract": "Two teams compare a century of storm archives on both sides of the Atlantic.",
    "keywords": "coasts, storms, archives", "partner_name": "Ana Souza", "partner_email": "ana.souza@usp.example.br",
    "partner_institution": "Universidade de São Paulo", "partner_country": "BR",
    "activities": "Two missions to São Paulo, one workshop in Lyon.", "ethics_statement": "No personal data.",
    "budget_1_mobility": "6000", "budget_2_mobility": "6000",
}


# --- the data -------------------------------------------------------------------------------------------

def build_data(count: int) -> dict:
    """2 × count PIs with a draft each (team filled) in one open call; returns their sessions and ids."""
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from calls.domain import criteria_seed
    from calls.models import Call, CallState, Delegation, Institute, Unit
    from iea.accounts.models import User
    from proposals import domain
    from proposals.models import TeamSide

    now = timezone.now()
    call = Call.objects.create(year=2099, title_fr="IEA banc d'essai", title_en="IEA benchmark", state=CallState.OPEN,
                               opens_at=now - dt.timedelta(days=30), closes_at=now + dt.timedelta(days=1))
    criteria_seed(call)
    delegation = Delegation.objects.order_by("pk").first()
    institutes = list(Institute.objects.order_by("pk"))
    units = [Unit.objects.create(unit_type="UMR", number=f"{7000 + index}", acronym=f"LAB{index}",
                                 name=f"Laboratoire {index}", delegation=delegation,
                                 main_institute=institutes[index % len(institutes)]) for index in range(20)]
    backend = "allauth.account.auth_backends.AuthenticationBackend"  # what a sign-in through allauth stores
    pis = {"app": [], "bare": []}
    for index in range(2 * count):
        phase = "app" if index < count else "bare"
        user = User.objects.create_user(email=f"pi{index:04d}@surge.example.org", password=None,
                                        full_name=f"PI {index}", language="en")
        proposal = domain.proposal_create(call_id=call.pk, pi=user, now=now)
        domain.team_member_add(proposal_id=proposal.pk, user=user, now=now, side=TeamSide.CNRS, name=f"PI {index}")
        domain.team_member_add(proposal_id=proposal.pk, user=user, now=now, side=TeamSide.PARTNER, name="Ana Souza")
        session = SessionStore()
        session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend,
                        HASH_SESSION_KEY: user.get_session_auth_hash()})
        session.create()
        unit = units[index % len(units)]
        pis[phase].append({"pk": proposal.pk, "session": session.session_key, "unit": f"{unit.unit_type} {unit.number}"})
    return pis


def pdf_letter() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- the client -----------------------------------------------------------------------------------------

class FormFields(HTMLParser):
    """The named fields of one form (by id) and their current values, as a browser would submit them."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._textarea = self._select = None
        self._first_option = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea, self.fields[name] = name, ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._first_option is None:
                self._first_option = value
                self.fields.setdefault(self._select, value)
            if "selected" in attrs:
                self.fields[self._select] = value

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_fields(html: str, form_id: str) -> dict:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


class Journey:
    """One PI's requests and what the server told them."""

    def __init__(self, pi: dict):
        self.pi, self.latencies, self.errors, self.told_version, self.done = pi, [], [], None, False

    async def request(self, client, step: str, method: str, url: str, expect: int, **kwargs):
        start = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except Exception as error:  # noqa: BLE001 — every failure of the transport is an error of the run
            self.latencies.append((step, time.perf_counter() - start))
            self.errors.append(f"{step}: {type(error).__name__}")
            return None
        self.latencies.append((step, time.perf_counter() - start))
        if response.status_code != expect:
            self.errors.append(f"{step}: HTTP {response.status_code}")
            return None
        return response


async def app_journey(client, journey: Journey, letter: bytes) -> None:
    pk = journey.pi["pk"]
    page = await journey.request(client, "editor", "GET", f"/proposals/{pk}/edit/", 200)
    if page is None:
        return
    fields = form_fields(page.text, "proposal-form")
    token = fields.get("csrfmiddlewaretoken", "")
    fields.update(FIELDS, unit_code=journey.pi["unit"])
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    if await journey.request(client, "autosave", "POST", f"/proposals/{pk}/autosave/", 200, data=fields,
                             headers=headers) is None:
        return
    upload = await journey.request(
        client, "letter", "POST", f"/proposals/{pk}/letter/", 200, headers=headers,
        data={"csrfmiddlewaretoken": token, "cofunding": "on", "cofunding_amount": "5000", "cofunding_currency": "BRL"},
        files={"file": ("support-letter.pdf", letter, "application/pdf")})
    if upload is None:
        return
    submitted = await journey.request(client, "submit", "POST", f"/proposals/{pk}/submit/", 302,
                                      data={"csrfmiddlewaretoken": token})
    if submitted is None:
        return
    if submitted.headers.get("location") != f"/proposals/{pk}/":
        journey.errors.append(f"submit: redirected to {submitted.headers.get('location')} (refused)")
        return
    detail = await journey.request(client, "result", "GET", f"/proposals/{pk}/", 200)
    if detail is None:
        return
    # Told: the success message ("Submitted on … (version n)", in the PI's language) and the receipt of version n.
    told = re.search(r'message-success">\s*<div[^>]*>[^<]*\(version (\d+)\)', detail.text)
    receipts = [int(n) for n in re.findall(rf"/proposals/{pk}/receipt/(\d+)/", detail.text)]
    if told and receipts and max(receipts) == int(told.group(1)):
        journey.told_version = int(told.group(1))
    else:
        journey.errors.append("result: no success message with its receipt")
        if os.environ.get("SURGE_DUMP"):
            Path(os.environ["SURGE_DUMP"]).write_text(detail.text)
    journey.done = True


async def bare_journey(client, journey: Journey, letter: bytes) -> None:
    pk = journey.pi["pk"]
    if await journey.request(client, "editor", "GET", f"/bench/bare/{pk}/edit/", 200) is None:
        return
    fields = {**FIELDS, "unit_code": journey.pi["unit"]}
    if await journey.request(client, "autosave", "POST", f"/bench/bare/{pk}/save/", 200, data=fields) is None:
        return
    if await journey.request(client, "letter", "POST", f"/bench/bare/{pk}/letter/", 200,
                             data={"cofunding": "on", "cofunding_amount": "5000", "cofunding_currency": "BRL"},
                             files={"file": ("support-letter.pdf", letter, "application/pdf")}) is None:
        return
    if await journey.request(client, "submit", "POST", f"/bench/bare/{pk}/submit/", 302) is None:
        return
    result = await journey.request(client, "result", "GET", f"/bench/bare/{pk}/", 200)
    if result is None:
        return
    journey.told_version = result.json()["version"]
    journey.done = True


async def run_phase(base_url: str, pis: list[dict], kind: str, letter: bytes, time_limit: float) -> dict:
    import httpx

    journeys = [Journey(pi) for pi in pis]
    run = app_journey if kind == "app" else bare_journey
    timeout = httpx.Timeout(time_limit, connect=time_limit)
    clients = [httpx.AsyncClient(base_url=base_url, timeout=timeout, cookies={"sessionid": j.pi["session"]},
                                 limits=httpx.Limits(max_connections=1)) for j in journeys]
    start = time.perf_counter()
    tasks = [asyncio.ensure_future(run(client, journey, letter)) for client, journey in zip(clients, journeys, strict=True)]
    finished, unfinished = await asyncio.wait(tasks, timeout=time_limit)
    wall = time.perf_counter() - start
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*unfinished, return_exceptions=True)
    for task in finished:
        if task.exception() is not None:
            raise task.exception()
    for journey in journeys:
        if not journey.done and not journey.errors:
            journey.errors.append(f"unfinished after the phase's {time_limit:.0f} s")
    await asyncio.gather(*(client.aclose() for client in clients))
    latencies = [seconds for journey in journeys for _, seconds in journey.latencies]
    submitted = sum(1 for journey in journeys if journey.told_version is not None)
    errors = [error for journey in journeys for error in journey.errors]
    return {
        "pis": len(journeys), "wall_s": wall, "requests": len(latencies), "told_submitted": submitted,
        "errors": len(errors), "error_samples": sorted(set(errors))[:10],
        "journeys_per_s": submitted / wall if wall else 0, "requests_per_s": len(latencies) / wall if wall else 0,
        "p50_ms": _ms(_bench.percentile(latencies, 0.50)), "p95_ms": _ms(_bench.percentile(latencies, 0.95)),
        "p99_ms": _ms(_bench.percentile(latencies, 0.99)), "max_ms": _ms(max(latencies, default=None)),
        "told": {j.pi["pk"]: j.told_version for j in journeys},
        "latencies": latencies, "steps": [(step, s) for j in journeys for step, s in j.latencies],
    }


def pool_rounds(rounds: list[dict]) -> dict:
    """The rounds of one path together: counts summed, percentiles over every request, the median round's
    throughput (the machine is shared: one slow round must not decide)."""
    import statistics

    latencies = [s for run in rounds for s in run["latencies"]]
    steps = [item for run in rounds for item in run["steps"]]
    errors = [e for run in rounds for e in run["error_samples"]]
    return {
        "rounds": len(rounds), "pis": sum(r["pis"] for r in rounds), "requests": len(latencies),
        "told_submitted": sum(r["told_submitted"] for r in rounds), "errors": sum(r["errors"] for r in rounds),
        "error_samples": sorted(set(errors))[:10], "wall_s": sum(r["wall_s"] for r in rounds),
        "journeys_per_s": statistics.median(r["journeys_per_s"] for r in rounds),
        "journeys_per_s_rounds": [r["journeys_per_s"] for r in rounds],
        "requests_per_s": statistics.median(r["requests_per_s"] for r in rounds),
        **{f"{name}_ms_per_journey": _per_journey_ms(sum(r[f"{name}_s"] for r in rounds), sum(r["told_submitted"] for r in rounds))
           for name in ("cpu", "client_cpu", "database_cpu")},
        "p50_ms": _ms(_bench.percentile(latencies, 0.50)), "p95_ms": _ms(_bench.percentile(latencies, 0.95)),
        "p99_ms": _ms(_bench.percentile(latencies, 0.99)), "max_ms": _ms(max(latencies, default=None)),
        "by_step_p50_ms": {step: _ms(_bench.percentile([x for st, x in steps if st == step], 0.5))
                           for step in ("editor", "autosave", "letter", "submit", "result")},
        "told": {pk: v for r in rounds for pk, v in r["told"].items()},
    }


def _per_journey_ms(seconds: float, journeys: int) -> float | None:
    return seconds * 1000 / journeys if journeys else None


def _ms(seconds):
    return None if seconds is None else seconds * 1000


def check_database(told: dict[int, int | None]) -> dict:
    """Lost: told version v, no row v (or the proposal not submitted). Phantom: a version the client was
    not told about (an error or time-out on the client's side, a success in the database)."""
    from proposals.models import Proposal, ProposalState, ProposalVersion

    versions: dict[int, set[int]] = {}
    for proposal_id, number in ProposalVersion.objects.filter(proposal_id__in=told).values_list("proposal_id", "number"):
        versions.setdefault(proposal_id, set()).add(number)
    submitted = set(Proposal.objects.filter(pk__in=told, state=ProposalState.SUBMITTED).values_list("pk", flat=True))
    lost = [pk for pk, number in told.items() if number is not None and (number not in versions.get(pk, ())
                                                                           or pk not in submitted)]
    phantom = [pk for pk in versions if told.get(pk) is None or versions[pk] - {told[pk]}]
    return {"lost": len(lost), "phantom": len(phantom), "versions_in_db": sum(len(v) for v in versions.values()),
            "lost_ids": lost[:20], "phantom_ids": phantom[:20]}


# --- the servers ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    import urllib.request

    def answers():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — loopback, our own server
                return response.status == 200
        except OSError:
            return False

    _bench.poll(answers, timeout=timeout, what=f"{url} answering")


@contextlib.contextmanager
def gunicorn(env: dict, port: int, workers: int, worker_class: str, threads: int = 1):
    command = [str(Path(sys.executable).parent / "gunicorn"), "iea.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", worker_class, "--timeout", "60", "--backlog", "2048",
               "--chdir", str(BASE_DIR), "--log-level", "warning"]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env)  # noqa: S603
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        _bench.poll(lambda: len(_bench.children(process.pid)) == workers, timeout=30, what="gunicorn's workers")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def database_backends(env: dict) -> list[int]:
    """The PostgreSQL server processes of the run's database (on this machine: the benchmark runs on loopback)."""
    with _bench._admin_connection(env["DATABASE_URL"]) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                             [_bench.database_name(env["DATABASE_URL"])]).fetchall()
    return [pid for (pid,) in rows]


def worker_memory(master_pid: int) -> dict[int, dict]:
    return {pid: {"hwm_mb": (_bench.status_kib(pid, "VmHWM") or 0) / 1024, "rss_mb": (_bench.status_kib(pid, "VmRSS") or 0) / 1024}
            for pid in _bench.children(master_pid)}


def deliver_receipts(env: dict, expected: int, timeout: float) -> dict:
    """A real Celery worker (prefork, concurrency 2, as docker-compose runs it) delivers the queued receipts
    to a local SMTP sink; returns its wall time and the peak RSS of the worker and its pool processes."""
    from django.db.models import Count

    from iea.notifications.models import Notification, NotificationState

    sink, port = outbox_phases.start_sink()
    try:
        worker_env = {**env, "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
                      "EMAIL_PORT": str(port), "EMAIL_USE_TLS": "0", "DJANGO_SETTINGS_MODULE": "iea.settings"}
        command = [str(Path(sys.executable).parent / "celery"), "-A", "iea", "worker", "--loglevel", "WARNING",
                   "--concurrency", "2", "-Q", env["CELERY_TASK_DEFAULT_QUEUE"], "--without-gossip", "--without-mingle",
                   "--without-heartbeat"]
        start = time.perf_counter()
        worker = subprocess.Popen(command, cwd=BASE_DIR, env=worker_env)  # noqa: S603
        try:
            done = {NotificationState.SENT, NotificationState.FAILED, NotificationState.SKIPPED}

            def delivered():
                return Notification.objects.filter(state__in=done).count() >= expected

            _bench.poll(delivered, timeout=timeout, interval=0.25, what=f"{expected} receipts delivered")
            wall = time.perf_counter() - start
            processes = [worker.pid, *_bench.children(worker.pid)]
            peaks = {pid: (_bench.status_kib(pid, "VmHWM") or 0) / 1024 for pid in processes}
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        states = dict(Notification.objects.values_list("state").annotate(n=Count("pk")).order_by())
        return {"notifications": expected, "wall_s": wall, "states": states,
                "worker_main_peak_mb": peaks.get(worker.pid), "pool_peak_mb": max((v for p, v in peaks.items() if p != worker.pid), default=None)}
    finally:
        sink.terminate()
        sink.wait(timeout=10)


# --- the run ---------------------------------------------------------------------------------------------

def environment(url: str, *, queue: str, media: Path, **extra: str) -> dict:
    """Production's settings (DEBUG=0) on loopback HTTP, the run's own Celery queue on Redis and upload folder."""
    settings = {"DEBUG": "0", "SECRET_KEY": "bench-surge-" + uuid.uuid4().hex, "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SITE_URL": "http://127.0.0.1", "SECURE_SSL_REDIRECT": "0", "CELERY_BROKER_URL": REDIS_URL,
                "CELERY_TASK_DEFAULT_QUEUE": queue, "PRIVATE_MEDIA_ROOT": str(media),
                "STATIC_ROOT": str(BASE_DIR / "var" / "bench-static"), "LOG_FORMAT": "json", "CONN_MAX_AGE": "60"}
    return _bench.base_env(url, **{**settings, **extra})


# --- the main --------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "bench")
    parser.add_argument("--pis", type=int, default=200, help="simulated PIs at once, per phase (default 200)")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds a phase may last (default 300)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"],
                        help="sync (default: what docker-compose runs) or gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bare then app, this many times, each with its own PIs (default 3; median throughput)")
    parser.add_argument("--deliver", action=argparse.BooleanOptionalAction, default=True,
                        help="then deliver the queued receipts with a real Celery worker (default: yes)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()

    url = _bench.database_url()
    queue = f"iea-bench-surge-{uuid.uuid4().hex[:12]}"
    media = BASE_DIR / "var" / "bench-surge-media"
    env = environment(url, queue=queue, media=media)
    _bench.database_create(url)
    try:
        sys.stderr.write(f"surge: migrating {_bench.database_name(url)}, collecting static files…\n")
        _bench.migrate(env)
        _bench.django_setup(env)
        _bench.collect_static(env)
        start = time.perf_counter()
        pis = build_data(options.pis * options.rounds)
        build_s = time.perf_counter() - start
        from django.db import connection

        connection.close()  # gunicorn's workers get the database to themselves
        results = surge(options, env, pis)
        results["build_s"] = build_s
        told = {**results["app"].pop("told"), **results["bare"].pop("told")}
        app_told = {pk: told[pk] for pk in (pi["pk"] for pi in pis["app"])}
        bare_told = {pk: told[pk] for pk in (pi["pk"] for pi in pis["bare"])}
        results["app"].update(check_database(app_told))
        results["bare"].update(check_database(bare_told))
        if options.deliver and results["app"]["told_submitted"]:
            from iea.notifications.models import Notification

            expected = Notification.objects.count()
            sys.stderr.write(f"surge: a Celery worker delivers the {expected} queued receipts…\n")
            results["celery"] = deliver_receipts(env, expected, timeout=max(120, expected * 2))
    finally:
        _bench.purge_queue(REDIS_URL, queue)
        from django.db import connections

        connections.close_all()
        if not options.keep:
            _bench.database_drop(url)
            shutil.rmtree(media, ignore_errors=True)  # the letters uploaded in the run
    return report(options, results)


def surge(options, env: dict, pis: dict) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    letter = pdf_letter()
    server_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings"}
    results = {"rounds": options.rounds, "workers": options.workers, "worker_class": options.worker_class, "pis": options.pis,
               "threads": options.threads if options.worker_class == "gthread" else 1}
    with gunicorn(server_env, port, options.workers, options.worker_class, options.threads) as master:
        pids = set(_bench.children(master.pid))
        # Warm-up: each worker imports its templates and opens its database connection, so that the first
        # phase does not pay for what the second gets for free. Public pages: no PI's data changes.
        import urllib.request

        for _ in range(4 * options.workers):
            for path in ("/", "/accounts/login/"):
                with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310
                    response.read()
        rounds = {"bare": [], "app": []}
        size = options.pis
        for number in range(options.rounds):
            for kind in ("bare", "app"):
                sys.stderr.write(f"surge: round {number + 1}/{options.rounds}, {kind}, {size} PIs at once…\n")
                group = pis[kind][number * size:(number + 1) * size]
                workers = _bench.children(master.pid)
                before = {pid: _bench.cpu_seconds(pid) for pid in [*workers, *database_backends(env)]}
                client_before = time.process_time()
                rounds[kind].append(asyncio.run(run_phase(base, group, kind, letter, options.time_limit)))
                # A worker restarted during the phase loses its time: the restarts are reported as a missed target.
                rounds[kind][-1]["cpu_s"] = sum(_bench.cpu_seconds(pid) - before[pid] for pid in workers)
                rounds[kind][-1]["client_cpu_s"] = time.process_time() - client_before
                # PostgreSQL's processes serving the run's database (a connection opened during the phase counts whole).
                rounds[kind][-1]["database_cpu_s"] = sum(_bench.cpu_seconds(pid) - before.get(pid, 0.0)
                                                         for pid in database_backends(env))
        for kind in ("bare", "app"):
            results[kind] = pool_rounds(rounds[kind])
        memory = worker_memory(master.pid)
        results["worker_restarts"] = len(set(memory) - pids)
        results["web_worker_peak_mb"] = max((m["hwm_mb"] for m in memory.values()), default=None)
        results["web_workers"] = memory
    return results


def report(options, results: dict) -> int:
    app, bare = results["app"], results["bare"]
    ratio = app["journeys_per_s"] / bare["journeys_per_s"] if bare["journeys_per_s"] else 0
    results["throughput_ratio"] = ratio
    peak = results["web_worker_peak_mb"] or 0
    missed = []
    if app["errors"] or bare["errors"]:
        missed.append(f"errors: app {app['errors']}, bare {bare['errors']}")
    if app["lost"] or app["phantom"] or bare["lost"] or bare["phantom"]:
        missed.append(f"lost/phantom: app {app['lost']}/{app['phantom']}, bare {bare['lost']}/{bare['phantom']}")
    if app["told_submitted"] != app["pis"] or bare["told_submitted"] != bare["pis"]:
        missed.append(f"app: {app['told_submitted']} of {app['pis']} submitted")
    if ratio < TARGET_RATIO:
        missed.append(f"throughput {ratio:.2f}× the bare view's (target ≥ {TARGET_RATIO})")
    if peak >= TARGET_WORKER_MB:
        missed.append(f"web worker peak {peak:.0f} MB (target < {TARGET_WORKER_MB})")
    if results["worker_restarts"]:
        missed.append(f"{results['worker_restarts']} gunicorn worker(s) restarted")
    results["targets_missed"] = missed
    celery = results.get("celery")
    lines = [
        f"## Deadline surge: {options.pis} PIs at once, gunicorn ({options.workers} {options.worker_class} workers"
        + (f" × {options.threads} threads" if options.worker_class == "gthread" else "") + ") on PostgreSQL",
        "",
        f"Each PI: editor → autosave → letter (PDF) → submit → result page, 5 requests; all {options.pis} start "
        "together. The bare view does the same writes without the app's rules (`benchmarks/bare_views.py`), "
        f"served by the same gunicorn in the same run: bare then app, {options.rounds} time(s), each round with PIs "
        "of its own; counts over all rounds, latency percentiles over every request, throughput the median "
        "round's. Sessions made in advance; receipts queued on Redis, not rendered in the request"
        + (", then delivered by a real Celery worker." if celery else "."),
        "",
        "| path | submitted (told) | errors | lost | phantom | p50 (ms) | p95 (ms) | p99 (ms) | journeys/s | requests/s | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, run in (("app", app), ("bare view", bare)):
        lines.append(f"| {label} | {run['told_submitted']}/{run['pis']} | {run['errors']} | {run['lost']} | {run['phantom']} | "
                     f"{_bench.fmt(run['p50_ms'], 0)} | {_bench.fmt(run['p95_ms'], 0)} | {_bench.fmt(run['p99_ms'], 0)} | "
                     f"{run['journeys_per_s']:.2f} | {run['requests_per_s']:.1f} | {run['wall_s']:.1f} |")
    steps = " · ".join(f"{step} {_bench.fmt(app['by_step_p50_ms'][step], 0)} / {_bench.fmt(bare['by_step_p50_ms'][step], 0)}"
                       for step in app["by_step_p50_ms"])
    lines += [
        "",
        f"- **throughput: app / bare = {ratio:.2f}×** (target ≥ {TARGET_RATIO}×); journeys/s per round: app "
        + ", ".join(f"{v:.1f}" for v in app["journeys_per_s_rounds"]) + "; bare "
        + ", ".join(f"{v:.1f}" for v in bare["journeys_per_s_rounds"]),
        f"- median latency per step, app / bare (ms): {steps}",
        "- CPU per submitted journey (user + system), app / bare: " + " · ".join(
            f"{label} {_bench.fmt(app[f'{name}_ms_per_journey'], 0)} / {_bench.fmt(bare[f'{name}_ms_per_journey'], 0)} ms"
            for label, name in (("web workers", "cpu"), ("PostgreSQL", "database_cpu"), ("this client", "client_cpu"))),
        f"- **web worker peak RSS (VmHWM): {peak:.0f} MB** (target < {TARGET_WORKER_MB} MB); each worker: "
        + ", ".join(f"{m['hwm_mb']:.0f} MB" for m in results["web_workers"].values())
        + f"; restarts during the run: {results['worker_restarts']}",
    ]
    if app["error_samples"] or bare["error_samples"]:
        lines.append(f"- errors seen: app {app['error_samples']}, bare {bare['error_samples']}")
    if celery:
        lines.append(f"- Celery worker (prefork, concurrency 2) delivering the {celery['notifications']} receipts "
                     f"(PDF + mail to a local SMTP sink): {celery['wall_s']:.1f} s; peak RSS main process "
                     f"{_bench.fmt(celery['worker_main_peak_mb'], 0)} MB, pool process {_bench.fmt(celery['pool_peak_mb'], 0)} MB; "
                     f"states {celery['states']}")
    lines += ["", "Targets: " + ("all held." if not missed else "**missed** — " + "; ".join(missed)), "",
              f"Reproduce: `{_bench.command_line()}` (BENCH_DATABASE_URL={_bench.database_url()})"]
    _bench.write_results(options.out, NAME, results, "\n".join(lines))
    print("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
