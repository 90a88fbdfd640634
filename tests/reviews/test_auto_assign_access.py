"""Who may start the automatic assignment of a panel and follow its progress: the panel's officers and
directorate staff; nobody else learns it exists (404), and a refused start changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from reviews.models import AssignmentJob
from tests.factories import StaffFactory, UserFactory, activate_totp

from .test_panel import World

pytestmark = pytest.mark.django_db

ALLOWED, DENIED, SIGN_IN = "allowed", "denied", "sign in"
WHO = {
    "anonymous": SIGN_IN,
    "pi": DENIED,  # the PI of the panel's proposals
    "reviewer": DENIED,  # in the institute's pool
    "other_officer": DENIED,  # officer of another institute's panel
    "unit_manager": DENIED,  # manages the PI's unit
    "officer": ALLOWED,
    "staff": ALLOWED,
}


@pytest.fixture
def world():
    world = World()
    world.p1 = world.proposal(state="eligible")
    world.reviewer("Rita Reviewer")
    other = World()
    world.users = {
        "pi": world.pi, "reviewer": world.reviewer("Ravi Reviewer").user, "other_officer": other.officer,
        "unit_manager": UserFactory(), "officer": world.officer, "staff": StaffFactory(),
    }
    activate_totp(world.users["unit_manager"])
    world.unit.managers.add(world.users["unit_manager"])
    return world


def client_for(world, who) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(world.users[who])
    return client


def outcome(response) -> str:
    if response.status_code == 404:
        return DENIED
    if response.status_code == 302 and response["Location"].startswith(reverse("account_login")):
        return SIGN_IN
    assert response.status_code in (200, 286, 302), response.status_code
    return ALLOWED


@pytest.mark.parametrize("who", WHO)
def test_starting_it(world, who):
    response = client_for(world, who).post(reverse("panel:auto_assign", args=[world.panel.pk]))
    assert outcome(response) == WHO[who]
    jobs = list(AssignmentJob.objects.values_list("panel", "started_by", "state"))
    started = AuditEntry.objects.filter(action="panel.auto_assign_start").count()
    if WHO[who] == ALLOWED:
        assert (jobs, started) == ([(world.panel.pk, world.users[who].pk, "queued")], 1)
    else:
        assert (jobs, started) == ([], 0)


@pytest.mark.parametrize("who", WHO)
def test_following_its_progress(world, who):
    AssignmentJob.objects.create(panel=world.panel, started_by=world.officer, created_at=timezone.now(),
                                 state="running", phase="reading", progress=5, heartbeat_at=timezone.now())
    response = client_for(world, who).get(reverse("panel:auto_assign_state", args=[world.panel.pk]),
                                          HTTP_HX_REQUEST="true")
    assert outcome(response) == WHO[who]
    assert (b"Reading the panel: 5% done." in response.content) == (WHO[who] == ALLOWED)
