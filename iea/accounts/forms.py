from django import forms
from django.utils.translation import gettext_lazy as _


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
