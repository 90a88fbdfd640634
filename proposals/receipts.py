"""The submission receipt: the whole version as the server froze it, with its timestamp and fingerprints."""

from decimal import Decimal

from django.conf import settings

from calls.models import Institute
from iea import formats
from iea.pdf import render_pdf

from .domain.eligibility import proposal_checklist
from .models import BudgetCategory, ProposalVersion, TeamSide


def receipt_filename(version: ProposalVersion) -> str:
    return f"receipt-{version.proposal.reference}-v{version.number}.pdf"


def render_receipt(version: ProposalVersion) -> bytes:
    """The submission receipt: every field of the frozen content (``proposal_snapshot``), the server's
    timestamp with its UTC offset, the letters' and the content's SHA-256, and the checklist that held."""
    content = version.content
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
            "checklist": _checklist_labels(version),
            "submitted": formats.datetime(version.submitted_at, seconds=True, offset=True),
            "organisation": settings.ORGANISATION_NAME,
        },
    )


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
