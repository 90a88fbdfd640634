"""Forms of #20's caps and availability pages. They check input shapes; the rules are in ``reviews.domain``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..domain.availability import NOTE_LENGTH
from ..domain.caps import HIGHEST_CAP


class CapForm(forms.Form):
    max_reviews = forms.IntegerField(
        label=_("Maximum reviews"), required=False, min_value=1, max_value=HIGHEST_CAP,
        help_text=_("Empty: no maximum."),
    )


class UnavailabilityForm(forms.Form):
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until (included)"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=NOTE_LENGTH, required=False,
                           help_text=_("Optional, seen by the officers, e.g. “field mission”."))
