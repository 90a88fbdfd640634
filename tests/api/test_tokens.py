"""Personal API tokens: created and revoked on the person's page (after a recent sign-in), shown once,
stored hashed, with scopes and an expiry; the API accepts them as ``Authorization: Bearer``."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from iea.accounts.domain import api_token_create
from iea.accounts.models import ApiToken
from iea.audit.models import AuditEntry
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user, *, confirmed: bool = True) -> Client:
    """A real sign-in, then (``confirmed``) allauth's confirmation of it, which creating a token asks for:
    the password here, the two-factor code for those who use it."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    if confirmed:
        assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


def bearer(secret: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")


def test_anonymous_people_are_sent_to_sign_in():
    client = Client()
    for url in ("/accounts/api-tokens/",):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post("/accounts/api-tokens/new/", {"name": "x"}).status_code == 302
    assert ApiToken.objects.count() == 0


def test_a_token_is_shown_once_and_stored_hashed():
    user = UserFactory()
    client = signed_in(user)
    response = client.post("/accounts/api-tokens/new/", {"name": "finance export", "scopes": "read", "days": "90"})
    assert response.status_code == 302
    page = client.get("/accounts/api-tokens/").content.decode()
    token = ApiToken.objects.get()
    secret = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert secret.startswith("iea_") and secret.startswith(token.prefix)
    assert token.digest != secret and secret not in token.digest
    assert not ApiToken.objects.filter(digest__contains=secret[4:20]).exists()
    assert '<code id="new-token">' not in client.get("/accounts/api-tokens/").content.decode()  # only once
    assert (token.user, token.scopes) == (user, "read")
    assert abs(token.expires_at - (timezone.now() + dt.timedelta(days=90))) < dt.timedelta(minutes=1)
    assert AuditEntry.objects.filter(action="account.api_token_create", actor=user).count() == 1


def test_creating_a_token_asks_to_confirm_the_sign_in():
    client = signed_in(UserFactory(), confirmed=False)
    response = client.post("/accounts/api-tokens/new/", {"name": "x", "scopes": "read", "days": "30"})
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]
    assert ApiToken.objects.count() == 0


def test_a_bad_form_says_why_and_creates_nothing():
    client = signed_in(UserFactory())
    response = client.post("/accounts/api-tokens/new/", {"name": "", "scopes": "admin", "days": "7"})
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0
    assert "This field is required." in response.content.decode()


def test_the_api_accepts_a_live_token_and_refuses_others():
    user = UserFactory()
    now = timezone.now()
    _live, secret = api_token_create(user=user, name="a", scopes="read", days=30, now=now)
    assert bearer(secret).get("/api/v1/units/").status_code == 200
    assert ApiToken.objects.get(pk=_live.pk).last_used_at is not None

    response = bearer("iea_not-a-token").get("/api/v1/units/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This token is unknown, revoked or expired."
    assert response["WWW-Authenticate"] == "Bearer"

    expired, expired_secret = api_token_create(user=user, name="b", scopes="read", days=30, now=now - dt.timedelta(days=31))
    assert bearer(expired_secret).get("/api/v1/units/").status_code == 401
    user.is_active = False
    user.save()
    assert bearer(secret).get("/api/v1/units/").status_code == 401


def test_a_revoked_token_stops_working_and_only_its_owner_revokes_it():
    user, other = UserFactory(), UserFactory()
    token, secret = api_token_create(user=user, name="a", scopes="read", days=30, now=timezone.now())
    assert signed_in(other).post(f"/accounts/api-tokens/{token.pk}/revoke/").status_code == 404
    assert bearer(secret).get("/api/v1/units/").status_code == 200
    client = signed_in(user)
    assert client.post(f"/accounts/api-tokens/{token.pk}/revoke/").status_code == 302
    assert bearer(secret).get("/api/v1/units/").status_code == 401
    assert AuditEntry.objects.filter(action="account.api_token_revoke", actor=user).count() == 1
    assert "Revoked" in client.get("/accounts/api-tokens/").content.decode()


def test_a_read_token_cannot_write():
    user = UserFactory()
    _read, read_secret = api_token_create(user=user, name="r", scopes="read", days=30, now=timezone.now())
    _write, write_secret = api_token_create(user=user, name="w", scopes="read write", days=30, now=timezone.now())
    response = bearer(read_secret).post("/api/v1/calls/", {}, format="json")
    assert response.status_code == 403
    assert "may only read" in response.json()["error"]["message"]
    assert bearer(write_secret).post("/api/v1/calls/", {}, format="json").status_code == 405


def test_people_see_only_their_own_tokens():
    user, other = UserFactory(), UserFactory()
    api_token_create(user=other, name="someone else's", scopes="read", days=30, now=timezone.now())
    api_token_create(user=user, name="mine", scopes="read", days=30, now=timezone.now())
    page = signed_in(user).get("/accounts/api-tokens/").content.decode()
    assert "mine" in page and "someone else&#x27;s" not in page and "someone else's" not in page


def test_the_tokens_page_runs_the_same_queries_whatever_the_number(queries):
    user = UserFactory()
    client = signed_in(user)

    def create(n):
        for index in range(n):
            api_token_create(user=user, name=f"t{index}", scopes="read", days=30, now=timezone.now())

    assert queries.at_sizes(create, lambda: client.get("/accounts/api-tokens/"), sizes=(3, 30)) == (4, 4)
    assert client.get("/accounts/api-tokens/").content.decode().count("<tr>") == 30 + 1


def test_the_token_admin_is_read_only_for_staff_and_closed_to_others(client):
    from tests.factories import StaffFactory

    user = UserFactory()
    token, _secret = api_token_create(user=user, name="a", scopes="read", days=30, now=timezone.now())
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    assert client.get("/admin/accounts/apitoken/").status_code == 302  # anonymous → sign-in
    client.force_login(user)
    assert client.get("/admin/accounts/apitoken/").status_code == 302  # not staff
    client.force_login(StaffFactory())
    assert client.get("/admin/accounts/apitoken/").status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and token.digest not in page.content.decode()
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    assert client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_token_admin_list_runs_the_same_queries_whatever_the_number(client, queries):
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())

    def create(n):
        for _ in range(n):
            api_token_create(user=UserFactory(), name="t", scopes="read", days=30, now=timezone.now())

    assert queries.at_sizes(create, lambda: client.get("/admin/accounts/apitoken/"), sizes=(3, 30)) == (6, 6)
