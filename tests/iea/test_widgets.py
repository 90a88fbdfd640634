"""``iea.widgets``: ``LongSelect`` writes exactly the HTML of Django's Select, which renders each option through a
template; ``FormRenderer`` writes exactly what Django's widget, label and error-list templates write."""

import re
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.choices import BaseChoiceIterator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django_countries import countries

from iea import widgets
from iea.widgets import WRITERS, FormRenderer, LongSelect

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


# --- iea.widgets.FormRenderer: the small templates written in Python ----------------------------------------

DJANGO = DjangoTemplates()


def test_each_copied_template_is_the_one_django_loads():
    # A Django upgrade that changes one of them fails here: update the copy (or its source) with it.
    renderer = FormRenderer()
    assert [name for name in WRITERS if renderer.writer(name) is None] == []


def test_a_template_that_is_not_the_copied_one_is_rendered_by_django(monkeypatch):
    monkeypatch.setitem(widgets.SOURCES, "django/forms/widgets/attrs.html", "{# another app's override #}")
    renderer = FormRenderer()

    assert renderer.writer("django/forms/widgets/text.html") is None
    assert renderer.writer("django/forms/widgets/textarea.html") is None
    assert renderer.writer("django/forms/label.html") is not None  # it includes django/forms/attrs.html
    assert forms.TextInput().render("t", "x", renderer=renderer) == '<input type="text" name="t" value="x">'


NASTY = '"><script>alert(1)</script>&amp;'
WIDGET_CASES = [
    (forms.TextInput(), "x"), (forms.TextInput(), None), (forms.TextInput(), ""), (forms.TextInput(), NASTY),
    (forms.TextInput(attrs={"list": "unit-codes", "autocomplete": "off", "maxlength": 20, "required": True,
                            "disabled": False, "placeholder": gettext_lazy("Name")}), "UMR 5558"),
    (forms.TextInput(attrs={"data-x": mark_safe("<b>safe</b>"), "title": NASTY}), mark_safe("<i>kept</i>")),
    (forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}), Decimal("6000.50")),
    (forms.NumberInput(), 12345678), (forms.EmailInput(), "ana@usp.example.br"), (forms.URLInput(), "https://x/?a=1&b=2"),
    (forms.PasswordInput(render_value=True), "secret"), (forms.HiddenInput(), 7), (forms.DateInput(), "2027-09-30"),
    (forms.DateTimeInput(), None), (forms.TimeInput(), "13:00"),
    (forms.CheckboxInput(), True), (forms.CheckboxInput(), False), (forms.CheckboxInput(), None),
    (forms.FileInput(), None), (forms.ClearableFileInput(), None),
    (forms.Textarea(attrs={"rows": 6}), "Two teams\ncompare <storms> & archives"), (forms.Textarea(), ""),
    (forms.Textarea(), None), (forms.Textarea(), "\n leading newline"),
    (forms.Select(choices=CHOICES), "IT"), (forms.Select(choices=CHOICES), None),
    (forms.Select(choices=[(1, 1000), (2, 2.5)]), 1),  # numbers as labels: the template localizes, so it renders them
    (forms.Select(choices=[("", gettext_lazy("The unit's main institute")), ("a", NASTY)]), "a"),
    (forms.SelectMultiple(choices=CHOICES), ["BR", "DE"]), (forms.NullBooleanSelect(), True),
    (forms.RadioSelect(choices=CHOICES), "BR"), (forms.CheckboxSelectMultiple(choices=CHOICES), ["BR"]),
]


@pytest.mark.parametrize(("widget", "value"), WIDGET_CASES, ids=lambda case: type(case).__name__)
def test_every_widget_renders_what_djangos_templates_render(widget, value):
    for attrs in (None, {"id": "id_f", "aria-describedby": "id_f_helptext", "required": True}):
        assert widget.render("f", value, attrs=attrs, renderer=FormRenderer()) == widget.render(
            "f", value, attrs=attrs, renderer=DJANGO)


