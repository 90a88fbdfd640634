import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from calls import reference_data
from calls.domain import PARIS, call_accepts_submissions, default_window
from calls.management.commands.seed_demo import OPEN_YEAR, PASSWORD, PAST_YEAR
from calls.models import Call, CallDeadlineChange, CallState, Delegation, Institute
from iea.audit.domain import audit_trail
from iea.roles import user_roles
from proposals.domain import proposal_budget_total, proposal_checklist, proposal_is_eligible
from proposals.models import Proposal, ProposalState

INSTITUTE_CODES = ["INC", "INEE", "INP", "IN2P3", "INSB", "INSHS", "INSIS", "INSMI", "INS2I", "INSU"]
DELEGATION_NAMES = {
    "Alsace", "Alpes", "Aquitaine", "Bretagne et Pays de la Loire", "Centre-Est",
    "Centre Limousin Poitou-Charentes", "Côte d'Azur", "Hauts-de-France", "Île-de-France Gif-sur-Yvette",
    "Île-de-France Meudon", "Île-de-France Villejuif", "Normandie", "Occitanie Est", "Occitanie Ouest",
    "Paris-Centre", "Provence et Corse", "Rhône Auvergne",
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def demo_user(prefix: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(email=f"{prefix}@demo.iea.localhost")


def open_call() -> Call:
    return Call.objects.get(year=OPEN_YEAR)


def test_migration_carries_the_same_reference_data_as_the_app():
    migration = importlib.import_module("calls.migrations.0002_reference_data")

    assert migration.INSTITUTES == reference_data.INSTITUTES
    assert migration.DELEGATIONS == reference_data.DELEGATIONS


def test_reference_data_matches_the_domain():
    assert [code for code, _legal, _usage in reference_data.INSTITUTES] == INSTITUTE_CODES
    assert {name for _code, name in reference_data.DELEGATIONS} == DELEGATION_NAMES
    assert len(reference_data.DELEGATIONS) == 17
    assert len({code for code, _name in reference_data.DELEGATIONS}) == 17


@pytest.mark.django_db
def test_migration_loads_reference_data_and_can_run_twice():
    migration = importlib.import_module("calls.migrations.0002_reference_data")
    Institute.objects.create(code="INC", legal_name="old", usage_name="old")

    migration.load_reference_data(apps, None)
    migration.load_reference_data(apps, None)

    assert sorted(Institute.objects.values_list("code", flat=True)) == sorted(INSTITUTE_CODES)
    assert Institute.objects.get(code="INSMI").usage_name == "CNRS Mathématiques"
    assert Institute.objects.get(code="INC").legal_name == "Institut de chimie"
    assert set(Delegation.objects.values_list("name", flat=True)) == DELEGATION_NAMES


@pytest.mark.django_db
def test_seed_demo_ensures_reference_data():
    seed()

    assert sorted(Institute.objects.values_list("code", flat=True)) == sorted(INSTITUTE_CODES)
    assert Delegation.objects.count() == 17


@pytest.mark.django_db
def test_running_seed_demo_twice_changes_nothing():
    seed()
    before = row_counts()
    calls_before = list(Call.objects.values_list("year", "state", "opens_at", "closes_at"))

    output = seed()

    assert row_counts() == before
    assert list(Call.objects.values_list("year", "state", "opens_at", "closes_at")) == calls_before
    assert "pi@demo.iea.localhost" in output
    assert PASSWORD in output


@pytest.mark.django_db
def test_logins_block_uses_the_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "8123")

    output = seed()

    assert "http://127.0.0.1:8123/" in output
    assert "http://127.0.0.1:8123/admin/" in output


@pytest.mark.django_db
def test_demo_call_accepts_submissions_now():
    seed()
    call = open_call()
    now = timezone.now()

    assert call_accepts_submissions(call, now=now)
    assert call.state == CallState.OPEN
    assert call.grace_minutes == 0
    assert timezone.localtime(call.closes_at, PARIS).time() == dt.time(13, 0)
    assert dt.timedelta(days=13) < call.closes_at - now <= dt.timedelta(days=15)
    assert dt.timedelta(days=19) < now - call.opens_at <= dt.timedelta(days=21)
    assert (call.budget_min, call.budget_max) == (Decimal(10000), Decimal(14000))
    assert call.duration_months == 24
    assert call.max_active_proposals_per_pi == 1
    assert [c.code for c in call.excluded_countries] == ["RU"]
    assert call.criteria.count() == 6
    assert 3 <= call.priorities.count() <= 4
    for text in (call.summary_fr, call.summary_en, call.rules_fr, call.rules_en):
        assert text
        for name in ("DERCI", "Derci", "DEI", "CoopIntEer", "NOA"):
            assert name not in text


@pytest.mark.django_db
def test_past_call_is_decided_with_the_default_window_and_a_proposal_of_pi():
    seed()
    call = Call.objects.get(year=PAST_YEAR)

    assert call.state == CallState.DECIDED
    assert (call.opens_at, call.closes_at) == default_window(PAST_YEAR)
    assert call.criteria.count() == 6
    proposal = Proposal.objects.get(call=call, pi=demo_user("pi"))
    assert proposal.state == ProposalState.REJECTED
    assert proposal.versions.count() == 1


@pytest.mark.django_db
def test_pi_has_no_proposal_in_the_open_call():
    seed()

    assert not Proposal.objects.filter(call=open_call(), pi=demo_user("pi")).exists()


@pytest.mark.django_db
def test_submitted_proposal_has_exactly_one_version_and_is_complete():
    seed()
    proposal = Proposal.objects.get(call=open_call(), pi=demo_user("pi2"))

    assert proposal.state == ProposalState.SUBMITTED
    assert proposal.versions.count() == 1
    assert proposal_budget_total(proposal) == Decimal(12000)
    assert proposal.letters.count() == 1
    assert proposal.versions.get().letter == proposal.letters.get()
    assert proposal_is_eligible(proposal_checklist(proposal, now=timezone.now()))
    actions = list(audit_trail(proposal).order_by("id").values_list("action", flat=True))
    assert actions == ["proposal.create", "proposal.letter_upload", "proposal.submit"]


@pytest.mark.django_db
def test_other_demo_proposals_are_withdrawn_and_draft():
    seed()
    call = open_call()

    assert Proposal.objects.get(call=call, pi=demo_user("pi3")).state == ProposalState.WITHDRAWN
    draft = Proposal.objects.get(call=call, pi=demo_user("pi4"))
    assert draft.state == ProposalState.DRAFT
    assert not proposal_is_eligible(proposal_checklist(draft, now=timezone.now()))
    assert draft.invitations.count() == 1


@pytest.mark.django_db
def test_demo_users_can_sign_in_and_hold_their_roles():
    from allauth.account.models import EmailAddress

    seed()

    for prefix in ("pi", "pi2", "reviewer", "officer", "staff", "manager"):
        user = demo_user(prefix)
        assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).count() == 1
        assert Client().login(username=user.email, password=PASSWORD)
    assert (demo_user("pi").language, demo_user("pi2").language) == ("fr", "en")
    assert user_roles(demo_user("reviewer")).reviewer
    assert user_roles(demo_user("officer")).officer
    assert user_roles(demo_user("manager")).unit_manager
    assert demo_user("staff").is_staff and demo_user("staff").is_superuser
    assert not user_roles(demo_user("pi")).staff


