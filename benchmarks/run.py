"""The benchmark harness: builds the dataset, runs each benchmark, writes docs/benchmarks.md.

    make bench                                   # everything, at full size
    .venv/bin/python benchmarks/run.py [--scale 0.02] [--keep] [--only pages,surge] [--doc docs/benchmarks.md]

Each script runs as ``.venv/bin/python benchmarks/<name>.py --out var/bench`` in its own process, with
``BENCH_DATABASE_URL`` set (default ``postgres://postgres@127.0.0.1:5432/iea_bench``, created and dropped
by ``dataset``; the scripts that build their own small data get ``iea_bench_own``), and writes ``var/bench/<name>.json`` and ``var/bench/<name>.md`` (a section beginning with
``## ``); a script exits non-zero when a target is missed but still writes its files. A script missing from
``benchmarks/`` gets the line "not run". docs/benchmarks.md is a header (date, machine, versions, the
command) and the sections in a fixed order. The harness exits non-zero if any script did.
"""

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SCRIPTS = ["dataset", "pages", "surge", "pdfs", "reminders_celery", "assignment", "affinity", "editor_units",
           "form_renderers"]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/iea_bench"
# These build the small data they need in a database of their own (created and dropped each run), beside
# the dataset's: BENCH_DATABASE_URL's database name with this suffix.
OWN_DATA = {"surge", "pdfs", "reminders_celery", "assignment", "affinity"}
# editor_units and form_renderers build a SQLite file of their own under var/ (no BENCH_DATABASE_URL).
OWN_DATA_SUFFIX = "_own"


def own_database_url(url: str) -> str:
    """The same server, the database named ``<name>_own`` (a query string is kept)."""
    base, _, query = url.partition("?")
    server, _, name = base.rpartition("/")
    return f"{server}/{name}{OWN_DATA_SUFFIX}" + (f"?{query}" if query else "")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    system = platform.platform()
    try:
        release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
        system = f"{release.get('PRETTY_NAME', '').strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "os": system}


def postgres_version(database_url: str) -> str:
    try:
        import environ
        import psycopg

        config = environ.Env.db_url_config(database_url)
        with psycopg.connect(dbname="postgres", host=config.get("HOST") or "127.0.0.1",
                             port=config.get("PORT") or 5432, user=config.get("USER") or "postgres",
                             password=config.get("PASSWORD") or None) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # the header says so rather than failing the run
        return f"unknown ({error.__class__.__name__})"


def versions(database_url: str) -> dict:
    found = {"Python": platform.python_version()}
    for name, package in [("Django", "django"), ("Django REST framework", "djangorestframework"),
                          ("WeasyPrint", "weasyprint"), ("Celery", "celery"), ("gunicorn", "gunicorn"),
                          ("psycopg", "psycopg")]:
        try:
            found[name] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["PostgreSQL server"] = postgres_version(database_url)
    return found


