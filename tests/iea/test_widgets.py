"""``iea.widgets.LongSelect`` writes exactly the HTML of Django's Select, which renders each option through a template."""

from django import forms
from django_countries import countries

from iea.widgets import LongSelect

CHOICES = [("", "—"), ("BR", "Brazil"), ("CI", "Côte d'Ivoire <&>"), ("Europe", [("DE", "Germany"), ("IT", "Italy")])]


def test_the_html_is_djangos_own():
    for value in ("", "BR", "CI", "IT", None, "XX"):
        for attrs in (None, {"id": "id_country", "required": True, "aria-describedby": "help"}, {"disabled": False}):
            expected = forms.Select(choices=CHOICES).render("country", value, attrs=attrs)
            assert LongSelect(choices=CHOICES).render("country", value, attrs=attrs) == expected


def test_the_countries_field_of_the_editor_renders_the_same():
    choices = [("", "—"), *countries]
    assert LongSelect(choices=choices).render("partner_country", "BR", attrs={"id": "id_partner_country"}) == (
        forms.Select(choices=choices).render("partner_country", "BR", attrs={"id": "id_partner_country"}))


def test_labels_and_values_are_escaped():
    html = LongSelect(choices=[('"><script>', "<b>x</b>")]).render("f", None)

    assert "<script>" not in html and "<b>" not in html


def test_a_model_choice_field_renders_the_same():
    from reviews.forms.officer import ProposalChoiceField

    field = ProposalChoiceField(queryset=None)
    field.choices = [("", "---------"), (1, "IEA27-000001 COAST"), (2, "IEA27-000002 <b>")]
    assert isinstance(field.widget, LongSelect)
    assert field.widget.render("proposal", 2) == forms.Select(choices=field.choices).render("proposal", 2)