@pytest.mark.django_db
def test_a_demo_call_past_its_deadline_is_extended_on_the_next_run():
    seed()
    call = open_call()
    Call.objects.filter(pk=call.pk).update(closes_at=timezone.now() - dt.timedelta(days=1))

    seed()

    call.refresh_from_db()
    assert call_accepts_submissions(call, now=timezone.now())
    assert CallDeadlineChange.objects.filter(call=call).count() == 1


@pytest.mark.django_db
def test_seed_demo_sends_the_mails_of_the_domain_once_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seed()

    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([
        "pi2@demo.iea.localhost", "ana.souza@unb.example.br",  # receipt, and its copy to the partner
        "pi3@demo.iea.localhost", "k.watanabe@tohoku.example.jp", "pi3@demo.iea.localhost",  # + withdrawal
        "dfuentes@uchile.example.cl",  # invitation to upload the letter
    ])


@pytest.mark.django_db
def test_demo_reviewer_officer_and_staff_have_two_factor_and_the_printed_code_works():
    import io

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model

    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_totp", stdout=out)
    code = out.getvalue().strip()
    users = get_user_model().objects.filter(email__in=[
        "reviewer@demo.iea.localhost", "officer@demo.iea.localhost", "staff@demo.iea.localhost"])
    for user in users:
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert TOTP(authenticator).validate_code(code) is True
    assert not Authenticator.objects.filter(user__email="pi@demo.iea.localhost").exists()
