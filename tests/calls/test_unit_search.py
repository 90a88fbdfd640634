"""The unit search (``calls.selectors.units_search``, ``calls:unit_search``): what it finds (code in any spelling,
name, acronym, city; case and accents ignored; at most 20), the search text it reads and how it is kept, who
may use it, the options it sends the editor's unit field, the page that works without JavaScript, and its
query counts."""

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.models import Unit
from calls.selectors import UNIT_SEARCH_LIMIT, units_search
from iea.text import fold
from tests.factories import DelegationFactory, InstituteFactory, UnitFactory, UserFactory
from tests.reviews.factories import ReviewerFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("calls:unit_search")


@pytest.fixture
def units():
    return {
        "ecolab": UnitFactory(unit_type="UMR", number="5245", acronym="ECOLAB",
                              name="Laboratoire écologie fonctionnelle et environnement", city="Toulouse"),
        "cefe": UnitFactory(unit_type="UMR", number="5175", acronym="CEFE",
                            name="Centre d'Écologie Fonctionnelle et Évolutive", city="Montpellier"),
        "irl": UnitFactory(unit_type="IRL", number="3614", acronym="IFAECI",
                           name="Institut franco-argentin d'études sur le climat", city="Buenos Aires"),
        "orleans": UnitFactory(unit_type="UPR", number="4301", acronym="CBM",
                               name="Centre de biophysique moléculaire", city="Orléans"),
    }


def found(query, **kwargs):
    return [unit.acronym for unit in units_search(query, **kwargs).units]


# --- What it finds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["UMR 5245", "umr5245", "umr-5245", "Umr 5245", "5245"])
def test_a_unit_is_found_by_its_code_in_any_spelling(units, query):
    assert found(query) == ["ECOLAB"]


@pytest.mark.parametrize(("query", "expected"), [
    ("écologie", ["CEFE", "ECOLAB"]),
    ("ECOLOGIE", ["CEFE", "ECOLAB"]),
    ("Evolutive", ["CEFE"]),
    ("orleans", ["CBM"]),
    ("ORLÉANS", ["CBM"]),
    ("ifaeci", ["IFAECI"]),
    ("d'études", ["IFAECI"]),
    ("buenos", ["IFAECI"]),
    ("fonctionnelle toulouse", ["ECOLAB"]),  # every word, wherever it is
    ("fonctionnelle lyon", []),
])
def test_a_unit_is_found_by_name_acronym_or_city_case_and_accents_ignored(units, query, expected):
    assert found(query) == expected


def test_the_unit_whose_code_or_acronym_is_the_query_comes_first(units):
    cefe2 = UnitFactory(unit_type="UMR", number="5001", acronym="CEFE2", name="Centre d'études", city="Paris")
    assert found("cefe") == ["CEFE", "CEFE2"]
    assert [unit.pk for unit in units_search("UMR 5175").units] == [units["cefe"].pk]
    assert found("umr") == ["CEFE2", "CEFE", "ECOLAB"]  # then by code
    assert cefe2.search_text == "umr 5001 umr5001 cefe2 centre d etudes paris"


def test_at_most_twenty_are_sent_and_the_search_says_there_are_more():
    delegation, institute = DelegationFactory(), InstituteFactory()
    Unit.objects.bulk_create([
        Unit(unit_type="UMR", number=f"{7000 + i}", acronym=f"GEO{i}", name="Géosciences", city="Rennes",
             delegation=delegation, main_institute=institute)
        for i in range(UNIT_SEARCH_LIMIT + 1)
    ])
    search = units_search("geosciences")
    assert (len(search.units), search.more) == (UNIT_SEARCH_LIMIT, True)
    assert (len(units_search("geosciences", limit=21).units), units_search("geosciences", limit=21).more) == (21, False)


@pytest.mark.parametrize("query", ["", "  ", "e", "é", "-", "'", "%"])
def test_under_two_letters_nothing_is_looked_for(units, query):
    with CaptureQueriesContext(connection) as queries:
        search = units_search(query)
    assert (search.units, search.more, search.searched, len(queries)) == ([], False, False, 0)