class EveryKind(forms.Form):
    text = forms.CharField(label="Title <em>", help_text="At most 5", max_length=5)
    number = forms.IntegerField(min_value=0, label=gettext_lazy("Amount"))
    choice = forms.ChoiceField(choices=CHOICES)
    flag = forms.BooleanField(required=False, label_suffix="")
    long = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    many = forms.MultipleChoiceField(choices=[("1", "a"), ("2", "b")])
    day = forms.DateField()
    file = forms.FileField()

    def clean(self):
        raise forms.ValidationError(["A rule of the whole form <b>", "and a second"])


@pytest.mark.parametrize("data", [None, {"text": "too long <x>", "number": "-3", "choice": "XX", "flag": "on",
                                         "long": "a < b", "many": ["1"], "day": "not a day"}])
def test_a_form_with_its_labels_and_errors_renders_what_djangos_templates_render(data):
    fast, django = EveryKind(data, renderer=FormRenderer()), EveryKind(data, renderer=DJANGO)

    assert str(fast) == str(django)
    assert [fast[name].label_tag() for name in fast.fields] == [django[name].label_tag() for name in django.fields]
    assert [str(fast[name].errors) for name in fast.fields] == [str(django[name].errors) for name in django.fields]
    assert str(fast.non_field_errors()) == str(django.non_field_errors())
    if data:
        assert "<li>A rule of the whole form &lt;b&gt;</li>" in str(fast.non_field_errors())


@pytest.mark.django_db
def test_the_editor_page_is_the_html_djangos_templates_write(client, settings, draft):
    def page():
        html = client.get(f"/proposals/{draft.pk}/edit/").content.decode()
        return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', r'\1"…"', html)

    client.force_login(draft.pi)
    fast = page()
    settings.FORM_RENDERER = "django.forms.renderers.DjangoTemplates"
    assert page() == fast
    assert fast.count('<div class="field') > 20


class Cached(BaseChoiceIterator):
    """Choices ``LongSelect`` writes once per key, as the editor's countries."""

    cache_key = ("test", "cached choices")

    def __init__(self, choices):
        self.choices = choices

    def __iter__(self):
        return iter(self.choices)


@pytest.mark.parametrize("value", ["", "BR", "CI", None, "XX", 7])
def test_options_written_once_render_what_django_renders(value):
    choices = Cached([("", "—"), ("BR", "Brazil"), ("CI", "Côte d'Ivoire <&>"), (7, "Seven")])
    for attrs in (None, {"id": "id_country", "required": True, "aria-describedby": "help"}):
        expected = forms.Select(choices=list(choices)).render("country", value, attrs=attrs)
        assert LongSelect(choices=choices).render("country", value, attrs=attrs) == expected
    assert widgets._OPTIONS[Cached.cache_key][1][1] == '\n  <option value="BR"'


def test_the_editors_countries_are_written_once_per_language():
    from django.utils import translation

    from proposals.forms import ProposalForm

    field = ProposalForm.base_fields["partner_country"]
    for language, brazil in (("fr", "Brésil"), ("en", "Brazil")):
        with translation.override(language):
            html = field.widget.render("partner_country", "BR", attrs={"id": "id_partner_country"})
            assert html == forms.Select(choices=list(field.choices)).render(
                "partner_country", "BR", attrs={"id": "id_partner_country"})
            assert f'<option value="BR" selected>{brazil}</option>' in html
            assert ("countries", language) in widgets._OPTIONS


def test_a_label_is_translated_once_in_the_language_of_the_page():
    from django.utils import translation

    for language, label, suffix in (("fr", "Montant", "\xa0:"), ("en", "Amount", ":")):
        with translation.override(language):
            field = EveryKind(renderer=FormRenderer())["number"]
            assert (type(field), field.label, field.label_tag()) == (
                widgets.BoundField, label, f'<label for="id_number">{label}{suffix}</label>')
