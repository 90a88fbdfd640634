"""The PI's funding pages (their awards, the annual reports, the award letter) and the partner's co-signature
page, reached through the invitation link without an account.

Each view checks access with the predicates of ``funding.rules`` (not allowed: 404, so an award's existence
is not revealed), then calls a domain function; none decides a rule itself.
"""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from iea import formats
from iea.http import private_download, stored_file_download
from iea.pdf import render_pdf
from proposals.letters import check_pdf
from proposals.models import BudgetCategory, ThreadTopic
from proposals.threads import unread_counts
from reviews.rules import may_converse

from ..charts import consumption_svg
from ..domain.amendments import may_ask_amendments
from ..domain.awards import FundingError, add_months, tranche_gate
from ..domain.reports import (
    CosignLinkInvalid,
    cosign_resolve,
    cosign_token,
    report_cosign,
    report_cosign_decline,
    report_due,
    report_edit_refusal,
    report_save,
    report_submit,
)
from ..domain.spending import award_consumption
from ..domain.versions import version_facts
from ..forms.pi import CosignDeclineForm, CosignForm, ReportForm
from ..models import (
    EDITABLE_REPORT_STATES,
    AmendmentKind,
    CosignInvitation,
    Report,
    ReportPeriod,
    ReportState,
    TrancheState,
)
from ..rules import (
    can_edit_report,
    can_file_reports,
    can_manage_spending,
    can_review_reports,
    can_view_award,
    is_award_pi,
    visible_awards,
)

# The order in which reports fall due (the database orders "final" before "year1").
PERIODS = [ReportPeriod.YEAR_1, ReportPeriod.FINAL]


def sorted_reports(award) -> list[Report]:
    """The award's reports in the order they fall due, each with its ``due`` date."""
    reports = sorted(award.reports.all(), key=lambda r: PERIODS.index(r.period))
    for report in reports:
        report.due = report_due(award, report.period)
    return reports


def spending_rows(report) -> tuple[list[tuple[str, object]], object]:
    """(category label, amount) for the four categories, in the proposal's order, and their total."""
    amounts = {line.category: line.amount for line in report.spending.all()}
    rows = [(label, amounts.get(value)) for value, label in BudgetCategory.choices]
    return rows, sum((amount for _label, amount in rows if amount), 0)


def report_page_context(report, *, pdf_url: str | None = None) -> dict:
    """What the read-only report shows, wherever it is read (PI, unit, officer, staff, partner)."""
    rows, total = spending_rows(report)
    if pdf_url is None and report.scientific_pdf:
        pdf_url = reverse("funding:report_pdf", kwargs={"pk": report.award_id, "period": report.period})
    return {"report": report, "spending": rows, "spending_total": total, "pdf_url": pdf_url if report.scientific_pdf else ""}


def award_for(request, pk):
    """The award if the user may see it; 404 otherwise."""
    award = get_object_or_404(
        visible_awards(request.user).select_related("proposal__call", "proposal__pi", "unit"), pk=pk
    )
    if not can_view_award(request.user, award):
        raise Http404
    return award


@login_required
@require_GET
def award_list(request):
    """My awards: one row per award with its tranches and the next report due; constant queries."""
    awards = list(
        visible_awards(request.user)
        .filter(proposal__pi=request.user)
        .select_related("proposal__call", "unit")
        .prefetch_related("tranches", "reports")
    )
    unread = unread_counts(request.user, proposal_ids=[a.proposal_id for a in awards], topic=ThreadTopic.AWARD)
    for award in awards:
        award.unread_messages = unread.get((award.proposal_id, ThreadTopic.AWARD), 0)
        award.next_report = next((r for r in sorted_reports(award) if r.state != ReportState.APPROVED), None)
    return render(request, "funding/pi/award_list.html", {"awards": awards})


@login_required
@require_GET
def award_detail(request, pk):
    award = award_for(request, pk)
    tranches = list(award.tranches.all())
    reports = sorted_reports(award)
    for tranche in tranches:
        tranche.award = award  # the gate reads the award's tranches and reports: the prefetched ones
    next_tranche = next((t for t in tranches if t.state == TrancheState.PLANNED), None)
    can_review = can_review_reports(request.user, award)
    return render(request, "funding/pi/award_detail.html", {
        "award": award,
        "proposal": award.proposal,
        "tranches": tranches,
        "next_tranche": next_tranche,
        "gate": tranche_gate(next_tranche) if next_tranche is not None else "",
        "reports": reports,
        "can_file": can_file_reports(request.user, award),
        "can_review": can_review,
        "can_manage_spending": can_manage_spending(request.user, award),
        "can_answer": is_award_pi(request.user, award),
        "accept_late": award.accept_by is not None and timezone.now() > award.accept_by,
        "may_converse": may_converse(request.user, award.proposal),
        "conversation_unread": unread_counts(request.user, proposal_ids=[award.proposal_id],
                                             topic=ThreadTopic.AWARD).get((award.proposal_id, ThreadTopic.AWARD), 0),
        "chart": mark_safe(consumption_svg(award_consumption(award))),  # noqa: S308 — rendered with autoescape
        **_amendments_context(request, award),
    })


