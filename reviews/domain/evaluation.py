"""What the evaluation of a proposal comes to: the reviews that count, the mean score, and the evaluation
summary the PI and the partner receive with the decision.

A review counts once submitted, by a reviewer not in conflict with the proposal (domain.md, "Review":
"at least N non-conflicted completed reviews"). The summary carries the consensus, the mean score per
criterion and the reviewers' comments for the PI, anonymised — never a reviewer's name, e-mail or
institution, never a confidential comment.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Avg, Count, Exists, OuterRef, Subquery
from django.utils import translation
from django.utils.translation import gettext as _

from iea.audit.models import AuditEntry
from iea.pdf import render_pdf
from proposals.models import Proposal, ProposalState
from proposals.rules import is_proposal_pi

from ..models import Conflict, Decision, DecisionOutcome, PanelRecommendation, Review, ReviewState, Score


def counted_reviews():
    """The reviews that count: submitted, by a reviewer not in conflict with the proposal."""
    return Review.objects.filter(state=ReviewState.SUBMITTED).exclude(
        Exists(Conflict.objects.filter(proposal_id=OuterRef("proposal_id"), reviewer_id=OuterRef("reviewer_id")))
    )


def with_scores(proposals):
    """The proposals with what a decision row shows: the PI, the institute, the recommendation, the
    decision, and the mean score and number of the counted reviews (two subqueries)."""
    mean = Subquery(
        Score.objects.filter(review__proposal_id=OuterRef("pk"), review__state=ReviewState.SUBMITTED,
                             score__isnull=False)
        .exclude(Exists(Conflict.objects.filter(proposal_id=OuterRef("review__proposal_id"),
                                                reviewer_id=OuterRef("review__reviewer_id"))))
        .values("review__proposal").annotate(mean=Avg("score")).values("mean")
    )
    count = Subquery(
        counted_reviews().filter(proposal_id=OuterRef("pk")).values("proposal").annotate(n=Count("pk")).values("n")
    )
    return proposals.select_related(
        "pi", "unit__main_institute", "evaluating_institute", "panel_recommendation", "decision", "award"
    ).annotate(mean_score=mean, review_count=count)


@dataclass(frozen=True)
class CriterionMean:
    label: str
    mean: Decimal | None
    scale_max: Decimal


def evaluation_summary_context(*, proposal: Proposal) -> dict:
    """What the PI and the partner learn of the evaluation, in the active language.

    The reviewers appear as "Reviewer 1, 2…" in the order their reviews were created (by id), with
    their comment for the PI only. Nothing else about them is put in the context, so the template
    cannot show it.
    """
    reviews = list(counted_reviews().filter(proposal_id=proposal.pk).order_by("pk").prefetch_related("scores"))
    scores = defaultdict(list)
    for review in reviews:
        for score in review.scores.all():
            if score.score is not None:
                scores[score.criterion_id].append(score.score)
    criteria = [
        CriterionMean(
            label=criterion.label, scale_max=criterion.scale_max,
            mean=(sum(scores[criterion.pk]) / len(scores[criterion.pk])).quantize(Decimal("0.1"))
            if scores[criterion.pk] else None,
        )
        for criterion in proposal.call.criteria.order_by("position")
    ]
    comments = [
        {"label": _("Reviewer %(n)s") % {"n": n}, "text": review.comment_for_pi.strip()}
        for n, review in enumerate(reviews, start=1)
        if review.comment_for_pi.strip()
    ]
    recommendation = PanelRecommendation.objects.filter(proposal_id=proposal.pk).only("consensus").first()
    decision = Decision.objects.filter(proposal_id=proposal.pk).first()
    return {
        "reference": proposal.reference,
        "title": proposal.title,
        "acronym": proposal.acronym,
        "call_title": proposal.call.title,
        "pi_name": proposal.pi.display_name,
        "outcome": decision.get_outcome_display() if decision else "",
        "outcome_code": decision.outcome if decision else "",
        "amount": decision.amount if decision and decision.outcome == DecisionOutcome.SELECTED else None,
        "consensus": recommendation.consensus if recommendation else "",
        "criteria": criteria,
        "comments": comments,
        "review_count": len(reviews),
        "organisation": settings.ORGANISATION_NAME,
    }


def evaluation_summary_pdf(*, proposal: Proposal, language: str) -> bytes:
    """The evaluation summary attached to the decision mail, in the recipient's language."""
    with translation.override(language):
        context = evaluation_summary_context(proposal=proposal)
        return render_pdf("pdf/evaluation_summary.html", {**context, "language": language})


def evaluation_summary_filename(proposal: Proposal) -> str:
    return f"evaluation-{proposal.reference}.pdf"


def previous_evaluation(*, source: Proposal, user) -> dict:
    """What the editor of a draft restarted from ``source`` shows beside the form (#21): exactly what the PI
    was sent about ``source``, and nothing more.

    - rejected or on the reserve list, once the decision mail went out: the evaluation summary of that mail
      (``evaluation_summary_context``: the decision, the panel's consensus, the mean score per criterion, the
      reviewers' comments for the applicants, anonymised);
    - found ineligible at screening: the reason the screening mail gave (``proposal.screen`` in the audit
      trail, the text ``notify_ineligible`` sent);
    - withdrawn, or a draft never submitted: nothing was evaluated.

    Only the PI reads it: they received it; a co-applicant of the new draft did not (``kind`` "not_yours").
    ``kind`` says which case the template shows."""
    if not is_proposal_pi(user, source):
        return {"kind": "not_yours", "reference": source.reference}
    state = source.applicant_state
    if state in (ProposalState.REJECTED, ProposalState.RESERVE):
        return {"kind": "summary", **evaluation_summary_context(proposal=source)}
    if state == ProposalState.INELIGIBLE:
        entry = (
            AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Proposal), object_id=str(source.pk),
                                      action="proposal.screen", to_state=ProposalState.INELIGIBLE)
            .order_by("-created_at", "-id").only("reason").first()
        )
        return {"kind": "ineligible", "reference": source.reference, "call_title": source.call.title,
                "reason": entry.reason if entry else ""}
    return {"kind": "not_evaluated", "reference": source.reference, "call_title": source.call.title,
            "state": source.get_applicant_state_display()}
