"""People are shown by their name, never by their e-mail address: every kind of mail the outbox sends, each in
both languages, greets and names the PI and the reviewer as "First Last" (a long name with accents here),
and so do the PDFs (receipt, award letter, evaluation summary). An address still appears where it is the
way to reach someone, written as a contact: "(x@y)", "<x@y>", or on a line or in a cell of its own.

A new kind of mail or PDF is covered without a change here: the test walks the outbox's registry."""

import datetime as dt
import html as html_entities
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

import funding.views.pi
import proposals.receipts
from funding.exports import award_headers, award_values, export_queryset
from funding.models import Award, CosignInvitation, Report, Tranche
from iea.notifications.domain import build
from iea.notifications.kinds import KINDS
from iea.notifications.models import Notification
from iea.site.privacy.models import ErasureRequest
from proposals.models import Message, PartnerInvitation, ProposalVersion, SupportLetter
from reviews.domain.evaluation import evaluation_summary_context
from reviews.domain.scoring import review_open
from reviews.models import Decision
from tests.factories import UserFactory
from tests.funding.factories import award_factory
from tests.reviews.factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db

FIRST, LAST = "Marie-Clémentine Éléonore", "de La Tour d'Auvergne-Lefèvre Åkesson y Muñoz"
PI_NAME = f"{FIRST} {LAST}"
PI_EMAIL = "claire.newcomer@example.org"
REVIEWER_NAME = "Zoë Ångström"
REVIEWER_EMAIL = "zoe.reviewer@cnrs.example.fr"
GREETING = re.compile(r"^\s*(?:<p>)?(Dear|Bonjour)\b([^\n<,.]*)", re.M)


@pytest.fixture
def world():
    """One object of each kind a message is about, every one around the same named PI."""
    now = timezone.now()
    pi = UserFactory(email=PI_EMAIL, first_name=FIRST, last_name=LAST)
    reviewer = ReviewerFactory(user=UserFactory(email=REVIEWER_EMAIL, full_name=REVIEWER_NAME))
    submitted = eligible_proposal(pi=pi)
    panel = PanelFactory(call=submitted.call, institute=reviewer.institute)
    assignment = AssignmentFactory(proposal=submitted, panel=panel, reviewer=reviewer)
    award = award_factory(pi=pi)
    report = Report.objects.filter(award=award).first()
    targets = {
        ProposalVersion: ProposalVersion.objects.get(proposal=submitted),
        SupportLetter: SupportLetter.objects.get(proposal=submitted),
        PartnerInvitation: PartnerInvitation.objects.create(
            proposal=submitted, email="ana@usp.example.br", language="en", created_at=now, created_by=pi,
            expires_at=now + dt.timedelta(days=7)),
        type(submitted): submitted,
        type(assignment): assignment,
        Decision: Decision.objects.get(proposal=award.proposal),
        Tranche: Tranche.objects.filter(award=award).first(),
        type(award): award,
        Report: report,
        CosignInvitation: CosignInvitation.objects.create(report=report, email="ana@usp.example.br", created_at=now,
                                                          expires_at=now + dt.timedelta(days=7)),
        ErasureRequest: ErasureRequest.objects.create(user=pi, requested_at=now, state="refused",
                                                      processed_at=now),
        type(submitted.call): submitted.call,
        type(panel): panel,  # #20 bids: the invitation to bid
    }
    review = review_open(assignment_id=assignment.pk, user=reviewer.user, now=now)
    targets[type(review)] = review
    # #21 amendments: the PI's extension request (asked, opinion, decision mails).
    from funding.domain.amendments import amendment_request  # noqa: PLC0415 -- this part's target only

    amendment = amendment_request(award_id=award.pk, user=pi, kind="extension", months=2,
                                  reason="The field season moved.", now=now)
    targets[type(amendment)] = amendment
    # #21 rfi: a request for information on the submitted proposal (the request and its reminder).
    from proposals.models import InformationRequest  # noqa: PLC0415 -- this part's target only

    targets[InformationRequest] = InformationRequest.objects.create(
        proposal=submitted, items=["letter"], message="Please send the signed letter.", asked_at=now,
        asked_by=UserFactory(), deadline=now + dt.timedelta(days=7))
    # #21 coapplicants: the invitation of a colleague, who has no account yet (greeted without a name).
    from proposals.models import CoApplicant  # noqa: PLC0415 -- this part's target only

    targets[CoApplicant] = CoApplicant.objects.create(
        proposal=submitted, email="colleague@cnrs.example.fr", invited_at=now, invited_by=pi)
    # #21 messages: the PI's message on the proposal (the officers' and the directorate's answers name the author).
    from reviews.domain.messages import message_post  # noqa: PLC0415 -- this part's target only

    targets[Message] = message_post(proposal_id=submitted.pk, topic="proposal", user=pi,
                                                text="Our letter is on its way.", now=now)
    return {"pi": pi, "reviewer": reviewer.user, "targets": targets}