def _amendments_context(request, award) -> dict:
    """The amendments part of the award's page: whoever may see the award reads them; the PI asks and withdraws."""
    amendments = list(award.amendments.select_related("opinion_by", "version").order_by("-requested_at", "-id"))
    for amendment in amendments:
        amendment.award = award
    can_ask = may_ask_amendments(request.user, award)
    return {
        "amendments": amendments,
        "show_amendments": bool(amendments) or can_ask,
        "can_ask_amendment": can_ask,
        "amendment_kinds": list(AmendmentKind),
        "version_number": award.versions.order_by("-number").values_list("number", flat=True).first(),
    }


def award_letter_filename(award, number: int | None = None) -> str:
    suffix = f"-v{number}" if number and number > 1 else ""
    return f"award-letter-{award.proposal.reference}{suffix}.pdf"


def _letter(award, version, *, issued):
    """The award letter of ``version`` (the award as it stood then, with the amendments up to it), in the
    language of the request (French or English)."""
    facts = version_facts(version)
    history = [v for v in award.versions.select_related("amendment").filter(number__lte=version.number)
               if v.amendment_id]
    pdf = render_pdf("pdf/award_letter.html", {
        "award": award,
        "proposal": award.proposal,
        "facts": facts,
        "history": history,
        "gated_tranche": 2,
        "year1_due": add_months(facts["start_date"], 12),
        "final_due": facts["end_date"],
        "organisation": settings.ORGANISATION_NAME,
        "issued": issued,
        "LANGUAGE_CODE": translation.get_language() or "fr",
    })
    return private_download(pdf, filename=award_letter_filename(award, version.number),
                            content_type="application/pdf")


@login_required
@require_GET
def award_letter(request, pk):
    """The award letter as the award stands now: its last version."""
    award = award_for(request, pk)
    version = award.versions.order_by("-number").first()
    if version is None:  # an award created before versions existed and not migrated: never by design
        raise Http404
    return _letter(award, version, issued=timezone.localdate())


@login_required
@require_GET
def award_letter_version(request, pk, number):
    """The letter of an earlier version of the award, as it was issued then (kept reachable)."""
    award = award_for(request, pk)
    version = get_object_or_404(award.versions, number=number)
    return _letter(award, version, issued=timezone.localdate(version.created_at))


def _report_for(request, pk, period):
    if period not in ReportPeriod.values:
        raise Http404
    award = award_for(request, pk)
    report = get_object_or_404(Report.objects.prefetch_related("spending"), award=award, period=period)
    report.award = award
    return report


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, pk, period):
    """The PI writes the report, saves it and submits it; everyone else who may see the award reads it."""
    report = _report_for(request, pk, period)
    if request.method == "POST":
        if not can_file_reports(request.user, report.award):
            raise PermissionDenied
        return _report_post(request, report)
    form = ReportForm(initial=ReportForm.initial_for(report)) if can_edit_report(request.user, report) else None
    return _render_report(request, report, form)


def _render_report(request, report, form, *, status=200):
    award = report.award
    context = report_page_context(report)
    context.update(
        award=award, proposal=award.proposal, form=form, editable=form is not None,
        due=report_due(award, report.period),
        is_pi=can_file_reports(request.user, award),
        can_review=can_review_reports(request.user, award),
        invitation=report.cosign_invitations.filter(revoked_at__isnull=True).first()
        if report.state == ReportState.SUBMITTED else None,
    )
    return render(request, "funding/pi/report_edit.html", context, status=status)


def _report_post(request, report):
    if not can_edit_report(request.user, report):
        messages.error(request, report_edit_refusal(report))
        return redirect("funding:report", pk=report.award_id, period=report.period)
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Not saved: correct the fields marked below."))
        return _render_report(request, report, form, status=400)
    pdf = None
    upload = form.cleaned_data.get("scientific_pdf")
    if upload:
        try:
            pdf = check_pdf(upload)
        except ValidationError as error:
            form.add_error("scientific_pdf", error)
            messages.error(request, _("Not saved: the PDF was refused. %(reason)s") % {"reason": " ".join(error.messages)})
            return _render_report(request, report, form, status=400)
    now = timezone.now()
    try:
        report_save(
            report_id=report.pk, user=request.user, scientific_review=form.cleaned_data["scientific_review"],
            spending=form.spending_data(), cofunding_received=form.cleaned_data["cofunding_received"],
            cofunding_currency=form.cleaned_data["cofunding_currency"], scientific_pdf=pdf, now=now,
        )
    except FundingError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render_report(request, report, form, status=400)
    if request.POST.get("action") != "submit":
        messages.success(request, _("Saved at %(time)s.") % {"time": formats.time(now)})
        return redirect("funding:report", pk=report.award_id, period=report.period)
    try:
        report_submit(report_id=report.pk, user=request.user, now=now)
    except FundingError as error:
        messages.warning(request, _("Saved, but not submitted: %(reason)s") % {"reason": " ".join(error.messages)})
        return redirect("funding:report", pk=report.award_id, period=report.period)
    messages.success(request, _(
        "Submitted. %(email)s has been asked by e-mail to co-sign the report; it then goes to review."
    ) % {"email": report.award.proposal.partner_email})
    return redirect("funding:report", pk=report.award_id, period=report.period)


