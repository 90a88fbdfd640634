"""The admin: the requests for erasure (list, process, refuse) and the call action that anonymises the
proposals past retention — staff with two-factor authentication only, through the domain, with a
confirmation page, and a list whose query count does not grow."""

import pytest
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.site.privacy.domain import erasure_request
from iea.site.privacy.models import AnonymisedProposal, ErasureRequest, ErasureState
from tests.factories import CallFactory, StaffFactory, UserFactory, activate_totp

from .factories import close, filed, past_call, years_ago

pytestmark = pytest.mark.django_db

REQUESTS = reverse("admin:privacy_erasurerequest_changelist")
CALLS = reverse("admin:calls_call_changelist")


def act(client, url, action, *objects, follow=False, **extra):
    return client.post(url, {"action": action, "index": "0", "_selected_action": [str(o.pk) for o in objects], **extra},
                       follow=follow)


def confirm(client, url, action, *objects, **extra):
    """The intermediate page's form, posted back with ``apply``."""
    return client.post(url, {"action": action, "apply": "1", "_selected_action": [str(o.pk) for o in objects], **extra})


def snapshot():
    return (list(ErasureRequest.objects.order_by("pk").values_list("pk", "state")), AnonymisedProposal.objects.count(),
            AuditEntry.objects.count())


@pytest.fixture
def pending(db):
    return erasure_request(user=UserFactory(email="leaving@example.org"), now=timezone.now())


@pytest.fixture
def old_call(db):
    call = past_call(closed=years_ago(7))
    filed(call, n=1, state="rejected")
    filed(call, n=2, state="withdrawn")
    filed(call, n=3, state="in_review")
    return close(call)


# --- access -----------------------------------------------------------------------------------------------


def _requests(pending, old_call):
    return [
        ("get", REQUESTS, {}),
        ("get", reverse("admin:privacy_erasurerequest_change", args=[pending.pk]), {}),
        ("get", reverse("admin:privacy_anonymisedproposal_changelist"), {}),
        ("post", REQUESTS, {"action": "process_requests", "index": "0", "_selected_action": [str(pending.pk)]}),
        ("post", REQUESTS, {"action": "process_requests", "apply": "1", "_selected_action": [str(pending.pk)]}),
        ("post", REQUESTS, {"action": "refuse_requests", "apply": "1", "reason": "no",
                            "_selected_action": [str(pending.pk)]}),
        ("post", CALLS, {"action": "anonymise_past_retention", "apply": "1", "_selected_action": [str(old_call.pk)]}),
    ]


@pytest.mark.parametrize("who", ["anonymous", "signed_in"])
def test_non_staff_are_sent_to_the_admin_login_and_nothing_changes(client, pending, old_call, who):
    if who == "signed_in":
        client.force_login(pending.user)
    before = snapshot()
    for method, url, data in _requests(pending, old_call):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    assert snapshot() == before


def test_staff_without_two_factor_are_sent_to_set_it_up(client, pending, old_call):
    client.force_login(StaffFactory(mfa=False))
    before = snapshot()
    for method, url, data in _requests(pending, old_call):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("mfa_activate_totp")), url
    assert snapshot() == before


def test_staff_without_the_permissions_cannot_process(client, pending, old_call):
    clerk = UserFactory(email="clerk@cnrs.example.fr", is_staff=True)
    activate_totp(clerk)
    client.force_login(clerk)
    before = snapshot()
    assert client.get(REQUESTS).status_code == 403
    for _method, url, data in _requests(pending, old_call)[3:]:
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before


# --- the requests -----------------------------------------------------------------------------------------


