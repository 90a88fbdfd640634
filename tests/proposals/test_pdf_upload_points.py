"""Every place a PDF is uploaded refuses active content with the same message, and loses nothing already
saved: the PI's letter on the editor, the partner's letter through the invitation link, the letter through
the API, the report's scientific review on its page and through the API. A signed-looking PDF passes."""

import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from funding.models import Report
from proposals import domain
from proposals.letters import check_pdf
from tests.api.conftest import client_for
from tests.funding.factories import award_factory
from tests.pdfs import HOSTILE, hostile_message, hostile_pdf, pdf_bytes, pdf_upload, plain_pdf

pytestmark = pytest.mark.django_db

REPORT = {"scientific_review": "Two missions.", "spending_mobility": "100", "spending_meetings": "",
          "spending_field": "", "spending_other": "", "cofunding_received": "", "cofunding_currency": "",
          "action": "save"}


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _pi_page(client, draft):
    client.force_login(draft.pi)

    def upload(content):
        return client.post(reverse("proposals:letter_upload", args=[draft.pk]),
                           {"file": pdf_upload("letter.pdf", content)}, HTTP_HX_REQUEST="true")

    return upload, lambda: domain.current_letter(draft).sha256


def _partner_link(client, draft):
    invitation = domain.invitation_create(proposal_id=draft.pk, user=draft.pi, email="ana@usp.example.br",
                                          language="en", now=timezone.now())
    url = reverse("proposals:partner", args=[domain.invitation_token(invitation)])

    def upload(content):
        return client.post(url, {"file": pdf_upload("letter.pdf", content)}, HTTP_ACCEPT_LANGUAGE="en")

    return upload, lambda: domain.current_letter(draft).sha256


def _api_letter(client, draft):
    api = client_for(draft.pi)

    def upload(content):
        return api.post(f"/api/v1/proposals/{draft.reference}/letter/", {"file": pdf_upload("letter.pdf", content)},
                        format="multipart")

    return upload, lambda: domain.current_letter(draft).sha256


def _report_page(client, draft):
    award = award_factory(pi=draft.pi)
    client.force_login(draft.pi)

    def upload(content):
        return client.post(reverse("funding:report", args=[award.pk, "year1"]),
                           {**REPORT, "scientific_pdf": pdf_upload("review.pdf", content)})

    return upload, lambda: Report.objects.get(award=award, period="year1").scientific_pdf_sha256


def _api_report(client, draft):
    award = award_factory(pi=draft.pi)
    report = Report.objects.get(award=award, period="year1")
    api = client_for(draft.pi)

    def upload(content):
        return api.patch(f"/api/v1/reports/{report.pk}/", {"scientific_pdf": pdf_upload("review.pdf", content),
                                                           "spending.mobility": "100"}, format="multipart")

    return upload, lambda: Report.objects.get(pk=report.pk).scientific_pdf_sha256


POINTS = {"pi-page": _pi_page, "partner-link": _partner_link, "api-letter": _api_letter,
          "report-page": _report_page, "api-report": _api_report}
ACCEPTED = {"pi-page": 200, "partner-link": 302, "api-letter": 201, "report-page": 302, "api-report": 200}


def _refusal(name, response) -> list[str]:
    if name.startswith("api-"):
        fields = response.json()["error"]["fields"]
        return fields["file" if name == "api-letter" else "scientific_pdf"]
    return [response.content.decode()]


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("name", POINTS)
def test_active_content_is_refused_at_every_upload_point_and_the_saved_file_stays(
        client, draft, settings, name, kind, django_capture_on_commit_callbacks):
    upload, current = POINTS[name](client, draft)
    saved = pdf_bytes(2)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(saved).status_code == ACCEPTED[name]
    files = stored_files(settings.MEDIA_ROOT)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(hostile_pdf(kind))

    assert response.status_code == 400
    message = hostile_message(kind)
    refusal = _refusal(name, response)
    if name.startswith("api-"):
        assert refusal == [message]
    else:
        assert escape(message) in refusal[0]
    assert current() == hashlib.sha256(saved).hexdigest()
    assert stored_files(settings.MEDIA_ROOT) == files


@pytest.mark.parametrize("name", POINTS)
def test_a_signed_looking_pdf_passes_at_every_upload_point(client, draft, name):
    upload, current = POINTS[name](client, draft)
    content = plain_pdf("signed-looking")

    assert upload(content).status_code == ACCEPTED[name]
    assert current() == hashlib.sha256(content).hexdigest()


def test_the_policy_is_stated_under_each_pdf_field(client, draft):
    policy = ("A PDF with JavaScript, automatic or launch actions, or embedded files is refused, as it is kept "
              "unchanged: print or export it to a plain PDF first.")
    award = award_factory(pi=draft.pi)
    invitation = domain.invitation_create(proposal_id=draft.pk, user=draft.pi, email="ana@usp.example.br",
                                          language="en", now=timezone.now())
    client.force_login(draft.pi)
    pages = {
        "editor": client.get(reverse("proposals:edit", args=[draft.pk])),
        "report": client.get(reverse("funding:report", args=[award.pk, "year1"])),
    }
    client.logout()
    pages["partner"] = client.get(reverse("proposals:partner", args=[domain.invitation_token(invitation)]),
                                  HTTP_ACCEPT_LANGUAGE="en")
    for page, response in pages.items():
        assert response.status_code == 200, page
        assert escape(policy) in response.content.decode(), page


def test_a_refused_letter_on_the_partner_link_keeps_the_current_letter_shown(client, draft):
    letter = domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload("Lettre signée.pdf")),
                                  now=timezone.now(), user=draft.pi)
    upload, _current = _partner_link(client, draft)

    response = upload(hostile_pdf("launch-action"))

    assert response.status_code == 400
    assert "Lettre signée.pdf" in response.content.decode()
    assert domain.current_letter(draft) == letter
