"""Queries and server time of every list and dashboard page, for each role, at 10 items and at full size.

    .venv/bin/python benchmarks/pages.py --out var/bench [--runs 30] [--repeat 3]

Runs in-process with Django's test client against the benchmark database (``BENCH_DATABASE_URL``, built by
``benchmarks/dataset.py``), with ``DEBUG`` off. Each page is requested by the same role twice: on the
"small" subject (a PI with one proposal, the small call's panel, a reviewer with 10 assignments, admin lists
filtered to 10 rows…) and on the "large" one (the 5,000-proposal call, the largest institute's panel, the
heavy reviewer, the whole admin table…). For each: the number of SQL queries (one request, after a warm-up)
and the median server time of ``--repeat`` requests. The officer's panel table of the largest institute
and staff's decision page get ``--runs`` timed requests after a warm-up: median and p95.

The panel table of the panel call (5,000 proposals, 15,000 reviews; issue #18) is measured against its
floor, the bare views of ``bench_urls`` serving the same 100 rows from one query (``bare_views``): the
figures computed from the scores by that query, or read as the app keeps them. Requests alternate between
the pages, ``--runs`` rounds, so that the machine's load weighs on each alike.

Writes ``<out>/pages.json`` and ``<out>/pages.md``. Exits 1 when a page's query count grows with the size,
when a page does not answer 200, or when a latency target is missed (300 ms p95; for the panel table at
5,000 proposals, 150 ms p95 and a median at most twice the aggregate floor's).
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

P95_TARGET_MS = 300.0
# The panel table at 5,000 proposals (issue #18): p95, and its median against the aggregate floor's.
PANEL_P95_TARGET_MS = 150.0
PANEL_FLOOR_RATIO_TARGET = 2.0


@dataclass
class Page:
    role: str
    name: str
    user: dict  # size → user (None: anonymous)
    url: dict  # size → URL


@dataclass
class Measure:
    role: str
    name: str
    url_small: str
    url_large: str
    status_small: int = 0
    status_large: int = 0
    queries_small: int = 0
    queries_large: int = 0
    ms_small: float = 0.0
    ms_large: float = 0.0
    problems: list = field(default_factory=list)


def _both(value):
    return {"small": value, "large": value}


def page_list(s: dict) -> list[Page]:
    """Every list and dashboard page, by role, with its small and large subject."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse
    from django.utils import translation

    calls, panels = s["calls"], s["panels"]
    pages: list[Page] = []

    def add(role, name, users, urls):
        pages.append(Page(role, name, users, urls))

    anonymous = _both(None)
    add("public", "home", anonymous, _both(reverse("home")))
    add("public", "calls list", anonymous, _both(reverse("calls:list")))
    add("public", "call page", anonymous, {k: reverse("calls:detail", args=[c.year]) for k, c in calls.items()})

    pi = s["pi"]
    for name, url in [("dashboard", "dashboard"), ("my awards", "funding:awards"), ("notifications", "notifications"),
                      ("privacy page", "privacy:page"), ("calendar page", "calendar"), ("API tokens", "api_tokens")]:
        add("PI", name, pi, _both(reverse(url)))
    for name in ("proposals", "awards", "reports", "tranches", "calls"):
        add("PI", f"API {name}", pi, _both(f"/api/v1/{name}/"))

    reviewer = s["reviewer"]
    add("reviewer", "my reviews", reviewer, _both(reverse("reviewer:assignments")))
    add("reviewer", "dashboard", reviewer, _both(reverse("dashboard")))
    for name in ("assignments", "reviews"):
        add("reviewer", f"API {name}", reviewer, _both(f"/api/v1/{name}/"))

    officer = s["officer"]
    add("officer", "panels", officer, _both(reverse("panel:list")))
    add("officer", "panel table", officer, {k: reverse("panel:table", args=[p.pk]) for k, p in panels.items()})
    add("officer", "panel table (the panel call's 5,000)", {"small": officer["small"], "large": s["panel_officer"]},
        {"small": reverse("panel:table", args=[panels["small"].pk]),
         "large": reverse("panel:table", args=[s["large_panel"].pk])})
    add("officer", "panel assignments", officer,
        {k: reverse("panel:assignments", args=[p.pk]) for k, p in panels.items()})
    add("officer", "reviewer pool", officer, {k: reverse("panel:pool", args=[p.pk]) for k, p in panels.items()})
    add("officer", "reports to review", officer, _both(reverse("funding:pending_reports")))
    add("officer", "dashboard", officer, _both(reverse("dashboard")))
    for name in ("proposals", "panels", "assignments", "reviews", "reports"):
        add("officer", f"API {name}", officer, _both(f"/api/v1/{name}/"))

    manager = s["manager"]
    add("unit manager", "unit awards", manager, _both(reverse("funding:unit_awards")))
    for name in ("awards", "tranches"):
        add("unit manager", f"API {name}", manager, _both(f"/api/v1/{name}/"))

    staff = _both(s["staff"])
    add("staff", "admin index", staff, _both(reverse("admin:index")))
    add("staff", "dashboard of a call", staff, {k: f"{reverse('admin:index')}?call={c.year}" for k, c in calls.items()})
    add("staff", "screening and decisions (calls)", staff, _both(reverse("admin:reviews_staff_calls")))
    add("staff", "screening", staff, {k: reverse("admin:reviews_screening", args=[c.pk]) for k, c in calls.items()})
    add("staff", "decisions", staff, {k: reverse("admin:reviews_decisions", args=[c.pk]) for k, c in calls.items()})
    add("staff", "reports to review", staff, _both(reverse("funding:pending_reports")))
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        first = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:10])
        # Both sizes go through the same (filtered) code path: ten rows, or every row.
        small = f"{url}?pk__in={','.join(str(pk) for pk in first)}" if first else url
        with translation.override("en"):
            label = str(opts.verbose_name_plural)
        add("staff", f"admin: {label}", staff, {"small": small, "large": f"{url}?pk__gte=0"})
    target = f"/api/v1/audit/?target=proposals.proposal:{s['audited_proposal'].pk}"
    add("staff", "API audit (one proposal's history)", staff, _both(target))
    for name in ("calls", "institutes", "units", "proposals", "assignments", "reviews", "panels", "awards", "tranches",
                 "reports"):
        small = {"proposals": f"?call={calls['small'].pk}", "assignments": f"?panel={panels['small'].pk}",
                 "reviews": f"?panel={panels['small'].pk}"}.get(name, "")
        large = {"proposals": f"?call={calls['large'].pk}", "assignments": f"?panel={panels['large'].pk}",
                 "reviews": f"?panel={panels['large'].pk}"}.get(name, "")
        add("staff", f"API {name}", staff, {"small": f"/api/v1/{name}/{small}", "large": f"/api/v1/{name}/{large}"})
    return pages


