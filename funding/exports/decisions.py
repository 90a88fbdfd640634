"""The decisions of a call as an Excel workbook: the rows of the decisions page (``funding.selectors.
decisions_page``), for the whole call rather than one page, in the page's order — by institute, then the panel's
rank — with what the page shows and what it leaves to each proposal's own page (who decided, when the mail went
out, the award's state). The page's queries plus one for the deciders, whatever the size of the call.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from calls.models import Call
from iea.formats import XLSX_MONEY, XLSX_NUMBER
from iea.spreadsheets import Sheet
from reviews.models import Recommendation

from ..selectors import decisions_page

__all__ = ["decision_sheets"]

_WHOLE_CALL = 10**9  # one page holds every row


def decision_sheets(*, call: Call, institute_id: int | None = None) -> list[Sheet]:
    """One sheet: a row per proposal of the decisions page of ``call`` (of one institute with ``institute_id``)."""
    rows = decisions_page(call=call, per_page=_WHOLE_CALL).rows
    if institute_id is not None:
        rows = [row for row in rows if row.proposal.institute and row.proposal.institute.pk == institute_id]
    deciders = get_user_model().objects.in_bulk({row.decision.decided_by_id for row in rows if row.decision})
    headers = [
        _("Reference"), _("Acronym"), _("Title"), _("PI"), _("Institute"), _("Rank"), _("Panel's recommendation"),
        _("Proposed amount (€)"), _("Mean score"), _("Reviews"), _("Thresholds missed"), _("Outcome"),
        _("Amount (€)"), _("Reason to decide anyway"), _("Decided at"), _("Decided by"), _("Mail sent at"),
        _("Award"),
    ]

    def values(row) -> list:
        proposal, recommendation, decision = row.proposal, row.recommendation, row.decision
        institute = proposal.institute
        award = getattr(proposal, "award", None)
        decider = deciders.get(decision.decided_by_id) if decision else None
        return [
            proposal.reference, proposal.acronym, proposal.title, proposal.pi.get_full_name(),
            institute.code if institute else "",
            recommendation.rank if recommendation else None,
            Recommendation(recommendation.recommendation).label if recommendation and recommendation.recommendation
            else "",
            recommendation.proposed_amount if recommendation else None,
            None if row.mean_score is None else round(row.mean_score, 2), row.review_count,
            "; ".join(miss.label for miss in row.threshold_misses),
            decision.get_outcome_display() if decision else "", decision.amount if decision else None,
            decision.override_reason if decision else "", decision.decided_at if decision else None,
            decider.get_full_name() if decider else "", decision.notified_at if decision else None,
            award.get_state_display() if award else "",
        ]

    formats = {headers.index(_("Proposed amount (€)")): XLSX_MONEY, headers.index(_("Amount (€)")): XLSX_MONEY,
               headers.index(_("Mean score")): XLSX_NUMBER}
    return [Sheet(_("Decisions"), headers, (values(row) for row in rows), formats)]
