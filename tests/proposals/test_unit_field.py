"""The editor's unit field: a search-as-you-type picker fed by ``calls:unit_search`` instead of a list of every unit
in each page, the way back from the search page without JavaScript, and the same checks of the code as before."""

import re

import pytest
from django.urls import reverse

from calls.models import Unit
from tests.factories import DelegationFactory, InstituteFactory, UnitFactory

from .test_editor import form_data

pytestmark = pytest.mark.django_db


def edit_url(proposal):
    return reverse("proposals:edit", args=[proposal.pk])


def test_the_field_is_a_picker_fed_by_the_unit_search(client, draft, pi):
    client.force_login(pi)
    html = client.get(edit_url(draft)).content.decode()
    field = html.split('id="field-unit_code"')[1].split('<div id="err-unit_code">')[0]
    assert "data-combobox" in field
    code, search = re.escape(draft.unit.code), re.escape(reverse("calls:unit_search"))
    assert re.search(rf'<input type="text" name="unit_code" value="{code}"[^>]* data-combobox-input '
                     rf'data-combobox-url="{search}"', field)
    assert '<ul class="combobox-listbox" id="unit-options" role="listbox" aria-label="Units found" hidden' in field
    assert 'id="unit-search-status" role="status"' in field
    assert 'src="/static/js/combobox.js"' in html
    # Without JavaScript, the same search as a page, which comes back to this editor.
    assert f'href="{reverse("calls:unit_search")}?next=/proposals/{draft.pk}/edit/">search the units</a>' in field
    assert "<datalist" not in html


def test_the_editor_no_longer_grows_with_the_units(client, draft, pi, queries):
    delegation, institute = DelegationFactory(), InstituteFactory()
    client.force_login(pi)
    sizes = []

    def grow(n):
        Unit.objects.bulk_create([
            Unit(unit_type="UMR", number=f"{8000 + Unit.objects.count() + i}", acronym=f"NEW{i}",
                 name=f"Laboratoire {Unit.objects.count() + i}", delegation=delegation, main_institute=institute)
            for i in range(n)
        ])

    def hit():
        response = client.get(edit_url(draft))
        sizes.append(len(response.content))
        return response

    first, second = queries.at_sizes(grow, hit, sizes=(1, 200))
    assert first == second
    assert len(set(sizes)) == 1, "the page's size changed with the number of units"


def test_a_unit_chosen_on_the_search_page_is_filled_in_and_kept_by_saving(client, draft, pi):
    unit = UnitFactory(unit_type="UMR", number="5175", acronym="CEFE", main_institute=draft.unit.main_institute)
    client.force_login(pi)
    response = client.get(edit_url(draft), {"unit_code": "UMR 5175"})
    html = response.content.decode()
    assert re.search(r'<input type="text" name="unit_code" value="UMR 5175"', html)
    assert "UMR 5175 is filled in as your unit: save to keep it." in html
    draft.refresh_from_db()
    assert draft.unit_id != unit.pk  # nothing is saved by following a link

    response = client.post(edit_url(draft), form_data(draft, unit_code="UMR 5175"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.unit_id == unit.pk


def test_a_code_that_came_back_wrong_gets_the_usual_message_on_saving(client, draft, pi):
    client.force_login(pi)
    before = draft.unit_id
    response = client.get(edit_url(draft), {"unit_code": "<b>UMR 9999</b>"})
    assert "&lt;b&gt;UMR 9999&lt;/b&gt; is filled in as your unit" in response.content.decode()
    response = client.post(edit_url(draft), form_data(draft, unit_code="UMR 9999"))
    assert response.status_code == 400
    assert "No CNRS unit UMR 9999 is known" in response.content.decode()
    draft.refresh_from_db()
    assert draft.unit_id == before


def test_the_autosave_keeps_the_field_and_answers_on_its_error_line(client, draft, pi):
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, unit_code="ecologie"),
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert '<div id="err-unit_code" hx-swap-oob="true">' in body
    assert "“ecologie” is not a unit code. Write the type and number, e.g. UMR 5558." in body
    assert 'id="field-unit_code"' not in body  # what is being typed is never replaced
