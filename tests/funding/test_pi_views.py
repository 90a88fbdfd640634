"""The PI's funding pages and the partner's co-signature page: who gets in, what they show, the report form
(save, submit, PDF), the co-signature link (valid, another report's, expired, replaced, already used), the
award letter PDF, and the query count of "My awards"."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from funding.domain.awards import tranche_gate
from funding.models import Award, CosignInvitation, Report, ReportSpending
from tests.factories import StaffFactory, UserFactory
from tests.pdfs import pdf_bytes, pdf_upload

from .factories import award_factory, cast

pytestmark = pytest.mark.django_db

FILLED = {
    "scientific_review": "Two missions to São Paulo and a joint workshop.",
    "spending_mobility": "2500.00", "spending_meetings": "1200", "spending_field": "", "spending_other": "0",
    "cofunding_received": "3000", "cofunding_currency": "brl",
}


@pytest.fixture
def award(pi, staff):
    return award_factory(pi=pi, staff=staff)


@pytest.fixture
def people(award, staff):
    return cast(award, staff=staff)


def report_of(award, period="year1") -> Report:
    return Report.objects.get(award=award, period=period)


def url(name, award, period="year1"):
    if name == "awards":
        return reverse("funding:awards")
    if name in ("report", "report_pdf"):
        return reverse(f"funding:{name}", args=[award.pk, period])
    return reverse(f"funding:{name}", args=[award.pk])


def attach_pdf(client, award, content=None):
    client.force_login(award.proposal.pi)
    response = client.post(url("report", award), {**FILLED, "action": "save",
                                                  "scientific_pdf": pdf_upload("review.pdf", content)})
    assert response.status_code == 302
    return report_of(award)


def submit(client, award, period="year1", mails=None):
    """The PI fills and submits the report; returns the co-signature token mailed to the partner."""
    client.force_login(award.proposal.pi)
    response = client.post(url("report", award, period), {**FILLED, "action": "submit"})
    assert response.status_code == 302
    invitation = CosignInvitation.objects.filter(report__award=award, report__period=period, revoked_at__isnull=True).get()
    from funding.domain.reports import cosign_token

    return cosign_token(invitation)


# ---------------------------------------------------------------------------------------------------
# Who gets in
# ---------------------------------------------------------------------------------------------------

ALLOWED = {"pi": 200, "other_pi": 404, "reviewer": 404, "other_unit_manager": 404, "unit_manager": 200,
           "officer": 200, "other_officer": 404, "staff": 200}


@pytest.mark.parametrize("page", ["awards", "award", "award_letter", "report", "report_pdf"])
def test_anonymous_is_sent_to_sign_in(client, award, page):
    response = client.get(url(page, award))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", list(ALLOWED))
@pytest.mark.parametrize("page", ["award", "award_letter", "report", "report_pdf"])
def test_award_pages_follow_can_view_award(client, award, people, who, page):
    if page == "report_pdf":
        attach_pdf(client, award)
    client.force_login(people[who])
    response = client.get(url(page, award))
    assert response.status_code == ALLOWED[who]


@pytest.mark.parametrize("who", list(ALLOWED))
def test_my_awards_lists_only_the_awards_of_which_one_is_the_pi(client, award, people, who):
    client.force_login(people[who])
    response = client.get(url("awards", award))
    assert response.status_code == 200
    listed = [a.pk for a in response.context["awards"]]
    expected = {"pi": [award.pk], "other_pi": list(Award.objects.filter(proposal__pi=people["other_pi"]).values_list("pk", flat=True))}.get(who, [])
    assert listed == expected


def test_unknown_period_is_404(client, award):
    client.force_login(award.proposal.pi)
    assert client.get(reverse("funding:report", args=[award.pk, "year2"])).status_code == 404
    assert client.post(reverse("funding:report", args=[award.pk, "year2"]), FILLED).status_code == 404


@pytest.mark.parametrize("who, status", [("unit_manager", 403), ("officer", 403), ("staff", 403), ("other_pi", 404),
                                         ("other_unit_manager", 404)])
def test_only_the_pi_may_write_the_report(client, award, people, who, status):
    client.force_login(people[who])
    response = client.post(url("report", award), {**FILLED, "action": "submit"})
    assert response.status_code == status
    report = report_of(award)
    assert (report.state, report.scientific_review, ReportSpending.objects.filter(report=report).count()) == ("draft", "", 0)


def test_the_unit_manager_reads_the_report_without_a_form(client, award, people):
    client.force_login(award.proposal.pi)
    client.post(url("report", award), {**FILLED, "action": "save"})
    client.force_login(people["unit_manager"])
    response = client.get(url("report", award))
    html = response.content.decode()
    assert response.context["form"] is None
    assert 'name="action"' not in html
    assert "Two missions to São Paulo" in html
    assert "2,500.00" in html


# ---------------------------------------------------------------------------------------------------
# The award page
# ---------------------------------------------------------------------------------------------------

def test_award_page_shows_tranches_the_gate_reports_and_the_chart(client, award, staff):
    from funding.domain.awards import tranche_release

    tranche_release(tranche_id=award.tranches.get(number=1).pk, user=staff, now=timezone.now())
    client.force_login(award.proposal.pi)
    response = client.get(url("award", award))
    html = response.content.decode()
    assert response.status_code == 200
    assert [t.number for t in response.context["tranches"]] == [1, 2]
    assert [r.period for r in response.context["reports"]] == ["year1", "final"]
    assert response.context["gate"] == (
        "Tranche 2 is released only after the year 1 reports are approved; they are: draft.")
    assert response.context["gate"] in html
    assert "€6,000.00" in html and "€12,000.00" in html
    assert "<svg" in html and "&lt;svg" not in html
    assert reverse("funding:award_letter", args=[award.pk]) in html
    assert reverse("funding:report", args=[award.pk, "year1"]) in html


def test_dashboard_links_to_my_awards_for_awardees_only(client, award, other_pi):
    client.force_login(award.proposal.pi)
    assert reverse("funding:awards") in client.get(reverse("dashboard")).content.decode().split("<main", 1)[1]
    client.force_login(other_pi)
    assert 'id="awards-link"' not in client.get(reverse("dashboard")).content.decode()


def test_my_awards_query_count_does_not_grow(client, pi, staff, queries):
    client.force_login(pi)
    hit = lambda: client.get(reverse("funding:awards"))  # noqa: E731
    assert queries.at_sizes(lambda n: [award_factory(pi=pi, staff=staff) for _ in range(n)], hit,
                            sizes=(1, 15)) == (8, 8)  # #21: the unread messages
    assert len(hit().context["awards"]) == 15


def test_my_awards_shows_the_next_report_and_its_state(client, award):
    Report.objects.filter(award=award, period="year1").update(state="approved")
    client.force_login(award.proposal.pi)
    response = client.get(reverse("funding:awards"))
    row = response.context["awards"][0]
    assert (row.next_report.period, row.next_report.state, row.next_report.due) == ("final", "draft", award.end_date)


# ---------------------------------------------------------------------------------------------------
# The report form
# ---------------------------------------------------------------------------------------------------

def test_save_keeps_what_was_typed(client, award):
    client.force_login(award.proposal.pi)
    response = client.post(url("report", award), {**FILLED, "action": "save"})
    assert response.status_code == 302
    report = report_of(award)
    spending = dict(report.spending.values_list("category", "amount"))
    assert (report.state, report.scientific_review, report.cofunding_received, report.cofunding_currency) == (
        "draft", FILLED["scientific_review"], 3000, "BRL")
    assert {k: str(v) for k, v in spending.items()} == {
        "mobility": "2500.00", "meetings": "1200.00", "field": "0.00", "other": "0.00"}
    form = client.get(url("report", award)).context["form"]
    assert (form.initial["scientific_review"], str(form.initial["spending_mobility"])) == (FILLED["scientific_review"], "2500.00")


def test_incomplete_report_is_saved_but_not_submitted_and_says_what_is_missing(client, award, mailoutbox,
                                                                                django_capture_on_commit_callbacks):
    client.force_login(award.proposal.pi)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("report", award), {"scientific_review": "", "action": "submit"}, follow=True)
    assert report_of(award).state == "draft"
    assert [str(m) for m in response.context["messages"]] == [
        "Saved, but not submitted: Still missing: the scientific review (text or PDF), the spending by category."]
    assert CosignInvitation.objects.count() == 0
    assert mailoutbox == []


def test_submit_sends_the_partner_the_cosign_link(client, award, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        token = submit(client, award)
    report = report_of(award)
    assert report.state == "submitted"
    assert [m.to for m in mailoutbox] == [["ana@usp.example.br"]]
    assert reverse("funding:cosign", args=[token]) in mailoutbox[0].body
    page = client.get(url("report", award))
    assert page.context["form"] is None
    assert "Waiting for the partner's co-signature: the link was sent to ana@usp.example.br" in page.content.decode()


def test_a_submitted_report_can_no_longer_be_changed(client, award):
    submit(client, award)
    response = client.post(url("report", award), {**FILLED, "scientific_review": "Changed", "action": "save"}, follow=True)
    assert report_of(award).scientific_review == FILLED["scientific_review"]
    assert [str(m) for m in response.context["messages"]][-1] == (
        "This report is waiting for the partner's co-signature; it can no longer be changed.")


def test_the_report_of_a_suspended_award_is_read_not_written_and_a_post_says_why(client, award):
    Award.objects.filter(pk=award.pk).update(state="suspended")
    client.force_login(award.proposal.pi)

    page = client.get(url("award", award)).content.decode()
    response = client.post(url("report", award), {**FILLED, "action": "save"}, follow=True)

    assert (page.count("Write the report"), page.count("Read the report")) == (0, 2)
    assert response.context["form"] is None
    assert [str(m) for m in response.context["messages"]] == ["The award is not active."]


def test_a_refused_pdf_keeps_what_was_typed_and_says_why(client, award):
    client.force_login(award.proposal.pi)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    response = client.post(url("report", award), {**FILLED, "action": "save",
                                                  "scientific_pdf": pdf_upload("review.pdf", png)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This file is an image, not a PDF." in html
    assert response.context["form"]["scientific_review"].value() == FILLED["scientific_review"]
    assert response.context["form"]["spending_mobility"].value() == "2500.00"
    report = report_of(award)
    assert (report.scientific_review, bool(report.scientific_pdf)) == ("", False)


def test_the_scientific_pdf_is_stored_and_downloaded(client, award, people):
    content = pdf_bytes(2)
    report = attach_pdf(client, award, content)
    import hashlib

    assert report.scientific_pdf_sha256 == hashlib.sha256(content).hexdigest()
    client.force_login(people["officer"])
    response = client.get(url("report_pdf", award))
    assert (response.status_code, response["Content-Type"], response["Cache-Control"]) == (
        200, "application/pdf", "private, no-store")
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"].startswith("attachment;")


def test_report_pdf_is_404_when_there_is_none(client, award):
    client.force_login(award.proposal.pi)
    assert client.get(url("report_pdf", award)).status_code == 404


# ---------------------------------------------------------------------------------------------------
# The partner's co-signature
# ---------------------------------------------------------------------------------------------------

def test_partner_reads_and_cosigns(client, award):
    token = submit(client, award)
    client.logout()
    page = client.get(reverse("funding:cosign", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200
    assert FILLED["scientific_review"] in html and "3,000.00 BRL" in html
    assert "I co-sign this report" in html
    refused = client.post(reverse("funding:cosign", args=[token]), {"signer_name": "  "})
    assert refused.status_code == 400
    assert "Type your name to sign." in refused.content.decode()
    assert report_of(award).state == "submitted"
    signed = client.post(reverse("funding:cosign", args=[token]), {"signer_name": "Ana Souza"}, follow=True)
    report = report_of(award)
    assert (report.state, report.cosigned_by) == ("cosigned", "Ana Souza <ana@usp.example.br>")
    assert [str(m) for m in signed.context["messages"]] == [
        "Thank you: you co-signed the report. It now goes to the institute for approval."]
    again = client.get(reverse("funding:cosign", args=[token]))
    assert again.status_code == 200
    assert "This report is already co-signed" in again.content.decode()
    assert "I co-sign this report" not in again.content.decode()


def test_partner_downloads_the_scientific_pdf_through_the_link(client, award):
    content = pdf_bytes()
    attach_pdf(client, award, content)
    token = submit(client, award)
    client.logout()
    response = client.get(reverse("funding:cosign", args=[token]) + "?download=pdf")
    assert (response.status_code, b"".join(response.streaming_content)) == (200, content)


def test_the_link_of_another_report_gives_nothing_on_this_one(client, award, staff):
    other = award_factory(staff=staff)
    submit(client, award)
    other_token = submit(client, other)
    client.logout()
    page = client.get(reverse("funding:cosign", args=[other_token]))
    assert page.context["report"].pk == report_of(other).pk
    assert award.proposal.reference not in page.content.decode()
    client.post(reverse("funding:cosign", args=[other_token]), {"signer_name": "Someone"})
    assert (report_of(award).state, report_of(other).state) == ("submitted", "cosigned")
    # A token made of this report's nonce and the other's signature is not valid.
    mine = CosignInvitation.objects.get(report__award=award)
    forged = f"{mine.nonce}:{other_token.rsplit(':', 1)[1]}"
    response = client.get(reverse("funding:cosign", args=[forged]))
    assert response.status_code == 403
    assert "This link is not valid." in response.content.decode()


@pytest.mark.parametrize("token", ["garbage", "abc:def"])
def test_a_broken_link_is_refused(client, token):
    response = client.get(reverse("funding:cosign", args=[token]))
    assert response.status_code == 403
    assert "This link is not valid. Check that you copied it whole." in response.content.decode()


def test_an_expired_link_is_refused(client, award):
    token = submit(client, award)
    CosignInvitation.objects.update(expires_at=timezone.now() - timezone.timedelta(minutes=1))
    client.logout()
    response = client.get(reverse("funding:cosign", args=[token]))
    assert response.status_code == 403
    assert "This link has expired. Ask the PI to submit the report again." in response.content.decode()
    client.post(reverse("funding:cosign", args=[token]), {"signer_name": "Ana Souza"})
    assert report_of(award).state == "submitted"


def test_a_revoked_link_is_refused(client, award):
    token = submit(client, award)
    CosignInvitation.objects.update(revoked_at=timezone.now())
    client.logout()
    response = client.post(reverse("funding:cosign", args=[token]), {"signer_name": "Ana Souza"})
    assert response.status_code == 403
    assert "This link was replaced by a newer one." in response.content.decode()
    assert report_of(award).state == "submitted"


# ---------------------------------------------------------------------------------------------------
# The award letter
# ---------------------------------------------------------------------------------------------------

def pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_award_letter_is_a_pdf_with_the_reference_the_amount_and_the_rules(client, award, settings):
    settings.ORGANISATION_NAME = "Test Organisation"
    client.force_login(award.proposal.pi)
    response = client.get(url("award_letter", award))
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == f'attachment; filename="award-letter-{award.proposal.reference}.pdf"'
    text = " ".join(pdf_text(response).split())
    assert award.proposal.reference in text
    assert "€12,000.00" in text
    assert "Test Organisation" in text
    assert "tranche 2 is released only after the year-1 scientific review and financial report are approved" in text
    assert f"Year-1 report {award.tranches.get(number=2).planned_date:%-d %B %Y}" in text
    assert f"Final report {award.end_date:%-d %B %Y}" in text


def test_award_letter_follows_the_language_of_the_request(client, award):
    from iea import formats

    client.force_login(award.proposal.pi)
    start = formats.date(award.start_date, language="fr")
    text = " ".join(pdf_text(client.get(url("award_letter", award), HTTP_ACCEPT_LANGUAGE="fr")).split())
    assert start.replace("\N{NO-BREAK SPACE}", " ") in text.replace("\N{NO-BREAK SPACE}", " ")
    assert start.startswith("1er\N{NO-BREAK SPACE}janvier")


def test_staff_user_without_award_links_sees_no_awards(client, award):
    client.force_login(StaffFactory())
    assert list(client.get(reverse("funding:awards")).context["awards"]) == []


def test_a_user_without_an_award_sees_an_empty_list(client, award):
    client.force_login(UserFactory())
    assert "You have no award yet." in client.get(reverse("funding:awards")).content.decode()


def test_tranche_gate_names_the_missing_approval_before_any_report(award, staff):
    from funding.domain.awards import tranche_release

    tranche_release(tranche_id=award.tranches.get(number=1).pk, user=staff, now=timezone.now())
    assert tranche_gate(award.tranches.get(number=2)) == (
        "Tranche 2 is released only after the year 1 reports are approved; they are: draft.")


# The funded proposal's page: where it stands and its award, not the submission checklist ----------------------


def test_a_funded_proposal_shows_its_award_and_reports_not_the_checklist(client, award, pi):
    client.force_login(pi)
    page = client.get(reverse("proposals:detail", args=[award.proposal.pk])).content.decode()
    assert 'id="checklist"' not in page
    assert "The call is open" not in page
    assert "Selected for funding." in page
    assert f'id="award-link" href="{reverse("funding:award", args=[award.pk])}"' in page
    assert reverse("funding:report", args=[award.pk, "year1"]) in page
    assert reverse("funding:report", args=[award.pk, "final"]) in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Funded: open it for the award, its tranches and annual reports." in dashboard


def test_staff_reading_a_funded_proposal_see_the_award_too(client, award, staff):
    client.force_login(staff)
    page = client.get(reverse("proposals:detail", args=[award.proposal.pk])).content.decode()
    assert 'id="award-link"' in page and 'id="checklist"' not in page


def test_another_pi_cannot_read_the_funded_proposal(client, award):
    client.force_login(UserFactory())
    assert client.get(reverse("proposals:detail", args=[award.proposal.pk])).status_code == 404


def test_a_draft_still_shows_the_checklist(client, draft, pi):
    client.force_login(pi)
    page = client.get(reverse("proposals:detail", args=[draft.pk])).content.decode()
    assert 'id="checklist"' in page and 'id="standing"' not in page


def test_a_submitted_proposal_after_the_deadline_shows_where_it_stands(client, pi):
    from tests.reviews.staff_factories import closed_call, submitted_proposal

    proposal = submitted_proposal(closed_call(), pi=pi)
    client.force_login(pi)
    page = client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    assert 'id="checklist"' not in page
    assert "Submitted in time." in page


def test_the_pi_dashboard_shows_an_overdue_report(client, pi, staff):
    """The dashboard once said "Nothing to do now" while the year-1 report was overdue."""
    import datetime as dt

    award = award_factory(pi=pi, staff=staff, acronym="LATE", now=timezone.now() - dt.timedelta(days=420))
    client.force_login(pi)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-kind="report_overdue"' in page
    assert "The year 1 report of “LATE” is overdue: write it and submit it." in page
    assert reverse("funding:report", args=[award.pk, "year1"]) in page
