"""The submission receipt: the whole version as the server froze it, with its timestamp and fingerprints."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from calls.models import Institute
from iea import formats
from iea.pdf import render_pdf

from .domain.common import information_item_labels
from .domain.eligibility import proposal_checklist
from .models import BudgetCategory, InformationRequestState, ProposalVersion, TeamSide


def receipt_filename(version: ProposalVersion) -> str:
    return f"receipt-{version.proposal.reference}-v{version.number}.pdf"


def render_receipt(version: ProposalVersion) -> bytes:
    """The submission receipt: every field of the frozen content (``proposal_snapshot``), the server's
    timestamp with its UTC offset, the letters' and the content's SHA-256, and the checklist that held."""
    content = version.content
    answers_request = version.information_requests.exists()
    institute = Institute.objects.filter(code=content.get("institute") or "").first()
    return render_pdf(
        "pdf/receipt.html",
        {
            "version": version,
            "proposal": version.proposal,
            "content": content,
            "institute": institute,
            "team_cnrs": [m for m in content.get("team", []) if m.get("side") == TeamSide.CNRS],
            "team_partner": [m for m in content.get("team", []) if m.get("side") != TeamSide.CNRS],
            "budget": budget_table(content, years=version.proposal.call.budget_years),
            "letters": content.get("letters") or ([content["letter"]] if content.get("letter") else []),
            "checklist": [] if answers_request else _checklist_labels(version),
            "answers_request": answers_request,
            "history": receipt_history(version),
            "submitted": formats.datetime(version.submitted_at, seconds=True, offset=True),
            "organisation": settings.ORGANISATION_NAME,
        },
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    text: str
    detail: str = ""
    detail_language: str = ""  # the language the detail was written in, when a person wrote it


def receipt_history(version: ProposalVersion) -> list[HistoryEntry]:
    """The proposal's history up to this version, oldest first: each version received, and each request for
    information (#21) — asked (what, by when, the message), then answered with a version, cancelled, or expired
    at its deadline — as it stood when this version was received. Two queries."""
    at = version.submitted_at
    entries = []
    for earlier in version.proposal.versions.filter(number__lte=version.number).order_by("number"):
        entries.append(HistoryEntry(at=earlier.submitted_at, detail=earlier.content_sha256, text=_(
            "Version %(number)s received") % {"number": earlier.number}))
    for request in version.proposal.information_requests.filter(asked_at__lte=at).select_related("version"):
        entries.append(HistoryEntry(
            at=request.asked_at, detail=request.message, detail_language=request.language, text=_(
            "Information requested by the directorate: %(items)s may change until %(deadline)s") % {
            "items": information_item_labels(request.items), "deadline": formats.datetime(request.deadline)}))
        state = request.state_at(at)
        if state == InformationRequestState.ANSWERED and request.closed_at <= at:
            entries.append(HistoryEntry(at=request.closed_at, text=_(
                "Request for information answered: version %(number)s") % {"number": request.version.number}))
        elif state == InformationRequestState.CANCELLED and request.closed_at <= at:
            entries.append(HistoryEntry(at=request.closed_at, text=_("Request for information cancelled")))
        elif state == InformationRequestState.EXPIRED:
            entries.append(HistoryEntry(at=request.deadline, text=_("Request for information expired unanswered")))
    # A version and the answer it is share their moment: the version first.
    return sorted(entries, key=lambda entry: entry.at)


def budget_table(content: dict, *, years: int) -> dict:
    """The budget as the editor shows it: one row per category in the editor's order, one column per year,
    with the totals of each row and column."""
    amounts = {(int(line["year"]), line["category"]): Decimal(line["amount"]) for line in content.get("budget", [])}
    year_numbers = list(range(1, max([years, *(year for year, _c in amounts)]) + 1))
    rows = []
    for category, label in BudgetCategory.choices:
        cells = [amounts.get((year, category), Decimal(0)) for year in year_numbers]
        rows.append({"label": label, "cells": cells, "total": sum(cells, Decimal(0))})
    column_totals = [sum((row["cells"][i] for row in rows), Decimal(0)) for i in range(len(year_numbers))]
    return {"years": year_numbers, "rows": rows, "column_totals": column_totals,
            "total": Decimal(content.get("budget_total") or sum(column_totals, Decimal(0)))}


def _checklist_labels(version: ProposalVersion) -> list[str]:
    """The rules of the checklist. ``proposal_submit`` freezes a version only when every one holds, so the
    receipt states them as met; only their labels are read (the proposal may have changed since)."""
    checks = proposal_checklist(
        version.proposal, now=version.submitted_at, letter=version.letter, others_active=0, as_submitted=True
    )
    return [check.label for check in checks]
