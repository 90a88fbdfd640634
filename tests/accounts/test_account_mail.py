"""Account mail in the platform's words (templates/account/email/), not allauth's generic ones ("Hello from
example.com!"): named "IEA · CNRS", in the person's language, its links on SITE_URL whatever host the request
came through."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://iea.cnrs.example"
WORDING = {
    "reset": {
        "en": ("[IEA] Choose a new password for IEA · CNRS",
               "A new password was asked for your account on IEA · CNRS (forgot@example.org). To choose it, open "
               "this link:"),
        "fr": ("[IEA] Choisissez un nouveau mot de passe pour IEA · CNRS",
               "Un nouveau mot de passe a été demandé pour votre compte sur IEA · CNRS (forgot@example.org). Pour "
               "le choisir, ouvrez ce lien\u00a0:"),
    },
    "signup": {
        "en": ("[IEA] Confirm your address to open your IEA · CNRS account",
               "To confirm that the address is yours and finish signing up, open this link:"),
        "fr": ("[IEA] Confirmez votre adresse pour ouvrir votre compte IEA · CNRS",
               "Pour confirmer que cette adresse est bien la vôtre et terminer votre inscription, ouvrez ce "
               "lien\u00a0:"),
    },
}


def _assert_ours(message, subject: str, sentence: str, link_path: str):
    body = message.body
    assert message.subject == subject
    assert sentence in body
    assert re.search(rf"^{re.escape(SITE_URL)}{link_path}\S+$", body, re.M)
    assert body.rstrip().endswith(("Please do not reply to it.", "Merci de ne pas y répondre."))
    for generic in ("127.0.0.1", "example.com", "testserver", "Hello from", "Thank you for using", "Bonjour de"):
        assert generic not in body and generic not in message.subject


@pytest.mark.parametrize("language", ["en", "fr"])
def test_password_reset_mail(client, django_capture_on_commit_callbacks, settings, language):
    settings.SITE_URL = SITE_URL
    UserFactory(email="forgot@example.org", full_name="Ada Lovelace", language=language)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "forgot@example.org"},
                    HTTP_ACCEPT_LANGUAGE=language, HTTP_HOST="127.0.0.1")
    [message] = mail.outbox
    _assert_ours(message, *WORDING["reset"][language], "/accounts/password/reset/key/")
    assert message.body.startswith("Dear Ada Lovelace," if language == "en" else "Bonjour Ada Lovelace,")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sign_up_confirmation_mail(client, django_capture_on_commit_callbacks, settings, language):
    settings.SITE_URL = SITE_URL
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {"first_name": "Zoé", "last_name": "Lefèvre-Åkesson",
                                                "email": "new.pi@cnrs.example.fr", "password1": "a-long-passphrase-2027",
                                                "password2": "a-long-passphrase-2027"},
                    HTTP_ACCEPT_LANGUAGE=language, HTTP_HOST="127.0.0.1")
    [message] = mail.outbox
    _assert_ours(message, *WORDING["signup"][language], "/accounts/confirm-email/")
    assert message.body.startswith("Dear Zoé Lefèvre-Åkesson," if language == "en" else "Bonjour Zoé Lefèvre-Åkesson,")