def report_filename(report) -> str:
    return f"scientific-review-{report.award.proposal.reference}-{report.period}.pdf"


def _report_pdf_download(report):
    if not report.scientific_pdf:
        raise Http404
    return stored_file_download(report.scientific_pdf, filename=report_filename(report),
                                content_type="application/pdf")


@login_required
@require_GET
def report_pdf(request, pk, period):
    return _report_pdf_download(_report_for(request, pk, period))


# --- The partner's co-signature, through the invitation link -----------------------------------------------


def _invitation_behind(token: str) -> CosignInvitation | None:
    """The invitation a genuine token was made for, even when it can no longer be used (to say why)."""
    nonce = token.rsplit(":", 1)[0]
    invitation = CosignInvitation.objects.select_related("report__award__proposal__pi").filter(nonce=nonce).first()
    if invitation is None or not constant_time_compare(cosign_token(invitation), token):
        return None
    return invitation


def _cosign_closed(request, token: str, message: str):
    """A link that cannot be used: say it was already used to sign when it was, else why it is refused."""
    invitation = _invitation_behind(token)
    if invitation is not None and invitation.revoked_at is not None:
        report = invitation.report
        if report.state in (ReportState.COSIGNED, ReportState.APPROVED):
            return render(request, "funding/pi/cosign_done.html",
                          {"report": report, "proposal": report.award.proposal, "token_page": True})
        if report.state == ReportState.COSIGN_DECLINED:
            message = _("You declined to co-sign this report on %(when)s; the PI has your comment. "
                        "You will receive a new link when the PI submits it again.") % {
                "when": formats.datetime(report.cosign_declined_at)}
        elif report.state in EDITABLE_REPORT_STATES:
            message = _("You already co-signed this report; the PI was since asked for changes. "
                        "You will receive a new link when the PI submits it again.")
    return render(request, "funding/pi/cosign_invalid.html", {"message": message, "token_page": True}, status=403)


@never_cache
@require_http_methods(["GET", "POST"])
def cosign(request, token):
    """The partner reads the submitted report and co-signs it by typing their name."""
    now = timezone.now()
    try:
        invitation = cosign_resolve(token, now=now)
    except CosignLinkInvalid as invalid:
        return _cosign_closed(request, token, invalid.message)
    report = Report.objects.select_related("award__proposal__pi", "award__proposal__unit").prefetch_related(
        "spending").get(pk=invitation.report_id)
    if request.method == "GET" and request.GET.get("download") == "pdf":
        return _report_pdf_download(report)
    declining = request.method == "POST" and request.POST.get("action") == "decline"
    form = CosignForm(request.POST if request.method == "POST" and not declining else None)
    decline_form = CosignDeclineForm(request.POST if declining else None)
    if declining and decline_form.is_valid():
        try:
            report_cosign_decline(invitation=invitation, signer_name=decline_form.cleaned_data["signer_name"],
                                  comment=decline_form.cleaned_data["comment"], now=now)
        except FundingError as error:
            decline_form.add_error({"name": "signer_name", "comment": "comment"}.get(error.code), error)
        else:
            messages.success(request, _("You declined to co-sign the report. The PI has your comment and will "
                                        "send you a new link once the report is changed."))
            return redirect("funding:cosign", token=token)
    elif request.method == "POST" and form.is_valid():
        try:
            report_cosign(invitation=invitation, signer_name=form.cleaned_data["signer_name"], now=now)
        except FundingError as error:
            form.add_error("signer_name" if error.code == "name" else None, error)
        else:
            messages.success(request, _("Thank you: you co-signed the report. It now goes to the institute for approval."))
            return redirect("funding:cosign", token=token)
    context = report_page_context(report, pdf_url=reverse("funding:cosign", kwargs={"token": token}) + "?download=pdf")
    context.update(invitation=invitation, proposal=report.award.proposal, award=report.award, form=form,
                   decline_form=decline_form, waiting=report.state == ReportState.SUBMITTED, token_page=True)
    return render(request, "funding/pi/cosign.html", context, status=400 if form.errors or decline_form.errors else 200)
