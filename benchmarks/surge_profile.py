"""The surge's PI journey in one process, to see where its CPU goes: the same five requests as
``surge.py`` (editor → autosave → letter → submit → result page), on the same data and production settings
(DEBUG=0, PostgreSQL, the manifest's static files, receipts queued on Redis), through Django's test client
with CSRF checks on, one journey after the other.

    .venv/bin/python benchmarks/surge_profile.py [--journeys 150] [--profile cprofile|pyinstrument|none] \
        [--top 30] [--step autosave] [--out var/surge-profile]

Database: ``BENCH_DATABASE_URL`` (created, migrated and dropped, as by ``surge.py``). Prints, and writes to
``--out``/profile.txt:
- the CPU time of this process per step and per journey (``time.process_time``, mean over ``--journeys``
  after a warm-up of 5): PostgreSQL's own CPU is not in it, as it is not in the web workers' CPU that
  ``surge.py`` reports;
- the queries and the function calls of each step (these two do not vary with the machine's load);
- the profile of as many more journeys: cProfile (the default; CPU time, its own overhead included) gives
  the top entries by cumulative and by own time, in ms per journey; pyinstrument (wall clock, so the waits
  on PostgreSQL show as psycopg's) its call tree.
"""

import argparse
import io
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

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


class CpuTime:
    """A meter of one step: the CPU time of this process (s)."""

    def __enter__(self):
        self.start = time.process_time()
        return self

    def __exit__(self, *exc):
        self.value = time.process_time() - self.start


class Queries:
    """A meter of one step: the queries it sent."""

    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.context = CaptureQueriesContext(connection).__enter__()
        return self

    def __exit__(self, *exc):
        self.context.__exit__(*exc)
        self.value = len(self.context)
        self.sql = [query["sql"] for query in self.context.captured_queries]


class Calls:
    """A meter of one step: the Python and C function calls it made (cProfile's count, which does not vary
    with the machine's load as the time does)."""

    def __enter__(self):
        import cProfile

        self.profiler = cProfile.Profile()
        self.profiler.enable()
        return self

    def __exit__(self, *exc):
        import pstats

        self.profiler.disable()
        self.value = pstats.Stats(self.profiler).total_calls


