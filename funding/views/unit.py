"""The unit manager's pages (domain.md, "Actors": "for awards managed by their unit: see the award, record
spending, confirm tranche receipt").

Access is ``funding.rules.can_manage_spending`` (a manager of the award's managing unit), and the list is
the same rule as a queryset filter. Anyone else gets a 404, so an award's existence is not revealed:
the PI and the institute officer have their own award pages, and directorate staff work in the admin,
so none of them uses these pages unless they also manage the unit. Rules are the domain's
(``funding.domain.spending``, ``funding.domain.awards``); the views read forms and show the outcome.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import DecimalField, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from iea import formats
from iea.roles import user_roles
from proposals.models import BudgetCategory

from ..charts import consumption_svg
from ..domain.amendments import AmendmentError, amendment_give_opinion, awaits_unit_opinion
from ..domain.awards import FundingError, tranche_confirm_receipt
from ..domain.spending import (
    award_consumption,
    covering_report,
    spending_delete,
    spending_record,
    spending_update,
)
from ..forms.amendments import OpinionForm
from ..forms.unit import SpendingForm
from ..models import Amendment, Award, AwardState, SpendingLine, Tranche, TrancheState
from ..rules import can_manage_spending

AWARD_BADGES = {AwardState.ACTIVE: "badge-success", AwardState.SUSPENDED: "badge-warning",
                AwardState.CLOSED: "badge-closed", AwardState.AWAITING: "badge-warning",
                AwardState.DECLINED: "badge-rejected", AwardState.CANCELLED: "badge-closed"}
TRANCHE_BADGES = {TrancheState.PLANNED: "badge-draft", TrancheState.RELEASED: "badge-info",
                  TrancheState.WITHHELD: "badge-warning"}


def managed_awards(user):
    """The awards whose managing unit ``user`` manages: ``can_manage_spending`` as a queryset filter."""
    return Award.objects.filter(unit__managers=user)


def _award_for(request, pk) -> Award:
    award = get_object_or_404(managed_awards(request.user).select_related("proposal__pi", "proposal__call", "unit"), pk=pk)
    if not can_manage_spending(request.user, award):
        raise Http404
    return award


def _decorate(award: Award, tranches) -> None:
    award.badge = AWARD_BADGES.get(award.state, "badge-info")
    for tranche in tranches:
        tranche.badge = TRANCHE_BADGES.get(tranche.state, "badge-info")
        tranche.awaiting_receipt = tranche.state == TrancheState.RELEASED and tranche.received_at is None


def _spent():
    """The total spent on each award, as a correlated subquery (a join would multiply the tranches)."""
    total = (
        SpendingLine.objects.filter(award=OuterRef("pk")).order_by().values("award")
        .annotate(total=Sum("amount")).values("total")[:1]
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Coalesce(Subquery(total, output_field=money), Value(Decimal(0)), output_field=money)


# A unit with a long record of awards: the list shows them a page at a time.
AWARDS_PER_PAGE = 25


@login_required
@require_GET
def unit_awards(request):
    """The awards of the units the user manages, with their tranches and what has been spent, the newest
    first, a page at a time. Nine queries, whatever the number of awards."""
    if not user_roles(request.user).unit_manager:
        raise Http404
    managed = managed_awards(request.user)
    page = Paginator(
        managed.select_related("proposal__pi", "unit")
        .prefetch_related(Prefetch("tranches", queryset=Tranche.objects.order_by("number")))
        .annotate(spent=_spent())
        .order_by("-start_date", "proposal__reference", "pk"),
        AWARDS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    awards = list(page.object_list)
    for award in awards:
        _decorate(award, award.tranches.all())
        award.overspent = award.spent > award.amount
    # Every page has the unit column if the awards, on any page, come from more than one unit.
    several_units = len(managed.order_by().values("unit_id").distinct()[:2]) > 1
    return TemplateResponse(request, "funding/unit/awards.html",
                            {"awards": awards, "page": page, "several_units": several_units})


def _award_page(request, award: Award, form: SpendingForm, *, status: int = 200,
                opinion_form: tuple[int, OpinionForm] | None = None) -> TemplateResponse:
    tranches = list(award.tranches.select_related("received_by").order_by("number"))
    _decorate(award, tranches)
    lines = list(award.spending_lines.select_related("recorded_by").order_by("-date", "-id"))
    reports = list(award.reports.all())
    for line in lines:
        # The one who recorded it may correct it until a submitted report covers it (spending_update).
        line.correctable = (line.recorded_by_id == request.user.pk and award.state != AwardState.CLOSED
                            and covering_report(award, reports, line.date) is None)
    consumption = award_consumption(award)
    categories = [
        {"label": row.label, "planned": row.planned, "spent": row.spent, "left": row.planned - row.spent,
         "over": row.spent > row.planned}
        for row in consumption
    ]
    spent = sum((row.spent for row in consumption), Decimal(0))
    context = {
        "award": award,
        "proposal": award.proposal,
        "tranches": tranches,
        "lines": lines,
        "categories": categories,
        "planned_total": sum((row.planned for row in consumption), Decimal(0)),
        "spent_total": spent,
        "left_total": award.amount - spent,
        "overspent": spent > award.amount,
        # Safe: rendered from our own SVG template, which autoescapes the labels.
        "chart": mark_safe(consumption_svg(consumption)),
        "form": form,
        "amendments": _amendments(award, opinion_form),
    }
    return TemplateResponse(request, "funding/unit/award.html", context, status=status)


def _amendments(award: Award, opinion_form: tuple[int, OpinionForm] | None) -> list[Amendment]:
    """The award's amendments, newest first; each one waiting for the unit's opinion carries its form (the
    one just refused keeps what was typed)."""
    amendments = list(award.amendments.select_related("opinion_by", "version").order_by("-requested_at", "-id"))
    for amendment in amendments:
        amendment.award = award
        if awaits_unit_opinion(amendment):
            bound = opinion_form is not None and opinion_form[0] == amendment.pk
            amendment.opinion_form = opinion_form[1] if bound else OpinionForm(prefix=f"a{amendment.pk}")
    return amendments


@login_required
@require_GET
def unit_award(request, pk):
    """The award as its unit manager sees it: tranches to confirm, spending, the consumption chart."""
    award = _award_for(request, pk)
    return _award_page(request, award, SpendingForm(award=award))


@login_required
@require_POST
def spending_add(request, pk):
    """Record an expense through ``spending_record``; a refusal is shown on its field, with the input kept."""
    award = _award_for(request, pk)
    form = SpendingForm(request.POST, award=award)
    if form.is_valid():
        data = form.cleaned_data
        try:
            line = spending_record(
                award_id=award.pk, user=request.user, date=data["date"], category=data["category"],
                amount=data["amount"], description=data["description"], now=timezone.now(),
            )
        except FundingError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("Expense of %(amount)s recorded under %(category)s.") % {
                "amount": formats.money(line.amount), "category": BudgetCategory(line.category).label})
            return redirect(reverse("funding:unit_award", kwargs={"pk": award.pk}) + "#spending")
    messages.error(request, _("The expense was not recorded: correct the fields marked below."))
    return _award_page(request, award, form, status=400)


@login_required
@require_POST
def tranche_received(request, tranche_id):
    """Confirm that the unit received a released tranche (``tranche_confirm_receipt``, once)."""
    tranche = get_object_or_404(Tranche.objects.select_related("award__unit"), pk=tranche_id)
    if not can_manage_spending(request.user, tranche.award):
        raise Http404
    already = tranche.received_at is not None
    try:
        tranche = tranche_confirm_receipt(tranche_id=tranche.pk, user=request.user, now=timezone.now())
    except FundingError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if already:
            messages.info(request, _("The receipt of tranche %(number)s was already confirmed.") % {"number": tranche.number})
        else:
            messages.success(request, _("Receipt of tranche %(number)s (%(amount)s) confirmed.") % {
                "number": tranche.number, "amount": formats.money(tranche.amount)})
    return redirect(reverse("funding:unit_award", kwargs={"pk": tranche.award_id}) + "#tranches")


def _line_for(request, line_id) -> SpendingLine:
    """A spending line the user recorded on an award they manage; 404 otherwise (as for the award itself):
    only who recorded an expense corrects it (``spending_update``)."""
    line = get_object_or_404(
        SpendingLine.objects.select_related("award__proposal__pi", "award__proposal__call", "award__unit",
                                            "recorded_by"),
        pk=line_id, award__in=managed_awards(request.user))
    if not can_manage_spending(request.user, line.award) or line.recorded_by_id != request.user.pk:
        raise Http404
    return line


@login_required
@require_http_methods(["GET", "POST"])
def spending_edit(request, line_id):
    """Correct an expense through ``spending_update``; a refusal is shown on its field, with the input kept."""
    line = _line_for(request, line_id)
    award = line.award
    back = reverse("funding:unit_award", kwargs={"pk": award.pk}) + "#spending"
    if request.method == "POST":
        form = SpendingForm(request.POST, award=award)
        if form.is_valid():
            data = form.cleaned_data
            try:
                spending_update(line_id=line.pk, user=request.user, date=data["date"], category=data["category"],
                                amount=data["amount"], description=data["description"], now=timezone.now())
            except FundingError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("The expense of %(date)s was corrected.") % {
                    "date": formats.date(data["date"])})
                return redirect(back)
        messages.error(request, _("The expense was not changed: correct the fields marked below."))
        status = 400
    else:
        form = SpendingForm(award=award, initial={"date": line.date, "category": line.category,
                                                  "amount": line.amount, "description": line.description})
        status = 200
    return TemplateResponse(request, "funding/unit/spending_edit.html",
                            {"award": award, "proposal": award.proposal, "line": line, "form": form, "back": back},
                            status=status)


@login_required
@require_POST
def spending_delete_view(request, line_id):
    """Delete an expense through ``spending_delete``; a refusal is said on the award's page."""
    line = _line_for(request, line_id)
    try:
        spending_delete(line_id=line.pk, user=request.user, now=timezone.now())
    except FundingError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("funding:spending_edit", line_id=line.pk)
    messages.success(request, _("The expense of %(amount)s on %(date)s was deleted.") % {
        "amount": formats.money(line.amount), "date": formats.date(line.date)})
    return redirect(reverse("funding:unit_award", kwargs={"pk": line.award_id}) + "#spending")


@login_required
@require_POST
def amendment_opinion_view(request, amendment_id):
    """The unit's opinion on an amendment (``amendment_give_opinion``); a refusal shows on its field, with the
    input kept."""
    amendment = get_object_or_404(Amendment.objects.select_related("award__unit"), pk=amendment_id)
    if not can_manage_spending(request.user, amendment.award):
        raise Http404
    award = _award_for(request, amendment.award_id)
    form = OpinionForm(request.POST, prefix=f"a{amendment.pk}")
    if form.is_valid():
        try:
            amendment_give_opinion(amendment_id=amendment.pk, user=request.user, opinion=form.cleaned_data["opinion"],
                                   comment=form.cleaned_data["comment"], now=timezone.now())
        except AmendmentError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("The unit's opinion was sent to the PI and to the directorate, who decides."))
            return redirect(reverse("funding:unit_award", kwargs={"pk": award.pk}) + "#amendments")
    messages.error(request, _("The opinion was not sent: correct the fields marked below."))
    return _award_page(request, award, SpendingForm(award=award), status=400, opinion_form=(amendment.pk, form))
