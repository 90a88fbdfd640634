"""Submission: versions and their hashes, idempotent re-submission, eligibility enforced at submit exactly
as the checklist shows it, the one-active-proposal limit, optimistic locking, and the receipt mail."""

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from pypdf import PdfReader

from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from proposals.domain import (
    ProposalError,
    content_hash,
    letter_attach,
    proposal_checklist,
    proposal_create,
    proposal_save_draft,
    proposal_snapshot,
    proposal_submit,
    proposal_withdraw,
)
from proposals.letters import check_pdf
from proposals.models import BudgetLine, Proposal, ProposalState, ProposalVersion, TeamSide
from tests.factories import InstituteFactory, ProposalFactory
from tests.pdfs import pdf_bytes, pdf_upload


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def now():
    return timezone.now()


def attach(proposal, user, now, content=None):
    return letter_attach(
        proposal_id=proposal.pk, pdf=check_pdf(pdf_upload(content=content)), now=now, user=user
    )


def audit(proposal):
    """(action, from, to) of the proposal's audit entries, oldest first."""
    return list(
        AuditEntry.objects.filter(object_id=str(proposal.pk), content_type__model="proposal")
        .order_by("created_at", "id")
        .values_list("action", "from_state", "to_state")
    )


def submit_entries(proposal):
    return [entry for entry in audit(proposal) if entry[0] in ("proposal.submit", "proposal.resubmit")]


def set_budget(proposal, total: Decimal):
    BudgetLine.objects.filter(proposal=proposal).update(amount=0)
    BudgetLine.objects.filter(proposal=proposal, year=1, category="mobility").update(amount=total)


# --- A successful submission -------------------------------------------------------------------------------


def test_first_submission_freezes_version_1_with_the_hash_of_its_canonical_json(draft, pi, now):
    letter = attach(draft, pi, now)

    result = proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    version = ProposalVersion.objects.get(pk=result.version.pk)
    canonical = json.dumps(version.content, sort_keys=True, ensure_ascii=False).encode()
    assert result.created is True
    assert (version.number, version.submitted_at, version.submitted_by, version.letter) == (
        1,
        now,
        pi,
        letter,
    )
    assert version.content_sha256 == hashlib.sha256(canonical).hexdigest()
    assert version.content_sha256 == content_hash(proposal_snapshot(draft, letter))
    assert version.content["title"] == "Coastal erosion under changing storms"
    assert version.content["budget_total"] == "12000.00"
    assert version.content["partner"]["country"] == "BR"
    assert version.content["letter"]["sha256"] == letter.sha256 == hashlib.sha256(pdf_bytes()).hexdigest()
    draft.refresh_from_db()
    assert (draft.state, draft.submitted_at, draft.has_unsubmitted_changes) == (
        ProposalState.SUBMITTED,
        now,
        False,
    )
    assert submit_entries(draft) == [("proposal.submit", "draft", "submitted")]
    entry = AuditEntry.objects.get(action="proposal.submit")
    assert (entry.actor, entry.created_at, entry.data) == (
        pi,
        now,
        {"version": 1, "content_sha256": version.content_sha256, "letter_sha256": letter.sha256},
    )


def test_submitting_again_without_change_returns_the_same_version(draft, pi, now):
    attach(draft, pi, now)
    first = proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    again = proposal_submit(proposal_id=draft.pk, user=pi, now=now + dt.timedelta(minutes=5))

    assert (again.version.pk, again.created) == (first.version.pk, False)
    assert ProposalVersion.objects.filter(proposal=draft).count() == 1
    assert submit_entries(draft) == [("proposal.submit", "draft", "submitted")]
    draft.refresh_from_db()
    assert draft.submitted_at == now


def test_editing_then_resubmitting_creates_version_2_and_only_the_last_counts(draft, pi, now):
    attach(draft, pi, now)
    v1 = proposal_submit(proposal_id=draft.pk, user=pi, now=now).version
    draft.refresh_from_db()
    proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={"title": "Coastal erosion, revised"},
        budget={},
        lock_version=draft.lock_version,
        now=now + dt.timedelta(minutes=1),
    )
    draft.refresh_from_db()
    assert draft.has_unsubmitted_changes is True

    result = proposal_submit(proposal_id=draft.pk, user=pi, now=now + dt.timedelta(minutes=2))

    assert (result.created, result.version.number) == (True, 2)
    assert result.version.content["title"] == "Coastal erosion, revised"
    assert result.version.content_sha256 != v1.content_sha256
    assert list(draft.versions.values_list("number", flat=True)) == [2, 1]
    assert draft.versions.order_by("-number").first().pk == result.version.pk
    v1.refresh_from_db()
    assert v1.content["title"] == "Coastal erosion under changing storms"
    assert submit_entries(draft) == [
        ("proposal.submit", "draft", "submitted"),
        ("proposal.resubmit", "submitted", "submitted"),
    ]
    draft.refresh_from_db()
    assert (draft.submitted_at, draft.has_unsubmitted_changes) == (now + dt.timedelta(minutes=2), False)


