"""PDF rendering: N submission receipts and N evaluation summaries by the app, beside WeasyPrint rendering
an equal plain page.

    .venv/bin/python benchmarks/pdfs.py --out var/bench [--count 100]

Database: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/iea_surge``), created,
migrated and dropped by the script; production settings (DEBUG=0, the manifest's static files, collected
into ``var/bench-static``), as the Celery worker that renders these documents runs.
Data: N proposals submitted through the domain functions (letter checked, version frozen), and N decided
proposals with three submitted reviews, a consensus and a selection (built with the test factories).

For each document, in turn (medians over the N, after a warm-up of 3):
- **app**: ``render_receipt(version)`` / ``evaluation_summary_pdf(proposal, language)`` — queries, template,
  the app's stylesheet through the locked-down fetcher, WeasyPrint;
- **plain**: WeasyPrint alone on the same document's HTML as the app rendered it, without the stylesheet
  and with WeasyPrint's default fetcher: the same text, tables and pages, nothing of the app's.

Target: app / plain ≤ 1.5× per kind of document.
"""

import argparse
import re
import shutil
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _bench  # noqa: E402

NAME = "pdfs"
BASE_DIR = _bench.BASE_DIR
TARGET = 1.5
STYLESHEET = re.compile(r"<link[^>]+rel=\"stylesheet\"[^>]*>")


def build_receipts(count: int) -> list[int]:
    from django.utils import timezone

    from proposals import domain
    from proposals.letters import check_pdf
    from tests.factories import CallFactory, ProposalFactory
    from tests.pdfs import pdf_upload

    now = timezone.now()
    call = CallFactory(year=2098)
    versions = []
    for _ in range(count):
        proposal = ProposalFactory(call=call, complete=True)
        domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=now, user=proposal.pi)
        versions.append(domain.proposal_submit(proposal_id=proposal.pk, user=proposal.pi, now=now).version.pk)
    return versions


def build_summaries(count: int) -> list[int]:
    from django.utils import timezone

    from funding.domain.decisions import decision_set
    from iea.accounts.models import User
    from tests.factories import InstituteFactory
    from tests.reviews.staff_factories import closed_call, make_review, make_reviewer, ranked_proposal

    staff = User.objects.create_user(email="staff@bench.example.org", password=None, is_staff=True)
    call = closed_call(year=2097)
    institute = InstituteFactory()
    proposals = []
    for index in range(count):
        proposal = ranked_proposal(call, institute=institute, reviews=0, rank=index + 1, title=f"Tidal flats under pressure {index}")
        recommendation = proposal.panel_recommendation
        recommendation.consensus = ("The panel values the field campaign and the partner's data. "
                                    "The budget for missions is well justified; the second year's workshop could "
                                    "involve early-career researchers from both sides.")
        recommendation.save()
        for n in range(3):
            reviewer = make_reviewer(institute, name=f"Reviewer {index}-{n}", email=f"r{index}-{n}@bench.example.org")
            make_review(proposal, reviewer, scores=[4, 3.5, 4, 3, 5, 4],
                        comment_for_pi="Clear objectives and a strong partner; the data plan is convincing.")
        decision_set(proposal_id=proposal.pk, user=staff, outcome="selected", amount=Decimal(12000), now=timezone.now())
        proposals.append(proposal.pk)
    return proposals


