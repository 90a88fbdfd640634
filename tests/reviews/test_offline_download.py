"""Offline reading (issue #20): the reviewer's accepted proposals as one ZIP — one PDF per proposal with its
support letter's pages appended, a README in the reviewer's language; the list computed at the request by
the rule of online reading (conflicts, declined and closed assignments, proposals out of review left out);
a page, not an empty ZIP, when there is nothing; the download audited."""

import io
import time
import zipfile

import pikepdf
import pytest
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.domain import offline
from reviews.models import AssignmentState, Conflict
from tests.factories import UserFactory
from tests.pdfs import pdf_text

from .factories import AssignmentFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return ReviewerFactory(user=UserFactory(language="en", full_name="Rita Reviewer"))


def assign(reviewer, *, state=AssignmentState.ACCEPTED, proposal=None):
    proposal = proposal or eligible_proposal()
    return AssignmentFactory(proposal=proposal, reviewer=reviewer, state=state)


def download(client, user, language="en"):
    client.force_login(user)
    return client.get(reverse("reviewer:download_all"), HTTP_ACCEPT_LANGUAGE=language)


def archive_of(response) -> zipfile.ZipFile:
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def pages(content: bytes) -> int:
    with pikepdf.open(io.BytesIO(content)) as document:
        return len(document.pages)


def letter_pages(assignment) -> int:
    letter = Proposal.objects.get(pk=assignment.proposal_id).versions.order_by("-number").first().letter
    with letter.file.open("rb") as handle:
        return pages(handle.read())


def test_one_pdf_per_accepted_assignment_with_its_letter_appended(client, reviewer):
    first, second = assign(reviewer), assign(reviewer)
    response = download(client, reviewer.user)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="iea-reviews-{timezone.localdate().isoformat()}.zip"')
    assert response["Cache-Control"] == "private, no-store"
    archive = archive_of(response)
    references = sorted([first.proposal.reference, second.proposal.reference])
    assert sorted(archive.namelist()) == sorted([*(f"{ref}.pdf" for ref in references), "README.txt"])
    for assignment in (first, second):
        content = archive.read(f"{assignment.proposal.reference}.pdf")
        alone = offline.offline_proposal_pdf(
            material=offline.review_material(assignment.proposal), assignment=assignment)
        assert pages(content) == pages(alone) + letter_pages(assignment)
        text = pdf_text(content)
        assert assignment.proposal.reference in text and "Coastal erosion under changing storms" in text
        assert assignment.proposal.pi.email not in text  # the reviewer's page shows no e-mail address
    readme = archive.read("README.txt").decode()
    assert "Downloaded by Rita Reviewer on" in readme
    assert all(f"- {ref}.pdf — COAST — Coastal erosion under changing storms (" in readme for ref in references)


def test_conflicted_declined_invited_closed_and_decided_are_left_out(client, reviewer):
    kept = assign(reviewer)
    conflicted = assign(reviewer)
    Conflict.objects.create(proposal=conflicted.proposal, reviewer=reviewer, source="declared", cause="declared",
                            created_at=timezone.now())
    assign(reviewer, state=AssignmentState.DECLINED)
    assign(reviewer, state=AssignmentState.INVITED)
    assign(reviewer, state=AssignmentState.CLOSED)
    assign(reviewer, state=AssignmentState.WITHDRAWN)
    decided = assign(reviewer)
    Proposal.objects.filter(pk=decided.proposal_id).update(state=ProposalState.SELECTED)
    someone_elses = assign(ReviewerFactory())
    archive = archive_of(download(client, reviewer.user))
    assert archive.namelist() == [f"{kept.proposal.reference}.pdf", "README.txt"]
    assert someone_elses.proposal.reference not in archive.read("README.txt").decode()
    entry = AuditEntry.objects.get(action="review.offline_download")
    assert (entry.actor_id, entry.data) == (reviewer.user.pk, {
        "proposals": [kept.proposal.reference], "letters_merged": [kept.proposal.reference]})


def test_a_reviewer_with_nothing_gets_a_page_not_an_empty_zip(client, reviewer):
    assign(reviewer, state=AssignmentState.INVITED)
    response = download(client, reviewer.user)
    assert (response.status_code, response["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert b'id="offline-empty"' in response.content
    assert AuditEntry.objects.filter(action="review.offline_download").count() == 0


def test_someone_who_is_not_a_reviewer_gets_a_404(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("reviewer:download_all")).status_code == 404


def test_access_is_checked_at_download_time(client, reviewer):
    first, second = assign(reviewer), assign(reviewer)
    assert len(archive_of(download(client, reviewer.user)).namelist()) == 3
    Conflict.objects.create(proposal=first.proposal, reviewer=reviewer, source="declared", cause="declared",
                            created_at=timezone.now())
    assert archive_of(download(client, reviewer.user)).namelist() == [f"{second.proposal.reference}.pdf",
                                                                        "README.txt"]


def test_the_readme_and_the_pdf_in_french(client):
    reviewer = ReviewerFactory(user=UserFactory(language="fr", full_name="Rita Expert"))
    assignment = assign(reviewer)
    archive = archive_of(download(client, reviewer.user, language="fr"))
    readme = archive.read("README.txt").decode()
    assert "Téléchargé par Rita Expert le" in readme
    assert f"- {assignment.proposal.reference}.pdf" in readme
    assert "Proposition à évaluer" in pdf_text(archive.read(f"{assignment.proposal.reference}.pdf"))


def test_an_unreadable_letter_goes_in_as_a_file_of_its_own(client, reviewer, monkeypatch):
    assignment = assign(reviewer)

    def broken(pdf, letter_file):
        raise pikepdf.PdfError("damaged")

    monkeypatch.setattr(offline, "_with_letter", broken)
    archive = archive_of(download(client, reviewer.user))
    reference = assignment.proposal.reference
    assert sorted(archive.namelist()) == sorted(["README.txt", f"{reference}.pdf", f"{reference}-letter.pdf"])
    assert pages(archive.read(f"{reference}-letter.pdf")) == letter_pages(assignment)


def test_the_assignments_page_offers_the_download_with_the_count(client, reviewer):
    assign(reviewer), assign(reviewer), assign(reviewer, state=AssignmentState.INVITED)
    client.force_login(reviewer.user)
    page = client.get(reverse("reviewer:assignments"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Download all for offline reading (2 proposals, ZIP)" in page
    assert reverse("reviewer:download_all") in page


def test_ten_proposals_time(client, reviewer, capsys):
    """Measured, not pinned: how long the ZIP of ten proposals takes to build (reported in the plan)."""
    for _ in range(10):
        assign(reviewer)
    client.force_login(reviewer.user)
    started = time.perf_counter()
    archive = archive_of(client.get(reverse("reviewer:download_all")))
    elapsed = time.perf_counter() - started
    assert len(archive.namelist()) == 11
    with capsys.disabled():
        print(f"\noffline ZIP of 10 proposals: {elapsed:.2f} s")
