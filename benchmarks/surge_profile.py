"""The surge's PI journey in one process, to see where its CPU goes: the same five requests as
``surge.py`` (editor → autosave → letter → submit → result page), on the same data and production settings
(DEBUG=0, PostgreSQL, the manifest's static files, receipts queued on Redis), through Django's test client
with CSRF checks on, one journey after the other.

    .venv/bin/python benchmarks/surge_profile.py [--journeys 150] [--profile pyinstrument|cprofile|none] \
        [--top 30] [--out var/surge-profile]

Database: ``BENCH_DATABASE_URL`` (created, migrated and dropped, as by ``surge.py``). Prints, and writes to
``--out``/profile.txt:
- the CPU time of this process per step and per journey (``time.process_time``, mean over ``--journeys``
  after a warm-up of 5): PostgreSQL's own CPU is not in it, as it is not in the web workers' CPU that
  ``surge.py`` reports;
- the queries of each step;
- the profile of as many more journeys: pyinstrument (the default; wall clock, so the waits on PostgreSQL
  show as psycopg's ``wait``) gives its call tree and the top entries by own and by total time; cProfile
  (on CPU time, its own overhead included) the top entries by cumulative and by own time.
"""

import argparse
import io
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _bench, surge  # noqa: E402

BASE_DIR = _bench.BASE_DIR
STEPS = ("editor", "autosave", "letter", "submit", "result")
WARM_UP = 5


def _client():
    """One test client for the run: each client loads the middleware anew (WhiteNoise scans the static files),
    which gunicorn's workers do once."""
    from django.test import Client

    if _client.instance is None:
        _client.instance = Client(enforce_csrf_checks=True)
    return _client.instance


_client.instance = None


def journey(pi: dict, letter: bytes, clock=time.process_time) -> dict[str, float]:
    """One PI's five requests, as ``surge.app_journey`` sends them; the clock's time per step."""
    from http.cookies import SimpleCookie

    client = _client()
    client.cookies = SimpleCookie({"sessionid": pi["session"]})  # a browser of its own, its session only
    pk, spent = pi["pk"], {}

    def step(name, call, expect):
        start = clock()
        response = call()
        spent[name] = clock() - start
        if response.status_code != expect:
            raise SystemExit(f"{name} of proposal {pk}: HTTP {response.status_code}\n{response.content[:2000]!r}")
        return response

    page = step("editor", lambda: client.get(f"/proposals/{pk}/edit/"), 200)
    fields = surge.form_fields(page.content.decode(), "proposal-form")
    token = fields.get("csrfmiddlewaretoken", "")
    fields.update(surge.FIELDS, unit_code=pi["unit"])
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_X_CSRFTOKEN": token}
    step("autosave", lambda: client.post(f"/proposals/{pk}/autosave/", fields, **htmx), 200)
    upload = io.BytesIO(letter)
    upload.name = "support-letter.pdf"
    step("letter", lambda: client.post(f"/proposals/{pk}/letter/", {
        "csrfmiddlewaretoken": token, "cofunding": "on", "cofunding_amount": "5000", "cofunding_currency": "BRL",
        "file": upload}, **htmx), 200)
    submitted = step("submit", lambda: client.post(f"/proposals/{pk}/submit/", {"csrfmiddlewaretoken": token}), 302)
    if submitted.headers.get("Location") != f"/proposals/{pk}/":
        raise SystemExit(f"submit of proposal {pk} refused: {submitted.headers.get('Location')}")
    result = step("result", lambda: client.get(f"/proposals/{pk}/"), 200)
    if b"(version 1)" not in result.content:
        raise SystemExit(f"result of proposal {pk}: no success message")
    return spent


