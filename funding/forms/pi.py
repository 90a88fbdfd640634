"""Forms of the PI's and the partner's funding pages (``views.pi``): the annual report, its co-signature.
They read and tidy what was typed; the rules live in ``funding.domain``."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.letters import pdf_help_text
from proposals.models import BudgetCategory

SPENDING_MAX = Decimal("999999.99")


def spending_field_name(category: str) -> str:
    return f"spending_{category}"


class ReportForm(forms.Form):
    """The PI's annual report: the scientific review (text, optional PDF), spending by category, co-funding."""

    scientific_review = forms.CharField(
        label=_("Scientific review"), required=False, widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("What the collaboration did over the period: missions, meetings, first joint results."),
    )
    scientific_pdf = forms.FileField(
        label=_("Scientific review (PDF, optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    cofunding_received = forms.DecimalField(
        label=_("Partner's co-funding actually received"), required=False, min_value=0, max_digits=12,
        decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    cofunding_currency = forms.CharField(
        label=_("Currency"), required=False, max_length=3, help_text=_("e.g. EUR, USD, BRL"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scientific_pdf"].help_text = pdf_help_text()
        for category, label in BudgetCategory.choices:
            self.fields[spending_field_name(category)] = forms.DecimalField(
                label=label, required=False, min_value=0, max_value=SPENDING_MAX, decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
            )

    @classmethod
    def initial_for(cls, report) -> dict:
        initial = {
            "scientific_review": report.scientific_review,
            "cofunding_received": report.cofunding_received,
            "cofunding_currency": report.cofunding_currency,
        }
        for line in report.spending.all():
            initial[spending_field_name(line.category)] = line.amount
        return initial

    def spending_fields(self):
        return [self[spending_field_name(category)] for category in BudgetCategory.values]

    def clean_cofunding_currency(self):
        currency = (self.cleaned_data.get("cofunding_currency") or "").strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            raise forms.ValidationError(_("Use a three-letter currency code, e.g. EUR."))
        return currency

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("cofunding_received") and not cleaned.get("cofunding_currency") and not self.has_error(
            "cofunding_currency"
        ):
            self.add_error("cofunding_currency", _("Give the currency of the co-funding, e.g. EUR."))
        return cleaned

    def spending_data(self) -> dict[str, Decimal]:
        return {c: self.cleaned_data.get(spending_field_name(c)) or Decimal(0) for c in BudgetCategory.values}


class CosignForm(forms.Form):
    signer_name = forms.CharField(
        label=_("Type your name to sign"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class CosignDeclineForm(forms.Form):
    """The partner declines to co-sign, saying why (the PI reads it)."""

    prefix = "decline"  # the page holds both forms: keep their field ids apart
    signer_name = forms.CharField(
        label=_("Your name"), max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    comment = forms.CharField(
        label=_("Why you do not co-sign"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The PI receives it and can change the report and submit it again."),
    )
