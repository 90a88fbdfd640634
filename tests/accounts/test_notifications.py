"""The Notifications page (the person's call announcements choice and the messages sent to them) and the
one-click unsubscribe link of call announcements, which works without signing in."""

import datetime as dt
import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from iea.accounts.domain import announcements_set, announcements_token, announcements_user
from iea.accounts.models import User
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification, NotificationState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("notifications")


def record(user, count: int, *, kind: str = "call_announcement", state: str = NotificationState.SENT,
           **fields) -> list[Notification]:
    """``count`` messages to the person, the first one the newest."""
    now = timezone.now()
    sent = state == NotificationState.SENT
    return Notification.objects.bulk_create(
        Notification(kind=kind, occurrence=f"{kind}-{i}", recipient=user, email=user.email, state=state,
                     **{"subject": f"Subject {i}" if sent else "", **fields}, due_at=now - dt.timedelta(hours=i), created_at=now - dt.timedelta(hours=i),
                     sent_at=now - dt.timedelta(hours=i) if sent else None)
        for i in range(count)
    )


def table_rows(response) -> list[list[str]]:
    """The cells of the messages' table, row by row, as text."""
    html = response.content.decode()
    body = html.split('id="my-notifications"', 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


def entries(user) -> list[tuple]:
    return list(AuditEntry.objects.filter(object_id=str(user.pk), action__startswith="account.announcements_")
                .order_by("id").values_list("action", "actor_id", "actor_label", "data"))


# --- the page -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    user = UserFactory()
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={PAGE}"
    assert client.post(PAGE, {"call_announcements": "on"}).status_code == 302
    user.refresh_from_db()
    assert user.call_announcements is False


def test_the_page_is_linked_from_the_user_menu(client):
    client.force_login(UserFactory())
    assert f'href="{PAGE}"' in client.get(reverse("calendar")).content.decode()


def test_the_person_sees_their_own_messages_only_newest_first(client):
    user, other = UserFactory(), UserFactory()
    record(user, 2)
    record(other, 1, kind="draft_reminder")
    client.force_login(user)
    response = client.get(PAGE)
    assert response.status_code == 200
    rows = table_rows(response)
    assert [row[:3] for row in rows] == [["Call announcement", "Subject 0", "Sent"],
                                         ["Call announcement", "Subject 1", "Sent"]]
    assert "Reminder: proposal not submitted" not in response.content.decode()


def test_a_message_not_sent_yet_shows_no_subject_and_its_due_time(client):
    user = UserFactory()
    [row] = record(user, 1, kind="draft_reminder", state=NotificationState.PENDING)
    client.force_login(user)
    [cells] = table_rows(client.get(PAGE))
    assert cells[:3] == ["Reminder: proposal not submitted", "—", "Waiting to be sent"]
    assert cells[3].startswith("due ") and str(timezone.localtime(row.due_at).year) in cells[3]


def test_account_mail_shows_its_subject_never_its_text(client):
    user = UserFactory()
    record(user, 1, kind="account", subject="Confirm your e-mail address",
           body="Open https://iea.example/accounts/confirm-email/SECRET-KEY/",
           params={"body": "SECRET-KEY", "subject": "Confirm your e-mail address"})
    client.force_login(user)
    response = client.get(PAGE)
    assert [row[:2] for row in table_rows(response)] == [["Account message", "Confirm your e-mail address"]]
    assert "SECRET-KEY" not in response.content.decode()


def test_messages_are_paginated_25_a_page(client):
    user = UserFactory()
    record(user, 30)
    client.force_login(user)
    first, second = client.get(PAGE), client.get(PAGE, {"page": 2})
    assert [row[1] for row in table_rows(first)] == [f"Subject {i}" for i in range(25)]
    assert [row[1] for row in table_rows(second)] == [f"Subject {i}" for i in range(25, 30)]
    assert "Page 1 of 2" in first.content.decode() and 'href="?page=2"' in first.content.decode()
    assert [row[1] for row in table_rows(client.get(PAGE, {"page": "nonsense"}))][0] == "Subject 0"


def test_the_page_reads_as_many_queries_for_3_and_30_messages(client, queries):
    user = UserFactory()
    client.force_login(user)
    kinds = iter(["call_announcement", "draft_reminder"])  # occurrences are unique by kind
    assert queries.at_sizes(lambda n: record(user, n, kind=next(kinds)), lambda: client.get(PAGE),
                            sizes=(3, 30)) == (5, 5)


# --- subscribing ----------------------------------------------------------------------------------------


def test_subscribe_then_unsubscribe_on_the_page_with_audit(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(PAGE, {"call_announcements": "on"}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "You will receive the announcements of new calls." in response.content.decode()
    assert re.search(r'<input type="checkbox" name="call_announcements"[^>]*\schecked', response.content.decode())
    user.refresh_from_db()
    assert user.call_announcements is True

    response = client.post(PAGE, {}, follow=True)
    assert "You will no longer receive call announcements." in response.content.decode()
    user.refresh_from_db()
    assert user.call_announcements is False
    assert entries(user) == [("account.announcements_subscribe", user.pk, "", {"via": "page"}),
                             ("account.announcements_unsubscribe", user.pk, "", {"via": "page"})]


def test_the_page_form_needs_its_csrf_token():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(PAGE, {"call_announcements": "on"}).status_code == 403
    user.refresh_from_db()
    assert user.call_announcements is False


def test_asking_for_the_current_choice_changes_nothing_and_records_nothing():
    user = UserFactory(call_announcements=True)
    assert announcements_set(user=user, subscribed=True, now=timezone.now(), via="page") is False
    assert entries(user) == []
    assert announcements_set(user=user, subscribed=False, now=timezone.now(), via="page") is True
    assert announcements_set(user=user, subscribed=False, now=timezone.now(), via="link") is False
    assert len(entries(user)) == 1


def test_a_stale_copy_of_the_user_does_not_record_a_change_twice():
    """Two requests read the person before either saved: the second finds the change made and records nothing."""
    user = UserFactory()
    first, second = User.objects.get(pk=user.pk), User.objects.get(pk=user.pk)
    assert announcements_set(user=first, subscribed=True, now=timezone.now(), via="page") is True
    assert announcements_set(user=second, subscribed=True, now=timezone.now(), via="page") is False
    assert len(entries(user)) == 1


# --- the unsubscribe link -------------------------------------------------------------------------------


def link(user) -> str:
    return reverse("announcements_unsubscribe", args=[announcements_token(user)])


def test_the_link_asks_before_unsubscribing(client):
    user = UserFactory(email="reader@example.org", call_announcements=True)
    response = client.get(link(user))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Stop sending call announcements to reader@example.org?" in body
    assert 'type="submit">Unsubscribe</button>' in body
    assert response["Cache-Control"].startswith("max-age=0")
    user.refresh_from_db()
    assert user.call_announcements is True  # a mail scanner following the link unsubscribes nobody


def test_the_button_unsubscribes_without_signing_in(client):
    user = UserFactory(email="reader@example.org", call_announcements=True)
    response = client.post(link(user))
    assert response.status_code == 200
    assert "reader@example.org will no longer receive call announcements." in response.content.decode()
    user.refresh_from_db()
    assert user.call_announcements is False
    assert entries(user) == [("account.announcements_unsubscribe", None, "<reader@example.org> via link",
                              {"via": "link"})]
    # Again (a second click, the mail client's one-click after the button): nothing more is recorded.
    assert client.post(link(user)).status_code == 200
    assert len(entries(user)) == 1
    assert "receives no call announcements" in client.get(link(user)).content.decode()


def test_the_mail_clients_one_click_post_needs_no_csrf_token():
    user = UserFactory(call_announcements=True)
    client = Client(enforce_csrf_checks=True)
    response = client.post(link(user), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.call_announcements is False


def spliced(user) -> str:
    """Another person's id with this person's signature."""
    other = signing.dumps(user.pk + 1, salt="iea.accounts.announcements.unsubscribe")
    return other.split(":", 1)[0] + ":" + announcements_token(user).split(":", 1)[1]


@pytest.mark.parametrize("make_token", [
    lambda user: "not-a-token",
    lambda user: announcements_token(user)[:-1] + ("A" if announcements_token(user)[-1] != "A" else "B"),
    lambda user: spliced(user),
    lambda user: signing.dumps(user.pk),  # signed, but for something else (another salt)
    lambda user: signing.dumps(str(user.pk), salt="iea.accounts.announcements.unsubscribe"),
    lambda user: "é:ö:ü",
], ids=["garbage", "tampered-signature", "spliced", "other-salt", "not-an-id", "non-ascii"])
def test_a_bad_or_tampered_link_is_refused_clearly(client, make_token):
    user = UserFactory(call_announcements=True)
    url = reverse("announcements_unsubscribe", args=[make_token(user)])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 404
        assert "This unsubscribe link is not valid" in response.content.decode()
    user.refresh_from_db()
    assert user.call_announcements is True
    assert entries(user) == []


def test_the_link_of_a_deleted_account_is_refused(client):
    user = UserFactory(call_announcements=True)
    url = link(user)
    user.delete()
    assert client.post(url).status_code == 404


def test_each_person_has_their_own_link():
    first, second = UserFactory(), UserFactory()
    assert announcements_user(announcements_token(first)) == first
    assert announcements_user(announcements_token(second)) == second
    assert announcements_token(first) != announcements_token(second)
