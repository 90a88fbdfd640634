"""Forms of the reviewer profile (the reviewer's own page and the officer's view of a pool member). They check
shapes; ``reviews.domain.publications`` decides and saves."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from iea.identifiers import hal_id_normalise, orcid_normalise

from ..domain.publications import MAX_FILE_BYTES


class IdentifiersForm(forms.Form):
    orcid = forms.CharField(label=pgettext_lazy("form label", "ORCID iD"), max_length=60, required=False,
                            help_text=_("16 digits in four groups, e.g. 0000-0002-1825-0097."))
    hal_id = forms.CharField(label=pgettext_lazy("form label", "HAL author identifier (idHAL)"), max_length=120, required=False,
                             help_text=_("e.g. jean-dupont"))

    def clean_orcid(self):
        return orcid_normalise(self.cleaned_data["orcid"])

    def clean_hal_id(self):
        return hal_id_normalise(self.cleaned_data["hal_id"])


class ExpertiseForm(forms.Form):
    keywords = forms.CharField(label=_("Expertise keywords"), max_length=400, required=False,
                               help_text=_("Separated by commas."))
    sections = forms.CharField(label=_("CNRS sections"), max_length=100, required=False, help_text=_("e.g. 11, 14"))


class PublicationFileForm(forms.Form):
    file = forms.FileField(
        label=_("Export file"),
        help_text=_("A HAL export (BibTeX, CSV or TEI) or an ORCID works export (JSON), at most 5 MB."),
        error_messages={"required": _("Choose the file to import.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".bib,.csv,.xml,.json,.txt"}),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_FILE_BYTES:
            raise ValidationError(_("The file is larger than %(size)s MB: export fewer publications at a time.")
                                  % {"size": MAX_FILE_BYTES // (1024 * 1024)}, code="too_large")
        return file