def test_replacing_the_letter_then_resubmitting_keeps_the_old_letter_on_version_1(draft, pi, now, settings):
    old = attach(draft, pi, now)
    v1 = proposal_submit(proposal_id=draft.pk, user=pi, now=now).version
    new = attach(draft, pi, now + dt.timedelta(minutes=1), content=pdf_bytes(pages=2))

    v2 = proposal_submit(proposal_id=draft.pk, user=pi, now=now + dt.timedelta(minutes=2)).version

    assert (v1.letter_id, v2.letter_id, v2.number) == (old.pk, new.pk, 2)
    assert v2.content["letter"]["sha256"] == hashlib.sha256(pdf_bytes(pages=2)).hexdigest()
    assert (settings.MEDIA_ROOT / old.file.name).read_bytes() == pdf_bytes()


def test_reverting_an_edit_then_submitting_returns_the_last_version_and_clears_the_pending_flag(
    draft, pi, now
):
    # Regression: the early return for unchanged content once left ``has_unsubmitted_changes`` set, so
    # the proposal kept saying it had unsubmitted changes although it held exactly what was submitted.
    attach(draft, pi, now)
    v1 = proposal_submit(proposal_id=draft.pk, user=pi, now=now).version
    for minute, title in ((1, "Temporary title"), (2, "Coastal erosion under changing storms")):
        draft.refresh_from_db()
        proposal_save_draft(
            proposal_id=draft.pk,
            user=pi,
            data={"title": title},
            budget={},
            lock_version=draft.lock_version,
            now=now + dt.timedelta(minutes=minute),
        )

    result = proposal_submit(proposal_id=draft.pk, user=pi, now=now + dt.timedelta(minutes=3))

    assert (result.version.pk, result.created) == (v1.pk, False)
    draft.refresh_from_db()
    assert draft.has_unsubmitted_changes is False


# --- Refusals ----------------------------------------------------------------------------------------------


def test_incomplete_submission_lists_what_fails_and_writes_nothing(draft, pi, now):
    Proposal.objects.filter(pk=draft.pk).update(title="")
    draft.refresh_from_db()
    audit_before = audit(draft)

    with pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    # Regression: Django's ValidationError drops ``code`` when the message is a list, so a list of
    # failing rules once arrived with no ``code`` at all.
    assert getattr(refused.value, "code", None) == "ineligible"
    assert refused.value.messages == [
        "Required fields are filled in: Missing: title.",
        "The partner's support letter is attached (PDF): "
        "Upload the letter, or invite the partner to upload it.",
    ]
    draft.refresh_from_db()
    assert (draft.state, draft.submitted_at) == (ProposalState.DRAFT, None)
    assert ProposalVersion.objects.count() == 0
    assert audit(draft) == audit_before


def test_another_user_cannot_submit(draft, pi, other_pi, staff, now):
    attach(draft, pi, now)
    for intruder in (other_pi, staff):
        with pytest.raises(ProposalError) as refused:
            proposal_submit(proposal_id=draft.pk, user=intruder, now=now)
        assert refused.value.code == "forbidden"

    draft.refresh_from_db()
    assert draft.state == ProposalState.DRAFT
    assert ProposalVersion.objects.count() == 0
    assert submit_entries(draft) == []


def test_another_user_cannot_withdraw(draft, other_pi, now):
    with pytest.raises(ProposalError) as refused:
        proposal_withdraw(proposal_id=draft.pk, user=other_pi, now=now)

    assert refused.value.code == "forbidden"
    draft.refresh_from_db()
    assert draft.state == ProposalState.DRAFT


def _no_letter(proposal, pi, now):
    pass


def _with_letter(change):
    def setup(proposal, pi, now):
        attach(proposal, pi, now)
        change(proposal, pi, now)

    return setup


def _budget(total):
    return _with_letter(lambda p, pi, now: set_budget(p, Decimal(total)))


def _partner_country(code):
    return _with_letter(lambda p, pi, now: Proposal.objects.filter(pk=p.pk).update(partner_country=code))


def _exclude_russia_partner_in(code):
    def change(p, pi, now):
        p.call.excluded_countries = ["RU"]
        p.call.save(update_fields=["excluded_countries"])
        Proposal.objects.filter(pk=p.pk).update(partner_country=code)

    return _with_letter(change)


def _clear(field, value=""):
    return _with_letter(lambda p, pi, now: Proposal.objects.filter(pk=p.pk).update(**{field: value}))


def _no_partner_side(p, pi, now):
    attach(p, pi, now)
    p.team.filter(side=TeamSide.PARTNER).delete()