def test_wildcards_are_only_characters(units):
    assert found("%%") == []
    assert found("_ _") == []


# --- The search text ----------------------------------------------------------------------------------------


def test_the_search_text_is_the_fold_of_the_code_acronym_name_and_city():
    assert fold("Lab. d'Écologie — Besançon") == "lab d ecologie besancon"
    unit = UnitFactory(unit_type="umr", number="42", acronym="LÉA", name="Lab d'Été", city="Nîmes")
    assert Unit.objects.get(pk=unit.pk).search_text == "umr 0042 umr0042 lea lab d ete nimes"


def test_the_search_text_follows_every_change_of_the_unit(units):
    unit = units["ecolab"]
    unit.name, unit.city = "Écosystèmes", "Albi"
    unit.save(update_fields=["name", "city"])
    unit.acronym = "ÉCO"
    unit.save()
    made = Unit.objects.bulk_create([Unit(unit_type="UAR", number="0001", acronym="Ä", name="Îles", city="",
                                          delegation=unit.delegation, main_institute=unit.main_institute)])
    # Kept values equal a recomputation, for every unit.
    stored = dict(Unit.objects.values_list("pk", "search_text"))
    assert stored == {u.pk: u.searchable_text() for u in Unit.objects.all()}
    assert stored[unit.pk] == "umr 5245 umr5245 eco ecosystemes albi"
    assert stored[made[0].pk] == "uar 0001 uar0001 a iles"


def test_the_migration_writes_the_same_search_text_for_the_units_already_there(units):
    migration = importlib.import_module("calls.migrations.0011_unit_search_text")
    Unit.objects.update(search_text="")
    from django.apps import apps
    migration.write_search_text(apps, None)
    assert dict(Unit.objects.values_list("pk", "search_text")) == {u.pk: u.searchable_text() for u in Unit.objects.all()}


# --- Who may use it -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_anonymous_is_sent_to_sign_in(client, units, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(SEARCH, {"q": "ecologie"}, **headers)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('account_login')}?next={SEARCH}%3Fq%3Decologie")
    assert b"ECOLAB" not in response.content


def test_a_signed_in_pi_searches(client, units):
    client.force_login(UserFactory())
    response = client.get(SEARCH, {"q": "ecologie"})
    assert response.status_code == 200
    assert [unit.acronym for unit in response.context["search"].units] == ["CEFE", "ECOLAB"]


