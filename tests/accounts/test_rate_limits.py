"""The sign-in limits behind nginx (#16): every limit counts the client's address, read from X-Forwarded-For
only when the request comes from a trusted proxy (iea.proxies); wrong passwords typed from other addresses
never lock a person out of their account; the people behind other addresses are never limited together."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from iea.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NGINX = "172.30.94.10"
ATTACKER = "198.51.100.66"
PI_ADDRESS = "192.0.2.44"
LIMITED = "Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def _behind_nginx(settings):
    settings.TRUSTED_PROXIES = [NGINX]
    cache.clear()  # the limits live in the cache
    yield
    cache.clear()


def through_nginx(address: str, **headers) -> Client:
    """A browser at ``address``, whose requests reach the app through nginx (which sets X-Forwarded-For)."""
    return Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=address, **headers)


def sign_in(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def signed_in_as(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def test_wrong_passwords_from_an_attacker_do_not_lock_the_pi_out():
    """The probe: 12 wrong passwords for a PI's address, from one address behind nginx. The attacker is
    limited (even the right password is refused from there); the PI, from their own address, signs in."""
    pi = UserFactory(email="pi@cnrs.example.fr")
    attacker = through_nginx(ATTACKER)
    answers = [sign_in(attacker, "pi@cnrs.example.fr", f"guess-{n}").content.decode() for n in range(12)]
    assert [LIMITED in answer for answer in answers] == [False] * 5 + [True] * 7
    assert LIMITED in sign_in(attacker, "pi@cnrs.example.fr", PASSWORD).content.decode()
    assert signed_in_as(attacker) is None

    pi_browser = through_nginx(PI_ADDRESS)
    response = sign_in(pi_browser, "pi@cnrs.example.fr", PASSWORD)
    assert (response.status_code, signed_in_as(pi_browser)) == (302, pi.pk)


def test_wrong_passwords_from_many_addresses_do_not_lock_the_pi_out():
    """An attacker who changes address at each try (a botnet, or a header that varies) never reaches the PI's
    own budget."""
    pi = UserFactory(email="pi@cnrs.example.fr")
    for n in range(15):
        assert LIMITED not in sign_in(through_nginx(f"198.51.100.{n + 1}"), "pi@cnrs.example.fr", "guess").content.decode()
    pi_browser = through_nginx(PI_ADDRESS)
    assert sign_in(pi_browser, "pi@cnrs.example.fr", PASSWORD).status_code == 302
    assert signed_in_as(pi_browser) == pi.pk


def test_a_header_sent_straight_to_the_app_does_not_escape_the_limits(settings):
    """From an address that is not a trusted proxy, X-Forwarded-For is ignored: a new header at each try is
    still the same address, limited after five wrong passwords for the account and ten in all."""
    UserFactory(email="pi@cnrs.example.fr")
    UserFactory(email="other@cnrs.example.fr")
    answers = []
    for n in range(12):
        client = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}")
        email = "pi@cnrs.example.fr" if n < 6 else "other@cnrs.example.fr"
        answers.append(LIMITED in sign_in(client, email, "guess").content.decode())
    assert answers == [False] * 5 + [True] + [False] * 4 + [True] * 2


def test_forty_people_sign_in_from_forty_addresses_within_a_minute():
    """Normal traffic behind nginx: the limit of 30 sign-ins a minute is per address, not for the site."""
    users = UserFactory.create_batch(40)
    results = []
    for n, user in enumerate(users):
        client = through_nginx(f"192.0.2.{n + 1}")
        results.append((sign_in(client, user.email, PASSWORD).status_code, signed_in_as(client)))
    assert results == [(302, user.pk) for user in users]


def test_one_address_is_limited_to_thirty_sign_ins_a_minute_with_a_page_that_says_so():
    UserFactory(email="pi@cnrs.example.fr")
    client = through_nginx(ATTACKER)
    statuses = [sign_in(client, "nobody@example.org", "guess").status_code for _ in range(30)]
    assert 429 not in statuses
    limited = sign_in(client, "pi@cnrs.example.fr", PASSWORD)
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    assert "Wait a minute, then try again" in limited.content.decode()
    french = through_nginx(ATTACKER, HTTP_ACCEPT_LANGUAGE="fr")
    page = french.post(reverse("account_login"), {"login": "pi@cnrs.example.fr", "password": PASSWORD})
    assert page.status_code == 429
    assert "Trop de tentatives" in page.content.decode()
    assert "Attendez une minute, puis réessayez" in page.content.decode()
    # Someone else, behind the same nginx, is not concerned.
    assert sign_in(through_nginx(PI_ADDRESS), "pi@cnrs.example.fr", PASSWORD).status_code == 302


def test_the_sign_in_limit_message_is_in_french_too():
    UserFactory(email="pi@cnrs.example.fr")
    client = through_nginx(ATTACKER, HTTP_ACCEPT_LANGUAGE="fr")
    for _ in range(5):
        sign_in(client, "pi@cnrs.example.fr", "guess")
    page = sign_in(client, "pi@cnrs.example.fr", "guess").content.decode()
    assert "Trop de tentatives de connexion ont échoué depuis votre réseau" in page


def test_sign_ups_are_limited_per_address_not_for_the_whole_site():
    """Twenty-five people open an account within a minute, each from their own address behind nginx (the
    limit is 20 a minute per address)."""
    statuses = []
    for n in range(25):
        response = through_nginx(f"192.0.2.{n + 1}").post(reverse("account_signup"), {
            "first_name": "New", "last_name": f"Person {n}", "email": f"new{n}@example.org",
            "password1": "a-long-passphrase-2027", "password2": "a-long-passphrase-2027"})
        statuses.append(response.status_code)
    assert statuses == [302] * 25
    assert User.objects.count() == 25
