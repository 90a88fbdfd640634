"""``iea.widgets.PlainSelect`` writes the same HTML as Django's ``Select``, without a template per option."""

import pytest
from django import forms

from iea.widgets import PlainSelect

CHOICES = [("", "---------"), (1, "A & <b>"), (2, "B")]


@pytest.mark.parametrize("value", [None, 2, "1", "9"])
def test_the_html_is_djangos(value):
    attrs = {"id": "id_proposal", "required": True}
    django_html = forms.Select(choices=CHOICES).render("proposal", value, attrs=attrs)
    assert PlainSelect(choices=CHOICES).render("proposal", value, attrs=attrs) == django_html.replace("\n  ", "").replace("\n", "")
