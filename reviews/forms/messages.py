"""The form of a new message in a conversation (#21): the text, and an optional PDF checked as support
letters are (``proposals.letters.check_pdf``, in the view, before the domain stores it)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.letters import pdf_help_text

from ..domain.messages import MESSAGE_MAX_CHARS


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"), max_length=MESSAGE_MAX_CHARS, strip=True,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write a message.")},
    )
    attachment = forms.FileField(
        label=_("Attach a PDF (optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = pdf_help_text()
