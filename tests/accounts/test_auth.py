"""Sign-up with mandatory verification, rate-limited sign-in, password reset, the language switch."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from iea.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_needs_a_verified_address_before_sign_in(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), {
            "first_name": "Claire", "last_name": "Newcomer", "email": "New.PI@CNRS.example.fr", "password1": "a-long-passphrase-2027", "password2": "a-long-passphrase-2027",
        })
    assert response.status_code == 302
    user = User.objects.get()
    assert (user.email, user.first_name, user.last_name, user.display_name) == (
        "new.pi@cnrs.example.fr", "Claire", "Newcomer", "Claire Newcomer")
    assert EmailAddress.objects.get(user=user).verified is False
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in yet
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    client.post(link.split("testserver", 1)[-1])
    assert EmailAddress.objects.get(user=user).verified is True
    assert client.get(reverse("dashboard")).status_code == 200


def test_unverified_user_cannot_sign_in(client):
    user = UserFactory(email="unverified@example.org")
    EmailAddress.objects.filter(user=user).update(verified=False)
    client.post(reverse("account_login"), {"login": "unverified@example.org", "password": PASSWORD})
    assert client.get(reverse("dashboard")).status_code == 302


def test_sign_in_is_rate_limited(client):
    from django.core.cache import cache

    cache.clear()
    UserFactory(email="target@example.org")
    for i in range(5):
        response = client.post(reverse("account_login"), {"login": "target@example.org", "password": f"wrong-{i}"})
        assert "Too many failed sign-in attempts" not in response.content.decode()
    # The sixth attempt, even with the right password, is refused while the limit holds.
    response = client.post(reverse("account_login"), {"login": "target@example.org", "password": PASSWORD})
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302
    cache.clear()


def test_password_reset_sends_a_link_through_the_task(client, django_capture_on_commit_callbacks):
    UserFactory(email="forgot@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "forgot@example.org"})
    assert [m.to for m in mail.outbox] == [["forgot@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_language_switch(client):
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert "Appels" in client.get("/calls/").content.decode() or client.cookies["django_language"].value == "fr"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.cookies["django_language"].value == "en"


def test_admin_sign_in_goes_through_allauth(client, pi, staff):
    response = client.get("/admin/login/?next=/admin/calls/call/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fcalls%2Fcall%2F"
    assert client.get("/admin/login/?next=https://evil.example/").headers["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    client.force_login(pi)
    assert client.get("/admin/login/").status_code == 403
    assert client.get("/admin/").status_code == 302  # to the admin login, which refuses: no loop
    client.force_login(staff)
    assert client.get("/admin/login/?next=/admin/calls/call/").headers["Location"] == "/admin/calls/call/"


def test_language_switch_is_remembered_for_mail(client, pi):
    client.force_login(pi)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    pi.refresh_from_db()
    assert pi.language == "fr"


def test_staff_without_two_factor_are_sent_to_set_it_up(client):
    from tests.factories import StaffFactory, activate_totp

    staff = StaffFactory(email="nomfa@example.org", mfa=False)
    client.force_login(staff)
    for url in ("/admin/", "/admin/calls/call/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/totp/activate/")
    activate_totp(staff)
    assert client.get("/admin/").status_code == 200


def test_sign_in_asks_for_the_code_once_two_factor_is_on(client):
    from tests.factories import StaffFactory, totp_code

    StaffFactory(email="mfa@example.org")
    response = client.post(reverse("account_login"), {"login": "mfa@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302  # not signed in until the code is given
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert client.get("/admin/").status_code == 200


def test_a_two_factor_code_from_the_previous_step_is_accepted_but_not_older_ones():
    """RFC 6238, 5.2: one step of delay, so a code typed as its 30 seconds end still works."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, validate_totp_code

    from tests.factories import TOTP_SECRET

    def code(counter: int) -> str:
        return format_hotp_value(hotp_value(TOTP_SECRET, counter))

    step = int(time.time()) // 30
    assert validate_totp_code(TOTP_SECRET, code(step))
    assert validate_totp_code(TOTP_SECRET, code(step - 1))
    assert not validate_totp_code(TOTP_SECRET, code(step - 3))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_account_mail_names_the_platform_not_the_host(client, django_capture_on_commit_callbacks, settings,
                                                      language):
    settings.SITE_URL = "https://iea.cnrs.example"
    UserFactory(email="forgot@example.org", language=language)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "forgot@example.org"},
                    HTTP_ACCEPT_LANGUAGE=language, HTTP_HOST="127.0.0.1")
    body = mail.outbox[0].body
    assert "IEA · CNRS" in body
    assert "127.0.0.1" not in body  # the link too is on SITE_URL
