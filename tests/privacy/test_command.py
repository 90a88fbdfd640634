"""``manage.py privacy_purge``: applies the retention policy, says what it did, changes nothing with
--dry-run, does nothing the second time, and processes no erasure request."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.site.privacy.domain import erasure_request
from iea.site.privacy.domain.retention import years_after
from iea.site.privacy.models import AnonymisedProposal, ErasureRequest
from proposals.models import Proposal
from tests.factories import UserFactory

from .factories import close, filed, past_call, years_ago

pytestmark = pytest.mark.django_db


def purge(*args) -> str:
    out = io.StringIO()
    call_command("privacy_purge", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def calls(db):
    old = past_call(closed=years_ago(7))
    gone = [filed(old, n=1, state="rejected"), filed(old, n=2, state="draft")]
    filed(old, n=3, state="ranked")
    recent = past_call(closed=years_ago(2))
    filed(recent, n=4, state="rejected", decided_at=recent.closes_at)
    return close(old), close(recent), sorted(p.reference for p in gone)


def state():
    return (AnonymisedProposal.objects.count(), AuditEntry.objects.count(),
            list(Proposal.objects.order_by("pk").values_list("partner_email", flat=True)))


def test_dry_run_lists_and_changes_nothing(calls):
    old, _recent, gone = calls
    before = state()
    output = purge("--dry-run")
    assert output.splitlines() == [
        f"{old} (retention 5 years): would anonymise 2 proposal(s): {', '.join(gone)}",
        "Would anonymise 2 proposal(s) in all.",
    ]
    assert state() == before


def test_a_run_anonymises_and_a_second_does_nothing(calls):
    old, _recent, gone = calls
    erasure_request(user=UserFactory(), now=timezone.now())
    output = purge()
    assert output.splitlines() == [
        f"{old} (retention 5 years): anonymised 2 proposal(s): {', '.join(gone)}",
        "Anonymised 2 proposal(s) in all.",
        "1 request(s) for erasure wait for staff in the admin (not processed here).",
    ]
    assert sorted(AnonymisedProposal.objects.values_list("proposal__reference", flat=True)) == gone
    assert set(AnonymisedProposal.objects.values_list("via", "anonymised_by")) == {("command", None)}
    assert set(AuditEntry.objects.filter(action="privacy.anonymise").values_list("actor", "actor_label")) == {
        (None, "privacy_purge")}
    assert list(ErasureRequest.objects.values_list("state", flat=True)) == ["pending"]

    after = state()
    assert purge().splitlines()[0] == "Nothing to anonymise."
    assert state() == after


def test_now_moves_the_clock(calls):
    _old, recent, _gone = calls
    assert "Nothing to anonymise." in purge("--dry-run", "--now", (timezone.now() - dt.timedelta(days=800)).isoformat())
    later = years_after(recent.closes_at, 5) + dt.timedelta(days=1)
    output = purge("--dry-run", "--now", later.strftime("%Y-%m-%dT%H:%M"))
    assert "Would anonymise 3 proposal(s) in all." in output


def test_a_bad_moment_is_refused():
    with pytest.raises(CommandError, match="not an ISO 8601"):
        purge("--now", "next tuesday")
