"""What caches may keep, and which browser features the pages may use (issue #16, iea.headers).

Every answer to a signed-in person (PI, staff with two-factor) and every API answer says
``Cache-Control: private, no-store`` (a view's own Cache-Control, as a download's or the admin's, is kept)
and keeps ``Vary: Cookie``; anonymous public pages stay cacheable. Every answer, static files included,
carries a Permissions-Policy that turns off the camera, the microphone, geolocation, payment, USB…
(The static files, which whitenoise answers before any view, get it too: the middleware stands above it.)"""

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import domain
from proposals.letters import check_pdf
from tests.api.conftest import client_for
from tests.factories import StaffFactory
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db

DENIED = ["camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"]


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_not_stored(response, where):
    assert {"private", "no-store"} <= cache_control(response), f"{where}: Cache-Control {response.get('Cache-Control')!r}"


def assert_policy(response, where):
    policy = response.get("Permissions-Policy", "")
    assert [feature for feature in DENIED if feature not in policy] == [], f"{where}: Permissions-Policy {policy!r}"


@pytest.fixture
def world(draft, pi):
    letter = domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    return {"proposal": draft, "letter": letter}


def test_anonymous_public_pages_stay_cacheable_and_carry_the_policy(client, world):
    call = world["proposal"].call
    for url in ["/", reverse("calls:list"), reverse("calls:detail", args=[call.year])]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in cache_control(response), url
        assert_policy(response, url)


def test_every_page_of_a_signed_in_pi_is_not_stored(client, world, pi):
    proposal = world["proposal"]
    client.force_login(pi)
    pages = [
        reverse("dashboard"), reverse("account"), reverse("calls:list"),  # a public page, signed in: private too
        reverse("proposals:detail", args=[proposal.pk]), reverse("proposals:edit", args=[proposal.pk]),
        reverse("notifications"), "/proposals/999999/",  # a 404 says nothing cacheable either
    ]
    statuses = []
    for url in pages:
        response = client.get(url)
        statuses.append(response.status_code)
        assert_not_stored(response, url)
        assert "Cookie" in response.get("Vary", ""), url
        assert_policy(response, url)
    assert statuses == [200, 200, 200, 200, 200, 200, 404]


def test_an_htmx_fragment_for_the_pi_is_not_stored(client, world, pi):
    proposal = world["proposal"]
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[proposal.pk]),
                           {"lock_version": proposal.lock_version, "title": "Changed"}, HTTP_HX_REQUEST="true")
    assert_not_stored(response, "autosave")


def test_a_view_that_sets_its_own_cache_control_keeps_it(client, world, pi):
    proposal, letter = world["proposal"], world["letter"]
    client.force_login(pi)
    response = client.get(reverse("proposals:letter", args=[proposal.pk, letter.pk]))
    assert (response.status_code, response["Cache-Control"]) == (200, "private, no-store")
    assert_policy(response, "letter download")


def test_every_page_of_staff_with_two_factor_is_not_stored(client, world):
    staff = StaffFactory()
    client.force_login(staff)
    proposal = world["proposal"]
    pages = [reverse("dashboard"), reverse("proposals:detail", args=[proposal.pk]), reverse("panel:list"),
             reverse("funding:pending_reports"), "/admin/", "/admin/proposals/proposal/"]
    statuses = []
    for url in pages:
        response = client.get(url)
        statuses.append(response.status_code)
        assert_not_stored(response, url)
        assert_policy(response, url)
    assert statuses == [200] * len(pages)


@pytest.mark.parametrize("who", ["anonymous", "pi", "staff"])
def test_every_api_answer_is_not_stored(world, pi, who):
    user = {"anonymous": None, "pi": pi}.get(who) if who != "staff" else StaffFactory(email="api@cnrs.example.fr")
    client = client_for(user)
    proposal = world["proposal"]
    answers = [client.get("/api/v1/calls/"), client.get("/api/v1/proposals/"),
               client.get(f"/api/v1/proposals/{proposal.reference}/"), client.get("/api/v1/nothing-here/"),
               client.get("/api/schema/")]
    expected = {"anonymous": [200, 401, 401, 404, 200], "pi": [200, 200, 200, 404, 200],
                "staff": [200, 200, 200, 404, 200]}[who]
    assert [answer.status_code for answer in answers] == expected
    for answer in answers:
        assert_not_stored(answer, answer.wsgi_request.path)
        assert_policy(answer, answer.wsgi_request.path)


def test_the_partners_link_is_not_stored(client, world):
    proposal = world["proposal"]
    invitation = domain.invitation_create(proposal_id=proposal.pk, user=proposal.pi, email="ana@usp.example.br",
                                          language="en", now=timezone.now())
    for name in ("proposals:partner", "proposals:partner_letter"):
        response = client.get(reverse(name, args=[domain.invitation_token(invitation)]))
        assert response.status_code == 200, name
        assert_not_stored(response, name)

