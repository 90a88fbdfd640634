"""Forms of the institute officer's pages. They check input shapes; the rules are in ``reviews.domain``."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from iea.widgets import LongSelect

from ..domain.availability import away_text
from ..domain.panel_table import NO_RECOMMENDATION
from ..models import Recommendation


class ReviewerAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), help_text=_(
        "Someone without an account gets one, and a mail with a link to choose a password."))
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False,
                                help_text=_("Used only when a new account is created."))
    institution = forms.CharField(label=_("Institution"), max_length=250, required=False)
    unit_code = forms.CharField(label=_("CNRS unit"), max_length=20, required=False,
                                help_text=_("e.g. UMR 5558; used to detect conflicts of interest."))
    keywords = forms.CharField(label=_("Expertise keywords"), max_length=400, required=False,
                               help_text=_("Separated by commas."))
    sections = forms.CharField(label=_("CNRS sections"), max_length=100, required=False, help_text=_("e.g. 11, 14"))
    external = forms.BooleanField(label=_("External to CNRS"), required=False)


class ReviewerChoiceField(forms.ModelChoiceField):
    widget = LongSelect

    def label_from_instance(self, obj):
        name = obj.user.full_name
        label = f"{name} <{obj.user.email}>" if name else obj.user.email
        # #20: the dates they said they are away, when the view loaded them (``availability.coming_absences``).
        away = away_text(getattr(obj.user, "coming_absences", ()))
        return f"{label} — {away}" if away else label


class ProposalChoiceField(forms.ModelChoiceField):
    widget = LongSelect

    def label_from_instance(self, obj):
        return f"{obj.reference} {obj.acronym or obj.title}".strip()


class _PairForm(forms.Form):
    """A proposal of the panel and a reviewer of the pool, both limited to what the officer may use."""

    proposal = ProposalChoiceField(label=_("Proposal"), queryset=None)
    reviewer = ReviewerChoiceField(label=_("Reviewer"), queryset=None)

    def __init__(self, *args, proposals, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposal"].queryset = proposals
        self.fields["reviewer"].queryset = reviewers


class _DueOn(forms.Form):
    due_on = forms.DateField(label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                             help_text=_("Empty: the panel's due date, or three weeks from today."))

    def due_at(self) -> dt.datetime | None:
        """The end of the chosen day, Paris time."""
        day = self.cleaned_data.get("due_on")
        if day is None:
            return None
        return dt.datetime.combine(day, dt.time(23, 59), tzinfo=ZoneInfo("Europe/Paris"))


class AssignForm(_PairForm, _DueOn):
    pass


class AssignManyForm(_DueOn):
    """One reviewer of the pool and the proposals ticked on the assignments page (prefix "many")."""

    reviewer = ReviewerChoiceField(label=_("Reviewer for the ticked proposals"), queryset=None)
    proposals = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput, error_messages={
        "required": _("Tick the proposals to assign first.")})

    def __init__(self, *args, proposals, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposals"].queryset = proposals
        self.fields["reviewer"].queryset = reviewers


class ConflictForm(_PairForm):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ConflictDismissForm(forms.Form):
    reason = forms.CharField(
        label=_("How do you know it is not the same person?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the dismissal, for the record: e.g. the co-author works in another field and country."),
    )


class TableFilterForm(forms.Form):
    disagreement = forms.BooleanField(label=_("Disagreement only"), required=False)
    incomplete = forms.BooleanField(label=_("Reviews missing only"), required=False)
    priority = forms.BooleanField(label=_("Matches the priorities only"), required=False)
    under_threshold = forms.BooleanField(label=_("Under a threshold only"), required=False)
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), required=False,
        choices=[("", _("Any")), *Recommendation.choices, (NO_RECOMMENDATION, _("None yet"))],
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # checkboxes in a row of filters read better without a colon
        super().__init__(*args, **kwargs)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {name: self.cleaned_data[name] for name in ("disagreement", "incomplete", "priority", "under_threshold",
                                                            "recommendation")}

    @property
    def active(self) -> bool:
        return any(self.filters().values())


class RecommendationForm(forms.Form):
    consensus = forms.CharField(
        label=_("Consensus summary"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Sent to the PI as the evaluation summary. Never name reviewers or write anything that "
                    "could identify them."),
    )
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), required=False, choices=[("", _("None yet")), *Recommendation.choices],
    )
    proposed_amount = forms.DecimalField(
        label=_("Proposed amount (€)"), required=False, min_value=0, max_digits=9, decimal_places=2,
        help_text=_("Required to fund."),
    )
