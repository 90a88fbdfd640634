"""The outbox in the admin (iea.notifications.admin): staff only, read-only, a list in a constant number of
queries, resending through the domain (action and button, audited, refusals shown), the "needs attention"
filter, and account mail whose text is never shown."""

import datetime as dt
import re
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from iea.accounts.notifications import notify_account_mail
from iea.audit.models import AuditEntry
from iea.notifications.admin import NotificationAdmin
from iea.notifications.domain import deliver
from iea.notifications.models import Notification, NotificationState
from proposals.models import PartnerInvitation
from tests.factories import PASSWORD, ProposalFactory, StaffFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db

State = NotificationState
CHANGELIST = reverse("admin:notifications_notification_changelist")


def change_url(row) -> str:
    return reverse("admin:notifications_notification_change", args=[row.pk])


def resend_url(row) -> str:
    return reverse("admin:notifications_notification_resend", args=[row.pk])


def on_record(kind: str, target, *, email: str | None = None, state=State.SENT, **fields) -> Notification:
    """A row as the outbox leaves it (written directly: the admin only reads them)."""
    now = timezone.now()
    return Notification.objects.create(
        kind=kind, content_type=ContentType.objects.get_for_model(target) if target is not None else None,
        object_id=target.pk if target is not None else None, email=email or f"{uuid.uuid4().hex[:8]}@example.org",
        occurrence=fields.pop("occurrence", uuid.uuid4().hex), due_at=now, created_at=now, state=state,
        sent_at=now if state == State.SENT else None, **fields,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def result_ids(response) -> list[int]:
    return sorted(row.pk for row in response.context["cl"].result_list)


# Who reaches it ----------------------------------------------------------------------------------------------


def test_anonymous_and_non_staff_are_sent_to_the_admin_sign_in(client, pi, draft):
    row = on_record("withdrawn", draft)
    for user in (None, pi):
        if user is not None:
            client.force_login(user)
        for response in (client.get(CHANGELIST), client.get(change_url(row)), client.post(resend_url(row))):
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/")
    assert (Notification.objects.count(), AuditEntry.objects.count()) == (1, 0)


def test_staff_without_two_factor_are_sent_to_set_it_up(client, draft):
    row = on_record("withdrawn", draft)
    client.force_login(StaffFactory(mfa=False))
    for response in (client.get(CHANGELIST), client.get(change_url(row)), client.post(resend_url(row))):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/totp/activate/")
    assert Notification.objects.count() == 1


def test_staff_who_gave_their_code_reach_the_list_and_the_page(client, draft):
    StaffFactory(email="clerk@cnrs.example.fr")
    row = on_record("withdrawn", draft, body="Your proposal was withdrawn.")
    client.post(reverse("account_login"), {"login": "clerk@cnrs.example.fr", "password": PASSWORD})
    assert client.get(CHANGELIST).status_code == 302  # not signed in before the code
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(change_url(row))
    assert page.status_code == 200
    assert b"Your proposal was withdrawn." in page.content


def test_staff_without_the_view_permission_are_refused(client, draft):
    row = on_record("withdrawn", draft)
    client.force_login(StaffFactory(is_superuser=False))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(row)).status_code == 403
    assert client.post(resend_url(row)).status_code == 403
    assert client.post(CHANGELIST, {"action": "resend", "_selected_action": [row.pk]}).status_code == 403
    assert (Notification.objects.count(), AuditEntry.objects.count()) == (1, 0)


def test_staff_who_may_view_notifications_reach_them(client, draft):
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    row = on_record("withdrawn", draft)
    client.force_login(viewer)
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(change_url(row)).status_code == 200