# --- Measuring -----------------------------------------------------------------------------------------------

class Runner:
    def __init__(self):
        from django.test import Client

        self.clients: dict = {}
        self.Client = Client

    def client(self, user):
        key = user.pk if user else None
        if key not in self.clients:
            client = self.Client(HTTP_HOST="testserver")
            if user is not None:
                client.force_login(user)
            self.clients[key] = client
        return self.clients[key]

    def get(self, user, url):
        started, cpu = time.perf_counter(), time.process_time()
        response = self.client(user).get(url, secure=True)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        self.last_cpu_ms = (time.process_time() - cpu) * 1000
        return response, (time.perf_counter() - started) * 1000

    def queries(self, user, url) -> tuple[int, int, list[str]]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response, _elapsed = self.get(user, url)
        return response.status_code, len(captured), [q["sql"] for q in captured.captured_queries]

    def timed(self, user, url, runs: int) -> list[float]:
        return [self.get(user, url)[1] for _ in range(runs)]


def measure_pages(pages: list[Page], *, repeat: int = 3, log=print, keep_sql: bool = False) -> list[Measure]:
    runner = Runner()
    results = []
    for page in pages:
        m = Measure(page.role, page.name, page.url["small"], page.url["large"])
        for size in ("small", "large"):
            user, url = page.user[size], page.url[size]
            runner.get(user, url)  # warm-up: template loading, content types, caches
            status, count, sql = runner.queries(user, url)
            times = runner.timed(user, url, repeat)
            setattr(m, f"status_{size}", status)
            setattr(m, f"queries_{size}", count)
            setattr(m, f"ms_{size}", round(statistics.median(times), 1))
            if keep_sql:
                setattr(m, f"sql_{size}", sql)
            if status != 200:
                m.problems.append(f"{size}: HTTP {status}")
        if m.queries_large > m.queries_small:
            m.problems.append(f"queries grow: {m.queries_small} → {m.queries_large}")
        log(f"  {m.role:13} {m.name:38} q {m.queries_small:3} → {m.queries_large:3}   "
            f"{m.ms_small:7.1f} → {m.ms_large:8.1f} ms {'  ' + '; '.join(m.problems) if m.problems else ''}")
        results.append(m)
    return results


