"""The PI's editor form rendered by each form renderer: Django's default, Django's Jinja2 one, and the app's.

    .venv/bin/python benchmarks/form_renderers.py [--repeat 60] [--db var/form_renderers.sqlite3] [--out var/bench]

Why ``iea.widgets.FormRenderer`` and not a library: Django's ``Jinja2`` renderer is the well-kept way to make
widgets faster, so it is measured beside the app's renderer on the same form (every field of the editor's
``ProposalForm``, its label and its error list, as the editor page renders them; a complete draft). Jinja2
is not a dependency of the app: install it to include it (``.tools/bin/uv pip install --python
.venv/bin/python jinja2``; the next ``make install`` removes it); without it that row says so. Each
renderer's output is compared with Django's default (the app's must be identical).

Builds a throwaway SQLite database (``editor_units.setup``), prints JSON: median and p90 milliseconds per form;
with ``--out`` (``make bench``) writes ``form_renderers.json`` and ``form_renderers.md``. Exits 1 when the app's
renderer writes other HTML than Django's.
"""

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from benchmarks.editor_units import make_data, setup  # noqa: E402


def renderers() -> dict:
    from django.forms.renderers import DjangoTemplates

    from iea.widgets import FormRenderer

    found = {"django": DjangoTemplates(), "iea": FormRenderer()}
    try:
        from django.forms.renderers import Jinja2

        found["jinja2"] = Jinja2()
        found["jinja2"].engine  # noqa: B018 -- raises without the jinja2 package
    except ImportError:
        found["jinja2"] = None
    return found


def render(form_class, renderer, **kwargs) -> str:
    form = form_class(renderer=renderer, **kwargs)
    return "".join(f"{field.label_tag()}{field}{field.errors}" for field in form)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--db", default=str(BASE_DIR / "var" / "form_renderers.sqlite3"))
    parser.add_argument("--out", type=Path, help="write form_renderers.json and form_renderers.md there (make bench)")
    args = parser.parse_args(argv)
    setup(Path(args.db))
    _, proposal = make_data(20)
    from proposals.forms import ProposalForm

    kwargs = {"instance": proposal, "call": proposal.call}
    reference = render(ProposalForm, renderers()["django"], **kwargs)
    result = {"fields": len(ProposalForm(**kwargs).fields)}
    for name, renderer in renderers().items():
        if renderer is None:
            result[name] = "not installed"
            continue
        html = render(ProposalForm, renderer, **kwargs)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            render(ProposalForm, renderer, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        result[name] = {"median_ms": round(statistics.median(times), 2),
                        "p90_ms": round(times[math.ceil(0.9 * len(times)) - 1], 2),
                        "bytes": len(html), "same_html_as_django": html == reference}
    print(json.dumps(result, indent=2))
    if args.out:
        write_section(args.out, result)
    Path(args.db).unlink(missing_ok=True)
    return 0 if result["iea"]["same_html_as_django"] else 1


def write_section(out: Path, result: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "form_renderers.json").write_text(json.dumps(result, indent=2))
    lines = ["## form_renderers: the editor's form by each renderer", "",
             f"The editor's `ProposalForm` ({result['fields']} fields, their labels and error lists), rendered by "
             "Django's default renderer, the app's (`iea.widgets.FormRenderer`) and Django's Jinja2 renderer when "
             "jinja2 is installed (it is not a dependency).", "",
             "| renderer | median ms | p90 ms | bytes | same HTML as Django's |", "|---|---:|---:|---:|---|"]
    for name in ("django", "iea", "jinja2"):
        r = result[name]
        lines.append(f"| {name} | not installed | | | |" if isinstance(r, str) else
                     f"| {name} | {r['median_ms']} | {r['p90_ms']} | {r['bytes']:,} | "
                     f"{'yes' if r['same_html_as_django'] else '**no**'} |")
    (out / "form_renderers.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
