"""The back office's index is organised by the work (iea/site/backoffice/sections.py), not by the apps."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from iea.site.backoffice import sections
from iea.site.backoffice.sections import SECTIONS
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ORDER = ["calls", "screening", "review", "decisions", "funding", "people", "system"]


def registered() -> set[str]:
    return {model._meta.label for model in admin.site._registry}


def test_every_registered_model_is_in_one_section_or_hidden():
    placed = [label for section in SECTIONS for label in (*section.models, *section.hidden)]
    assert len(placed) == len(set(placed)), "a model is placed twice"
    assert sorted(registered() - set(placed)) == []


def index_sections(client) -> dict[str, list[str]]:
    """Each section of the index, in order, with the names of its rows."""
    html = client.get(reverse("admin:index")).content.decode()
    found = {}
    for key, body in re.findall(r'id="section-(\w+)">(.*?)</table>', html, re.S):
        found[key] = [re.sub(r"\s+", " ", name).strip()
                      for name in re.findall(r'<th scope="row"[^>]*>\s*<a [^>]*>(.*?)</a>', body, re.S)]
    return found


def test_staff_see_the_seven_sections_in_order_with_their_pages_and_lists(client, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(StaffFactory())
    found = index_sections(client)
    assert list(found) == ORDER
    assert found["screening"] == ["Screening by call", "Proposals", "Conversations"]  # #21 messages
    assert found["decisions"] == ["Decisions by call", "Decisions"]
    assert found["funding"] == ["Awards", "Annual reports", "Amendments"]  # #21 amendments
    listed = {name for names in found.values() for name in names}
    for hidden in ("Tranches", "Spending lines", "API tokens", "Partner invitations"):
        assert hidden not in listed


def test_a_hidden_list_still_answers(client):
    client.force_login(StaffFactory())
    for label in ("funding.Tranche", "proposals.PartnerInvitation", "accounts.ApiToken"):
        app_label, model = label.lower().split(".")
        assert client.get(reverse(f"admin:{app_label}_{model}_changelist")).status_code == 200


def test_an_apps_page_leads_to_the_section_of_its_lists(client):
    client.force_login(StaffFactory())
    expected = {"calls": "calls", "proposals": "screening", "reviews": "review", "funding": "funding",
                "accounts": "people", "notifications": "system", "audit": "system", "privacy": "people"}
    for app_label, key in expected.items():
        response = client.get(reverse("admin:app_list", args=[app_label]))
        assert (response.status_code, response["Location"]) == (302, f"/admin/#section-{key}")


def test_a_page_and_a_list_show_only_to_whom_may_open_them(client):
    """A staff member who may view the calls and nothing else sees only the Calls section's call list, and the
    statistics (every staff member may read the proposals: proposals.rules)."""
    clerk = StaffFactory(is_superuser=False)
    clerk.user_permissions.add(Permission.objects.get(codename="view_call"))
    client.force_login(clerk)
    assert index_sections(client) == {"calls": ["Statistics", "Calls"]}
    clerk.user_permissions.add(Permission.objects.get(codename="view_decision"))
    client.force_login(clerk)
    assert index_sections(client)["decisions"] == ["Decisions by call", "Decisions"]


def test_groups_show_to_superusers_only(client):
    clerk = StaffFactory(is_superuser=False)
    clerk.user_permissions.add(Permission.objects.get(codename="view_group"),
                               Permission.objects.get(codename="view_user"))
    client.force_login(clerk)
    assert index_sections(client) == {"calls": ["Statistics"], "people": ["Users"]}


def test_a_model_in_no_section_shows_under_system_rather_than_vanish(client, monkeypatch, settings):
    settings.LANGUAGE_CODE = "en"
    without_units = tuple(
        sections.Section(s.key, s.label, models=tuple(m for m in s.models if m != "calls.Unit"), pages=s.pages,
                         hidden=s.hidden, superuser_only=s.superuser_only) for s in SECTIONS)
    monkeypatch.setattr("iea.site.backoffice.site.SECTIONS", without_units)
    client.force_login(StaffFactory())
    found = index_sections(client)
    assert "Units" not in found["calls"] and found["system"][-1] == "Units"


def test_an_apps_page_asks_a_visitor_to_sign_in_first(client):
    response = client.get(reverse("admin:app_list", args=["funding"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_header_bar_leads_home_to_the_work_and_switches_language(client, settings):
    settings.LANGUAGE_CODE = "en"
    staff = StaffFactory()
    client.force_login(staff)
    page = client.get(reverse("admin:calls_call_changelist")).content.decode()
    bar = page[page.index('<nav id="nav-global"'):page.index("</nav>", page.index('<nav id="nav-global"'))]
    assert re.findall(r'href="([^"]+)"', bar) == [
        "/admin/", "/admin/#next-actions", reverse("admin:statistics"), reverse("admin:reviews_staff_calls")]
    assert 'name="next" value="/admin/calls/call/"' in bar
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/admin/calls/call/"})
    assert response["Location"] == "/admin/calls/call/"
    assert "Accueil" in client.get("/admin/calls/call/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    # Someone who may not open the screening pages is not offered them.
    clerk = StaffFactory(is_superuser=False)
    clerk.user_permissions.add(Permission.objects.get(codename="view_call"))
    client.force_login(clerk)
    page = client.get(reverse("admin:calls_call_changelist")).content.decode()
    assert reverse("admin:reviews_staff_calls") not in page


def test_a_pi_or_a_reviewer_does_not_reach_the_back_office(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
