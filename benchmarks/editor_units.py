"""The proposal editor's GET with many units: response size and server time, and the unit search's, in process.

    .venv/bin/python benchmarks/editor_units.py [--units 1000] [--repeat 60] [--db var/editor_units.sqlite3] [--out var/bench]

Builds a throwaway SQLite database (migrated, ``--units`` units, one PI with a complete draft), then requests the
editor through Django's test client, in this process, with DEBUG off: one warm-up, then ``--repeat`` timed
requests; prints the response size, the number of queries, the median and p90 server time (wall clock) and the
median CPU time of the process (the database included: SQLite runs in it; less disturbed by a busy machine), and the
same for the unit search's answer to the editor's field (``/units/?q=…`` as htmx asks for it). With ``--out``
(as ``make bench`` runs it) it also writes ``editor_units.json`` and the section ``editor_units.md``.

To compare with the editor before its unit picker (a datalist of every unit), run the same file from a checkout
of the commit before it, e.g.::

    git archive ea65ed5 | tar -x -C /tmp/before && cp benchmarks/editor_units.py /tmp/before/benchmarks/
    (cd /tmp/before && /work/h-pages/.venv/bin/python benchmarks/editor_units.py)
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))


def setup(db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    os.environ.update({"DATABASE_URL": f"sqlite:///{db}", "DEBUG": "False", "SECRET_KEY": "benchmark-only",
                       "SECURE_SSL_REDIRECT": "False", "LOG_LEVEL": "WARNING"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_data(units: int):
    from calls.models import Delegation, Institute, Unit, UnitType
    from tests.factories import ProposalFactory, UserFactory

    institute, delegation = Institute.objects.first(), Delegation.objects.first()
    cities = ["Paris", "Lyon", "Grenoble", "Marseille", "Toulouse", "Lille", "Orléans", "Besançon"]
    Unit.objects.bulk_create([
        Unit(unit_type=UnitType.UMR if i % 3 else UnitType.UPR, number=f"{1000 + i:04d}", acronym=f"LAB{i}",
             name=f"Laboratoire d'écologie et d'évolution {i}", city=cities[i % len(cities)],
             delegation=delegation, main_institute=institute)
        for i in range(units)
    ])
    pi = UserFactory(email="pi@bench.example.org")
    proposal = ProposalFactory(pi=pi, complete=True, unit=Unit.objects.order_by("pk").first())
    return pi, proposal


def measure(client, url: str, repeat: int, **headers) -> dict:
    from django.db import connection

    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    queries = []
    # A wrapper, not CaptureQueriesContext: with DEBUG off each request's start empties the queries log.
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(url, **headers)
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    return {"url": url, "bytes": len(response.content), "queries": len(queries),
            "median_ms": round(statistics.median(times), 1), "p90_ms": round(times[math.ceil(0.9 * len(times)) - 1], 1),
            "cpu_median_ms": round(statistics.median(cpu), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--db", default=str(BASE_DIR / "var" / "editor_units.sqlite3"))
    parser.add_argument("--out", type=Path, help="write editor_units.json and editor_units.md there (make bench)")
    args = parser.parse_args(argv)
    setup(Path(args.db))
    pi, proposal = make_data(args.units)
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    client = Client(HTTP_HOST="testserver", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(pi)
    result = {"units": args.units, "load_average": os.getloadavg()[0],
              "editor": measure(client, reverse("proposals:edit", args=[proposal.pk]), args.repeat)}
    try:
        search = reverse("calls:unit_search")
    except NoReverseMatch:  # before the unit picker
        search = None
    if search:
        result["unit_search"] = measure(client, f"{search}?q=ecologie+lyon", args.repeat, HTTP_HX_REQUEST="true")
    print(json.dumps(result, indent=2))
    if args.out:
        write_section(args.out, result)
    Path(args.db).unlink(missing_ok=True)
    return 0


def write_section(out: Path, result: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "editor_units.json").write_text(json.dumps(result, indent=2))
    rows = [(name, result[name]) for name in ("editor", "unit_search") if name in result]
    lines = ["## editor_units: the proposal editor with many units", "",
             f"The editor's GET and the unit search's answer with **{result['units']:,} units** (SQLite, in process, "
             f"DEBUG off; load average {result['load_average']:.1f}). The editor carries a unit picker that asks "
             "the server as the PI types, not a list of every unit: its size does not grow with the units.", "",
             "| page | bytes | queries | median ms | p90 ms | CPU median ms |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} (`{r['url']}`) | {r['bytes']:,} | {r['queries']} | {r['median_ms']} | {r['p90_ms']} | "
              f"{r['cpu_median_ms']} |" for name, r in rows]
    (out / "editor_units.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
