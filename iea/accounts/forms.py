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
