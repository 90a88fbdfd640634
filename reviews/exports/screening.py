"""The screening of a call as an Excel workbook: each proposal submitted to it, what the automatic check found
(as it stood at the deadline), and who screened it, when, with what outcome and reason.

The rows of the screening page (``reviews.domain.screening``) for every submitted proposal, screened or not, in a
constant number of queries.
"""

from django.utils.translation import gettext as _

from calls.models import Call
from iea.spreadsheets import Sheet
from proposals.models import Proposal, ProposalState

from ..domain.screening import screening_checklists, screening_history


def _proposals(call: Call) -> list[Proposal]:
    return list(
        Proposal.objects.filter(call=call, submitted_at__isnull=False)
        .select_related("call", "pi", "unit__main_institute", "evaluating_institute")
        .prefetch_related("team", "budget_lines", "letters", "unit__secondary_institutes")
        .order_by("reference")
    )


def _check(checks) -> str:
    failing = [check for check in checks if not check.ok]
    if not failing:
        return _("Eligible")
    return "; ".join(_("%(check)s: %(detail)s") % {"check": check.label, "detail": check.detail} if check.detail
                     else str(check.label) for check in failing)


def screening_sheets(*, call: Call) -> list[Sheet]:
    """One sheet: a row per proposal of ``call`` ever submitted."""
    proposals = _proposals(call)
    checklists = screening_checklists(proposals=proposals, call=call)
    last = {}
    for entry in screening_history(call=call):  # newest first: the first seen is the last act
        last.setdefault(entry.proposal.pk, entry)

    def row(proposal: Proposal) -> list:
        entry = last.get(proposal.pk)
        if entry is not None:
            outcome = _("Eligible") if entry.eligible else _("Ineligible")
        else:
            outcome = _("To screen") if proposal.state == ProposalState.SUBMITTED else proposal.get_state_display()
        institute = proposal.institute
        return [
            proposal.reference, proposal.acronym, proposal.title, proposal.pi.get_full_name(), proposal.pi.email,
            institute.code if institute else "", proposal.submitted_at,
            _("yes") if proposal.has_unsubmitted_changes else _("no"),
            _check(checklists[proposal.pk]), outcome,
            entry.actor.get_full_name() if entry and entry.actor else "", entry.at if entry else None,
            entry.reason if entry else "",
        ]

    headers = [
        _("Reference"), _("Acronym"), _("Title"), _("PI"), _("PI e-mail"), _("Institute"), _("Last submitted"),
        _("Changed since the last submission"), _("Automatic check"), _("Outcome"), _("Screened by"), _("Screened at"), _("Reason"),
    ]
    return [Sheet(_("Screening"), headers, (row(proposal) for proposal in proposals))]