def journey(pi: dict, letter: bytes, meter=CpuTime) -> dict[str, float]:
    """One PI's five requests, as ``surge.app_journey`` sends them; what ``meter`` measured of each step."""
    from http.cookies import SimpleCookie

    client = _client()
    client.cookies = SimpleCookie({"sessionid": pi["session"]})  # a browser of its own, its session only
    pk, measured = pi["pk"], {}

    def step(name, call, expect):
        with meter() as measure:
            response = call()
        measured[name] = measure.value
        if hasattr(measure, "sql"):
            measured[f"{name}_sql"] = measure.sql
        if response.status_code != expect:
            raise SystemExit(f"{name} of proposal {pk}: HTTP {response.status_code}\n{response.content[:2000]!r}")
        return response

    page = step("editor", lambda: client.get(f"/proposals/{pk}/edit/"), 200)
    fields = surge.form_fields(page.content.decode(), "proposal-form")
    token = fields.get("csrfmiddlewaretoken", "")
    fields.update(surge.FIELDS, unit_code=pi["unit"])
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_X_CSRFTOKEN": token}
    form = "application/x-www-form-urlencoded"  # as htmx and the surge's client send a form without a file
    step("autosave", lambda: client.post(f"/proposals/{pk}/autosave/", urlencode(fields), form, **htmx), 200)
    upload = io.BytesIO(letter)
    upload.name = "support-letter.pdf"
    step("letter", lambda: client.post(f"/proposals/{pk}/letter/", {
        "csrfmiddlewaretoken": token, "cofunding": "on", "cofunding_amount": "5000", "cofunding_currency": "BRL",
        "file": upload}, **htmx), 200)
    submitted = step("submit", lambda: client.post(f"/proposals/{pk}/submit/", urlencode({"csrfmiddlewaretoken": token}),
                                                   form), 302)
    if submitted.headers.get("Location") != f"/proposals/{pk}/":
        raise SystemExit(f"submit of proposal {pk} refused: {submitted.headers.get('Location')}")
    result = step("result", lambda: client.get(f"/proposals/{pk}/"), 200)
    if b"(version 1)" not in result.content:
        raise SystemExit(f"result of proposal {pk}: no success message")
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journeys", type=int, default=150, help="journeys timed, then as many profiled (default 150)")
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument", "none"], default="cprofile")
    parser.add_argument("--top", type=int, default=30, help="entries of each cProfile listing (default 30)")
    parser.add_argument("--queries", action="store_true", help="print the SQL of each step (its first 220 characters)")
    parser.add_argument("--step", choices=STEPS, help="profile this step's requests only (cProfile)")
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
        counted = 10
        built = surge.build_data(-(-(WARM_UP + options.journeys + 1 + counted + profiled) // 2))  # 2 × count PIs
        pis = iter(built["app"] + built["bare"])
        letter = surge.pdf_letter()

        def series(count, meter=CpuTime):
            return [journey(next(pis), letter, meter) for _ in range(count)]

        series(WARM_UP)
        timed = series(options.journeys)
        queries = series(1, Queries)[0]
        if options.queries:
            for step in STEPS:
                sys.stdout.write(f"--- {step}\n" + "".join(f"{sql[:220]}\n" for sql in queries[f"{step}_sql"]))
        calls = series(counted, Calls)
        rest = [next(pis) for _ in range(profiled)]
        report = summary(timed, queries, calls)
        if options.profile == "cprofile":
            report += cprofile(rest, letter, options.top, options.step)
        elif options.profile == "pyinstrument":
            report += pyinstrument(rest, letter)
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


def summary(timed: list[dict], queries: dict, calls: list[dict]) -> str:
    import os

    per_step = {step: statistics.mean(run[step] for run in timed) * 1000 for step in STEPS}
    total = [sum(run.values()) * 1000 for run in timed]
    calls_per_step = {step: statistics.mean(run[step] for run in calls) / 1000 for step in STEPS}
    lines = [f"CPU of the Django process per journey, mean of {len(timed)} (ms): {statistics.mean(total):.1f} "
             f"(median {statistics.median(total):.1f}); load average {os.getloadavg()[0]:.2f}",
             "per step (ms): " + " · ".join(f"{step} {per_step[step]:.1f}" for step in STEPS),
             "queries per step: " + " · ".join(f"{step} {queries[step]}" for step in STEPS)
             + f" (journey {sum(queries[step] for step in STEPS)})",
             f"function calls per step, thousands (mean of {len(calls)}): "
             + " · ".join(f"{step} {calls_per_step[step]:.1f}" for step in STEPS)
             + f" (journey {sum(calls_per_step.values()):.1f})", ""]
    return "\n".join(lines) + "\n"


HARNESS = ("benchmarks/", "django/test/", "django/core/handlers/", "django/utils/deprecation.py", "cProfile")


def cprofile(pis: list[dict], letter: bytes, top: int, step: str | None = None) -> str:
    """The top entries by cumulative and by own CPU time (cProfile's overhead included: it weighs most on
    code that makes many small calls, such as template rendering), the harness left out; only ``step``'s
    requests when it is given."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)  # CPU only: the waits on PostgreSQL are not ours

    class Profiled:
        def __init__(self):
            self.value, self.on = 0, step is None or self.name == step

        def __enter__(self):
            if self.on:
                profiler.enable()
            return self

        def __exit__(self, *exc):
            if self.on:
                profiler.disable()

    names = iter(STEPS * len(pis))
    for pi in pis:
        journey(pi, letter, lambda: type("Step", (Profiled,), {"name": next(names)})())
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_primitive, calls, own, cumulative, _callers) in stats.stats.items():
        where = path.replace(str(BASE_DIR) + "/", "").split("site-packages/")[-1]
        if not any(part in where for part in HARNESS):
            rows.append((cumulative, own, calls, f"{name}  {where}:{line}" if line else name))
    out = [f"cProfile, CPU time, {len(pis)} journeys{f' (the {step} step only)' if step else ''}: "
           f"{stats.total_calls:,} calls, {stats.total_tt:.2f} s\n"]
    for title, key in (("cumulative", 0), ("own", 1)):
        out.append(f"\ntop {top} by {title} time (ms per journey; cumulative, own, calls per journey, function)\n")
        for cumulative, own, calls, label in sorted(rows, key=lambda row: row[key], reverse=True)[:top]:
            out.append(f"{cumulative * 1000 / len(pis):8.1f} {own * 1000 / len(pis):7.1f} {calls / len(pis):8.1f}  {label}\n")
    return "".join(out)


def pyinstrument(pis: list[dict], letter: bytes) -> str:
    """The call tree (wall clock, sampled every 0.5 ms: the waits on PostgreSQL show as psycopg's)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for pi in pis:
        journey(pi, letter)
    profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    return f"pyinstrument over {len(pis)} journeys\n{text}".replace(str(BASE_DIR) + "/", "")


if __name__ == "__main__":
    raise SystemExit(main())