def measure(versions: list[int], proposals: list[int]) -> dict:
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from proposals.models import Proposal, ProposalVersion
    from proposals.receipts import render_receipt
    from reviews.domain import evaluation

    def plain(html: str) -> bytes:
        return HTML(string=STYLESHEET.sub("", html)).write_pdf()

    results = {}
    captured = {}
    real_render = render_to_string

    def capture(template, context=None, *args, **kwargs):
        html = real_render(template, context, *args, **kwargs)
        captured["html"] = html
        return html

    import iea.pdf

    iea.pdf.render_to_string = capture  # keeps the HTML the app rendered, to give WeasyPrint alone
    try:
        jobs = {
            "receipt": [lambda pk=pk: render_receipt(ProposalVersion.objects.select_related("proposal__call", "proposal__pi").get(pk=pk))
                        for pk in versions],
            "evaluation_summary": [lambda pk=pk: evaluation.evaluation_summary_pdf(
                proposal=Proposal.objects.select_related("call").get(pk=pk), language="fr") for pk in proposals],
        }
        for kind, renders in jobs.items():
            app_times, plain_times, sizes = [], [], []
            for index, render in enumerate(renders):
                start = time.perf_counter()
                document = render()
                app_s = time.perf_counter() - start
                html = captured["html"]
                start = time.perf_counter()
                plain_document = plain(html)
                plain_s = time.perf_counter() - start
                if index >= 3:  # warm-up: fonts, templates, the first connection
                    app_times.append(app_s)
                    plain_times.append(plain_s)
                    sizes.append((len(document), len(plain_document)))
            app_median, plain_median = statistics.median(app_times), statistics.median(plain_times)
            results[kind] = {
                "documents": len(renders), "measured": len(app_times),
                "app_ms": app_median * 1000, "plain_ms": plain_median * 1000, "ratio": app_median / plain_median,
                "app_total_s": sum(app_times), "plain_total_s": sum(plain_times),
                "app_bytes": statistics.median(s[0] for s in sizes), "plain_bytes": statistics.median(s[1] for s in sizes),
            }
    finally:
        iea.pdf.render_to_string = real_render
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "bench")
    parser.add_argument("--count", type=int, default=100, help="documents of each kind (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()
    if options.count < 4:
        parser.error("--count: at least 4 (3 are the warm-up)")

    url = _bench.database_url()
    media = BASE_DIR / "var" / "bench-pdfs-media"
    env = _bench.base_env(url, DEBUG="0", SECRET_KEY="bench-pdfs-" + uuid.uuid4().hex, ALLOWED_HOSTS="127.0.0.1",
                          SITE_URL="http://127.0.0.1", CELERY_BROKER_URL="memory://", CELERY_TASK_ALWAYS_EAGER="0",
                          PRIVATE_MEDIA_ROOT=str(media),
                          STATIC_ROOT=str(BASE_DIR / "var" / "bench-static"))
    _bench.database_create(url)
    try:
        sys.stderr.write(f"pdfs: migrating {_bench.database_name(url)}, collecting static files…\n")
        _bench.migrate(env)
        _bench.django_setup(env)
        _bench.collect_static(env)
        start = time.perf_counter()
        versions, proposals = build_receipts(options.count), build_summaries(options.count)
        build_s = time.perf_counter() - start
        sys.stderr.write(f"pdfs: rendering {options.count} receipts and {options.count} evaluation summaries…\n")
        results = measure(versions, proposals)
        results["build_s"] = build_s
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            _bench.database_drop(url)
            shutil.rmtree(media, ignore_errors=True)
    return report(options, results)


def report(options, results: dict) -> int:
    missed = [f"{kind}: {results[kind]['ratio']:.2f}× plain WeasyPrint (target ≤ {TARGET}×)"
              for kind in ("receipt", "evaluation_summary") if results[kind]["ratio"] > TARGET]
    results["targets_missed"] = missed
    lines = [
        f"## PDFs: {options.count} receipts and {options.count} evaluation summaries",
        "",
        "Production settings (DEBUG=0, manifest static files), in one process as the Celery worker renders them. "
        "*app*: from the database row to the PDF bytes (queries, template, the app's stylesheet through the "
        "locked-down fetcher, WeasyPrint); *plain*: WeasyPrint alone on the same HTML without the stylesheet. "
        "Medians per document after a warm-up of 3, each document rendered both ways in turn.",
        "",
        "| document | app (ms/doc) | plain WeasyPrint (ms/doc) | app / plain | app total (s) | PDF size app / plain (kB) |",
        "|---|---|---|---|---|---|",
    ]
    for label, kind in (("submission receipt", "receipt"), ("evaluation summary", "evaluation_summary")):
        run = results[kind]
        lines.append(f"| {label} | {run['app_ms']:.0f} | {run['plain_ms']:.0f} | **{run['ratio']:.2f}×** | "
                     f"{run['app_total_s']:.1f} | {run['app_bytes'] / 1000:.0f} / {run['plain_bytes'] / 1000:.0f} |")
    lines += ["", f"Target: app / plain ≤ {TARGET}× — " + ("held." if not missed else "**missed**: " + "; ".join(missed)),
              "", f"Reproduce: `{_bench.command_line()}` (BENCH_DATABASE_URL={_bench.database_url()})"]
    _bench.write_results(options.out, NAME, results, "\n".join(lines))
    print("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