def latency(user, url, *, runs: int) -> dict:
    runner = Runner()
    for _ in range(3):
        response, _ = runner.get(user, url)
    times, cpu = [], []
    for _ in range(runs):
        times.append(runner.get(user, url)[1])
        cpu.append(runner.last_cpu_ms)
    ordered = sorted(times)
    return {"url": url, "status": response.status_code, "runs": runs, "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(p95(times), 1), "min_ms": round(ordered[0], 1), "max_ms": round(ordered[-1], 1),
            "cpu_median_ms": round(statistics.median(cpu), 1), "cpu_p95_ms": round(p95(cpu), 1),
            "bytes": len(response.content), "load_average": os.getloadavg()[0]}


def panel_against_floor(s: dict, *, runs: int) -> dict:
    """The panel call's table — default order, sorted by priority, one filter, a far page — and its two
    floors, each requested ``runs`` times in turn after a warm-up (see the module's docstring)."""
    from django.urls import reverse

    panel, user = s["large_panel"], s["panel_officer"]
    table = reverse("panel:table", args=[panel.pk])
    urls = {
        "panel table (default order: weighted total)": table,
        "panel table sorted by priority": f"{table}?sort=-priority",
        "panel table, disagreements only": f"{table}?disagreement=on",
        "panel table, page 50": f"{table}?page=50",
        "floor: one aggregate query (figures from the scores)": f"/bench/bare/panel/{panel.pk}/aggregate/",
        "floor: one query (figures as kept)": f"/bench/bare/panel/{panel.pk}/kept/",
    }
    runner = Runner()
    statuses, sizes = {}, {}
    for name, url in urls.items():
        for _ in range(3):
            response, _elapsed = runner.get(user, url)
        statuses[name], sizes[name] = response.status_code, len(response.content)
    times = {name: [] for name in urls}
    cpu = {name: [] for name in urls}
    for _ in range(runs):
        for name, url in urls.items():
            times[name].append(runner.get(user, url)[1])
            cpu[name].append(runner.last_cpu_ms)
    result = {name: {"url": url, "status": statuses[name], "bytes": sizes[name],
                     "median_ms": round(statistics.median(times[name]), 1), "p95_ms": round(p95(times[name]), 1),
                     "cpu_median_ms": round(statistics.median(cpu[name]), 1)} for name, url in urls.items()}
    aggregate, kept = (result[name]["median_ms"] for name in list(urls)[-2:])
    for name in list(urls)[:-2]:
        result[name]["ratio_aggregate"] = round(result[name]["median_ms"] / aggregate, 2) if aggregate else 0
        result[name]["ratio_kept"] = round(result[name]["median_ms"] / kept, 2) if kept else 0
    return {"pages": result, "runs": runs, "proposals": item_counts(s)["proposals in the panel call's panel"],
            "load_average": os.getloadavg()[0]}


def panel_problems(measured: dict) -> list[str]:
    """The default page of the panel call's table against its targets."""
    if not measured:
        return []
    name = next(iter(measured["pages"]))
    page = measured["pages"][name]
    problems = [f"{n}: HTTP {p['status']}" for n, p in measured["pages"].items() if p["status"] != 200]
    if page["p95_ms"] > PANEL_P95_TARGET_MS:
        problems.append(f"{name}: p95 {page['p95_ms']} ms > {PANEL_P95_TARGET_MS:.0f} ms")
    if page["ratio_aggregate"] > PANEL_FLOOR_RATIO_TARGET:
        problems.append(f"{name}: {page['ratio_aggregate']}× the aggregate floor > {PANEL_FLOOR_RATIO_TARGET:g}×")
    return problems