def _people_named_in(text: str) -> list[str]:
    """The names greeted, and any address written otherwise than as a contact "(x@y)" / "<x@y>"."""
    text = html_entities.unescape(text)
    found = [name.strip(" ,") for _word, name in GREETING.findall(text)]
    for email in (PI_EMAIL, REVIEWER_EMAIL):
        found += [f"bare {email}" for match in re.finditer(re.escape(email), text)
                  if text[match.start() - 1:match.start()] not in ("(", "<", ">", "\n", "")]
    return found


# Sent to the partner's address, who has no account: "Hello,".
TO_THE_PARTNER = {"partner_invitation", "partner_reminder", "receipt_partner", "decision_partner", "report_cosign"}
TO_THE_REVIEWER = {"review_invitation", "review_reminder", "review_reopened", "bidding_invitation", "review_outcome"}


def _every_mail(world, language):
    """Every kind of templated mail built for its usual recipient: (names seen, the greeting of each kind)."""
    pi, reviewer = world["pi"], world["reviewer"]
    seen, greeted = [], {}
    for kind in KINDS.values():
        if kind.template is None:
            continue  # account mail: test_account_mail
        target = world["targets"][kind.model]
        recipient = None if kind.name in TO_THE_PARTNER else reviewer if kind.name in TO_THE_REVIEWER else pi
        if recipient is not None:
            recipient.language = language
        row = Notification(kind=kind.name, recipient=recipient, email=recipient.email if recipient else "ana@usp.example.br",
                           language=language, due_at=timezone.now(), created_at=timezone.now(), params={}, occurrence="-7")
        message = build(kind, target, row)
        html = next((content for content, mimetype in message.alternatives if mimetype == "text/html"), "")
        for part, text in (("subject", message.subject), ("text", message.body), ("html", html)):
            seen += [(kind.name, part, name) for name in _people_named_in(text)]
        greeting = GREETING.search(message.body)
        greeted[kind.name] = greeting.group(2).strip(" ,") if greeting else ""
    return seen, greeted


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_mail_names_people_and_greets_them_by_name(world, language):
    seen, greeted = _every_mail(world, language)
    partner = world["targets"][ProposalVersion].proposal.partner_name
    assert [entry for entry in seen if entry[2] not in (PI_NAME, REVIEWER_NAME, partner, "")] == []
    # Everyone with an account is greeted by name; the partner by theirs as the PI wrote it, or "Hello,".
    assert {name: who for name, who in greeted.items() if name not in TO_THE_PARTNER} == {
        name: REVIEWER_NAME if name in TO_THE_REVIEWER else PI_NAME for name in greeted if name not in TO_THE_PARTNER}
    assert {greeted[name] for name in TO_THE_PARTNER} <= {"", partner}
    assert len(greeted) >= 24


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_pdfs_name_the_pi(world, language, client, monkeypatch):
    pi = world["pi"]
    rendered = {}

    def html_instead_of_pdf(template, context):
        rendered[template] = render_to_string(template, context)
        return b"%PDF-1.7"

    monkeypatch.setattr(proposals.receipts, "render_pdf", html_instead_of_pdf)
    monkeypatch.setattr(funding.views.pi, "render_pdf", html_instead_of_pdf)
    with translation.override(language):
        proposals.receipts.render_receipt(world["targets"][ProposalVersion])
        decision = world["targets"][Decision]
        rendered["pdf/evaluation_summary.html"] = render_to_string(
            "pdf/evaluation_summary.html", evaluation_summary_context(proposal=decision.proposal))
    client.force_login(pi)
    assert client.get(reverse("funding:award_letter", args=[decision.proposal.award.pk]),
                      HTTP_ACCEPT_LANGUAGE=language).status_code == 200
    assert sorted(rendered) == ["pdf/award_letter.html", "pdf/evaluation_summary.html", "pdf/receipt.html"]
    for template, html in rendered.items():
        assert PI_NAME in html_entities.unescape(html), template
        assert _people_named_in(html) in ([], [PI_NAME]), template


def test_the_awards_export_names_the_pi_and_gives_the_address_as_its_own_column(world):
    [award] = export_queryset(Award.objects.filter(pk=world["targets"][Decision].proposal.award.pk))
    assert dict(zip(award_headers(), award_values(award), strict=True))["PI"] == PI_NAME
    assert award_values(award)[2:4] == [PI_NAME, PI_EMAIL]


def test_someone_whose_name_is_unknown_is_greeted_without_their_address(world):
    """Accounts made before names were asked may have none: "Bonjour," rather than "Bonjour claire@…"."""
    User = type(world["pi"])
    User.objects.filter(pk=world["pi"].pk).update(first_name="", last_name="", full_name="")
    world["pi"].refresh_from_db()
    _seen, greeted = _every_mail(world, "fr")
    assert {name: who for name, who in greeted.items() if name not in TO_THE_PARTNER | TO_THE_REVIEWER} == {
        name: "" for name in greeted if name not in TO_THE_PARTNER | TO_THE_REVIEWER}
