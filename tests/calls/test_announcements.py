"""Call announcements (domain.md, notifications: "call published / opens → subscribed users"): one
``published`` then one ``opened`` mail to each active subscriber, none to anyone else, nothing twice,
nothing once the call moved on or the person unsubscribed, in the person's language, with a one-click
unsubscribe link, and a schedule in a constant number of queries.

``dispatch(now=…)`` records and sends at once (Celery runs eagerly); the worker checks with the real
clock, so the calls' dates are built from ``timezone.now()``.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

import iea.mail
from calls.domain import call_open, call_publish
from calls.models import Call, CallState
from calls.notifications import call_announcements
from iea import formats
from iea.accounts.domain import announcements_set, announcements_token
from iea.notifications import domain as notifications_domain
from iea.notifications.domain import deliver, dispatch
from iea.notifications.models import Notification, NotificationState
from tests.factories import CallFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def rows() -> list[tuple[str, str, str]]:
    """(occurrence, e-mail, state) of the announcements on record, oldest first."""
    return list(Notification.objects.filter(kind="call_announcement").order_by("pk")
                .values_list("occurrence", "email", "state"))


def draft_call(**fields) -> Call:
    now = timezone.now()
    return CallFactory(**{"state": CallState.DRAFT, "opens_at": now + 10 * DAY, "closes_at": now + 40 * DAY,
                          "title_fr": "Appel IEA 2031", "title_en": "IEA 2031 call",
                          "summary_fr": "Des actions courtes avec des partenaires à l'étranger.",
                          "summary_en": "Short actions with partners abroad.",
                          "budget_min": Decimal(10000), "budget_max": Decimal(14000), **fields})


@pytest.fixture
def subscriber(db):
    return UserFactory(email="reader@example.org", full_name="Rita Reader", call_announcements=True)


@pytest.fixture
def others(db):
    """Who must get nothing: not subscribed, or subscribed but deactivated."""
    return [UserFactory(email="quiet@example.org"),
            UserFactory(email="gone@example.org", call_announcements=True, is_active=False)]


@pytest.fixture
def staff(db):
    return StaffFactory(email="staff@example.org")


@pytest.fixture
def held(monkeypatch):
    """Rows are recorded but not handed to the worker: the test sends them with ``deliver``."""
    queued: list[int] = []
    monkeypatch.setattr(notifications_domain, "enqueue", lambda ids, **_: queued.extend(ids))
    return queued


# --- what is sent, and when ------------------------------------------------------------------------------


def test_subscribers_get_one_published_then_one_opened_announcement(subscriber, others, staff, mailoutbox):
    call = draft_call()
    dispatch(now=timezone.now())
    assert rows() == []  # a draft is not announced

    call_publish(call_id=call.pk, user=staff, now=timezone.now())
    dispatch(now=timezone.now())
    dispatch(now=timezone.now())
    assert rows() == [("published", "reader@example.org", NotificationState.SENT)]
    assert Notification.objects.get().due_at <= timezone.now()

    # Opened by staff ahead of its opening time: still "published" to a visitor, nothing new to say.
    call_open(call_id=call.pk, user=staff, now=timezone.now())
    dispatch(now=timezone.now())
    assert len(rows()) == 1

    Call.objects.filter(pk=call.pk).update(opens_at=timezone.now() - DAY)
    dispatch(now=timezone.now())
    dispatch(now=timezone.now())
    assert rows() == [("published", "reader@example.org", NotificationState.SENT),
                      ("opened", "reader@example.org", NotificationState.SENT)]
    assert Notification.objects.get(occurrence="opened").due_at == Call.objects.get(pk=call.pk).opens_at
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["reader@example.org"], f"IEA 2031 call is published: proposals from {opening_day(call)}"),
        (["reader@example.org"], f"IEA 2031 call is open for proposals until {closing_day(call)}"),
    ]


def opening_day(call) -> str:
    return formats.date(call.opens_at, language="en")


def closing_day(call) -> str:
    return formats.date(Call.objects.get(pk=call.pk).closes_at, language="en")


def test_a_call_opened_straight_from_draft_is_announced_once_opened(subscriber, staff, mailoutbox):
    call = draft_call(opens_at=timezone.now() - DAY)
    call_open(call_id=call.pk, user=staff, now=timezone.now())
    dispatch(now=timezone.now())
    assert rows() == [("opened", "reader@example.org", NotificationState.SENT)]


def test_closed_and_later_calls_are_not_announced(subscriber, mailoutbox):
    now = timezone.now()
    for state in (CallState.CLOSED, CallState.IN_REVIEW, CallState.DECIDED, CallState.ARCHIVED):
        CallFactory(state=state, opens_at=now - 40 * DAY, closes_at=now - 10 * DAY)
    CallFactory(state=CallState.OPEN, opens_at=now - 40 * DAY, closes_at=now - DAY)  # past its deadline
    dispatch(now=now)
    assert rows() == []
    assert mailoutbox == []


def test_someone_who_subscribes_while_a_call_is_open_gets_its_announcement(mailoutbox):
    call = CallFactory()  # open, accepting submissions
    user = UserFactory(email="late@example.org")
    dispatch(now=timezone.now())
    assert rows() == []
    announcements_set(user=user, subscribed=True, now=timezone.now(), via="page")
    dispatch(now=timezone.now())
    assert rows() == [("opened", "late@example.org", NotificationState.SENT)]
    assert Notification.objects.get().due_at == Call.objects.get(pk=call.pk).opens_at
    # Unsubscribing and subscribing again does not send it twice.
    announcements_set(user=user, subscribed=False, now=timezone.now(), via="page")
    announcements_set(user=user, subscribed=True, now=timezone.now(), via="page")
    dispatch(now=timezone.now())
    assert len(mailoutbox) == 1


# --- skipped at send time --------------------------------------------------------------------------------


def test_a_publication_announced_after_the_call_closed_is_not_sent(subscriber, held, mailoutbox):
    call = draft_call(state=CallState.PUBLISHED)
    dispatch(now=timezone.now())
    Call.objects.filter(pk=call.pk).update(state=CallState.CLOSED)
    deliver(held)
    assert rows() == [("published", "reader@example.org", NotificationState.SKIPPED)]
    assert Notification.objects.get().last_error == "The call is no longer at the stage this announcement is about."
    assert mailoutbox == []


def test_a_publication_overtaken_by_the_opening_leaves_the_opening_to_announce(subscriber, held, mailoutbox):
    call = draft_call(state=CallState.PUBLISHED)
    dispatch(now=timezone.now())
    Call.objects.filter(pk=call.pk).update(state=CallState.OPEN, opens_at=timezone.now() - DAY)
    deliver(held)
    dispatch(now=timezone.now())
    deliver(held)
    assert rows() == [("published", "reader@example.org", NotificationState.SKIPPED),
                      ("opened", "reader@example.org", NotificationState.SENT)]
    assert len(mailoutbox) == 1


def test_an_opening_announced_after_the_call_closed_is_not_sent(subscriber, held, mailoutbox):
    call = CallFactory()
    dispatch(now=timezone.now())
    Call.objects.filter(pk=call.pk).update(state=CallState.CLOSED)
    deliver(held)
    assert rows() == [("opened", "reader@example.org", NotificationState.SKIPPED)]
    assert mailoutbox == []


def test_nothing_is_sent_to_someone_who_unsubscribed_in_between(subscriber, held, mailoutbox):
    CallFactory()
    dispatch(now=timezone.now())
    announcements_set(user=subscriber, subscribed=False, now=timezone.now(), via="link")
    deliver(held)
    assert rows() == [("opened", "reader@example.org", NotificationState.SKIPPED)]
    assert Notification.objects.get().last_error == "The person no longer subscribes to call announcements."
    assert mailoutbox == []


# --- the mail --------------------------------------------------------------------------------------------


def test_the_mail_gives_the_call_its_dates_budget_and_links(subscriber, mailoutbox, client):
    call = draft_call(state=CallState.OPEN, opens_at=timezone.now() - DAY, grace_minutes=30)
    dispatch(now=timezone.now())
    [message] = mailoutbox
    html = message.alternatives[0][0]
    unsubscribe = settings.SITE_URL + reverse("announcements_unsubscribe", args=[announcements_token(subscriber)])
    public_page = settings.SITE_URL + reverse("calls:detail", args=[call.year])
    with translation.override("en"):
        from iea.templatetags.iea import paris_bare

        opens, deadline = paris_bare(call.opens_at), paris_bare(call.closes_at + dt.timedelta(minutes=30))
    for text in (message.body, html):
        assert "Dear Rita Reader," in text
        assert "The call IEA 2031 call of the International Emerging Actions is open" in text
        assert "Short actions with partners abroad." in text
        assert f"Proposals can be submitted from {opens} until {deadline}, Paris time." in text
        assert "Total budget between €10,000.00 and €14,000.00." in text
        assert public_page in text and unsubscribe in text
    assert "UTC" not in message.body and "Paris time" in message.body  # the zone in words, said once
    assert "&amp;" not in message.body and "<" not in message.body.replace("<br>", "")
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The link of the mail unsubscribes, without signing in.
    assert client.post(unsubscribe.removeprefix(settings.SITE_URL)).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.call_announcements is False


def test_the_mail_is_in_the_recipients_language(monkeypatch, mailoutbox):
    UserFactory(email="chercheuse@cnrs.example.fr", full_name="Claire Martin", language="fr", call_announcements=True)
    UserFactory(email="researcher@example.org", full_name="Ann Smith", language="en", call_announcements=True)
    rendered_in = []
    real = iea.mail.build_message

    def spy(**kwargs):
        rendered_in.append((kwargs["to"], kwargs["name"], kwargs["language"]))
        return real(**kwargs)

    monkeypatch.setattr(iea.mail, "build_message", spy)
    call = draft_call(state=CallState.PUBLISHED)
    dispatch(now=timezone.now())
    assert sorted(rendered_in) == [(["chercheuse@cnrs.example.fr"], "call_announcement", "fr"),
                                   (["researcher@example.org"], "call_announcement", "en")]
    by_address = {m.to[0]: m for m in mailoutbox}
    french, english = by_address["chercheuse@cnrs.example.fr"], by_address["researcher@example.org"]
    assert "Appel IEA 2031" in french.subject and "Appel IEA 2031" in french.body
    assert "Des actions courtes avec des partenaires à l'étranger." in french.body
    assert "Short actions" not in french.body
    with translation.override("fr"):
        from iea.templatetags.iea import paris_bare

        assert paris_bare(call.opens_at) in french.body  # the month in French
    assert "IEA 2031 call" in english.subject and "Short actions with partners abroad." in english.body


# --- the schedule ----------------------------------------------------------------------------------------


def test_the_schedule_reads_as_many_queries_for_3_and_30_subscribers(queries):
    now = timezone.now()
    draft_call(state=CallState.PUBLISHED)
    CallFactory()

    def recipients() -> int:
        return sum(len(due.recipients) for due in call_announcements(now))

    assert queries.at_sizes(lambda n: UserFactory.create_batch(n, call_announcements=True),
                            lambda: recipients(), sizes=(3, 30)) == (3, 3)
    assert recipients() == 2 * 30


def test_the_schedule_leaves_out_who_already_has_the_announcement(subscriber, mailoutbox):
    CallFactory()
    dispatch(now=timezone.now())
    assert list(call_announcements(timezone.now())) == []
    newcomer = UserFactory(call_announcements=True)
    [due] = call_announcements(timezone.now())
    assert [recipient.email for recipient in due.recipients] == [newcomer.email]


def test_staff_can_send_an_announcement_again_while_it_holds(subscriber, staff, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    from iea.notifications.domain import notification_resend

    call = CallFactory(title_en="IEA 2032")
    dispatch(now=timezone.now())
    original = Notification.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification_id=original.pk, user=staff, now=timezone.now())
    assert Notification.objects.get(resend_of=original).state == NotificationState.SENT
    assert original.subject.startswith("IEA 2032 is open for proposals")
    assert [m.subject for m in mailoutbox] == [original.subject] * 2  # the copy says the same

    Call.objects.filter(pk=call.pk).update(state=CallState.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification_id=original.pk, user=staff, now=timezone.now() + dt.timedelta(seconds=1))
    assert Notification.objects.filter(resend_of=original).order_by("pk").last().state == NotificationState.SKIPPED
    assert len(mailoutbox) == 2