def p95(values) -> float:
    """The 95th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(0.95 * len(ordered)) - 1))]


def item_counts(s: dict) -> dict:
    from funding.models import Award
    from proposals.models import Proposal, evaluated_by
    from reviews.models import Assignment

    def panel_size(panel):
        return Proposal.objects.filter(call=panel.call).filter(evaluated_by(panel.institute_id)).count()

    return {
        "proposals in the call": {k: Proposal.objects.filter(call=c).count() for k, c in s["calls"].items()},
        "proposals in the panel": {k: panel_size(p) for k, p in s["panels"].items()},
        "proposals in the panel call's panel": {"small": panel_size(s["panels"]["small"]),
                                                 "large": panel_size(s["large_panel"])},
        "PI's proposals": {k: Proposal.objects.filter(pi=u).count() for k, u in s["pi"].items()},
        "reviewer's assignments": {k: Assignment.objects.filter(reviewer__user=u).count()
                                   for k, u in s["reviewer"].items()},
        "unit manager's awards": {k: Award.objects.filter(unit__managers=u).count() for k, u in s["manager"].items()},
    }


def ensure_mfa(s: dict) -> None:
    """Reviewers, officers and staff must have an authenticator (iea.mfa) to see any proposal."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    users = [s["staff"], *s["reviewer"].values(), *s["officer"].values(), s["panel_officer"]]
    for user in users:
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")


def run(*, runs: int = 30, repeat: int = 3, log=print, pages_filter: str = "") -> dict:
    """Measure every page on the dataset in the current database; returns the JSON-able result."""
    from benchmarks.dataset import subjects

    s = subjects()
    ensure_mfa(s)
    pages = [p for p in page_list(s) if pages_filter.lower() in f"{p.role} {p.name}".lower()]
    log(f"pages: {len(pages)} pages, small and large")
    measures = measure_pages(pages, repeat=repeat, log=log)
    targets = {}
    if not pages_filter or "latency" in pages_filter:
        from django.urls import reverse

        items = item_counts(s)
        targets[f"officer panel table (largest institute, {items['proposals in the panel']['large']:,} proposals)"] = \
            latency(s["officer"]["large"], reverse("panel:table", args=[s["panels"]["large"].pk]), runs=runs)
        targets[f"staff decision page ({items['proposals in the call']['large']:,}-proposal call)"] = latency(
            s["staff"], reverse("admin:reviews_decisions", args=[s["calls"]["large"].pk]), runs=runs)
        for name, t in targets.items():
            log(f"  {name}: median {t['median_ms']} ms, p95 {t['p95_ms']} ms (HTTP {t['status']}, {t['bytes']:,} bytes)")
    panel = {}
    if not pages_filter or "floor" in pages_filter:
        panel = panel_against_floor(s, runs=runs)
        for name, t in panel["pages"].items():
            log(f"  {name}: median {t['median_ms']} ms, p95 {t['p95_ms']} ms, CPU {t['cpu_median_ms']} ms"
                + (f", ×{t['ratio_aggregate']} / ×{t['ratio_kept']} the floors" if "ratio_kept" in t else ""))
    problems = [f"{m.role} / {m.name}: {p}" for m in measures for p in m.problems]
    problems += panel_problems(panel)
    problems += [f"{name}: p95 {t['p95_ms']} ms > {P95_TARGET_MS:.0f} ms" for name, t in targets.items()
                 if t["p95_ms"] > P95_TARGET_MS]
    problems += [f"{name}: HTTP {t['status']}" for name, t in targets.items() if t["status"] != 200]
    # The process served every page, like a web worker (one thread): its peak memory is indicative of one
    # (the surge benchmark measures real gunicorn workers).
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pages": [asdict(m) for m in measures], "latency": targets, "panel_floor": panel, "items": item_counts(s),
            "problems": problems, "ok": not problems, "runs": runs, "repeat": repeat,
            "peak_rss_mb": round(peak_rss_mb, 1)}