def test_nobody_adds_changes_or_deletes_a_notification(signed_in, staff, draft, rf):
    row = on_record("withdrawn", draft, body="Sent text.")
    before = list(Notification.objects.values_list("pk", "state", "body", "email"))
    assert signed_in.get(reverse("admin:notifications_notification_add")).status_code == 403
    assert signed_in.get(reverse("admin:notifications_notification_delete", args=[row.pk])).status_code == 403
    assert signed_in.post(reverse("admin:notifications_notification_delete", args=[row.pk]),
                          {"post": "yes"}).status_code == 403
    assert signed_in.post(change_url(row), {"email": "else@example.org", "state": State.PENDING}).status_code == 403
    listing = signed_in.get(CHANGELIST)
    assert re.findall(r'<option value="(\w*)"', listing.content.decode().split('name="action"')[1].split("</select>")[0]) \
        == ["", "resend"]
    page = signed_in.get(change_url(row)).content.decode()
    assert 'name="_save"' not in page
    assert list(Notification.objects.values_list("pk", "state", "body", "email")) == before
    request = rf.get(CHANGELIST)
    request.user = staff
    admin = NotificationAdmin(Notification, None)
    assert (admin.has_add_permission(request), admin.has_change_permission(request, row),
            admin.has_delete_permission(request, row), admin.has_view_permission(request, row)) == (
        False, False, False, True)


# The list ----------------------------------------------------------------------------------------------------


def make_rows(count: int) -> None:
    """Several kinds about several models, account mail about none, resends and every state."""
    states = [State.SENT, State.FAILED, State.PENDING, State.SKIPPED, State.SENDING]
    for i in range(count):
        proposal = ProposalFactory()
        which = i % 3
        if which == 0:
            row = on_record("withdrawn", proposal, state=states[i % len(states)], attempts=i % 4)
        elif which == 1:
            invitation = PartnerInvitation.objects.create(
                proposal=proposal, email=f"partner{i}@example.org", created_at=timezone.now(),
                created_by=proposal.pi, expires_at=timezone.now())
            row = on_record("partner_invitation", invitation, state=states[i % len(states)])
        else:
            row = on_record("account", None, state=states[i % len(states)], recipient=proposal.pi)
        if i % 4 == 3:
            on_record(row.kind, row.target, resend_of=row)


LIST_FILTERS = ["", "?attention=failed", "?attention=late", "?state=sent", "?kind=withdrawn", "?q=example.org"]
# One query per kind of object the rows are about; the "late" rows are about fewer kinds, "withdrawn" one.
LIST_QUERIES = {"": (10, 10), "?attention=failed": (10, 10), "?attention=late": (8, 8), "?state=sent": (10, 10),
                "?kind=withdrawn": (9, 9), "?q=example.org": (10, 10)}


@pytest.mark.parametrize("query", LIST_FILTERS)
def test_the_list_takes_as_many_queries_for_30_notifications_as_for_15(signed_in, query, queries):
    # One query per kind of object the rows are about (their names): 15 rows hold every kind in every filter.
    assert queries.at_sizes(make_rows, lambda: signed_in.get(CHANGELIST + query), sizes=(15, 30)) == LIST_QUERIES[query]
    assert Notification.objects.count() > 30


def test_the_list_shows_each_kind_and_what_it_is_about(signed_in, draft):
    withdrawn = on_record("withdrawn", draft, email="pi-list@example.org")
    account = on_record("account", None, email="account-list@example.org")
    content = signed_in.get(CHANGELIST).content.decode()
    assert "Withdrawal notice" in content and "Account message" in content
    assert f"Proposal · {draft}" in content and f"proposal #{draft.pk}" not in content
    assert {withdrawn.email, account.email} <= set(re.findall(r"[\w.-]+-list@example\.org", content))


def test_searching_by_address_or_object(signed_in, draft, other_pi):
    mine = on_record("withdrawn", draft, email="findme@example.org")
    other = on_record("withdrawn", ProposalFactory(pi=other_pi), email="other@example.org")
    assert result_ids(signed_in.get(CHANGELIST, {"q": "findme"})) == [mine.pk]
    assert result_ids(signed_in.get(CHANGELIST, {"q": str(other.object_id)})) == [other.pk]


