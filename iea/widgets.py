"""Form widgets that stay fast with long lists of choices."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


class PlainSelect(forms.Select):
    """A ``<select>`` whose options are written in Python rather than through one template each.

    Django builds a context and renders a template for every option: the officer's assignment page, with
    over a thousand proposals in two lists, spent most of its time there (docs/benchmarks.md). Same HTML,
    without option groups.
    """

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in self.format_value(value)}
        options = []
        for option_value, label in self.choices:
            text = "" if option_value is None else str(option_value)
            options.append(format_html('<option value="{}"{}>{}</option>', text,
                                       mark_safe(" selected") if text in selected else "", label))
            if text in selected:
                selected = set()  # a single select: the first match only, as Django does
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)),
                           mark_safe("".join(options)))
