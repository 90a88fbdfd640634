"""The surge's baseline: the same database writes as the PI's journey, by plain Django views without the
app's rules — no permission predicate, no form, no CSRF, no PDF check, no lock, no checklist, no audit
entry, no outbox, no templates. Served by the same gunicorn as the app, in the same run (surge.py).

Per journey, like the app: read the draft, save the fields and the budget lines, store the letter file
and its row, freeze a version row and mark the proposal submitted, read the result.
"""

import hashlib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.models import Unit
from proposals.models import BudgetLine, Proposal, ProposalState, ProposalVersion, SupportLetter

TEXT_FIELDS = ["title", "acronym", "abstract", "keywords", "partner_name", "partner_email", "partner_institution",
               "partner_country", "activities", "ethics_statement"]


def edit(request, pk):
    proposal = Proposal.objects.get(pk=pk)
    return HttpResponse(f"<p>{proposal.reference} {proposal.lock_version}</p>")


@csrf_exempt
@require_POST
def save(request, pk):
    fields = {name: request.POST.get(name, "") for name in TEXT_FIELDS}
    unit_type, _, number = request.POST.get("unit_code", "").partition(" ")
    unit_id = Unit.objects.filter(unit_type=unit_type, number=number).values_list("pk", flat=True).first()
    with transaction.atomic():
        Proposal.objects.filter(pk=pk).update(**fields, unit_id=unit_id, updated_at=timezone.now(),
                                              lock_version=F("lock_version") + 1)
        for line in BudgetLine.objects.filter(proposal_id=pk):
            amount = Decimal(request.POST.get(f"budget_{line.year}_{line.category}") or 0)
            if amount != line.amount:
                BudgetLine.objects.filter(pk=line.pk).update(amount=amount)
    return HttpResponse("saved")


@csrf_exempt
@require_POST
def letter(request, pk):
    upload = request.FILES["file"]
    content = upload.read()
    letter = SupportLetter(proposal_id=pk, original_name=upload.name, size=len(content),
                           sha256=hashlib.sha256(content).hexdigest(), pages=1, uploaded_at=timezone.now(),
                           uploaded_by=request.user, cofunding=bool(request.POST.get("cofunding")),
                           cofunding_amount=request.POST.get("cofunding_amount") or None,
                           cofunding_currency=request.POST.get("cofunding_currency", ""))
    letter.file.save(upload.name, ContentFile(content), save=False)
    letter.save()
    return HttpResponse("uploaded")


@csrf_exempt
@require_POST
def submit(request, pk):
    now = timezone.now()
    with transaction.atomic():
        proposal = Proposal.objects.get(pk=pk)
        letter = SupportLetter.objects.filter(proposal_id=pk).order_by("-pk").first()
        number = ProposalVersion.objects.filter(proposal_id=pk).count() + 1
        content = {name: str(getattr(proposal, name)) for name in TEXT_FIELDS}
        ProposalVersion.objects.create(proposal=proposal, number=number, submitted_at=now, submitted_by=request.user,
                                       content=content, content_sha256=hashlib.sha256(repr(content).encode()).hexdigest(),
                                       letter=letter)
        Proposal.objects.filter(pk=pk).update(state=ProposalState.SUBMITTED, submitted_at=now)
    return HttpResponseRedirect(f"/bench/bare/{pk}/")


def detail(request, pk):
    version = ProposalVersion.objects.filter(proposal_id=pk).order_by("-number").values_list("number", flat=True).first()
    return JsonResponse({"version": version})


# --- The panel table's floors (issue #18) ----------------------------------------------------------------------
# The officer's table at 5,000 proposals (pages.py) is measured against the same 100 rows (the first page in
# the default order, highest weighted total first) served by a bare view: no permission, no conflict rule, no
# filter form, no pagination block, no sort links, no formatting, one query, a plain template. Two floors:
# computing the figures in that one query from every score of the panel (what the issue names: the figures
# "from one aggregate query"), and reading them as the app keeps them (``reviews.PanelFigures``).