def test_the_failed_filter_shows_failed_messages_not_resent(signed_in, draft, other_pi):
    failed = on_record("withdrawn", draft, state=State.FAILED, last_error="SMTPServerDisconnected: closed")
    failed_resent = on_record("withdrawn", draft, state=State.FAILED)
    on_record("withdrawn", draft, state=State.SENT, resend_of=failed_resent)
    failed_resent_twice = on_record("withdrawn", draft, state=State.FAILED)
    on_record("withdrawn", draft, state=State.SENT, resend_of=failed_resent_twice)
    on_record("withdrawn", draft, state=State.FAILED, resend_of=failed_resent_twice)
    resend_failed_too = Notification.objects.get(resend_of=failed_resent_twice, state=State.FAILED)
    for state in (State.SENT, State.PENDING, State.SKIPPED, State.SENDING):
        on_record("withdrawn", draft, state=state)
    failed_account = on_record("account", None, state=State.FAILED)

    response = signed_in.get(CHANGELIST, {"attention": "failed"})
    assert result_ids(response) == sorted([failed.pk, resend_failed_too.pk, failed_account.pk])
    assert result_ids(signed_in.get(CHANGELIST, {"state": State.FAILED})) == sorted(
        [failed.pk, failed_resent.pk, failed_resent_twice.pk, resend_failed_too.pk, failed_account.pk])


def test_the_late_filter_shows_what_is_minutes_late_or_stuck_with_a_dead_worker(signed_in, draft, settings):
    """LATE_AFTER past its due time and not sent, or claimed by a worker silent past CLAIM_TIMEOUT (dead):
    a receipt due on deadline day shows up within minutes, not hours."""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "LATE_AFTER": 300, "CLAIM_TIMEOUT": 60}
    now = timezone.now()
    late = on_record("withdrawn", draft, state=State.PENDING)
    late_sending = on_record("withdrawn", draft, state=State.SENDING)
    Notification.objects.filter(pk__in=[late.pk, late_sending.pk]).update(
        due_at=now - dt.timedelta(seconds=310), claimed_at=now)
    nearly_late = on_record("withdrawn", draft, state=State.PENDING)
    Notification.objects.filter(pk=nearly_late.pk).update(due_at=now - dt.timedelta(seconds=240))
    stuck = on_record("withdrawn", draft, state=State.SENDING)  # due just now, its worker silent for 70 s
    Notification.objects.filter(pk=stuck.pk).update(due_at=now, claimed_at=now - dt.timedelta(seconds=70))
    in_hand = on_record("withdrawn", draft, state=State.SENDING)  # a live worker renewed its claim
    Notification.objects.filter(pk=in_hand.pk).update(due_at=now, claimed_at=now - dt.timedelta(seconds=20))
    old_sent = on_record("withdrawn", draft, state=State.SENT)
    Notification.objects.filter(pk=old_sent.pk).update(due_at=now - dt.timedelta(days=2))
    response = signed_in.get(CHANGELIST, {"attention": "late"})
    assert result_ids(response) == sorted([late.pk, late_sending.pk, stuck.pk])
    assert "Not sent 5 minutes after their due time, or stuck while being sent" in response.content.decode()


# Resending ---------------------------------------------------------------------------------------------------