def _foreign_institute(p, pi, now):
    attach(p, pi, now)
    Proposal.objects.filter(pk=p.pk).update(evaluating_institute=InstituteFactory(code="INSU"))


def _secondary_institute(p, pi, now):
    attach(p, pi, now)
    secondary = InstituteFactory(code="INEE")
    p.unit.secondary_institutes.add(secondary)
    Proposal.objects.filter(pk=p.pk).update(evaluating_institute=secondary)


def _second_active_proposal(p, pi, now):
    attach(p, pi, now)
    ProposalFactory(call=p.call, pi=pi, complete=True)


def _withdrawn_other_proposal(p, pi, now):
    attach(p, pi, now)
    ProposalFactory(call=p.call, pi=pi, complete=True, state=ProposalState.WITHDRAWN)


def _other_pis_proposal(p, pi, now):
    attach(p, pi, now)
    ProposalFactory(call=p.call, complete=True)


ELIGIBILITY_CASES = [
    pytest.param(_with_letter(lambda p, pi, now: None), [], id="complete"),
    pytest.param(_no_letter, ["letter"], id="no-letter"),
    pytest.param(_budget("9999.99"), ["budget"], id="budget-below-10000"),
    pytest.param(_budget("10000"), [], id="budget-10000"),
    pytest.param(_budget("14000"), [], id="budget-14000"),
    pytest.param(_budget("14000.01"), ["budget"], id="budget-above-14000"),
    pytest.param(_budget("0"), ["budget"], id="budget-zero"),
    pytest.param(_partner_country("FR"), ["country"], id="partner-in-france"),
    pytest.param(_partner_country(""), ["country"], id="partner-country-missing"),
    pytest.param(_exclude_russia_partner_in("RU"), ["country"], id="partner-in-excluded-country"),
    pytest.param(_exclude_russia_partner_in("BR"), [], id="excluded-list-other-country"),
    pytest.param(_clear("abstract"), ["required"], id="no-abstract"),
    pytest.param(_clear("ethics_statement", "   "), ["required"], id="blank-ethics"),
    pytest.param(_clear("unit", None), ["unit"], id="no-unit"),
    pytest.param(_no_partner_side, ["team"], id="no-partner-team-member"),
    pytest.param(_foreign_institute, ["institute"], id="institute-not-of-unit"),
    pytest.param(_secondary_institute, [], id="secondary-institute"),
    pytest.param(_second_active_proposal, ["limit"], id="second-active-proposal"),
    pytest.param(_withdrawn_other_proposal, [], id="other-proposal-withdrawn"),
    pytest.param(_other_pis_proposal, [], id="other-pi-has-a-proposal"),
]


@pytest.mark.parametrize(("setup", "failing_codes"), ELIGIBILITY_CASES)
def test_checklist_and_submit_agree(draft, pi, now, setup, failing_codes):
    setup(draft, pi, now)
    proposal = Proposal.objects.select_related("call", "unit").get(pk=draft.pk)

    failing = [check for check in proposal_checklist(proposal, now=now) if not check.ok]

    assert [check.code for check in failing] == failing_codes
    if not failing_codes:
        result = proposal_submit(proposal_id=draft.pk, user=pi, now=now)
        assert (result.created, result.version.number) == (True, 1)
        return
    with pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)
    assert refused.value.messages == [
        f"{check.label}: {check.detail}" if check.detail else check.label for check in failing
    ]
    assert ProposalVersion.objects.count() == 0
    assert Proposal.objects.get(pk=draft.pk).state == ProposalState.DRAFT


def test_budget_message_states_the_total_and_the_bounds(draft, pi, now):
    attach(draft, pi, now)
    set_budget(draft, Decimal("15000"))

    with pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    assert refused.value.messages == [
        "The total budget is within the call's bounds: "
        "The total is €15,000.00; it must be between €10,000.00 and €14,000.00."
    ]


# --- The limit of active proposals -------------------------------------------------------------------------


def test_create_refuses_a_second_active_proposal_then_allows_one_after_withdrawal(draft, pi, call, now):
    with pytest.raises(ProposalError) as refused:
        proposal_create(call_id=call.pk, pi=pi, now=now)
    assert refused.value.code == "limit"
    assert Proposal.objects.filter(call=call, pi=pi).count() == 1

    proposal_withdraw(proposal_id=draft.pk, user=pi, now=now, reason="Starting over")
    second = proposal_create(call_id=call.pk, pi=pi, now=now)

    assert (second.state, second.call_id, second.pi_id) == (ProposalState.DRAFT, call.pk, pi.pk)
    assert sorted(Proposal.objects.filter(call=call, pi=pi).values_list("state", flat=True)) == [
        "draft",
        "withdrawn",
    ]