def markdown(result: dict) -> str:
    lines = ["## Pages: queries and server time, at 10 items and at full size", "",
             "In-process (Django test client, `DEBUG` off, no network), on the benchmark database. *q* = SQL "
             "queries of one request after a warm-up; *ms* = median server time of "
             f"{result['repeat']} requests. The small side is the 10-item subject (small call, small panel, a "
             "PI with two proposals (one funded), a reviewer with 10 assignments, admin lists filtered to 10 rows), the "
             "large side the full-size one. Ratio = large / small time.", "",
             "| subject | small | large |", "|---|---:|---:|"]
    lines += [f"| {name} | {v['small']:,} | {v['large']:,} |" for name, v in result["items"].items()]
    lines += ["", "| role | page | q small | q large | ms small | ms large | ratio | |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for m in result["pages"]:
        ratio = m["ms_large"] / m["ms_small"] if m["ms_small"] else 0
        flag = "; ".join(m["problems"])
        lines.append(f"| {m['role']} | {m['name']} | {m['queries_small']} | {m['queries_large']} | {m['ms_small']:.0f} "
                     f"| {m['ms_large']:.0f} | ×{ratio:.1f} | {flag} |")
    if result["latency"]:
        lines += ["", f"### Latency targets ({result['runs']} runs after warm-up; target p95 < {P95_TARGET_MS:.0f} ms)",
                  "", "Server time is wall-clock time in the process (database included); CPU is the process's own "
                  "CPU time (database excluded), which the other work on the machine disturbs less.", "",
                  "| page | median ms | p95 ms | min | max | CPU median | CPU p95 | response | load avg | target |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for name, t in result["latency"].items():
            held = "held" if t["p95_ms"] <= P95_TARGET_MS and t["status"] == 200 else "**missed**"
            lines.append(f"| {name} | {t['median_ms']:.0f} | {t['p95_ms']:.0f} | {t['min_ms']:.0f} | {t['max_ms']:.0f} "
                         f"| {t['cpu_median_ms']:.0f} | {t['cpu_p95_ms']:.0f} | {t['bytes'] / 1024:,.0f} KiB "
                         f"| {t['load_average']:.1f} | {held} |")
    if result.get("panel_floor"):
        panel = result["panel_floor"]
        lines += ["", f"### The panel table at {panel['proposals']['large']:,} proposals against its floors "
                  f"({panel['runs']} rounds after warm-up, requests alternating; load average "
                  f"{panel['load_average']:.1f})", "",
                  "The panel call's officer (one panel, 3 submitted reviews per proposal). The floors are bare views "
                  "(`benchmarks/bare_views.py`) serving the same 100 rows — the first page in the default order — "
                  "from one query and a plain template, without the app's rules: the figures computed by that query "
                  "from every score of the panel (the floor the issue names), or read as the app keeps them "
                  f"(`reviews.PanelFigures`). Targets for the default page: p95 ≤ {PANEL_P95_TARGET_MS:.0f} ms and a "
                  f"median ≤ {PANEL_FLOOR_RATIO_TARGET:g}× the aggregate floor's.", "",
                  "| page | median ms | p95 ms | CPU median | response | × aggregate floor | × kept floor | target |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for index, (name, t) in enumerate(panel["pages"].items()):
            held = ""
            if index == 0:
                held = "held" if not panel_problems(panel) else "**missed**"
            ratios = (f"×{t['ratio_aggregate']:.2f} | ×{t['ratio_kept']:.2f}" if "ratio_kept" in t else "— | —")
            lines.append(f"| {name} | {t['median_ms']:.0f} | {t['p95_ms']:.0f} | {t['cpu_median_ms']:.0f} "
                         f"| {t['bytes'] / 1024:,.0f} KiB | {ratios} | {held} |")
    lines += ["", f"Peak memory (RSS) of the process that served all these pages in one thread, as a web worker "
              f"would: **{result['peak_rss_mb']:.0f} MB** (target for a web worker: under 200 MB; the surge "
              "benchmark measures gunicorn's workers under load)."]
    lines += ["", "Result: " + ("all query counts constant, all pages 200, targets held." if result["ok"] else
                                "**problems**: " + "; ".join(result["problems"]))]
    return "\n".join(lines) + "\n"


def setup() -> None:
    os.environ.setdefault("DEBUG", "False")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from benchmarks.dataset import DEFAULT_DATABASE_URL, setup_django

    setup_django(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # The app's URLs and the bare views the panel table is measured against.
    settings.ROOT_URLCONF = "benchmarks.bench_urls"
    # No collectstatic for a benchmark: plain static storage (the manifest lookup is not what is measured).
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    # As a web worker does (iea.wsgi): the startup objects frozen out of the garbage collector's reach.
    import logging
    import warnings

    import iea.wsgi  # noqa: F401

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(BASE_DIR / "var" / "bench"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="measure only the pages whose role and name contain this "
                        "(\"latency\": the latency targets; \"floor\": the panel table against its floors)")
    args = parser.parse_args(argv)
    setup()
    result = run(runs=args.runs, repeat=args.repeat, pages_filter=args.only)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.only:
        (out / "pages.json").write_text(json.dumps(result, indent=2, default=str))
        (out / "pages.md").write_text(markdown(result))
    for problem in result["problems"]:
        print(f"PROBLEM: {problem}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