def test_the_resend_action_queues_a_copy_and_audits_it(signed_in, staff, draft, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    sent = on_record("withdrawn", draft, email=draft.pi.email)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(CHANGELIST, {"action": "resend", "_selected_action": [sent.pk]}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["1 message queued again."]
    copy = Notification.objects.get(resend_of=sent)
    assert (copy.kind, copy.email, copy.target, copy.state) == ("withdrawn", draft.pi.email, draft, State.SENT)
    assert [m.to for m in mailoutbox] == [[draft.pi.email]]
    [entry] = AuditEntry.objects.filter(action="notification.resend")
    assert (entry.target, entry.actor, entry.data["resend"]) == (sent, staff, copy.pk)


def test_the_resend_action_says_what_it_refused(signed_in, draft, pi):
    sent = on_record("withdrawn", draft)
    pending = on_record("withdrawn", draft, state=State.PENDING)
    account = on_record("account", None, recipient=pi)
    response = signed_in.post(CHANGELIST, {"action": "resend", "_selected_action": [sent.pk, pending.pk, account.pk]},
                              follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        "1 message queued again.",
        f"#{pending.pk}: This message is still waiting to be sent.",
        f"#{account.pk}: Account messages carry one-time links and cannot be resent; the person can ask for a new one.",
    ]
    assert list(Notification.objects.filter(resend_of__isnull=False).values_list("resend_of", flat=True)) == [sent.pk]
    assert AuditEntry.objects.filter(action="notification.resend").count() == 1


def test_the_resend_button_queues_a_copy_and_shows_it(signed_in, staff, draft, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    failed = on_record("withdrawn", draft, email=draft.pi.email, state=State.FAILED, last_error="SMTP: gone")
    page = signed_in.get(change_url(failed)).content.decode()
    assert f'action="{resend_url(failed)}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(resend_url(failed))
    copy = Notification.objects.get(resend_of=failed)
    assert (response.status_code, response["Location"]) == (302, change_url(copy))
    shown = signed_in.get(response["Location"])
    assert messages_of(shown) == [f"The message was queued again as #{copy.pk}."]
    assert copy.state == State.SENT
    assert [m.to for m in mailoutbox] == [[draft.pi.email]]
    [entry] = AuditEntry.objects.filter(action="notification.resend")
    assert (entry.target, entry.actor) == (failed, staff)
    # the original links to its resend
    assert f'href="{change_url(copy)}"' in signed_in.get(change_url(failed)).content.decode()


@pytest.mark.filterwarnings("error::django.utils.deprecation.RemovedInDjango60Warning")
def test_the_page_of_a_resent_message_links_to_each_resend(signed_in, draft):
    failed = on_record("withdrawn", draft, state=State.FAILED)
    first = on_record("withdrawn", draft, state=State.FAILED, resend_of=failed)
    second = on_record("withdrawn", draft, state=State.PENDING, resend_of=failed)
    page = signed_in.get(change_url(failed)).content.decode()
    assert (f'<a href="{change_url(first)}">#{first.pk}</a> (Failed), '
            f'<a href="{change_url(second)}">#{second.pk}</a> (Waiting to be sent)') in page
    form = rf'<form method="post" action="{re.escape(resend_url(failed))}"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken"'
    assert re.search(form, page)


def test_the_resend_url_only_takes_a_post(signed_in, draft):
    sent = on_record("withdrawn", draft)
    response = signed_in.get(resend_url(sent))
    assert (response.status_code, response["Allow"]) == (405, "POST")
    assert Notification.objects.count() == 1
    assert signed_in.post(reverse("admin:notifications_notification_resend", args=[987654])).status_code == 404


@pytest.mark.parametrize("state", [State.PENDING, State.SENDING])
def test_the_resend_button_on_a_waiting_message_shows_why_not(signed_in, draft, state):
    waiting = on_record("withdrawn", draft, state=state)
    response = signed_in.post(resend_url(waiting), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(change_url(waiting), 302)]
    assert messages_of(response) == ["This message is still waiting to be sent."]
    assert (Notification.objects.count(), AuditEntry.objects.count()) == (1, 0)


def test_the_resend_button_on_account_mail_shows_why_not(signed_in, pi):
    account = on_record("account", None, recipient=pi)
    response = signed_in.post(resend_url(account), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        "Account messages carry one-time links and cannot be resent; the person can ask for a new one."]
    assert Notification.objects.count() == 1


# What the page shows -----------------------------------------------------------------------------------------


def test_account_mail_is_never_shown(signed_in, pi, mailoutbox, django_capture_on_commit_callbacks):
    link = "https://iea.example/accounts/password/reset/key/one-time-secret/"

    def reset_mail():
        notify_account_mail(subject="Reset your password", body=f"Follow {link}", html=f'<a href="{link}">x</a>',
                            from_email="noreply@iea.example", to=[pi.email], now=timezone.now())

    reset_mail()  # recorded, not sent yet: its text is in the row
    waiting = Notification.objects.get(kind="account")
    assert link in waiting.params["body"]
    page = signed_in.get(change_url(waiting)).content.decode()
    assert "one-time-secret" not in page
    assert "Not kept: account messages carry one-time links." in page

    deliver([waiting.pk])
    assert link in mailoutbox[0].body
    for url in (change_url(waiting), CHANGELIST, CHANGELIST + "?q=" + pi.email):
        assert "one-time-secret" not in signed_in.get(url).content.decode(), url


def test_the_text_as_sent_is_shown_escaped(signed_in, draft):
    row = on_record("withdrawn", draft, body="Dear <b>Paula</b>,\nyour proposal was withdrawn.", subject="Withdrawn")
    page = signed_in.get(change_url(row)).content.decode()
    assert '<pre class="notification-text" lang="en" tabindex="0">Dear &lt;b&gt;Paula&lt;/b&gt;,\nyour proposal was withdrawn.</pre>' in page


def test_the_page_of_a_message_about_a_deleted_object_still_opens(signed_in, draft):
    row = on_record("withdrawn", draft, state=State.SKIPPED, last_error="The object of this message no longer exists.")
    type(draft).objects.filter(pk=draft.pk).delete()
    assert signed_in.get(change_url(row)).status_code == 200
    assert signed_in.get(CHANGELIST).status_code == 200


def test_a_message_of_a_kind_no_longer_registered_still_opens(signed_in, draft):
    row = on_record("retired_kind", draft, state=State.FAILED, body="Old text")
    assert signed_in.get(change_url(row)).status_code == 200
    assert "retired_kind" in signed_in.get(CHANGELIST).content.decode()


def test_the_kind_filter_lists_registered_kinds(signed_in, draft):
    withdrawn = on_record("withdrawn", draft)
    on_record("account", None)
    response = signed_in.get(CHANGELIST, {"kind": "withdrawn"})
    assert result_ids(response) == [withdrawn.pk]
    assert "?kind=partner_invitation" in response.content.decode()


def test_new_users_list_nothing_of_the_others(client, draft):
    """A signed-in user who is not staff never lists the outbox, even with every model permission."""
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="notifications"))
    on_record("withdrawn", draft)
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/")


def test_the_send_again_button_is_offered_only_where_resending_is_allowed(signed_in, draft):
    sent = on_record("withdrawn", draft)
    pending = on_record("withdrawn", draft, state=State.PENDING)
    account = on_record("account", None, email="someone@example.org")
    offered = {row.pk: resend_url(row) in signed_in.get(change_url(row)).content.decode()
               for row in (sent, pending, account)}
    assert offered == {sent.pk: True, pending.pk: False, account.pk: False}


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["7 days before the deadline", "event of ", "sent again on ", "at the closing of the call",
            "one-off message"]),
    ("fr", ["7 jours avant la date limite", "événement du ", "renvoyé le ", "à la clôture de l&#x27;appel",
            "message unique"]),
])
def test_occurrences_read_in_words(signed_in, draft, language, words):
    moment = timezone.now()
    for occurrence in ["-7d", moment.isoformat(), f"resend {moment.isoformat()}", "closed", uuid.uuid4().hex]:
        on_record("withdrawn", draft, occurrence=occurrence)
    content = signed_in.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for word in words:
        assert word in content
    assert moment.isoformat() not in content and ">-7d<" not in content