def test_a_reviewer_without_two_factor_authentication_sets_it_up_first(client, units):
    reviewer = ReviewerFactory(mfa=False)
    client.force_login(reviewer.user)
    response = client.get(SEARCH, {"q": "ecologie"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_reviewer_with_two_factor_authentication_searches(client, units):
    reviewer = ReviewerFactory()
    client.force_login(reviewer.user)
    assert client.get(SEARCH, {"q": "cefe"}, HTTP_HX_REQUEST="true").status_code == 200


def test_the_search_only_reads(client, units):
    client.force_login(UserFactory())
    assert client.post(SEARCH, {"q": "ecologie"}).status_code == 405


# --- The options of the editor's field ----------------------------------------------------------------------


def test_the_field_gets_one_option_per_unit_and_what_was_found_out_of_band(client, units):
    client.force_login(UserFactory())
    response = client.get(SEARCH, {"q": "Ecologie"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert [t.name for t in response.templates][:1] == ["calls/_unit_options.html"]
    assert html.count('role="option"') == 2
    assert (f'<li role="option" id="unit-option-{units["cefe"].pk}" class="combobox-option" data-value="UMR 5175" '
            'aria-selected="false"><strong>UMR 5175</strong> CEFE <span class="combobox-detail">'
            "Centre d&#x27;Écologie Fonctionnelle et Évolutive, Montpellier</span></li>") in html
    assert '<span id="unit-search-status" hx-swap-oob="innerHTML">2 units found.</span>' in html
    assert "<html" not in html


@pytest.mark.parametrize(("query", "status"), [
    ("zzz", "No unit matches “zzz”."),
    ("z", "Type at least 2 letters or digits."),
    ("", ""),
    ("UMR 5245", "1 unit found."),
])
def test_the_field_is_told_what_was_found(client, units, query, status):
    client.force_login(UserFactory())
    html = client.get(SEARCH, {"q": query}, HTTP_HX_REQUEST="true").content.decode()
    assert f'<span id="unit-search-status" hx-swap-oob="innerHTML">{status}</span>' in html


def test_more_than_twenty_asks_for_more_letters(client):
    delegation, institute = DelegationFactory(), InstituteFactory()
    Unit.objects.bulk_create([
        Unit(unit_type="UMR", number=f"{7000 + i}", name="Géosciences", delegation=delegation, main_institute=institute)
        for i in range(UNIT_SEARCH_LIMIT + 5)
    ])
    client.force_login(UserFactory())
    html = client.get(SEARCH, {"q": "geo"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.count('role="option"') == UNIT_SEARCH_LIMIT
    assert "The first 20 units found: type more to narrow the search." in html


def test_the_options_take_the_same_number_of_queries_for_one_and_three_units(client, queries):
    delegation, institute = DelegationFactory(), InstituteFactory()
    client.force_login(UserFactory())

    def grow(n):
        for _ in range(n):
            UnitFactory(name="Laboratoire de géologie", delegation=delegation, main_institute=institute)

    hit = lambda: client.get(SEARCH, {"q": "geologie"}, HTTP_HX_REQUEST="true")  # noqa: E731
    # The session, the user, their roles and the search.
    assert queries.at_sizes(grow, hit, sizes=(1, 3)) == (4, 4)
    assert hit().content.decode().count('role="option"') == 3


# --- The page, without JavaScript ---------------------------------------------------------------------------


def test_the_page_lists_the_units_with_a_link_back_to_the_editor_filled_in(client, units):
    client.force_login(UserFactory())
    response = client.get(SEARCH, {"q": "écologie", "next": "/proposals/7/edit/"})
    html = response.content.decode()
    assert response.templates[0].name == "calls/unit_search.html"
    assert '<input type="hidden" name="next" value="/proposals/7/edit/">' in html
    assert 'value="écologie"' in html
    assert "2 units found." in html
    assert [unit.choose_url for unit in response.context["search"].units] == [
        "/proposals/7/edit/?unit_code=UMR+5175", "/proposals/7/edit/?unit_code=UMR+5245"]
    assert 'href="/proposals/7/edit/?unit_code=UMR+5175">Choose<span class="sr-only"> UMR 5175</span></a>' in html
    assert '<a href="/proposals/7/edit/">Back without choosing</a>' in html


def test_the_link_back_keeps_the_query_of_the_page_it_returns_to(client, units):
    client.force_login(UserFactory())
    response = client.get(SEARCH, {"q": "cefe", "next": "/proposals/7/edit/?tab=unit&unit_code=old"})
    assert [unit.choose_url for unit in response.context["search"].units] == [
        "/proposals/7/edit/?tab=unit&unit_code=UMR+5175"]


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "edit/"])
def test_the_page_leads_back_only_to_this_site(client, units, next_url):
    client.force_login(UserFactory())
    response = client.get(SEARCH, {"q": "cefe", "next": next_url})
    html = response.content.decode()
    assert response.context["back"] == ""
    assert 'id="units-found"' in html
    assert "?unit_code=" not in html and "Back without choosing" not in html
    assert '<input type="hidden" name="next"' not in html.split('id="unit-search"')[1].split("</form>")[0]
    assert "UMR 5175" in html  # the search itself still answers


def test_the_page_without_a_query_shows_the_form_only(client, units):
    client.force_login(UserFactory())
    response = client.get(SEARCH)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="unit-search"' in html and 'id="units-found"' not in html and 'id="unit-search-status"' not in html