def test_create_limit_counts_submitted_proposals_and_only_this_pi(draft, pi, other_pi, call, now):
    attach(draft, pi, now)
    proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    with pytest.raises(ProposalError) as refused:
        proposal_create(call_id=call.pk, pi=pi, now=now)
    assert refused.value.code == "limit"

    assert proposal_create(call_id=call.pk, pi=other_pi, now=now).pi == other_pi


def test_create_follows_the_calls_own_limit(draft, pi, call, now):
    call.max_active_proposals_per_pi = 2
    call.save(update_fields=["max_active_proposals_per_pi"])

    proposal_create(call_id=call.pk, pi=pi, now=now)
    with pytest.raises(ProposalError) as refused:
        proposal_create(call_id=call.pk, pi=pi, now=now)

    assert refused.value.code == "limit"
    assert Proposal.objects.filter(call=call, pi=pi).count() == 2


def test_a_withdrawn_proposal_cannot_be_submitted(draft, pi, now):
    attach(draft, pi, now)
    proposal_withdraw(proposal_id=draft.pk, user=pi, now=now)

    with pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    assert refused.value.code == "not_editable"
    assert ProposalVersion.objects.count() == 0


# --- Optimistic concurrency --------------------------------------------------------------------------------


def test_two_saves_from_the_same_lock_version_the_second_is_refused_naming_the_field(draft, pi, now):
    loaded = draft.lock_version
    form = {"title": draft.title, "abstract": draft.abstract, "keywords": draft.keywords}

    first = proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={**form, "title": "Title from tab A"},
        budget={},
        lock_version=loaded,
        now=now,
    )
    second = proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={**form, "title": "Title from tab B"},
        budget={},
        lock_version=loaded,
        now=now + dt.timedelta(seconds=3),
    )

    assert (first.saved, second.saved) == (True, False)
    assert second.conflicting_fields == ["title"]
    assert second.conflict_at == now
    draft.refresh_from_db()
    assert (draft.title, draft.lock_version, draft.updated_at) == ("Title from tab A", loaded + 1, now)


def test_a_conflicting_budget_is_named_and_not_written(draft, pi, now):
    loaded = draft.lock_version
    proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={},
        budget={(1, "mobility"): Decimal("4000")},
        lock_version=loaded,
        now=now,
    )

    second = proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={"title": draft.title},
        budget={(1, "mobility"): Decimal("2000")},
        lock_version=loaded,
        now=now,
    )

    assert (second.saved, second.conflicting_fields) == (False, ["budget"])
    assert BudgetLine.objects.get(proposal=draft, year=1, category="mobility").amount == Decimal("4000")


def test_saving_with_the_current_lock_version_after_a_save_succeeds(draft, pi, now):
    first = proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={"title": "One"},
        budget={},
        lock_version=draft.lock_version,
        now=now,
    )
    second = proposal_save_draft(
        proposal_id=draft.pk,
        user=pi,
        data={"title": "Two"},
        budget={},
        lock_version=first.record.lock_version,
        now=now,
    )

    assert second.saved is True
    draft.refresh_from_db()
    assert draft.title == "Two"


# --- Receipt -----------------------------------------------------------------------------------------------


def test_receipt_is_mailed_on_commit_with_a_pdf(
    draft, pi, now, django_capture_on_commit_callbacks, mailoutbox
):
    # Depends on templates/pdf/receipt.html and templates/mail/receipt*.{txt,html} and receipt_partner*.
    attach(draft, pi, now)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version = proposal_submit(proposal_id=draft.pk, user=pi, now=now).version
        assert mailoutbox == []  # nothing leaves before the transaction commits

    assert len(callbacks) == 1  # the receipts to the PI and to the partner, queued together
    assert [message.to for message in mailoutbox] == [["pi@cnrs.example.fr"], ["ana@usp.example.br"]]
    receipt = mailoutbox[0]
    assert len(receipt.attachments) == 1
    filename, content, mimetype = receipt.attachments[0]
    assert (filename, mimetype) == (f"receipt-{draft.reference}-v1.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    compact = "".join(text.split())
    assert draft.reference in compact
    assert version.content_sha256 in compact


def test_an_unchanged_resubmission_sends_no_second_receipt(
    draft, pi, now, django_capture_on_commit_callbacks
):
    attach(draft, pi, now)
    with django_capture_on_commit_callbacks() as first:
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)
    with django_capture_on_commit_callbacks() as second:
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    assert (len(first), len(second)) == (1, 0)
    assert sorted(Notification.objects.values_list("kind", flat=True)) == ["receipt", "receipt_partner"]


def test_a_refused_submission_queues_no_mail(draft, pi, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ProposalError):
        proposal_submit(proposal_id=draft.pk, user=pi, now=now)

    assert callbacks == []
