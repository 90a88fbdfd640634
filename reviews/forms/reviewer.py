"""The reviewer's forms. What a score may be is the domain's rule (``reviews.domain.scoring.score_error``):
the review form offers the allowed values and asks the same function, so page and server agree."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from ..domain.scoring import REVIEW_FIELDS, plain_decimal, score_choices, score_error, score_label
from ..models import Recommendation, Review, Score


def score_field_name(criterion_id: int) -> str:
    return f"score_{criterion_id}"


def comment_field_name(criterion_id: int) -> str:
    return f"comment_{criterion_id}"


class ReviewForm(forms.Form):
    """Scores and comments per criterion of the call, in order, then the comments and the recommendation.
    Every field may be empty in a draft; what submission needs is ``review_missing``'s job."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput)
    comment_for_pi = forms.CharField(
        label=_("Comment for the PI"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Sent to the PI with the evaluation summary. Required to submit."),
    )
    confidential_comment = forms.CharField(
        label=_("Confidential comment for the panel"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Read by the panel only, never by the PI."),
    )
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), required=False, choices=[("", _("— choose —")), *Recommendation.choices],
    )

    def __init__(self, *args, review: Review, scores: list[Score], **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        self.scores = scores
        for score in scores:
            criterion = score.criterion
            choices = [("", _("Not scored")), *[(plain_decimal(v), score_label(v)) for v in score_choices(criterion)]]
            self.fields[score_field_name(criterion.pk)] = forms.DecimalField(
                label=_("Score (0 to %(max)s)") % {"max": score_label(criterion.scale_max)}, required=False,
                widget=forms.Select(choices=choices),
            )
            self.fields[comment_field_name(criterion.pk)] = forms.CharField(
                label=_("Comment on this criterion"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
            )
        if not self.is_bound:
            self.initial.update({name: getattr(review, name) for name in REVIEW_FIELDS})
            self.initial["lock_version"] = review.lock_version
            for score in scores:
                self.initial[score_field_name(score.criterion_id)] = (
                    plain_decimal(score.score) if score.score is not None else ""
                )
                self.initial[comment_field_name(score.criterion_id)] = score.comment
        # The recommendation and comments go last, after the criteria.
        self.order_fields([*[name for name in self.fields if name.startswith(("score_", "comment_"))
                             and name != "comment_for_pi"], *REVIEW_FIELDS, "lock_version"])

    def criterion_rows(self):
        """(criterion, score field, comment field) per criterion, in the call's order."""
        return [
            (score.criterion, self[score_field_name(score.criterion_id)], self[comment_field_name(score.criterion_id)])
            for score in self.scores
        ]

    def clean(self):
        cleaned = super().clean()
        for score in self.scores:
            name = score_field_name(score.criterion_id)
            if name in cleaned:
                problem = score_error(score.criterion, cleaned[name])
                if problem:
                    self.add_error(name, problem)
        return cleaned

    def draft_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in REVIEW_FIELDS}

    def score_data(self) -> dict[int, tuple[Decimal | None, str]]:
        return {
            score.criterion_id: (
                self.cleaned_data.get(score_field_name(score.criterion_id)),
                self.cleaned_data.get(comment_field_name(score.criterion_id)) or "",
            )
            for score in self.scores
        }


class DeclineForm(forms.Form):
    prefix = "decline"  # the invitation page holds both forms: keep their field ids apart
    reason = forms.CharField(
        label=_("Why do you decline?"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The officer reads it to find another reviewer."),
    )


class ConflictForm(forms.Form):
    prefix = "conflict"
    reason = forms.CharField(
        label=_("Your conflict of interest"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. a recent joint publication, the same institution, a personal tie. Only the panel reads it."),
        error_messages={"required": _("Explain your conflict of interest, so the officer can find another reviewer.")},
    )
    # The page the reviewer declared from, to show the form again there when the explanation is missing.
    page = forms.ChoiceField(choices=[("invitation", "invitation"), ("proposal", "proposal"), ("review", "review")],
                             required=False, widget=forms.HiddenInput)
