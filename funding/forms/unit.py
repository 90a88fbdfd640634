"""The unit manager's spending form. It checks the shape of the input only; the spending rules (amount
above zero, a date within the award, a known category, a description) are ``funding.domain.spending``'s,
and their refusals are shown on the field they concern (``FIELD_OF_ERROR``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.models import BudgetCategory

# FundingError.code of spending_record → the field whose input it refuses.
FIELD_OF_ERROR = {"category": "category", "amount": "amount", "date": "date", "description": "description"}


class SpendingForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date of the expense."), "invalid": _("Enter a date such as 2027-03-31.")},
    )
    # Any value reaches the domain, which alone decides which categories exist.
    category = forms.CharField(
        label=_("Category"), required=False,
        widget=forms.Select(choices=[("", "—"), *BudgetCategory.choices]),
    )
    amount = forms.DecimalField(
        label=_("Amount (€)"), required=False, max_digits=9, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=300,
        help_text=_("What was paid for, e.g. “Train Paris–São Paulo, M. Curie, mission of March”."),
    )

    def __init__(self, *args, award=None, **kwargs):
        super().__init__(*args, **kwargs)
        if award is not None:
            # A hint for the browser's date picker; the rule itself is the domain's.
            self.fields["date"].widget.attrs.update(min=award.start_date.isoformat(), max=award.end_date.isoformat())

    def add_domain_error(self, error) -> None:
        """Show a refusal of ``spending_record`` on the field it concerns (or above the form)."""
        self.add_error(FIELD_OF_ERROR.get(getattr(error, "code", None)), error.messages)
