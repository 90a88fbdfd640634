"""The review of co-signed annual reports by the institute officer of the proposal's panel, or by directorate
staff: the list of reports waiting for them, and the page where they approve a report or ask for changes.
Approving the year-1 report opens the gate of tranche 2; staff then release it in the administration."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from iea.http import private_download
from iea.spreadsheets import XLSX_CONTENT_TYPE, workbook

from ..domain.awards import FundingError, tranche_gate
from ..domain.reports import report_due
from ..domain.reports import report_review as review_report
from ..exports import report_sheets
from ..forms.reports import ReviewForm
from ..models import Report, ReportState, TrancheState
from ..rules import can_review_reports, reviewable_awards, reviews_reports
from .pi import report_page_context


@login_required
@require_GET
def pending_reports(request):
    """Co-signed reports waiting for the user's review, oldest first; one query for the list."""
    reports = list(
        Report.objects.filter(state=ReportState.COSIGNED, award__in=reviewable_awards(request.user))
        .select_related("award__proposal__pi", "award__proposal__call", "award__unit")
        .order_by("cosigned_at", "pk")
    )
    return render(request, "funding/reports/pending.html", {"reports": reports,
                                                            "may_export": reviews_reports(request.user)})


@login_required
@require_GET
def reports_export(request):
    """Every report of the awards the user may review (any state), with the spending recorded on those awards."""
    if not reviews_reports(request.user):
        raise Http404
    reports = Report.objects.filter(award__in=reviewable_awards(request.user)).order_by(
        "award__proposal__reference", "period")
    filename = f"reports-{timezone.localdate():%Y-%m-%d}.xlsx"
    return private_download(workbook(report_sheets(reports)), filename=filename, content_type=XLSX_CONTENT_TYPE)


@login_required
@require_http_methods(["GET", "POST"])
def report_review(request, report_id):
    report = get_object_or_404(
        Report.objects.select_related("award__proposal__pi", "award__proposal__call", "award__unit", "reviewed_by")
        .prefetch_related("spending", "award__tranches", "award__reports"),
        pk=report_id,
    )
    award = report.award
    if not can_review_reports(request.user, award):
        raise Http404
    form = ReviewForm(request.POST or None) if report.state == ReportState.COSIGNED else None
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Only a co-signed report can be reviewed; this one is %(state)s.") % {
                "state": report.get_state_display().lower()})
            return redirect("funding:report_review", report_id=report.pk)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == ReviewForm.APPROVE
            try:
                review_report(report_id=report.pk, user=request.user, approve=approve,
                              comment=form.cleaned_data["comment"], now=timezone.now())
            except FundingError as error:
                form.add_error("comment" if error.code == "comment" else None, error)
            else:
                messages.success(request, _("The report is approved.") if approve
                                 else _("Changes were requested; the PI has been told."))
                return redirect("funding:report_review", report_id=report.pk)
    tranches = list(award.tranches.all())
    for tranche in tranches:
        tranche.award = award
    next_tranche = next((t for t in tranches if t.state == TrancheState.PLANNED), None)
    context = report_page_context(report)
    context.update(
        award=award, proposal=award.proposal, form=form, due=report_due(award, report.period),
        next_tranche=next_tranche, gate=tranche_gate(next_tranche) if next_tranche is not None else "",
    )
    return render(request, "funding/reports/review.html", context, status=400 if form is not None and form.errors else 200)