def queries_per_step(pi: dict, letter: bytes) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}

    def clock():
        # Called before and after each step: the second call reads the count, the first starts a new capture.
        if getattr(clock, "context", None) is None:
            clock.context = CaptureQueriesContext(connection)
            clock.context.__enter__()
            return 0
        clock.context.__exit__(None, None, None)
        count, clock.context = len(clock.context), None
        return count

    for name, count in journey(pi, letter, clock=clock).items():
        counts[name] = int(count)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journeys", type=int, default=150, help="journeys timed, then as many profiled (default 150)")
    parser.add_argument("--profile", choices=["pyinstrument", "cprofile", "none"], default="pyinstrument")
    parser.add_argument("--top", type=int, default=30, help="entries of each listing by own and by total time (default 30)")
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "surge-profile")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()

    url = _bench.database_url()
    queue = f"iea-bench-surge-profile-{uuid.uuid4().hex[:12]}"
    media = BASE_DIR / "var" / "bench-surge-profile-media"
    env = surge.environment(url, queue=queue, media=media, ALLOWED_HOSTS="testserver",
                            DJANGO_SETTINGS_MODULE="benchmarks.bench_settings")
    _bench.database_create(url)
    try:
        sys.stderr.write(f"surge_profile: migrating {_bench.database_name(url)}, collecting static files…\n")
        _bench.migrate({**env, "DJANGO_SETTINGS_MODULE": "iea.settings"})
        _bench.django_setup(env)
        _bench.collect_static(env)
        profiled = options.journeys if options.profile != "none" else 0
        pis = surge.build_data(WARM_UP + options.journeys + profiled + 1)
        pis = pis["app"] + pis["bare"]
        letter = surge.pdf_letter()
        for pi in pis[:WARM_UP]:
            journey(pi, letter)
        timed = [journey(pi, letter) for pi in pis[WARM_UP:WARM_UP + options.journeys]]
        queries = queries_per_step(pis[WARM_UP + options.journeys], letter)
        rest = pis[WARM_UP + options.journeys + 1:][:profiled]
        report = summary(timed, queries)
        if options.profile == "cprofile":
            report += cprofile(rest, letter, options.top)
        elif options.profile == "pyinstrument":
            report += pyinstrument(rest, letter, options.top)
    finally:
        _bench.purge_queue(surge.REDIS_URL, queue)
        from django.db import connections

        connections.close_all()
        if not options.keep:
            _bench.database_drop(url)
        shutil.rmtree(media, ignore_errors=True)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "profile.txt").write_text(report)
    print(report)
    return 0


def summary(timed: list[dict], queries: dict) -> str:
    import os

    per_step = {step: statistics.mean(run[step] for run in timed) * 1000 for step in STEPS}
    total = [sum(run.values()) * 1000 for run in timed]
    lines = [f"CPU of the Django process per journey, mean of {len(timed)} (ms): {statistics.mean(total):.1f} "
             f"(median {statistics.median(total):.1f}); load average {os.getloadavg()[0]:.2f}",
             "per step (ms): " + " · ".join(f"{step} {per_step[step]:.1f}" for step in STEPS),
             "queries per step: " + " · ".join(f"{step} {queries[step]}" for step in STEPS)
             + f" (journey {sum(queries.values())})", ""]
    return "\n".join(lines) + "\n"


def cprofile(pis: list[dict], letter: bytes, top: int) -> str:
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)  # CPU only: the waits on PostgreSQL are not ours
    profiler.enable()
    for pi in pis:
        journey(pi, letter)
    profiler.disable()
    out = io.StringIO()
    out.write(f"cProfile (CPU time) over {len(pis)} journeys, its own overhead included\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue().replace(str(BASE_DIR) + "/", "")


def pyinstrument(pis: list[dict], letter: bytes, top: int) -> str:
    """The call tree, then the top entries by own and by total time (wall clock, sampled every 0.5 ms: the
    waits on PostgreSQL show as psycopg's ``wait``)."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for pi in pis:
        journey(pi, letter)
    profiler.stop()
    session = profiler.last_session
    out = [f"pyinstrument over {len(pis)} journeys\n", profiler.output_text(unicode=True, color=False, show_all=False)]
    for flat_time in ("self", "total"):
        text = ConsoleRenderer(flat=True, flat_time=flat_time, unicode=True, color=False).render(session)
        lines = [line for line in text.splitlines() if line.strip()]
        start = next((n for n, line in enumerate(lines) if line.lstrip()[:1].isdigit()), 0)
        out.append(f"\ntop {top} by {flat_time} time (s over the {len(pis)} journeys)\n" + "\n".join(lines[start:start + top]) + "\n")
    return "".join(out).replace(str(BASE_DIR) + "/", "")


if __name__ == "__main__":
    raise SystemExit(main())