def header(*, started: dt.datetime, command: str, database_url: str, scale: float, results: dict) -> str:
    m = machine()
    lines = ["# Benchmarks", "",
             "Written by `benchmarks/run.py` (`make bench`); do not edit by hand. Each section below is one "
             "script of `benchmarks/`, run in its own process on PostgreSQL. Times are "
             "medians unless said otherwise; the machine is shared (CI and other work run on it), so treat "
             "small differences as noise and compare the ratios.", "",
             f"- **Date**: {started:%Y-%m-%d %H:%M} UTC (total {results['_seconds']:.0f} s)",
             f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['memory']} memory; {m['os']}",
             "- **Versions**: " + ", ".join(f"{k} {v}" for k, v in versions(database_url).items()),
             f"- **Scale**: {scale:g} (1 = the issue's size: 5,000 proposals in one call)",
             f"- **Reproduce**: `{command}`", "",
             "| script | exit status | seconds |", "|---|---|---:|"]
    for name in SCRIPTS:
        r = results[name]
        status = ("not run this time (--only): its last results" if r.get("skipped") else "not run (missing)") \
            if r["status"] is None else ("ok" if r["status"] == 0 else f"**{r['status']}** (a target missed)")
        lines.append(f"| `{name}` | {status} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def run_script(name: str, *, out: Path, env: dict, extra: list[str]) -> dict:
    script = BASE_DIR / "benchmarks" / f"{name}.py"
    if not script.exists():
        print(f"bench: {name}: not run (benchmarks/{name}.py missing)", flush=True)
        return {"status": None, "seconds": 0.0, "section": f"## {name}\n\nnot run: benchmarks/{name}.py missing\n"}
    python = BASE_DIR / ".venv" / "bin" / "python"
    command = [str(python if python.exists() else sys.executable), str(script), "--out", str(out), *extra]
    print(f"bench: {name}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    status = subprocess.call(command, cwd=BASE_DIR, env=env)  # noqa: S603 (our own scripts)
    seconds = time.perf_counter() - started
    md = out / f"{name}.md"
    section = md.read_text() if md.exists() else f"## {name}\n\nno result: `{name}.py` exited {status} without writing {md.name}\n"
    if not section.startswith("## "):
        section = f"## {name}\n\n{section}"
    print(f"bench: {name}: exit {status} in {seconds:.0f} s", flush=True)
    return {"status": status, "seconds": seconds, "section": section}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="var/bench")
    parser.add_argument("--doc", default="docs/benchmarks.md")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--keep", action="store_true", help="reuse a dataset already built at this scale")
    parser.add_argument("--only", default="", help="comma-separated scripts to run (the dataset is always built)")
    parser.add_argument("--past-proposals", type=int, default=370,
                        help="proposals in each past call at scale 1 (5000: ten years of a full call)")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    out = (BASE_DIR / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BENCH_DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
           "BENCH_SCALE": f"{args.scale:g}", "PYTHONUNBUFFERED": "1"}
    only = {s for s in args.only.split(",") if s}
    results = {}
    for name in SCRIPTS:
        if only and name not in only and name != "dataset":
            md = out / f"{name}.md"
            results[name] = {"status": None, "seconds": 0.0, "skipped": True,
                             "section": md.read_text() if md.exists() else f"## {name}\n\nnot run this time\n"}
            continue
        extra = (["--scale", f"{args.scale:g}", "--past-proposals", str(args.past_proposals)]
                 + (["--keep"] if args.keep else [])) if name == "dataset" else []
        script_env = {**env, "BENCH_DATABASE_URL": own_database_url(env["BENCH_DATABASE_URL"])} if name in OWN_DATA else env
        results[name] = run_script(name, out=out, env=script_env, extra=extra)
        if name == "dataset" and results[name]["status"] not in (0, None):
            print("bench: the dataset was not built; stopping", file=sys.stderr)
            break
    for name in SCRIPTS:
        results.setdefault(name, {"status": None, "seconds": 0.0, "section": f"## {name}\n\nnot run: the dataset failed\n"})
    results["_seconds"] = time.perf_counter() - clock
    bench_args = " ".join([*([f"--scale {args.scale:g}"] if args.scale != 1 else []),
                           *([f"--past-proposals {args.past_proposals}"] if args.past_proposals != 370 else [])])
    command = "make bench" + (f" BENCH_ARGS='{bench_args}'" if bench_args else "")
    # The hand-written notes (what was fixed, before and after) follow the measured sections.
    notes = BASE_DIR / "benchmarks" / "notes.md"
    doc = "\n".join([header(started=started, command=command, database_url=env["BENCH_DATABASE_URL"],
                            scale=args.scale, results=results)]
                    + [results[name]["section"] for name in SCRIPTS]
                    + ([notes.read_text()] if notes.exists() else []))
    path = BASE_DIR / args.doc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc)
    (out / "run.json").write_text(json.dumps(
        {name: {k: v for k, v in results[name].items() if k != "section"} for name in SCRIPTS}, indent=2))
    print(f"bench: wrote {path.relative_to(BASE_DIR)}")
    failed = [name for name in SCRIPTS if results[name]["status"] not in (0, None)]
    if failed:
        print(f"bench: targets missed or errors in: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