def test_process_shows_what_will_happen_then_erases_or_refuses(client, staff, pending):
    kept = UserFactory(email="kept@example.org")
    call = past_call(closed=years_ago(1))
    proposal = filed(call, pi=kept, state="rejected", decided_at=call.closes_at)
    close(call)
    refused = erasure_request(user=kept, now=timezone.now())
    client.force_login(staff)

    page = act(client, REQUESTS, "process_requests", pending, refused)
    assert page.status_code == 200
    html = page.content.decode()
    assert "leaving@example.org — will be erased" in html
    assert f"kept@example.org — will be refused: Your proposal {proposal.reference}" in html
    assert snapshot()[0] == [(pending.pk, "pending"), (refused.pk, "pending")]

    response = confirm(client, REQUESTS, "process_requests", pending, refused)
    assert response.status_code == 302
    assert dict(ErasureRequest.objects.values_list("pk", "state")) == {pending.pk: ErasureState.DONE,
                                                                       refused.pk: ErasureState.REFUSED}
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == ["leaving@example.org: the account is erased.",
                     "kept@example.org: refused, retention forbids it (the person is told)."]


def test_refuse_asks_for_the_reason(client, staff, pending):
    client.force_login(staff)
    page = act(client, REQUESTS, "refuse_requests", pending)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert confirm(client, REQUESTS, "refuse_requests", pending, reason="").status_code == 200
    assert ErasureRequest.objects.get(pk=pending.pk).state == ErasureState.PENDING
    assert confirm(client, REQUESTS, "refuse_requests", pending, reason="A legal hold.").status_code == 302
    assert list(ErasureRequest.objects.values_list("state", "refusal_reason")) == [("refused", "A legal hold.")]


def test_requests_already_processed_are_not_offered(client, staff, pending):
    client.force_login(staff)
    confirm(client, REQUESTS, "process_requests", pending)
    response = act(client, REQUESTS, "process_requests", pending, follow=True)
    assert "Select requests waiting to be processed." in response.content.decode()


def test_the_request_pages_are_read_only(client, staff, pending):
    client.force_login(staff)
    response = client.get(reverse("admin:privacy_erasurerequest_change", args=[pending.pk]))
    assert response.status_code == 200
    assert 'name="state"' not in response.content.decode()
    assert client.get(reverse("admin:privacy_erasurerequest_add")).status_code == 403
    assert client.post(reverse("admin:privacy_erasurerequest_delete", args=[pending.pk])).status_code == 403


def test_the_request_list_query_count_does_not_grow(client, staff, pending, queries):
    client.force_login(staff)

    def refuse(n):
        for _ in range(n):
            request = erasure_request(user=UserFactory(), now=timezone.now())
            confirm(client, REQUESTS, "refuse_requests", request, reason="hold")

    # The warm-up request of each size shows (and forgets) the messages of the actions.
    assert queries.at_sizes(refuse, lambda: client.get(REQUESTS), sizes=(0, 4)) == (6, 6)
    assert len(client.get(REQUESTS).context["cl"].result_list) == 5


# --- the calls ---------------------------------------------------------------------------------------------


def test_the_call_form_shows_the_retention_period(client, staff):
    client.force_login(staff)
    response = client.get(reverse("admin:calls_call_change", args=[CallFactory().pk]))
    assert response.context["adminform"].form.initial["retention_years"] == 5


def test_the_call_action_confirms_then_anonymises(client, staff, old_call):
    client.force_login(staff)
    page = act(client, CALLS, "anonymise_past_retention", old_call)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{old_call} (retention 5 years): 2 proposals" in html
    assert AnonymisedProposal.objects.count() == 0

    response = confirm(client, CALLS, "anonymise_past_retention", old_call)
    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages] == [f"{old_call}: 2 proposals anonymised."]
    assert sorted(AnonymisedProposal.objects.values_list("via", "anonymised_by_id")) == [("admin", staff.pk)] * 2
    assert AuditEntry.objects.filter(action="privacy.anonymise", actor=staff).count() == 2

    client.get(CALLS)  # shows (and forgets) the message
    again = confirm(client, CALLS, "anonymise_past_retention", old_call)
    assert [str(m) for m in again.wsgi_request._messages] == [f"{old_call}: 0 proposals anonymised."]
    assert AnonymisedProposal.objects.count() == 2
