"""The development mail viewer (/dev/mails/): the mails the outbox sent, for anyone while DEBUG is on,
a 404 when it is off; the partner's invitation link is a link; the same queries at one and three mails."""

import datetime as dt

import pytest
from django.utils import timezone

from iea.notifications.domain import deliver
from iea.notifications.models import Notification, NotificationState
from proposals.domain import invitation_create

pytestmark = pytest.mark.django_db

URL = "/dev/mails/"


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def _sent(n: int, *, start: dt.datetime) -> None:
    Notification.objects.bulk_create(
        Notification(kind="receipt", email=f"pi{i}@example.org", subject=f"Receipt {i}", body=f"Body {i}",
                     due_at=start, created_at=start, sent_at=start + dt.timedelta(minutes=i),
                     state=NotificationState.SENT)
        for i in range(n)
    )


def test_with_debug_off_the_viewer_does_not_exist(client, settings, pi):
    settings.DEBUG = False
    _sent(1, start=timezone.now())
    assert client.get(URL).status_code == 404
    client.force_login(pi)
    assert client.get(URL).status_code == 404
    assert URL not in client.get("/").content.decode()


def test_with_debug_on_anyone_reads_it_and_the_footer_links_it(client, debug):
    # The demo's partner has no account: the page asks for none.
    _sent(1, start=timezone.now())
    response = client.get(URL)
    assert response.status_code == 200
    # The strict Content-Security-Policy holds: no inline style or script.
    assert "style-src 'self'" in response["Content-Security-Policy"]
    body = response.content.decode()
    assert [inline for inline in (" style=", "<style", "<script>") if inline in body] == []
    assert f'href="{URL}"' in client.get("/").content.decode()


def test_the_partner_invitation_link_is_clickable(client, debug, draft, pi):
    invitation_create(proposal_id=draft.pk, user=pi, email="ana@usp.example.br", language="en", now=timezone.now())
    deliver(list(Notification.objects.filter(kind="partner_invitation").values_list("pk", flat=True)))
    mail = Notification.objects.get(kind="partner_invitation", state=NotificationState.SENT)
    link = next(word for word in mail.body.split() if "/partner/" in word)

    page = client.get(URL).content.decode()

    assert f'<a href="{link}"' in page
    assert "ana@usp.example.br" in page
    assert mail.subject in page


def test_newest_first_and_paginated(client, debug):
    _sent(25, start=timezone.now())

    first = client.get(URL).content.decode()
    second = client.get(URL + "?page=2").content.decode()

    assert first.index("Receipt 24") < first.index("Receipt 23")
    assert "Receipt 5" in first and "Receipt 4" not in first
    assert "Receipt 4" in second and "Receipt 0" in second


def test_mails_not_sent_are_not_listed(client, debug):
    now = timezone.now()
    Notification.objects.create(kind="receipt", email="late@example.org", subject="Still waiting", due_at=now,
                                created_at=now)
    assert "Still waiting" not in client.get(URL).content.decode()


@pytest.mark.parametrize("size", [1, 3])
def test_the_query_count_does_not_grow(client, debug, django_assert_num_queries, size):
    _sent(size, start=timezone.now())
    with django_assert_num_queries(2):  # the count for the pages, then the page's mails
        assert client.get(URL).status_code == 200
