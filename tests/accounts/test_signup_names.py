"""Sign-up asks the first and last name (required, before the address and the password): a missing name is
refused with a clear message in the person's language, and what was typed stays in the form."""

import pytest
from django.urls import reverse

from iea.accounts.models import User

pytestmark = pytest.mark.django_db

FILLED = {"first_name": "Claire", "last_name": "Newcomer", "email": "claire.newcomer@example.org",
          "password1": "a-long-passphrase-2027", "password2": "a-long-passphrase-2027"}


def test_the_sign_up_page_asks_the_names_first(client):
    body = client.get(reverse("account_signup"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    positions = [body.index(f'name="{name}"') for name in ("first_name", "last_name", "email", "password1")]
    assert positions == sorted(positions)
    assert 'autocomplete="given-name"' in body and 'autocomplete="family-name"' in body


@pytest.mark.parametrize(("language", "missing", "message"), [
    ("en", "first_name", "Enter your first name."),
    ("en", "last_name", "Enter your last name."),
    ("fr", "first_name", "Indiquez votre prénom."),
    ("fr", "last_name", "Indiquez votre nom de famille."),
])
def test_a_missing_name_is_refused_with_a_clear_message_and_nothing_typed_is_lost(client, language, missing, message):
    response = client.post(reverse("account_signup"), {**FILLED, missing: "   "}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response.context["form"].errors == {missing: [message]}
    body = response.content.decode()
    assert message.replace("'", "&#x27;") in body
    kept = "last_name" if missing == "first_name" else "first_name"
    assert f'value="{FILLED[kept]}"' in body and 'value="claire.newcomer@example.org"' in body
    assert User.objects.count() == 0


@pytest.mark.parametrize(("language", "message"), [
    ("en", "Write your name, not an e-mail address."),
    ("fr", "Écrivez votre nom, pas une adresse e-mail."),
])
def test_an_address_is_not_a_name(client, language, message):
    response = client.post(reverse("account_signup"), {**FILLED, "last_name": "claire@example.org"},
                           HTTP_ACCEPT_LANGUAGE=language)
    assert response.context["form"].errors == {"last_name": [message]}
    assert User.objects.count() == 0


def test_names_are_stored_tidy_with_their_accents(client):
    response = client.post(reverse("account_signup"), {**FILLED, "first_name": "  Zoé ", "last_name": "Lefèvre-Åkesson  de  la Tour"})
    assert response.status_code == 302
    user = User.objects.get()
    assert (user.first_name, user.last_name, user.display_name) == (
        "Zoé", "Lefèvre-Åkesson de la Tour", "Zoé Lefèvre-Åkesson de la Tour")
