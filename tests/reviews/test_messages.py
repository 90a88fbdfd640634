"""The conversations of #21: who writes and reads, the mails to the other side, the audit, the PDFs checked as
letters are, the unread markers, closing and reopening, and the pages' query counts."""

import datetime as dt
import re

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from proposals.models import CoApplicant, CoApplicantRole, Message, MessageSide, MessageThread, ThreadTopic
from proposals.threads import unread_counts
from reviews.domain.messages import message_post, thread_close, thread_mark_read, thread_reopen
from reviews.models import Panel
from tests.factories import StaffFactory, UserFactory
from tests.funding.factories import award_factory, make_panel_officer, make_unit_manager
from tests.pdfs import pdf_bytes, pdf_upload
from tests.reviews.factories import AssignmentFactory, ReviewerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(pi):
    now = timezone.now()
    award = award_factory(pi=pi, now=now)
    proposal = award.proposal
    coapplicant = UserFactory(email="co@cnrs.example.fr", full_name="Côme Applicant", language="fr")
    CoApplicant.objects.create(proposal=proposal, email=coapplicant.email, role=CoApplicantRole.EDITOR,
                               user=coapplicant, invited_at=now, invited_by=pi, accepted_at=now)
    reader = UserFactory(email="reader@partner.example.org")
    CoApplicant.objects.create(proposal=proposal, email=reader.email, role=CoApplicantRole.READER,
                               user=reader, invited_at=now, invited_by=pi, accepted_at=now)
    officer = make_panel_officer(award, UserFactory(email="officer@cnrs.example.fr", full_name="Olga Officer"))
    reviewer = ReviewerFactory(institute=proposal.institute)
    AssignmentFactory(proposal=proposal, reviewer=reviewer, panel=Panel.objects.get(officers=officer))
    return {"award": award, "proposal": proposal, "pi": pi, "coapplicant": coapplicant, "reader": reader,
            "officer": officer, "reviewer": reviewer.user, "staff": StaffFactory(), "manager": make_unit_manager(award)}


def mails_of(message):
    return sorted(Notification.objects.filter(kind="message_new", object_id=str(message.pk))
                  .values_list("email", "language"))


def test_the_pis_message_goes_to_the_panels_officers_once_and_is_audited_on_the_proposal(people):
    proposal, now = people["proposal"], timezone.now()
    message = message_post(proposal_id=proposal.pk, topic=ThreadTopic.PROPOSAL, user=people["pi"],
                           text="  La lettre signée arrive lundi.\n", now=now)
    assert (message.text, message.side) == ("La lettre signée arrive lundi.", MessageSide.APPLICANTS)
    assert mails_of(message) == [("officer@cnrs.example.fr", "en")]
    entry = AuditEntry.objects.get(action="message.post")
    assert (entry.object_id, entry.content_type.model, entry.actor) == (str(proposal.pk), "proposal", people["pi"])
    thread = MessageThread.objects.get()
    assert (thread.last_side, thread.last_message_at) == (MessageSide.APPLICANTS, now)


def test_the_answer_goes_to_the_pi_and_the_editing_coapplicant_not_the_reader(people):
    message = message_post(proposal_id=people["proposal"].pk, topic=ThreadTopic.AWARD, user=people["staff"],
                           text="Your extension is possible.", now=timezone.now())
    assert message.side == MessageSide.DIRECTORATE
    assert mails_of(message) == [("co@cnrs.example.fr", "fr"), ("pi@cnrs.example.fr", "en")]
    entry = AuditEntry.objects.get(action="message.post")
    assert (entry.object_id, entry.content_type.model) == (str(people["award"].pk), "award")


