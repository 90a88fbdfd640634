"""Cloning a call warns of texts that still name the previous call's year (issue #15): the clone succeeds,
and its admin page lists each text naming the old year, in the staff member's language, until they are fixed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.domain import call_clone, call_source_year, call_stale_year_fields
from calls.models import Call, CallState, Criterion, InstitutePriority
from tests.factories import CallFactory, InstituteFactory

pytestmark = pytest.mark.django_db

STALE_EN = ["summary (English)", "rules (French)", "criterion 2: guidance (English)",
            "priorities of INSU: priority themes (French)"]


@pytest.fixture
def source():
    source = CallFactory(year=2036, title_fr="IEA 2036", title_en="IEA 2036", state=CallState.CLOSED,
                         summary_fr="L'appel IEA.", summary_en="The IEA 2036 call.",
                         rules_fr="Dépôt jusqu'au 30 septembre 2036.", rules_en="Since March 2022, no new projects "
                         "with Russia; reference 120365 is not a year.")
    Criterion.objects.filter(call=source, position=2).update(guidance_en="See the 2036 guide.")
    InstitutePriority.objects.create(call=source, institute=InstituteFactory(code="INSU"),
                                     themes_fr="Océans (priorité 2036)", themes_en="Oceans")
    return source


def clone(source, staff, year=2037):
    return call_clone(source_id=source.pk, year=year, user=staff, now=timezone.now()).call


def test_the_clone_lists_each_text_still_naming_the_old_year(source, staff):
    new = clone(source, staff)
    assert new.title_en == "IEA 2037"  # the title's year is moved by the clone itself
    assert call_source_year(new) == 2036
    assert call_stale_year_fields(new) == STALE_EN


def test_a_clone_from_an_older_call_checks_that_calls_year(source, staff):
    CallFactory(year=2038)
    new = clone(source, staff, year=2039)
    assert call_source_year(new) == 2036  # the source, not the call just before (2038)
    assert call_stale_year_fields(new) == STALE_EN


def test_nothing_to_fix_once_the_texts_are_updated(source, staff):
    new = clone(source, staff)
    Call.objects.filter(pk=new.pk).update(summary_en="The IEA 2037 call.", rules_fr="Dépôt jusqu'au 30 septembre 2037.")
    new.criteria.filter(position=2).update(guidance_en="See the 2037 guide.")
    new.priorities.update(themes_fr="Océans")
    new.refresh_from_db()
    assert call_stale_year_fields(new) == []


def test_an_open_call_is_not_flagged(source, staff):
    new = clone(source, staff)
    Call.objects.filter(pk=new.pk).update(state=CallState.OPEN)
    new.refresh_from_db()
    assert call_stale_year_fields(new) == []


def test_a_new_call_without_a_source_is_checked_against_the_previous_year(staff):
    CallFactory(year=2040)
    call = CallFactory(year=2041, state=CallState.DRAFT, summary_en="Follows IEA 2040.")
    assert call_stale_year_fields(call) == ["summary (English)"]


# The admin -------------------------------------------------------------------------------------------------


def test_staff_clone_then_see_the_warning_on_the_new_calls_page_until_fixed(client, staff, source):
    client.force_login(staff)
    response = client.post(reverse("admin:calls_call_clone", args=[source.pk]), {"year": "2037"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    new = Call.objects.get(year=2037)
    assert response.redirect_chain == [(reverse("admin:calls_call_change", args=[new.pk]), 302)]
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown[0][0] == "success"
    assert shown[1] == ("warning", "These texts still name 2036, the previous call's year: " + ", ".join(STALE_EN)
                        + ". Update them for 2037 before publishing.")

    # Still there on the next visit, gone once fixed.
    page = client.get(reverse("admin:calls_call_change", args=[new.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert [m.level_tag for m in page.context["messages"]] == ["warning"]
    Call.objects.filter(pk=new.pk).update(summary_en="The IEA 2037 call.", rules_fr="Dépôt 2037.")
    new.criteria.filter(position=2).update(guidance_en="")
    new.priorities.update(themes_fr="")
    page = client.get(reverse("admin:calls_call_change", args=[new.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert list(page.context["messages"]) == []


def test_the_warning_in_french(client, staff, source):
    new = clone(source, staff)
    client.force_login(staff)
    page = client.get(reverse("admin:calls_call_change", args=[new.pk]), HTTP_ACCEPT_LANGUAGE="fr")
    [message] = [str(m) for m in page.context["messages"]]
    assert message.startswith("Ces textes mentionnent encore 2036, l'année de l'appel précédent\u00a0: résumé (anglais)")
    assert "critère 2\u00a0: " in message


@pytest.mark.parametrize("who", ["pi", "anonymous"])
def test_nobody_else_reaches_the_page(client, source, staff, pi, who):
    new = clone(source, staff)
    if who == "pi":
        client.force_login(pi)
    response = client.get(reverse("admin:calls_call_change", args=[new.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
