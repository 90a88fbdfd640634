import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from iea.audit.domain import audit_record
from proposals.models import PartnerInvitation, Proposal, ProposalState, ProposalVersion, SupportLetter
from tests.factories import (
    CallFactory,
    InstituteFactory,
    ProposalFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:proposals_proposal_changelist"


def change(proposal):
    return reverse("admin:proposals_proposal_change", args=[proposal.pk])


def add_letter_and_version(proposal, user):
    now = timezone.now()
    letter = SupportLetter.objects.create(
        proposal=proposal, file=f"letters/{proposal.pk}/x.pdf", original_name="support.pdf", size=1234,
        sha256="a" * 64, pages=1, uploaded_at=now, uploaded_by=user,
    )
    version = ProposalVersion.objects.create(
        proposal=proposal, number=1, submitted_at=now, submitted_by=user, content={}, content_sha256="b" * 64,
        letter=letter,
    )
    return letter, version


def invitation(proposal, user):
    now = timezone.now()
    return PartnerInvitation.objects.create(
        proposal=proposal, email="ana@usp.example.br", created_at=now, created_by=user,
        expires_at=now + dt.timedelta(days=30),
    )


def fields_snapshot(proposal):
    return list(Proposal.objects.filter(pk=proposal.pk).values())


# Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "signed_in"])
def test_non_staff_are_sent_to_the_admin_login_and_nothing_changes(client, pi, draft, who):
    if who == "signed_in":
        client.force_login(pi)  # the PI of the proposal, still not staff
    invite = invitation(draft, pi)
    before = fields_snapshot(draft)
    urls = [
        reverse(CHANGELIST),
        change(draft),
        reverse("admin:proposals_proposal_history", args=[draft.pk]),
        reverse("admin:proposals_partnerinvitation_changelist"),
        reverse("admin:proposals_partnerinvitation_change", args=[invite.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    response = client.post(change(draft), {"title": "Hijacked"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert fields_snapshot(draft) == before


def test_any_directorate_member_may_read_the_proposals_without_a_model_permission(client, draft):
    """``proposals.view_proposal`` is both the rule of ``proposals.rules`` and the admin's view permission."""
    client.force_login(StaffFactory(is_superuser=False))

    statuses = (client.get(reverse("admin:proposals_proposal_changelist")).status_code, client.get(change(draft)).status_code)

    assert statuses == (200, 200)


def test_staff_cannot_add_or_delete_proposals(client, staff, draft):
    client.force_login(staff)
    assert client.get(reverse("admin:proposals_proposal_add")).status_code == 403
    assert client.post(reverse("admin:proposals_proposal_delete", args=[draft.pk]), {"post": "yes"}).status_code == 403
    assert Proposal.objects.filter(pk=draft.pk).exists()


# Detail ----------------------------------------------------------------------------------------------


def test_change_page_is_read_only_and_saving_writes_nothing(client, staff, draft, pi):
    add_letter_and_version(draft, pi)
    client.force_login(staff)
    response = client.get(change(draft))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == []
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert "Coastal erosion under changing storms" in html
    before = fields_snapshot(draft)
    client.post(change(draft), {"title": "Hijacked", "acronym": "X", "state": ProposalState.SELECTED})
    assert fields_snapshot(draft) == before


def test_change_page_shows_inlines_and_the_audit_trail(client, staff, draft, pi):
    letter, version = add_letter_and_version(draft, pi)
    audit_record(actor=pi, target=draft, action="proposal.submit", now=timezone.now(), from_state="draft",
                 to_state="submitted", reason="first version")
    client.force_login(staff)
    response = client.get(change(draft))
    html = response.content.decode()
    for text in ("Marie Curie", "Ana Souza", "support.pdf", "a" * 64, "b" * 64, "first version",
                 "Paula Investigator"):
        assert text in html, text
    # The trail in words, not codes; people by their name.
    assert "<td>Proposal submitted</td><td>Paula Investigator</td><td>Draft</td><td>Submitted</td>" in html
    assert "proposal.submit" not in html
    for formset in response.context["inline_admin_formsets"]:
        assert not formset.has_add_permission
        assert not formset.has_change_permission
        assert not formset.has_delete_permission


def test_change_page_links_the_letter_and_receipt_when_their_views_exist(client, staff, draft, pi):
    from django.urls import NoReverseMatch

    letter, version = add_letter_and_version(draft, pi)
    client.force_login(staff)
    html = client.get(change(draft)).content.decode()
    try:
        letter_url = reverse("proposals:letter", kwargs={"pk": draft.pk, "letter_id": letter.pk})
        receipt_url = reverse("proposals:receipt", kwargs={"pk": draft.pk, "number": version.number})
    except NoReverseMatch:
        pytest.skip("the download views are not written yet")
    assert f'href="{letter_url}"' in html
    assert f'href="{receipt_url}"' in html


# List ------------------------------------------------------------------------------------------------


def test_institute_filter_uses_the_evaluating_institute_else_the_units_main_one(client, staff):
    call = CallFactory()
    inc, inee = InstituteFactory(code="INC"), InstituteFactory(code="INEE")
    unit_inc = UnitFactory(main_institute=inc)
    by_default = ProposalFactory(call=call, complete=True, unit=unit_inc)
    chosen = ProposalFactory(call=call, complete=True, unit=unit_inc, evaluating_institute=inee)
    client.force_login(staff)

    def listed(institute):
        response = client.get(reverse(CHANGELIST), {"institute": institute.pk})
        return {p.pk for p in response.context["cl"].result_list}

    assert listed(inc) == {by_default.pk}
    assert listed(inee) == {chosen.pk}


def test_list_shows_the_computed_columns(client, staff):
    institute = InstituteFactory(code="INSU")
    unit = UnitFactory(unit_type="UMR", number="5558", main_institute=institute)
    proposal = ProposalFactory(complete=True, unit=unit, pi=UserFactory(email="paula@cnrs.example.fr",
                                                                        first_name="Paula", last_name="Ortiz-Brévent"))
    client.force_login(staff)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert '<td class="field-pi_name">Paula Ortiz-Brévent</td>' in html  # the PI by name, not by address
    for text in (proposal.reference, "COAST", "UMR 5558", "INSU"):
        assert text in html, text
    # The call and the delegation are filters, not columns: every column in view at 1366 px.
    assert 'class="field-call' not in html and 'class="field-delegation' not in html


@pytest.mark.parametrize("term", ["umr5558", "UMR 5558", "paula@cnrs", "Paula Ortiz", "LBBE", "Ana Souza", "IEA99-TARGET"])
def test_search(client, staff, term):
    unit = UnitFactory(unit_type="UMR", number="5558", acronym="LBBE")
    wanted = ProposalFactory(complete=True, unit=unit, reference="IEA99-TARGET",
                             pi=UserFactory(email="paula@cnrs.example.fr", full_name="Paula Ortiz-Brévent"))
    other = ProposalFactory(title="Other", unit=UnitFactory(unit_type="UMR", number="5559"))
    assert other.pk != wanted.pk
    client.force_login(staff)
    response = client.get(reverse(CHANGELIST), {"q": term})
    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]


def _proposals(call, count, units, institutes):
    now = timezone.now()
    for i in range(count):
        ProposalFactory(
            call=call, complete=True, unit=units[i % 2], submitted_at=now,
            evaluating_institute=institutes[1] if i % 3 == 0 else None,
            has_unsubmitted_changes=bool(i % 2),
        )


def test_list_query_count_does_not_grow_with_proposals(client, staff, queries):
    call = CallFactory()
    institutes = [InstituteFactory(code="INC"), InstituteFactory(code="INEE")]
    units = [UnitFactory(main_institute=institutes[0]), UnitFactory(main_institute=institutes[1])]
    client.force_login(staff)
    assert queries.at_sizes(lambda n: _proposals(call, n, units, institutes),
                            lambda: client.get(reverse(CHANGELIST)), sizes=(1, 20)) == (11, 11)
    assert len(client.get(reverse(CHANGELIST)).context["cl"].result_list) == 20


# Partner invitations ---------------------------------------------------------------------------------


def test_invitations_are_read_only_and_never_show_the_nonce(client, staff, draft, pi):
    invite = invitation(draft, pi)
    client.force_login(staff)
    response = client.get(reverse("admin:proposals_partnerinvitation_changelist"))
    assert response.status_code == 200
    assert "ana@usp.example.br" in response.content.decode()
    assert invite.nonce not in response.content.decode()
    response = client.get(reverse("admin:proposals_partnerinvitation_change", args=[invite.pk]))
    assert response.status_code == 200
    assert invite.nonce not in response.content.decode()
    assert 'name="_save"' not in response.content.decode()
    assert client.get(reverse("admin:proposals_partnerinvitation_add")).status_code == 403
    revoked_before = PartnerInvitation.objects.get(pk=invite.pk).revoked_at
    client.post(reverse("admin:proposals_partnerinvitation_change", args=[invite.pk]), {"revoked_at": "2030-01-01"})
    assert PartnerInvitation.objects.get(pk=invite.pk).revoked_at == revoked_before
