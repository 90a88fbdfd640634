"""The editor's views: autosave, two tabs, inline errors, uploads through the page, the dashboard."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import domain
from proposals.models import SupportLetter
from tests.factories import CallFactory, ProposalFactory, UnitFactory
from tests.pdfs import pdf_bytes, pdf_upload

pytestmark = pytest.mark.django_db


def form_data(proposal, **overrides):
    data = {
        "lock_version": proposal.lock_version, "title": proposal.title, "acronym": proposal.acronym,
        "abstract": proposal.abstract, "keywords": proposal.keywords,
        "unit_code": proposal.unit.code if proposal.unit_id else "", "evaluating_institute": "",
        "partner_name": proposal.partner_name, "partner_email": proposal.partner_email,
        "partner_institution": proposal.partner_institution, "partner_country": str(proposal.partner_country),
        "activities": proposal.activities, "ethics_statement": proposal.ethics_statement,
    }
    for line in proposal.budget_lines.all():
        data[f"budget_{line.year}_{line.category}"] = str(line.amount)
    data.update(overrides)
    return data


def test_autosave_saves_and_answers_with_fragments_only(client, draft, pi):
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, title="New title"),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.title == "New title"
    body = response.content.decode()
    assert 'id="saved-indicator"' in body and 'hx-swap-oob="true"' in body
    assert f'name="lock_version" value="{draft.lock_version}"' in body
    assert 'id="proposal-form"' not in body  # the form being typed in is never replaced


def test_unit_code_is_normalised(client, draft, pi):
    unit = UnitFactory(unit_type="UMR", number="5558")
    client.force_login(pi)
    for spelling in ("umr5558", "UMR 5558", " umr  5558 "):
        draft.refresh_from_db()
        client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, unit_code=spelling), HTTP_HX_REQUEST="true")
        draft.refresh_from_db()
        assert draft.unit_id == unit.pk


def test_unknown_unit_is_an_inline_error_and_nothing_is_lost(client, draft, pi):
    client.force_login(pi)
    before = draft.unit_id
    response = client.post(reverse("proposals:autosave", args=[draft.pk]),
                           form_data(draft, unit_code="UMR 9999", title="Typed but not saved"), HTTP_HX_REQUEST="true")
    draft.refresh_from_db()
    assert (draft.unit_id, draft.title) == (before, "Coastal erosion under changing storms")
    assert "No CNRS unit UMR 9999 is known" in response.content.decode()
    # Without JavaScript, the page comes back with the typed text and the error next to the field.
    response = client.post(reverse("proposals:edit", args=[draft.pk]), form_data(draft, unit_code="UMR 9999", title="Typed"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="Typed"' in body and "No CNRS unit UMR 9999 is known" in body


def test_negative_budget_is_refused_inline(client, draft, pi):
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, budget_1_mobility="-5"),
                           HTTP_HX_REQUEST="true")
    assert 'id="err-budget_1_mobility"' in response.content.decode()
    assert draft.budget_lines.get(year=1, category="mobility").amount == Decimal(3000)


def test_two_tabs_never_overwrite_each_other(client, draft, pi):
    client.force_login(pi)
    tab_a = form_data(draft, title="Title from tab A")
    tab_b = form_data(draft, title="Title from tab B", abstract="Abstract from tab B")
    assert client.post(reverse("proposals:autosave", args=[draft.pk]), tab_a, HTTP_HX_REQUEST="true").status_code == 200
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), tab_b, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    body = response.content.decode()
    assert "Your latest changes were not saved" in body
    assert "Title" in body and "Abstract" in body
    draft.refresh_from_db()
    assert (draft.title, draft.abstract) == ("Title from tab A", "We study coastal erosion with partners abroad.")
    # Without JavaScript the page keeps tab B's text in the form.
    response = client.post(reverse("proposals:edit", args=[draft.pk]), tab_b)
    assert response.status_code == 409
    assert "Abstract from tab B" in response.content.decode()
    # Choosing "keep this window's version" is explicit, and then it saves.
    response = client.post(reverse("proposals:edit", args=[draft.pk]), {**tab_b, "overwrite_version": draft.lock_version})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Title from tab B"


def test_team_change_in_one_tab_does_not_block_the_form_in_another(client, draft, pi):
    client.force_login(pi)
    data = form_data(draft, title="Still mine")
    client.post(reverse("proposals:team_add", args=[draft.pk]), {"side": "cnrs", "name": "New member"})
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.title == "Still mine"


BAD_FILES = [
    ("letter.pdf", b"MZ\x90\x00" + b"\x00" * 200, "program"),
    ("letter.pdf", b"<!DOCTYPE html><html><body>hi</body></html>", "HTML"),
    ("letter.pdf", pdf_bytes(password="secret"), "password"),
    ("letter.pdf", pdf_bytes()[:300], "incomplete"),
    ("letter.pdf", b"", "empty"),
]


@pytest.mark.parametrize(("name", "content", "phrase"), BAD_FILES)
def test_bad_files_through_the_page_give_a_clear_message_and_store_nothing(client, draft, pi, settings, name, content, phrase):
    client.force_login(pi)
    response = client.post(reverse("proposals:letter_upload", args=[draft.pk]), {"file": pdf_upload(name, content)},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert phrase in response.content.decode()
    assert SupportLetter.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "letters").exists()


def test_over_the_limit_is_refused(client, draft, pi, settings):
    settings.SUPPORT_LETTER_MAX_BYTES = 1000
    client.force_login(pi)
    response = client.post(reverse("proposals:letter_upload", args=[draft.pk]), {"file": pdf_upload(content=pdf_bytes(3) + b" " * 2000)})
    assert response.status_code == 400
    assert "the limit is 1000" in response.content.decode().replace("\xa0", " ")
    assert SupportLetter.objects.count() == 0


def _raw_multipart(filename: bytes, content: bytes) -> tuple[bytes, str]:
    boundary = "----iea-test-boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".encode() + filename
        + b"\"\r\nContent-Type: application/pdf\r\n\r\n" + content + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("filename", [b"../../etc/passwd.pdf", b"..\\..\\windows\\evil.pdf", b"a\x00b.pdf", b"/abs/path.pdf"])
def test_hostile_file_names_never_reach_the_disk(client, draft, pi, settings, filename):
    client.force_login(pi)
    body, content_type = _raw_multipart(filename, b"MZ not a pdf")
    response = client.generic("POST", reverse("proposals:letter_upload", args=[draft.pk]), body, content_type=content_type)
    assert response.status_code == 400
    assert SupportLetter.objects.count() == 0
    body, content_type = _raw_multipart(filename, pdf_bytes())
    response = client.generic("POST", reverse("proposals:letter_upload", args=[draft.pk]), body, content_type=content_type)
    assert response.status_code == 302
    letter = SupportLetter.objects.get()
    assert "/" not in letter.original_name and "\\" not in letter.original_name and "\x00" not in letter.original_name
    assert letter.file.name.startswith(f"letters/{draft.pk}/") and letter.file.name.endswith(".pdf")
    stored = list((settings.MEDIA_ROOT / "letters").rglob("*"))
    assert [p.name for p in stored if p.is_file()] == [letter.file.name.rsplit("/", 1)[1]]


def test_submit_view_checks_the_deadline_at_request_time(client, draft, pi):
    client.force_login(pi)
    domain.letter_attach(proposal_id=draft.pk, pdf=__import__("proposals.letters").letters.check_pdf(pdf_upload()),
                         now=timezone.now(), user=pi)
    draft.call.closes_at = timezone.now() - timezone.timedelta(seconds=1)
    draft.call.save()
    response = client.post(reverse("proposals:submit", args=[draft.pk]), follow=True)
    assert draft.versions.count() == 0
    assert "The call closed on" in response.content.decode()


def test_double_submit_gives_one_submission(client, draft, pi):
    client.force_login(pi)
    from proposals.letters import check_pdf

    domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    client.post(reverse("proposals:submit", args=[draft.pk]))
    response = client.post(reverse("proposals:submit", args=[draft.pk]), follow=True)
    assert draft.versions.count() == 1
    assert "Already submitted (version 1)" in response.content.decode()


def test_dashboard_query_count_does_not_grow(client, pi, queries):
    client.force_login(pi)
    calls = [CallFactory() for _ in range(2)]

    def propose(n):
        for i in range(n):
            ProposalFactory(call=calls[1] if i % 2 else calls[0], pi=pi, complete=i % 3 != 1)

    assert queries.at_sizes(propose, lambda: client.get(reverse("dashboard")), sizes=(1, 20)) == (9, 9)  # #21: the unread messages
    assert b"COAST" in client.get(reverse("dashboard")).content


def test_withdraw_then_start_again(client, draft, pi):
    client.force_login(pi)
    response = client.post(reverse("proposals:withdraw", args=[draft.pk]), {"reason": "Partner left"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "withdrawn"
    response = client.post(reverse("proposals:create", args=[draft.call.year]))
    assert response.status_code == 302
    assert pi.proposals.filter(state="draft").count() == 1


def test_changing_the_unit_refreshes_the_institutes_offered(client, draft, pi):
    from calls.models import Institute

    other = Institute.objects.create(code="INSU", legal_name="Institut national des sciences de l'Univers", usage_name="CNRS Terre & Univers")
    secondary = Institute.objects.create(code="INP", legal_name="Institut de physique", usage_name="CNRS Physique")
    unit = UnitFactory(unit_type="UMR", number="7154", main_institute=other)
    unit.secondary_institutes.add(secondary)
    client.force_login(pi)
    data = form_data(draft, unit_code="UMR 7154", evaluating_institute=draft.unit.main_institute_id)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), data, HTTP_HX_REQUEST="true")
    draft.refresh_from_db()
    assert (draft.unit_id, draft.evaluating_institute_id) == (unit.pk, None)
    body = response.content.decode()
    assert 'id="field-evaluating_institute" hx-swap-oob="true"' in body
    assert "CNRS Physique" in body and "CNRS Terre &amp; Univers" in body
    assert draft.institute == other
    # Choosing an institute that is not the unit's is an inline error.
    data = form_data(draft, evaluating_institute=Institute.objects.exclude(pk__in=[other.pk, secondary.pk]).first().pk)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), data, HTTP_HX_REQUEST="true")
    assert "is not an institute of UMR 7154" in response.content.decode()
    data = form_data(draft, evaluating_institute=secondary.pk)
    client.post(reverse("proposals:autosave", args=[draft.pk]), data, HTTP_HX_REQUEST="true")
    draft.refresh_from_db()
    assert draft.institute == secondary


def test_autosave_of_a_submitted_proposal_updates_the_not_resubmitted_warning(client, draft, pi):
    """The editor's warning that a change is not submitted comes with the autosave's answer (oob), not
    after a reload; the submitted message it replaces is in the page from the start."""
    from proposals.letters import check_pdf

    client.force_login(pi)
    domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    domain.proposal_submit(proposal_id=draft.pk, user=pi, now=timezone.now())
    draft.refresh_from_db()
    page = client.get(reverse("proposals:edit", args=[draft.pk])).content.decode()
    assert '<div id="submission-status" aria-live="polite"><p class="message message-info" data-status="submitted">' in page
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, title="Changed title"),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<div id="submission-status" aria-live="polite" hx-swap-oob="true"><p class="message message-warning" data-status="changed">' in body
    assert "You changed the proposal after submitting it. Submit again before the deadline" in body


def test_autosave_of_a_draft_keeps_the_status_empty(client, draft, pi):
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, title="New title"),
                           HTTP_HX_REQUEST="true")
    assert '<div id="submission-status" aria-live="polite" hx-swap-oob="true"></div>' in response.content.decode()


def test_the_partners_country_is_offered_in_the_pis_language_and_checked(client, draft, pi):
    client.force_login(pi)
    url = reverse("proposals:edit", args=[draft.pk])
    names = {}
    for language in ("fr", "en"):
        client.cookies["django_language"] = language
        body = client.get(url).content.decode()
        select = body[body.index('<select name="partner_country"'):]
        select = select[:select.index("</select>")]
        names[language] = [name for _code, name in re.findall(r'<option value="(\w*)"[^>]*>([^<]*)</option>', select)]
        assert '<option value="BR" selected>' in select  # the draft's partner works in Brazil
    assert ("Brésil" in names["fr"], "Brazil" in names["en"]) == (True, True)
    # Sorted by name in each language (Allemagne before Brésil; Germany after Brazil).
    assert names["fr"].index("Allemagne") < names["fr"].index("Brésil")
    assert names["en"].index("Brazil") < names["en"].index("Germany")

    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, partner_country="XX"),
                           HTTP_HX_REQUEST="true")
    assert "Select a valid choice. XX is not one of the available choices." in response.content.decode()
    draft.refresh_from_db()
    assert str(draft.partner_country) == "BR"