_PLAIN_TABLE = """<!doctype html><title>{{ title }}</title><table><thead><tr>{% for name in header %}<th>{{ name }}</th>
{% endfor %}</tr></thead><tbody>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell|default_if_none:"" }}</td>
{% endfor %}</tr>{% endfor %}</tbody></table>"""


def _plain(request, *, title: str, criteria, rows):
    from django.template import engines

    header = ["reference", "acronym", *(str(criterion.position) for criterion in criteria), "total", "median", "spread",
              "calibrated", "reviews"]
    template = engines["django"].from_string(_PLAIN_TABLE)
    return HttpResponse(template.render({"title": title, "header": header, "rows": rows}, request))


def _panel(pk):
    from calls.models import Criterion
    from reviews.models import Panel

    panel = Panel.objects.get(pk=pk)
    return panel, list(Criterion.objects.filter(call_id=panel.call_id).order_by("position"))


def panel_floor_aggregate(request, pk):
    """The first 100 rows of the panel table, their figures computed from the panel's scores in one query
    (``reviews.domain.panel_figures.figures_sql``: means, weighted totals, median, spread, calibration)."""
    from django.db import connection

    from reviews.domain.panel import PANEL_STATES
    from reviews.domain.panel_figures import figures_params, figures_sql

    panel, criteria = _panel(pk)
    count = len(criteria)
    weights = [float(criterion.weight) for criterion in criteria]
    weighted = " + ".join(f"COALESCE(%s * f.sum{i} / (10.0 * NULLIF(f.n{i}, 0)), 0)" for i in range(count)) or "0"
    weight = " + ".join(f"(CASE WHEN f.n{i} > 0 THEN %s ELSE 0 END)" for i in range(count)) or "0"
    means = "".join(f", f.sum{i} / (10.0 * NULLIF(f.n{i}, 0))" for i in range(count))
    states = ", ".join(["%s"] * len(PANEL_STATES))
    sql = f"""
        WITH figures AS ({figures_sql(count)})
        SELECT p.reference, COALESCE(NULLIF(p.acronym, ''), p.title){means},
               ({weighted}) / NULLIF({weight}, 0) AS total, f.median, f.spread, f.calibrated, f.done
        FROM proposals_proposal p LEFT JOIN calls_unit u ON u.id = p.unit_id
        LEFT JOIN figures f ON f.proposal_id = p.id
        WHERE p.call_id = %s AND p.state IN ({states})
          AND (p.evaluating_institute_id = %s OR (p.evaluating_institute_id IS NULL AND u.main_institute_id = %s))
        ORDER BY total DESC NULLS LAST, p.reference LIMIT 100
    """  # noqa: S608 (benchmark-only; every value is a parameter)
    params = [*figures_params(panel, criteria), *weights, *weights, panel.call_id, *PANEL_STATES,
              panel.institute_id, panel.institute_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _plain(request, title="panel table floor (aggregate)", criteria=criteria, rows=rows)


def panel_floor_kept(request, pk):
    """The first 100 rows of the panel table, their figures read as the app keeps them, in one query."""
    import json

    from django.db import connection

    panel, criteria = _panel(pk)
    sql = """
        SELECT p.reference, COALESCE(NULLIF(p.acronym, ''), p.title), f.criterion_means, f.weighted_total, f.median,
               f.spread, f.calibrated, f.reviews_done
        FROM proposals_proposal p JOIN reviews_panelfigures f ON f.proposal_id = p.id
        WHERE f.panel_id = %s ORDER BY f.weighted_total DESC NULLS LAST, p.reference LIMIT 100
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [panel.pk])
        found = cursor.fetchall()
    rows = []
    for reference, name, means, *figures in found:
        means = json.loads(means) if isinstance(means, str) else means
        rows.append([reference, name, *(means.get(f"c{criterion.pk}") for criterion in criteria), *figures])
    return _plain(request, title="panel table floor (kept figures)", criteria=criteria, rows=rows)
