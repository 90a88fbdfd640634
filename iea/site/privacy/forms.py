from django import forms
from django.utils.translation import gettext_lazy as _


class ErasureRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (optional)"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only the directorate reads it; it is deleted with your account."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account will be erased and that I will no longer be able to sign in."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
