import functools
from decimal import Decimal

from django import forms
from django.conf import settings
from django.forms.models import ModelChoiceIterator
from django.urls import reverse_lazy
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from calls.models import Institute, Unit, parse_unit_code
from iea.identifiers import orcid_normalise
from iea.widgets import LongSelect

from .letters import pdf_help_text
from .models import BudgetCategory, CoApplicantRole, Proposal, TeamMember

BUDGET_MAX_CELL = Decimal("999999.99")


class CountryChoices(BaseChoiceIterator):
    """The partner's country choices, named and sorted in the active language: built and normalized once per
    language and process, not for each form (250 choices: a third of the editor form's set-up time, twice
    per autosave). Shared by every copy of the field, as it never changes."""

    def __iter__(self):
        return iter(_country_choices(get_language()))

    @property
    def cache_key(self) -> tuple:
        """The options ``LongSelect`` may write once and reuse: the same countries in the same language."""
        return ("countries", get_language())

    def __deepcopy__(self, memo):
        return self


@functools.cache
def _country_choices(language: str) -> tuple:
    return tuple(normalize_choices([("", "—"), *countries]))


class FewChoices(ModelChoiceIterator):
    """A short list of model choices (the evaluating institutes: a dozen) read in one query. Django reads a
    model's choices through a server-side cursor: three round trips to PostgreSQL (open, fetch, close)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class InstituteChoiceField(forms.ModelChoiceField):
    iterator = FewChoices


def budget_field_name(year: int, category: str) -> str:
    return f"budget_{year}_{category}"


class ProposalForm(forms.ModelForm):
    """The PI's main form. Every field may be blank in a draft; what submission needs is the checklist's job."""

    unit_code = forms.CharField(
        label=_("Your CNRS unit"), max_length=20, required=False,
        help_text=_("Type and number, e.g. UMR 5558."),
        # A search-as-you-type picker with JavaScript (templates/proposals/_unit_field.html).
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "data-combobox-input": True,
                                      "data-combobox-url": reverse_lazy("calls:unit_search")}),
    )
    lock_version = forms.IntegerField(widget=forms.HiddenInput)
    partner_country = LazyTypedChoiceField(label=_("Partner's country"), choices=CountryChoices(), widget=LongSelect)

    class Meta:
        model = Proposal
        fields = [
            "title", "acronym", "abstract", "keywords", "evaluating_institute", "partner_name", "partner_email",
            "partner_institution", "partner_country", "activities", "ethics_statement",
        ]
        field_classes = {"evaluating_institute": InstituteChoiceField}
        widgets = {
            "abstract": forms.Textarea(attrs={"rows": 6}),
            "activities": forms.Textarea(attrs={"rows": 5}),
            "ethics_statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        for field in self.fields.values():
            field.required = False
        self.fields["lock_version"].required = True
        if self.instance.unit_id and not self.is_bound:
            self.initial["unit_code"] = self.instance.unit.code
        unit = self.instance.unit if self.instance.unit_id and not self.is_bound else None
        if unit is not None:
            # Offer the unit's own institutes; a bound form accepts any and ``clean`` checks the pair.
            self.fields["evaluating_institute"].queryset = unit.evaluating_institutes()
        else:
            self.fields["evaluating_institute"].queryset = Institute.objects.all()
        self.fields["evaluating_institute"].empty_label = _("The unit's main institute")
        for year in range(1, call.budget_years + 1):
            for category, label in BudgetCategory.choices:
                self.fields[budget_field_name(year, category)] = forms.DecimalField(
                    label=_("%(category)s, year %(year)s") % {"category": label, "year": year},
                    min_value=0, max_value=BUDGET_MAX_CELL, decimal_places=2, required=False,
                    widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
                )

    def budget_rows(self):
        """Rows of the budget table: one per category, one bound field per year."""
        years = self.budget_year_numbers()
        return [(label, [self[budget_field_name(year, category)] for year in years]) for category, label in BudgetCategory.choices]

    def budget_year_numbers(self):
        return list(range(1, self.call.budget_years + 1))

    def clean_unit_code(self):
        text = (self.cleaned_data.get("unit_code") or "").strip()
        if not text:
            return None
        if parse_unit_code(text) is None:
            raise forms.ValidationError(_("“%(code)s” is not a unit code. Write the type and number, e.g. UMR 5558."),
                                        params={"code": text})
        unit = Unit.objects.by_code(text).select_related("main_institute").first()
        if unit is None:
            raise forms.ValidationError(
                _("No CNRS unit %(code)s is known. Check the number, or contact the directorate if your unit is missing."),
                params={"code": " ".join(parse_unit_code(text))},
            )
        return unit

    def clean(self):
        cleaned = super().clean()
        unit = cleaned.get("unit_code")
        institute = cleaned.get("evaluating_institute")
        if unit and institute and not unit.may_be_evaluated_by(institute.pk):
            if self.instance.unit_id != unit.pk:
                # The unit just changed: its main institute evaluates unless the PI picks again.
                cleaned["evaluating_institute"] = None
                return cleaned
            self.add_error(
                "evaluating_institute",
                _("%(institute)s is not an institute of %(unit)s. Choose its main institute or a secondary one.")
                % {"institute": institute.code, "unit": unit.code},
            )
        return cleaned

    def draft_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data["unit"] = self.cleaned_data.get("unit_code")
        for name in ("title", "acronym", "abstract", "keywords", "partner_name", "partner_email",
                     "partner_institution", "activities", "ethics_statement"):
            data[name] = (data[name] or "").strip()
        data["partner_country"] = data["partner_country"] or ""
        return data

    def budget_data(self) -> dict[tuple[int, str], Decimal]:
        return {
            (year, category): self.cleaned_data.get(budget_field_name(year, category)) or Decimal(0)
            for year in range(1, self.call.budget_years + 1)
            for category in BudgetCategory.values
        }


def budget_initial(proposal: Proposal) -> dict:
    return {budget_field_name(line.year, line.category): line.amount for line in proposal.budget_lines.all()}


class TeamMemberForm(forms.ModelForm):
    # Longer than the stored iD: "https://orcid.org/…" as copied from ORCID is accepted and written one way.
    orcid = forms.CharField(label=pgettext_lazy("form label", "ORCID iD"), max_length=60, required=False, help_text=_(
        "Optional. 16 digits in four groups, e.g. 0000-0002-1825-0097: reviewers who published with them are then "
        "recognised."))

    class Meta:
        model = TeamMember
        fields = ["side", "name", "email", "position", "institution", "orcid", "early_career"]

    def clean_orcid(self):
        return orcid_normalise(self.cleaned_data.get("orcid", ""))


class LetterForm(forms.Form):
    file = forms.FileField(
        label=_("Support letter (PDF)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    cofunding = forms.BooleanField(label=_("The partner co-funds the project"), required=False)
    cofunding_amount = forms.DecimalField(
        label=_("Co-funding amount"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    cofunding_currency = forms.CharField(
        label=_("Currency"), required=False, max_length=3, initial="EUR", help_text=_("e.g. EUR, USD, BRL")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = pdf_help_text()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("cofunding") and cleaned.get("cofunding_amount") is None:
            self.add_error("cofunding_amount", _("State the amount, or untick co-funding."))
        currency = (cleaned.get("cofunding_currency") or "").strip().upper()
        if cleaned.get("cofunding") and (len(currency) != 3 or not currency.isalpha()):
            self.add_error("cofunding_currency", _("Use a three-letter currency code, e.g. EUR."))
        cleaned["cofunding_currency"] = currency
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Partner's e-mail"))
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=settings.LANGUAGES, initial="en")


class CoApplicantForm(forms.Form):
    """The PI invites a colleague (editor) or the partner (reader) to prepare the proposal with them (#21)."""

    email = forms.EmailField(label=_("E-mail of the person invited"))
    role = forms.ChoiceField(label=_("Role"), choices=CoApplicantRole.choices, initial=CoApplicantRole.EDITOR)
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=settings.LANGUAGES, initial="fr")


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
