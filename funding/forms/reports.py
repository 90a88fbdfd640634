"""The form of the review of a report by an officer or staff (``views.reports``). It reads what was typed;
the rules live in ``funding.domain.reports``."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ReviewForm(forms.Form):
    """The officer's or staff member's review of a co-signed report."""

    APPROVE, CHANGES = "approve", "changes"
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.RadioSelect,
        choices=[(APPROVE, _("Approve the report")), (CHANGES, _("Ask the PI for changes"))],
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required when asking for changes: the PI reads it."),
    )
