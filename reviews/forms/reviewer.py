"""The reviewer's forms. What a score may be is the domain's rule (``reviews.domain.scoring.score_error``):
the review form offers the allowed values and asks the same function, so page and server agree."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..domain.scoring import REVIEW_FIELDS, plain_decimal, score_choices, score_error, score_label
from ..domain.suggestions import suggestion_check
from ..models import BidValue, Recommendation, Review, Score


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
    """The reason, and optionally a colleague to suggest (``reviews.domain.suggestions``: both name and
    e-mail or neither, a valid e-mail, not the reviewer themself)."""

    prefix = "decline"  # the invitation page holds both forms: keep their field ids apart
    reason = forms.CharField(
        label=_("Why do you decline?"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The officer reads it to find another reviewer."),
    )
    suggest_name = forms.CharField(label=_("Colleague's name"), required=False, max_length=200,
                                   widget=forms.TextInput(attrs={"autocomplete": "off"}))
    suggest_email = forms.CharField(label=_("Colleague's e-mail"), required=False, max_length=254,
                                    widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    suggest_reason = forms.CharField(label=_("Why them?"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text=_("e.g. their field, a recent paper. The officer reads it."))

    def __init__(self, *args, own_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.own_email = own_email

    def clean(self):
        cleaned = super().clean()
        try:
            name, email = suggestion_check(name=cleaned.get("suggest_name", ""), email=cleaned.get("suggest_email", ""),
                                           own_email=self.own_email)
        except ValidationError as error:
            self.add_error("suggest_name" if error.code == "incomplete" else "suggest_email", error)
        else:
            cleaned["suggest_name"], cleaned["suggest_email"] = name, email
        return cleaned

    def suggestion(self) -> dict | None:
        if not self.cleaned_data.get("suggest_email"):
            return None
        return {"name": self.cleaned_data["suggest_name"], "email": self.cleaned_data["suggest_email"],
                "reason": self.cleaned_data.get("suggest_reason", "")}


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


def bid_field_name(proposal_id: int) -> str:
    return f"bid-{proposal_id}"


def reason_field_name(proposal_id: int) -> str:
    return f"reason-{proposal_id}"


class BidsForm(forms.Form):
    """One radio group per proposal the reviewer may still mark on the page (none chosen by default), and the
    reason of a conflict, which ``bids_save`` requires when "conflict" is chosen."""

    q = forms.CharField(required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, editable: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.editable = editable
        for pk in editable:
            self.fields[bid_field_name(pk)] = forms.ChoiceField(
                label=_("Your choice"), required=False, choices=BidValue.choices, widget=forms.RadioSelect,
            )
            self.fields[reason_field_name(pk)] = forms.CharField(
                label=_("Your conflict of interest"), required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Required with a conflict: e.g. a recent joint publication, the same institution, a "
                            "personal tie. Only the panel reads it."),
            )

    def bids(self) -> dict[int, str]:
        return {pk: self.cleaned_data[bid_field_name(pk)] for pk in self.editable
                if self.cleaned_data.get(bid_field_name(pk))}

    def reasons(self) -> dict[int, str]:
        return {pk: self.cleaned_data.get(reason_field_name(pk), "") for pk in self.editable}
