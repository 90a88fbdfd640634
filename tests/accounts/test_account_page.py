"""The account page (/account/): every signed-in person, whatever their role, sees and edits only their own
name and language there, and finds their addresses, password, two-factor, notifications, API tokens,
deadlines and data; the header's name leads to it. Anonymous people are sent to sign in."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from iea.accounts.domain import profile_update
from iea.accounts.models import User
from iea.audit.actions import action_label
from iea.audit.models import AuditEntry
from iea.errors import DomainError
from tests.factories import InstituteFactory, StaffFactory, UnitFactory, UserFactory, activate_totp
from tests.reviews.factories import PanelFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

URL = "/account/"


def test_the_address_is_the_one_the_header_links_to():
    assert reverse("account") == URL


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('account_login')}?next={URL}")
    response = client.post(URL, {"first_name": "Eve", "last_name": "Intruder", "language": "en"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def _people():
    institute = InstituteFactory()
    officer = UserFactory(first_name="Olivia", last_name="Officer")
    activate_totp(officer)
    PanelFactory(institute=institute).officers.add(officer)
    manager = UserFactory(first_name="Manon", last_name="Gestionnaire")
    UnitFactory().managers.add(manager)
    return {
        "pi": UserFactory(first_name="Paula", last_name="Investigator"),
        "other_pi": UserFactory(first_name="Pierre", last_name="Autre"),
        "reviewer": ReviewerFactory(institute=institute, user=UserFactory(first_name="Rita", last_name="Reviewer")).user,
        "officer": officer,
        "staff": StaffFactory(first_name="Sophie", last_name="Directorate"),
        "unit_manager": manager,
    }


@pytest.mark.parametrize("role", ["pi", "other_pi", "reviewer", "officer", "staff", "unit_manager"])
def test_each_role_sees_their_own_account_only(client, role):
    people = _people()
    me = people[role]
    client.force_login(me)
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'value="{me.first_name}"' in body and f'value="{me.last_name}"' in body
    assert me.email in body
    # The header names them and leads here, on this page as on the others.
    link = f'<a class="user-name" href="{URL}" aria-current="page"><span class="sr-only">Signed in as </span>{me.display_name}</a>'
    assert link in body
    assert f'<a class="user-name" href="{URL}"><span class="sr-only">Signed in as </span>{me.display_name}</a>' in (
        client.get(reverse("calls:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode())
    for other in people.values():
        if other != me:
            assert other.email not in body and other.last_name not in body


def test_the_page_leads_to_addresses_password_two_factor_notifications_tokens_deadlines_and_data(client, pi):
    client.force_login(pi)
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name in ("account_email", "account_change_password", "mfa_index", "notifications", "api_tokens", "calendar",
                 "privacy:page"):
        assert f'href="{reverse(name)}"' in body, name
    for name in ("account_email", "account_change_password", "mfa_index"):
        assert client.get(reverse(name)).status_code == 200, name


def test_someone_who_signs_in_through_janus_may_set_a_password(client):
    person = UserFactory(first_name="Noël", last_name="Nouveau", password=None)
    person.set_unusable_password()
    person.save(update_fields=["password"])
    client.force_login(person)
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{reverse("account_set_password")}"' in body
    assert "You sign in through your institution (Janus)." in body


def test_a_person_changes_their_name_and_language(client, pi):
    client.force_login(pi)
    response = client.post(URL, {"first_name": " Zoé ", "last_name": "Lefèvre-Åkesson", "language": "fr",
                                 "email": "hijack@example.org", "is_staff": "on"}, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Location"]) == (302, URL)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    pi.refresh_from_db()
    assert (pi.first_name, pi.last_name, pi.full_name, pi.language, pi.email, pi.is_staff) == (
        "Zoé", "Lefèvre-Åkesson", "Zoé Lefèvre-Åkesson", "fr", "pi@cnrs.example.fr", False)
    page = client.get(URL).content.decode()
    assert "Votre compte est enregistré." in page
    assert ">Zoé Lefèvre-Åkesson</a>" in page
    [entry] = AuditEntry.objects.filter(action="account.profile_update")
    assert (entry.actor, entry.object_id, entry.data) == (
        pi, str(pi.pk), {"changed": ["first_name", "last_name", "language"], "language": "fr"})
    with translation.override("fr"):
        assert action_label("account.profile_update") == "Nom, langue ou identifiants de chercheur ou chercheuse modifiés"


@pytest.mark.parametrize(("language", "errors"), [
    ("en", {"first_name": ["Enter your first name."], "language": ["Choose one of the languages offered."]}),
    ("fr", {"first_name": ["Indiquez votre prénom."], "language": ["Choisissez l'une des langues proposées."]}),
])
def test_a_bad_entry_is_refused_clearly_and_nothing_is_lost(client, pi, language, errors):
    client.force_login(pi)
    response = client.post(URL, {"first_name": "", "last_name": "Nouveau-Nom", "language": "xx"},
                           HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert 'value="Nouveau-Nom"' in response.content.decode()  # what was typed stays in the form
    pi.refresh_from_db()
    assert (pi.first_name, pi.last_name, pi.language) == ("Paula", "Investigator", "en")
    assert not AuditEntry.objects.filter(action="account.profile_update").exists()


def test_saving_the_same_values_changes_nothing(client, pi):
    client.force_login(pi)
    client.post(URL, {"first_name": "Paula", "last_name": "Investigator", "language": "en"})
    assert not AuditEntry.objects.filter(action="account.profile_update").exists()


def test_the_domain_function_changes_only_the_persons_own_account(pi, other_pi):
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        profile_update(user=pi, actor=other_pi, first_name="Eve", last_name="Intruder", language="en", now=now)
    assert refused.value.code == "not_yours"
    with pytest.raises(DomainError) as refused:
        profile_update(user=pi, actor=pi, first_name="Paula", last_name="  ", language="en", now=now)
    assert refused.value.code == "name"
    with pytest.raises(DomainError) as refused:
        profile_update(user=pi, actor=pi, first_name="Paula", last_name="I", language="de", now=now)
    assert refused.value.code == "language"
    assert User.objects.get(pk=pi.pk).full_name == "Paula Investigator"
    assert profile_update(user=pi, actor=pi, first_name="Paula", last_name="Ivanova", language="en", now=now) == [
        "last_name"]
    assert (pi.full_name, User.objects.get(pk=pi.pk).full_name) == ("Paula Ivanova", "Paula Ivanova")


def test_a_person_without_a_name_is_asked_for_it_on_every_page_but_the_account_page(client):
    nameless = UserFactory(email="nameless@example.org", full_name="")
    client.force_login(nameless)
    calls = client.get(reverse("calls:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ('<p class="message message-info" role="status" id="name-missing">Your account has no name yet: '
            f'<a href="{URL}">add your first and last name</a>') in calls
    assert 'id="name-missing"' not in client.get(URL).content.decode()
    client.post(URL, {"first_name": "Nora", "last_name": "Named", "language": "en"})
    assert 'id="name-missing"' not in client.get(reverse("calls:list")).content.decode()


@pytest.mark.parametrize("addresses", [1, 3])
def test_the_page_costs_the_same_queries_whatever_the_number_of_addresses(client, django_assert_num_queries, addresses):
    person = UserFactory(first_name="Ada", last_name="Lovelace")
    for index in range(1, addresses):
        EmailAddress.objects.create(user=person, email=f"ada{index}@example.org", verified=index % 2 == 0)
    client.force_login(person)
    client.get(URL)  # the session, warmed up
    with django_assert_num_queries(PAGE_QUERIES):
        body = client.get(URL).content.decode()
    assert body.count("<li>ada") + body.count(f"<li>{person.email}") == addresses


PAGE_QUERIES = 6
