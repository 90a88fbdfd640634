"""The officer's workbooks of a panel, beside the panel table's: its proposals (two sheets, as the directorate's
proposals export) and its reviews (the reviewers named: the officer runs the panel). Both leave out the proposals
the officer is in conflict with, as every panel page does."""

import re

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from iea.http import private_download
from iea.spreadsheets import XLSX_CONTENT_TYPE, workbook
from proposals.exports import proposal_sheets

from ..exports import review_sheets
from ..models import Review
from ..rules import not_conflicted
from .officer import officer_proposals, panel_for_officer


def _filename(panel, what: str) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "", panel.institute.code)
    return f"{what}-{panel.call.year}-{code}.xlsx"


@login_required
@require_GET
def panel_proposals_export(request, panel_id):
    """The proposals of the panel table, every one, with their teams."""
    panel = panel_for_officer(request, panel_id)
    sheets = proposal_sheets(officer_proposals(panel, request.user).order_by("reference"))
    return private_download(workbook(sheets), filename=_filename(panel, "proposals"), content_type=XLSX_CONTENT_TYPE)


@login_required
@require_GET
def panel_reviews_export(request, panel_id):
    """The reviews written for the panel, with the conflicts of its proposals."""
    panel = panel_for_officer(request, panel_id)
    reviews = not_conflicted(Review.objects.filter(assignment__panel=panel), request.user, "proposal_id")
    sheets = review_sheets(reviews.order_by("proposal__reference", "assignment_id"), user=request.user)
    return private_download(workbook(sheets), filename=_filename(panel, "reviews"), content_type=XLSX_CONTENT_TYPE)
