"""The funding's messages (domain.md, notifications): the decisions to the PI, the partner and the unit's
managers, a reserve promoted, tranche released or withheld (PI and unit managers), the partner's
co-signing link, the report co-signed and reviewed. The kinds are declared here; the domain queues them
through ``domain.mail``. Reminders of reports due are in ``reminders``.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import Kind, register
from reviews.domain import evaluation
from reviews.models import Decision

from .domain.reports import cosign_token
from .models import Amendment, AmendmentState, Award, CosignInvitation, Report, Tranche


def _award_url(award_id: int) -> str:
    return reverse("funding:award", kwargs={"pk": award_id})


register(Kind(
    name="tranche_notice", label=_("Tranche released or withheld"), template="tranche_notice", model=Tranche,
    select_related=("award__proposal__pi", "award__unit"),
    context=lambda t, n: {"tranche": t, "award": t.award, "proposal": t.award.proposal,
                          "url": _award_url(t.award_id)},
))


def _cosign_context(invitation, notification):
    report = invitation.report
    return {"invitation": invitation, "report": report, "proposal": report.award.proposal,
            "url": reverse("funding:cosign", kwargs={"token": cosign_token(invitation)})}


register(Kind(
    name="report_cosign", label=_("Report to co-sign, to the partner"), template="report_cosign",
    model=CosignInvitation, select_related=("report__award__proposal__pi",), context=_cosign_context,
    skip=lambda invitation, n, now: _("The invitation was revoked.") if invitation.revoked_at else "",
))
_REPORT = {"model": Report, "select_related": ("award__proposal__pi",),
           "context": lambda r, n: {"report": r, "proposal": r.award.proposal, "url": _award_url(r.award_id)}}
register(Kind(name="report_cosigned", label=_("Report co-signed by the partner"), template="report_cosigned",
              **_REPORT))
register(Kind(name="report_cosign_declined", label=_("Co-signature declined by the partner, to the PI"),
              template="report_cosign_declined", **_REPORT))
register(Kind(name="report_reviewed", label=_("Report approved or returned"), template="report_reviewed",
              **_REPORT))


register(Kind(
    name="award_answer", label=_("Award accepted or declined by the PI, to the unit"), template="award_answer",
    model=Award, select_related=("proposal__pi", "proposal__call", "unit"),
    context=lambda a, n: {"award": a, "proposal": a.proposal, "accepted": n.params.get("answer") == "accepted",
                          "url": reverse("funding:unit_award", kwargs={"pk": a.pk})},
))


# --- Amendments (domain.amendments): the request to the unit, its opinion to the PI, the decision to both --

def _amendment_context(amendment, notification):
    award = amendment.award
    # The unit's managers act on the unit's page of the award; the PI reads it on theirs.
    to_unit = notification.kind == "amendment_requested"
    return {"amendment": amendment, "award": award, "proposal": award.proposal,
            "approved": amendment.state == AmendmentState.APPROVED,
            "url": reverse("funding:unit_award" if to_unit else "funding:award", kwargs={"pk": award.pk})}


for _name, _label in (("amendment_requested", _("Amendment asked, to the unit")),
                      ("amendment_opinion", _("Unit's opinion on an amendment, to the PI")),
                      ("amendment_decided", _("Amendment approved or refused, to the PI and the unit"))):
    register(Kind(name=_name, label=_label, template=_name, model=Amendment,
                  select_related=("award__proposal__pi", "award__proposal__call", "award__unit", "version"),
                  context=_amendment_context))


# --- The decisions and a reserve promoted (domain.decisions, domain.reserve) ------------------------------
# Reviews declared these kinds until the decisions moved here: the names are kept, so the messages on
# record still resolve.


def _summary(decision, notification):
    # Called through the module, so a test can wrap ``evaluation_summary_pdf`` to see each language.
    proposal = decision.proposal
    pdf = evaluation.evaluation_summary_pdf(proposal=proposal, language=notification.language)
    return [(evaluation.evaluation_summary_filename(proposal), pdf, "application/pdf")]


_DECISION = {"model": Decision, "select_related": ("proposal__pi", "proposal__call", "proposal__unit"),
             "attachments": _summary}
register(Kind(
    name="decision", label=_("Decision, to the PI"), template="decision",
    context=lambda d, n: {"proposal": d.proposal, "decision": d,
                          "url": reverse("proposals:detail", kwargs={"pk": d.proposal_id})},
    **_DECISION,
))
register(Kind(
    name="decision_partner", label=_("Decision, to the partner"), template="decision_partner",
    context=lambda d, n: {"proposal": d.proposal, "decision": d}, **_DECISION,
))
register(Kind(
    name="decision_unit", label=_("Decision, to the unit"), template="decision_unit",
    context=lambda d, n: {"proposal": d.proposal, "decision": d}, **_DECISION,
))


def _promoted_context(decision, notification):
    award = getattr(decision.proposal, "award", None)
    return {"proposal": decision.proposal, "decision": decision, "award": award,
            "url": reverse("funding:award", kwargs={"pk": award.pk}) if award else ""}


register(Kind(
    name="reserve_promoted", label=_("Reserve promoted to selected, to the PI"), template="reserve_promoted",
    model=Decision, select_related=("proposal__pi", "proposal__call", "proposal__award__unit"),
    context=_promoted_context,
))


# The reminders of annual reports due (a schedule read by the dispatcher).
from . import reminders  # noqa: E402,F401
