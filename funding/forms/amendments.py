"""The PI's amendment forms (one per kind) and the unit manager's opinion. They check the shape of the input
only; the rules (the call's maximum extension, a line that would go negative, a released tranche, an
excluded country…) are ``funding.domain.amendments``', whose refusals show on the field they concern."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from proposals.models import BudgetCategory

from ..domain.awards import TRANCHES
from ..models import AmendmentKind, UnitOpinion

# AmendmentError.code → the field whose input it refuses (others show above the form).
FIELD_OF_ERROR = {"months": "months", "year": "from_year", "category": "from_category", "same_line": "to_category",
                  "amount": "amount", "institution": "new_institution", "country": "new_country",
                  "reason": "reason", "comment": "comment", "opinion": "opinion"}

_REASON = {"label": _("Reason"), "widget": forms.Textarea(attrs={"rows": 5}), "max_length": 4000,
           "error_messages": {"required": _("Give the reason for the amendment.")}}


class DomainErrorsMixin:
    def add_domain_error(self, error) -> None:
        field = FIELD_OF_ERROR.get(getattr(error, "code", None))
        self.add_error(field if field in self.fields else None, error.messages)


class ExtensionForm(DomainErrorsMixin, forms.Form):
    months = forms.IntegerField(
        label=_("Extension (months)"), min_value=1,
        error_messages={"required": _("Give the number of months of the extension (at least 1)."),
                        "min_value": _("Give the number of months of the extension (at least 1)."),
                        "invalid": _("Give a whole number of months.")},
    )
    reason = forms.CharField(**_REASON, help_text=_("What moved, and why the action needs more time."))

    def __init__(self, *args, months_left: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["months"].help_text = _("At most %(left)s months (the call's limit, all extensions included).") % {
            "left": months_left}
        self.fields["months"].widget.attrs.update(min=1, max=months_left, inputmode="numeric")

    def domain_arguments(self) -> dict:
        return {"months": self.cleaned_data["months"]}


_YEARS = [(year, _("Year %(year)s") % {"year": year}) for year in range(1, TRANCHES + 1)]


class TransferForm(DomainErrorsMixin, forms.Form):
    from_year = forms.TypedChoiceField(label=_("From year"), choices=_YEARS, coerce=int)
    from_category = forms.ChoiceField(label=_("From category"), choices=BudgetCategory.choices)
    to_year = forms.TypedChoiceField(label=_("To year"), choices=_YEARS, coerce=int)
    to_category = forms.ChoiceField(label=_("To category"), choices=BudgetCategory.choices)
    amount = forms.DecimalField(
        label=_("Amount (€)"), max_digits=9, decimal_places=2, min_value=0.01,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
        error_messages={"required": _("Give the amount to transfer, more than 0 €."),
                        "min_value": _("Give the amount to transfer, more than 0 €."),
                        "invalid": _("Enter an amount such as 1200.50.")},
    )
    reason = forms.CharField(**_REASON, help_text=_("What the money is now needed for."))

    def __init__(self, *args, months_left: int = 0, **kwargs):
        super().__init__(*args, **kwargs)

    def domain_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("from_year", "from_category", "to_year", "to_category",
                                                           "amount")}


class InstitutionForm(DomainErrorsMixin, forms.Form):
    new_institution = forms.CharField(
        label=_("New institution of the partner"), max_length=250,
        error_messages={"required": _("Give the name of the partner's new institution.")})
    new_country = forms.ChoiceField(
        label=_("Country, if it changes"), required=False,
        help_text=_("Leave empty if the partner stays in the same country."))
    reason = forms.CharField(**_REASON, help_text=_("Why the partner changes institution."))

    def __init__(self, *args, months_left: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_country"].choices = [("", "—"), *countries]

    def domain_arguments(self) -> dict:
        return {"new_institution": self.cleaned_data["new_institution"],
                "new_country": self.cleaned_data["new_country"]}


FORM_OF_KIND = {AmendmentKind.EXTENSION: ExtensionForm, AmendmentKind.TRANSFER: TransferForm,
                AmendmentKind.INSTITUTION: InstitutionForm}


class OpinionForm(DomainErrorsMixin, forms.Form):
    opinion = forms.ChoiceField(label=_("The unit's opinion"), choices=UnitOpinion.choices, widget=forms.RadioSelect,
                                error_messages={"required": _("Choose favourable or unfavourable.")})
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Required when the opinion is unfavourable; the PI and the directorate read it."))