def test_the_mail_says_who_wrote_and_links_back_in_the_recipients_language(
        people, mailoutbox, django_capture_on_commit_callbacks):
    long_text = "Été " + "x" * 2500
    with django_capture_on_commit_callbacks(execute=True):
        message_post(proposal_id=people["proposal"].pk, topic=ThreadTopic.PROPOSAL, user=people["officer"],
                     text=long_text, now=timezone.now(), pdf=_checked())
    by_address = {mail.to[0]: mail for mail in mailoutbox}
    url = reverse("conversation:thread", kwargs={"pk": people["proposal"].pk, "topic": "proposal"})
    english, french = by_address["pi@cnrs.example.fr"], by_address["co@cnrs.example.fr"]
    assert english.subject.endswith(f"New message about proposal {people['proposal'].reference}")
    assert "The directorate or the institute wrote to you about your proposal" in english.body
    assert url in english.body and "Été xxx" in english.body and "x" * 2500 not in english.body
    assert "Attached on the platform: scan.pdf (PDF)" in english.body
    assert french.subject.endswith(people["proposal"].reference)
    assert url in french.alternatives[0][0]


def test_the_award_mail_subject_and_an_empty_acronym(people, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message_post(proposal_id=people["proposal"].pk, topic=ThreadTopic.AWARD, user=people["pi"],
                     text="Peut-on décaler la mission ?", now=timezone.now())
    [mail] = mailoutbox
    assert mail.subject.endswith(f"New message about the award of {people['proposal'].reference}")
    assert "Peut-on décaler la mission ?" in mail.body


def _checked():
    from proposals.letters import check_pdf  # noqa: PLC0415 -- beside its one use
    return check_pdf(pdf_upload("scan.pdf", pdf_bytes(pages=2)))


@pytest.mark.parametrize("role", ["reviewer", "manager", "reader"])
def test_reviewers_unit_managers_and_readers_may_not_write(people, role):
    with pytest.raises(ValidationError) as refused:
        message_post(proposal_id=people["proposal"].pk, topic=ThreadTopic.PROPOSAL, user=people[role],
                     text="Hello", now=timezone.now())
    assert refused.value.code == "forbidden"
    assert Message.objects.count() == 0


def test_empty_and_too_long_messages_and_a_proposal_without_award_are_refused(people, draft):
    for text, code in (("   ", "empty"), ("x" * 10_001, "too_long")):
        with pytest.raises(ValidationError) as refused:
            message_post(proposal_id=people["proposal"].pk, topic="proposal", user=people["pi"], text=text,
                         now=timezone.now())
        assert refused.value.code == code
    with pytest.raises(ValidationError) as refused:
        message_post(proposal_id=draft.pk, topic="award", user=draft.pi, text="Hi", now=timezone.now())
    assert refused.value.code == "no_award"


def test_unread_counts_and_reading(people):
    proposal, now = people["proposal"], timezone.now()
    for minute in range(3):
        message_post(proposal_id=proposal.pk, topic="proposal", user=people["officer"], text=f"Q{minute}",
                     now=now + dt.timedelta(minutes=minute))
    pi, coapplicant = people["pi"], people["coapplicant"]
    assert unread_counts(pi, proposal_ids=[proposal.pk]) == {(proposal.pk, "proposal"): 3}
    thread_mark_read(thread=MessageThread.objects.get(), user=pi, now=now)
    assert unread_counts(pi, proposal_ids=[proposal.pk]) == {}
    assert unread_counts(coapplicant, proposal_ids=[proposal.pk]) == {(proposal.pk, "proposal"): 3}
    message_post(proposal_id=proposal.pk, topic="proposal", user=pi, text="Merci", now=now)
    assert unread_counts(pi, proposal_ids=[proposal.pk]) == {}
    assert unread_counts(people["officer"], proposal_ids=[proposal.pk]) == {(proposal.pk, "proposal"): 1}


def test_close_and_reopen_are_the_directorates_and_audited_and_a_message_reopens(people):
    now = timezone.now()
    message_post(proposal_id=people["proposal"].pk, topic="proposal", user=people["pi"], text="Hi", now=now)
    thread = MessageThread.objects.get()
    with pytest.raises(ValidationError):
        thread_close(thread_id=thread.pk, user=people["officer"], now=now)
    thread_close(thread_id=thread.pk, user=people["staff"], now=now)
    with pytest.raises(ValidationError):
        thread_close(thread_id=thread.pk, user=people["staff"], now=now)
    thread_reopen(thread_id=thread.pk, user=people["staff"], now=now)
    thread_close(thread_id=thread.pk, user=people["staff"], now=now)
    message_post(proposal_id=people["proposal"].pk, topic="proposal", user=people["pi"], text="Encore", now=now)
    thread.refresh_from_db()
    assert thread.closed_at is None
    assert list(AuditEntry.objects.filter(action__startswith="message.").order_by("pk").values_list("action", flat=True)) == [
        "message.post", "message.thread_close", "message.thread_reopen", "message.thread_close", "message.post"]
    assert AuditEntry.objects.filter(action="message.post").order_by("pk").last().data["reopened"] is True


# --- The pages ----------------------------------------------------------------------------------------------

def page(client, user, proposal, topic="proposal"):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client.get(reverse("conversation:thread", kwargs={"pk": proposal.pk, "topic": topic}))


def test_the_pi_posts_with_a_pdf_sees_it_and_the_officer_downloads_it(client, people):
    proposal = people["proposal"]
    client.force_login(people["pi"])
    url = reverse("conversation:thread", kwargs={"pk": proposal.pk, "topic": "proposal"})
    response = client.post(url, {"text": "Voici la lettre signée.", "attachment": pdf_upload("lettre signée.pdf")})
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.attachment_name, message.attachment_pages) == ("lettre signée.pdf", 1)
    client.force_login(people["officer"])
    download = client.get(reverse("conversation:attachment", kwargs={"pk": proposal.pk, "topic": "proposal",
                                                                      "message_id": message.pk}))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_refused_pdf_keeps_the_text_and_says_why(client, people):
    client.force_login(people["pi"])
    url = reverse("conversation:thread", kwargs={"pk": people["proposal"].pk, "topic": "proposal"})
    response = client.post(url, {"text": "Mon texte long et précieux",
                                 "attachment": pdf_upload("fake.pdf", b"<html>not a pdf</html>")},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Mon texte long et précieux" in response.content.decode()
    assert "This file is a web page (HTML)" in response.content.decode()
    assert Message.objects.count() == 0


def test_opening_the_page_marks_read_and_shows_new(client, people):
    proposal = people["proposal"]
    message_post(proposal_id=proposal.pk, topic="proposal", user=people["staff"], text="Une question", now=timezone.now())
    first = page(client, people["pi"], proposal)
    assert first.content.decode().count('class="badge badge-info">New<') == 1
    assert unread_counts(people["pi"], proposal_ids=[proposal.pk]) == {}
    assert 'class="badge badge-info">New<' not in page(client, people["pi"], proposal).content.decode()


@pytest.mark.parametrize("role", ["reviewer", "manager", "reader"])
@pytest.mark.parametrize("topic", ["proposal", "award"])
def test_others_get_404(client, people, role, topic):
    message = message_post(proposal_id=people["proposal"].pk, topic=topic, user=people["pi"], text="Secret",
                           now=timezone.now(), pdf=_checked())
    client.force_login(people[role])
    kwargs = {"pk": people["proposal"].pk, "topic": topic}
    assert client.get(reverse("conversation:thread", kwargs=kwargs)).status_code == 404
    assert client.get(reverse("conversation:attachment", kwargs={**kwargs, "message_id": message.pk})).status_code == 404


def test_no_thread_content_on_the_reviewers_pages(client, people):
    message_post(proposal_id=people["proposal"].pk, topic="proposal", user=people["pi"], text="Confidentiel XYZ",
                 now=timezone.now())
    client.force_login(people["reviewer"])
    for name in ("reviewer:assignments",):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "Confidentiel XYZ" not in response.content.decode()
        assert "/messages/" not in response.content.decode()


def test_the_list_pages_show_the_unread_count(client, people):
    proposal, now = people["proposal"], timezone.now()
    message_post(proposal_id=proposal.pk, topic="proposal", user=people["staff"], text="a", now=now)
    message_post(proposal_id=proposal.pk, topic="award", user=people["staff"], text="b", now=now)
    message_post(proposal_id=proposal.pk, topic="award", user=people["staff"], text="c", now=now)
    client.force_login(people["pi"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "1 unread message<" in client.get(reverse("dashboard")).content.decode()
    assert "2 unread messages<" in client.get(reverse("funding:awards")).content.decode()
    assert "2 unread" in client.get(reverse("funding:award", kwargs={"pk": people["award"].pk})).content.decode()


def test_the_unit_manager_sees_the_award_page_without_messages(client, people):
    client.force_login(people["manager"])
    response = client.get(reverse("funding:award", kwargs={"pk": people["award"].pk}))
    assert response.status_code == 200
    assert "/messages/" not in response.content.decode()


def test_the_thread_page_query_count_does_not_grow(client, people, queries):
    proposal = people["proposal"]
    client.force_login(people["pi"])
    made = []

    def grow(n):
        for _ in range(n):
            made.append(message_post(proposal_id=proposal.pk, topic="proposal", user=people["officer"],
                                     text="Question", now=timezone.now(), pdf=_checked()))

    url = reverse("conversation:thread", kwargs={"pk": proposal.pk, "topic": "proposal"})
    assert queries.at_sizes(grow, lambda: client.get(url)) == (9, 9)


def test_the_admin_list_query_count_does_not_grow(client, people, queries):
    client.force_login(people["staff"])

    def grow(n):
        for _ in range(n):
            award = award_factory(now=timezone.now())
            message_post(proposal_id=award.proposal_id, topic="award", user=award.proposal.pi, text="Q",
                         now=timezone.now())

    url = reverse("admin:proposals_messagethread_changelist")
    for status in ("", "?status=waiting", "?status=unread"):
        assert queries.at_sizes(grow, lambda u=url + status: client.get(u), sizes=(1, 3) if not status else (4, 6))[0] > 0


def test_a_message_keeps_the_language_of_the_page_it_was_written_on_and_is_marked_with_it(
        client, people, django_capture_on_commit_callbacks):
    proposal = people["proposal"]
    url = reverse("conversation:thread", kwargs={"pk": proposal.pk, "topic": "proposal"})
    client.force_login(people["pi"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"text": "La lettre de soutien arrive lundi."},
                           HTTP_ACCEPT_LANGUAGE="fr").status_code == 302
    message = Message.objects.get()
    assert message.language == "fr"
    shown = page(client, people["officer"], proposal).content.decode()  # an English page
    assert '<div class="conversation-text" lang="fr"><p>La lettre de soutien arrive lundi.</p></div>' in shown
    (mail,) = [mail for mail in django_mail.outbox if "officer@cnrs.example.fr" in mail.to]
    assert '<blockquote lang="fr" style=' in mail.alternatives[0][0]
    # Written through the domain without a page (a script, the demo): no language claimed.
    unmarked = message_post(proposal_id=proposal.pk, topic="proposal", user=people["staff"], text="Bien reçu.",
                            now=timezone.now(), language="xx-unknown")
    assert unmarked.language == ""
    assert '<div class="conversation-text"><p>Bien reçu.</p></div>' in page(client, people["pi"], proposal).content.decode()


def test_the_admin_list_has_one_link_per_conversation_never_a_link_in_a_link(client, people):
    message_post(proposal_id=people["proposal"].pk, topic="proposal", user=people["pi"], text="Q", now=timezone.now())
    client.force_login(people["staff"])
    body = client.get(reverse("admin:proposals_messagethread_changelist")).content.decode()
    thread_url = reverse("conversation:thread", kwargs={"pk": people["proposal"].pk, "topic": "proposal"})
    assert body.count(f'href="{thread_url}"') == 1
    assert re.search(r"<a\b[^>]*>(?:(?!</a>).)*<a\b", body, re.S) is None
