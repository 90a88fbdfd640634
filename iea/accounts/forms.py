from allauth.account import forms as allauth_forms
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from iea.identifiers import hal_id_normalise, orcid_normalise


def clean_person_name(value: str) -> str:
    """A first or last name as typed, spaces tidied; an e-mail address is not a name."""
    value = " ".join((value or "").split())
    if "@" in value:
        raise ValidationError(_("Write your name, not an e-mail address."), code="email_as_name")
    return value


class PersonNameForm(forms.Form):
    """The first and last name, as sign-up and the account page ask them (``User.display_name`` joins them)."""

    first_name = forms.CharField(
        label=_("First name"), max_length=100, error_messages={"required": _("Enter your first name.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, error_messages={"required": _("Enter your last name.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    def clean_first_name(self):
        return clean_person_name(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return clean_person_name(self.cleaned_data["last_name"])


class AnnouncementsForm(forms.Form):
    """The person's choice of call announcements (saved by ``domain.announcements_set``)."""

    call_announcements = forms.BooleanField(
        label=_("Send me call announcements"), required=False,
        help_text=_("An e-mail when a call is published and when it opens, with its dates and budget. Every "
                    "announcement has a link to stop them."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # a checkbox reads as a sentence, without a colon
        super().__init__(*args, **kwargs)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What will use it, e.g. \"finance export script\"."))
    scopes = forms.ChoiceField(label=_("It may"), choices=[
        ("read", _("Read only")), ("read write", _("Read and write (create, change, submit)"))])
    days = forms.TypedChoiceField(label=_("Valid for"), coerce=int, choices=[
        (30, _("30 days")), (90, _("90 days")), (365, _("1 year"))], initial=90)


class SignupForm(PersonNameForm, allauth_forms.SignupForm):
    """allauth's sign-up (e-mail address, password twice) with the person's first and last name, asked first:
    pages, mails and PDFs greet and show people by name (``User.display_name``). allauth's adapter stores
    them on the user (``DefaultAccountAdapter.save_user``)."""

    field_order = ["first_name", "last_name", "email", "password1", "password2"]


class ProfileForm(PersonNameForm):
    """The person's name and language on their account page (saved by ``domain.profile_update``)."""

    language = forms.ChoiceField(
        label=_("Language"), choices=settings.LANGUAGES,
        help_text=_("The language of the messages the platform sends you, and of these pages when you sign in."),
        error_messages={"invalid_choice": _("Choose one of the languages offered.")},
    )
    orcid = forms.CharField(label=pgettext_lazy("form label", "ORCID iD"), max_length=60, required=False,
                            help_text=_("Optional. 16 digits in four groups, e.g. 0000-0002-1825-0097."))
    hal_id = forms.CharField(label=pgettext_lazy("form label", "HAL author identifier (idHAL)"), max_length=120, required=False,
                             help_text=_("Optional. e.g. jean-dupont"))

    def clean_orcid(self):
        return orcid_normalise(self.cleaned_data["orcid"])

    def clean_hal_id(self):
        return hal_id_normalise(self.cleaned_data["hal_id"])
