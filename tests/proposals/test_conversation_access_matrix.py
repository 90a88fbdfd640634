"""The access matrix of #21 (messages, requests for information, co-applicants, restart, amendments): every role
× every new URL, against one explicit table.

Roles: nobody signed in; the PI; an accepted co-applicant (editor) of the PI's proposals; another PI; a reviewer
with an accepted assignment on the funded proposal; the officer of its panel; directorate staff; a manager of the
award's unit. Reviewers, officers and staff have two-factor authentication.

The world: the PI's **draft** in an open call (the co-applicant on it) and the PI's **award** (its proposal
funded, the co-applicant on it too, the reviewer assigned to it, the officer running its panel, the manager
managing its unit); each part adds what it needs in ``_world_<part>`` (e.g. a proposal at screening with a
request for information, an amendment). A refused POST changes nothing in the database; an allowed POST listed
in ``EFFECTS`` changes what it names.
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.models import CallState
from iea.audit.models import AuditEntry
from proposals.models import CoApplicant, CoApplicantRole, Message, MessageThread, Proposal, ProposalState
from reviews.models import Decision
from tests.access_matrix import DENIED, LOGIN_, OK, check_cell
from tests.factories import CallFactory, ProposalFactory, StaffFactory, UserFactory, activate_totp
from tests.funding.factories import award_factory, make_unit_manager
from tests.reviews.factories import AssignmentFactory, PanelFactory, ReviewerFactory

pytestmark = pytest.mark.django_db


ROLES = ("anonymous", "pi", "coapplicant", "other_pi", "reviewer", "officer", "staff", "unit_manager")

# One row per URL (method and name), one column per role, in the order of ROLES.
#   ok     = the view answers this user: 200, or a 302 to a page that is not a sign-in/2FA page
#   login  = 302 to /accounts/login/ (directly, or through the admin's /admin/login/)
#   denied = 404 or 403 (the admin's /admin/login/ answers 403 to a signed-in non-staff user)
#   mfa    = 302 to /accounts/2fa/totp/activate/
#                                            anon    pi      coapp   o_pi    review  officer staff   u_manag
TABLE = {
    # The PI's own proposal page (#21 coapplicants: the co-applicant's entry becomes OK).
    "GET proposals:detail":                 (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, OK,     DENIED),
    # #21 messages: rows here (keep this comment). The funded proposal's conversations (proposal and award).
    "GET conversation:thread":              (LOGIN_, OK,     OK,     DENIED, DENIED, OK,     OK,     DENIED),
    "GET conversation:thread_award":        (LOGIN_, OK,     OK,     DENIED, DENIED, OK,     OK,     DENIED),
    "POST conversation:thread":             (LOGIN_, OK,     OK,     DENIED, DENIED, OK,     OK,     DENIED),
    "GET conversation:attachment":          (LOGIN_, OK,     OK,     DENIED, DENIED, OK,     OK,     DENIED),
    "POST conversation:close":              (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,     DENIED),
    "POST conversation:reopen":             (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,     DENIED),
    "GET admin:proposals_messagethread_changelist": (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK, DENIED),
    # #21 rfi: rows here (keep this comment).
    # The PI's answer to a request for information (only the PI: the co-applicant edits, the PI sends).
    "POST proposals:information_answer":    (LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    # Staff ask for information from the screening page, and cancel it there.
    "GET admin:reviews_information_request":  (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,   DENIED),
    "POST admin:reviews_information_request": (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,   DENIED),
    "POST admin:reviews_screening":         (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,     DENIED),
    # #21 coapplicants: rows here (keep this comment).
    # On the co-applicants' own draft (world.extra["coapplicants.draft"]: a letter, a team member, the
    # co-applicant accepted, other_pi invited and not yet accepted). The editor's URLs take the co-applicant;
    # what only the PI does (submit, withdraw, invite) answers them "Only the PI can …" and changes nothing
    # (NO_EFFECT); staff read proposals but never edit them.
    "GET proposals:edit":                   (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:autosave":              (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:team_add":              (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:team_remove":           (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:letter_upload":         (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:submit":                (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:withdraw":              (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:invite":                (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST proposals:coapplicant_invite":    (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, OK,     DENIED),
    # The PI removes other_pi's invitation; the co-applicant leaves (their own row); staff are refused.
    "POST proposals:coapplicant_revoke":    (LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, OK,     DENIED),
    # The invitation's link: only the account of the invited address (other_pi's) accepts it.
    "GET proposals:coapplicant_accept":     (LOGIN_, DENIED, DENIED, OK,     DENIED, DENIED, DENIED, DENIED),
    "POST proposals:coapplicant_accept":    (LOGIN_, DENIED, DENIED, OK,     DENIED, DENIED, DENIED, DENIED),
    # #21 restart: rows here (keep this comment).
    # Start a draft in the new open call from the PI's rejected proposal of an earlier call: the PI only (the
    # co-applicant of the old proposal edited it, but it is not theirs to start anew).
    "POST proposals:restart":               (LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    # #21 amendments: rows here (keep this comment).
    # Only the PI asks and withdraws; co-applicants read the award (its amendments, its letters); the unit's
    # manager gives the opinion; staff decide in the admin.
    "GET funding:amendment_new":            (LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST funding:amendment_new":           (LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST funding:amendment_withdraw":      (LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST funding:amendment_opinion":       (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET funding:award":                    (LOGIN_, OK,     OK,     DENIED, DENIED, OK,     OK,     OK),
    "GET funding:award_letter_version":     (LOGIN_, OK,     OK,     DENIED, DENIED, OK,     OK,     OK),
    "GET admin:funding_amendment_changelist": (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,   DENIED),
    "GET admin:funding_amendment_change":   (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,     DENIED),
    "GET admin:funding_amendment_decide":   (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,     DENIED),
    "POST admin:funding_amendment_decide":  (LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, OK,     DENIED),
}

EXPECTED = {(role, url): row[i] for url, row in TABLE.items() for i, role in enumerate(ROLES)}
assert all(len(row) == len(ROLES) for row in TABLE.values()), "every row of TABLE has one entry per role"

# What an allowed POST must change (a key of ``state_of_the_database``), so that "ok" is the action done.
EFFECTS = {
    # #21 messages: effects here (keep this comment).
    "POST conversation:thread": "messages",
    "POST conversation:close": "threads",
    "POST conversation:reopen": "threads",
    # #21 rfi: effects here (keep this comment).
    "POST proposals:information_answer": "information_requests",
    "POST admin:reviews_information_request": "information_requests",
    "POST admin:reviews_screening": "information_requests",
    # #21 coapplicants: effects here (keep this comment).
    "POST proposals:autosave": "proposals", "POST proposals:team_add": "proposals",
    "POST proposals:team_remove": "proposals", "POST proposals:letter_upload": "proposals",
    "POST proposals:submit": "proposals", "POST proposals:withdraw": "proposals", "POST proposals:invite": "audit",
    "POST proposals:coapplicant_invite": "coapplicants", "POST proposals:coapplicant_revoke": "coapplicants",
    "POST proposals:coapplicant_accept": "coapplicants",
    # #21 restart: effects here (keep this comment).
    "POST proposals:restart": "proposals",
    # #21 amendments: effects here (keep this comment).
    "POST funding:amendment_new": "amendments",
    "POST funding:amendment_withdraw": "amendments",
    "POST funding:amendment_opinion": "amendments",
    "POST admin:funding_amendment_decide": "amendments",
}
# (role, key) pairs whose allowed POST is answered but rightly changes nothing.
NO_EFFECT = set()
# #21 coapplicants: what only the PI does, asked by a co-applicant or staff: "Only the PI can …", nothing changed.
NO_EFFECT |= {("coapplicant", "POST proposals:submit"), ("coapplicant", "POST proposals:withdraw"),
              ("coapplicant", "POST proposals:invite"), ("coapplicant", "POST proposals:coapplicant_invite"),
              ("staff", "POST proposals:coapplicant_invite"), ("staff", "POST proposals:coapplicant_revoke")}


# ---------------------------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class World:
    draft: Proposal
    award: object
    users: dict
    extra: dict = field(default_factory=dict)  # what each part adds: world.extra["<part>.<name>"]

    @property
    def funded(self) -> Proposal:
        return self.award.proposal


@pytest.fixture
def world():
    now = timezone.now()
    staff = StaffFactory()
    pi = UserFactory()
    coapplicant = UserFactory()
    draft = ProposalFactory(complete=True, pi=pi)
    award = award_factory(pi=pi, staff=staff, now=now)
    funded = award.proposal
    for proposal in (draft, funded):
        CoApplicant.objects.create(
            proposal=proposal, email=coapplicant.email, role=CoApplicantRole.EDITOR, user=coapplicant,
            invited_at=now - dt.timedelta(days=2), invited_by=pi, accepted_at=now - dt.timedelta(days=1),
        )
    panel = PanelFactory(call=funded.call, institute=funded.institute)
    officer = UserFactory()
    activate_totp(officer)
    panel.officers.add(officer)
    reviewer = ReviewerFactory(institute=funded.institute)
    AssignmentFactory(proposal=funded, panel=panel, reviewer=reviewer)
    users = {
        "pi": pi, "coapplicant": coapplicant, "other_pi": UserFactory(), "reviewer": reviewer.user,
        "officer": officer, "staff": staff, "unit_manager": make_unit_manager(award),
    }
    built = World(draft=draft, award=award, users=users)
    for part in (_world_messages, _world_rfi, _world_coapplicants, _world_restart, _world_amendments):
        part(built, now=now)
    return built


# #21 messages: world here (keep this comment).
def _world_messages(world, *, now):
    """The PI's question on the funded proposal, with a PDF (its conversation open); on its award, the
    directorate's answer in a conversation it then closed."""
    from proposals.letters import check_pdf  # noqa: PLC0415 -- each part's imports stay in its own place
    from reviews.domain.messages import message_post, thread_close  # noqa: PLC0415
    from tests.pdfs import pdf_upload  # noqa: PLC0415

    pi, staff = world.users["pi"], world.users["staff"]
    question = message_post(proposal_id=world.funded.pk, topic="proposal", user=pi, text="La lettre signée.",
                            now=now, pdf=check_pdf(pdf_upload("lettre.pdf")))
    answer = message_post(proposal_id=world.funded.pk, topic="award", user=staff, text="Extension possible.", now=now)
    thread_close(thread_id=answer.thread_id, user=staff, now=now)
    world.extra["messages.question"] = question
    world.extra["messages.award_thread"] = answer.thread


# #21 rfi: world here (keep this comment).
def _world_rfi(world, *, now):
    """The PI's proposal at screening (its call closed) with an open request for information on its letter and
    title, the title already changed (so the answer makes a version), the co-applicant on it; and another of the
    PI's submitted proposals in that call, with no request, for staff to ask."""
    from proposals.domain import current_letter, proposal_snapshot  # noqa: PLC0415 -- this part's world only
    from proposals.domain.submission import content_hash  # noqa: PLC0415 -- this part's world only
    from proposals.models import InformationRequest, ProposalVersion  # noqa: PLC0415 -- this part's world only
    from tests.reviews.staff_factories import closed_call, submitted_proposal  # noqa: PLC0415 -- this part's world only

    pi, staff = world.users["pi"], world.users["staff"]
    call = closed_call(year=world.draft.call.year - 5)
    asked = submitted_proposal(call, pi=pi)
    snapshot = proposal_snapshot(asked, current_letter(asked))
    ProposalVersion.objects.create(proposal=asked, number=1, submitted_at=asked.submitted_at, submitted_by=pi,
                                   content=snapshot, content_sha256=content_hash(snapshot), letter=current_letter(asked))
    Proposal.objects.filter(pk=asked.pk).update(title="Corrigé après la demande", has_unsubmitted_changes=True)
    CoApplicant.objects.create(proposal=asked, email=world.users["coapplicant"].email, role=CoApplicantRole.EDITOR,
                               user=world.users["coapplicant"], invited_at=now - dt.timedelta(days=2), invited_by=pi,
                               accepted_at=now - dt.timedelta(days=1))
    request = InformationRequest.objects.create(
        proposal=asked, items=["letter", "title"], message="La lettre n'est pas signée.", asked_by=staff,
        asked_at=now - dt.timedelta(hours=1), deadline=now + dt.timedelta(days=6))
    plain = submitted_proposal(call, pi=UserFactory())
    world.extra.update({"rfi.asked": asked, "rfi.request": request, "rfi.plain": plain})


# #21 coapplicants: world here (keep this comment).
def _world_coapplicants(world, *, now):
    from proposals.domain import letter_attach
    from proposals.letters import check_pdf
    from proposals.models import TeamMember, TeamSide
    from tests.pdfs import pdf_upload

    pi, coapplicant = world.users["pi"], world.users["coapplicant"]
    draft = ProposalFactory(complete=True, pi=pi)
    letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    member = TeamMember.objects.create(proposal=draft, side=TeamSide.CNRS, name="Émilie Durand")
    mine = CoApplicant.objects.create(
        proposal=draft, email=coapplicant.email, user=coapplicant, invited_at=now - dt.timedelta(days=2),
        invited_by=pi, accepted_at=now - dt.timedelta(days=1),
    )
    pending = CoApplicant.objects.create(proposal=draft, email=world.users["other_pi"].email, invited_at=now,
                                         invited_by=pi)
    world.extra.update({"coapplicants.draft": draft, "coapplicants.member": member, "coapplicants.mine": mine,
                        "coapplicants.pending": pending})


# #21 restart: world here (keep this comment).
def _world_restart(world, *, now):
    """An earlier call with the PI's rejected proposal (decision announced; the co-applicant on it too) and a new
    open call the PI has not applied to yet."""
    old = CallFactory(year=2001, state=CallState.DECIDED, opens_at=now - dt.timedelta(days=500),
                      closes_at=now - dt.timedelta(days=400))
    rejected = ProposalFactory(complete=True, call=old, pi=world.users["pi"], state=ProposalState.REJECTED)
    Decision.objects.create(proposal=rejected, outcome="rejected", decided_at=now - dt.timedelta(days=300),
                            decided_by=world.users["staff"], notified_at=now - dt.timedelta(days=300))
    CoApplicant.objects.create(
        proposal=rejected, email=world.users["coapplicant"].email, role=CoApplicantRole.EDITOR,
        user=world.users["coapplicant"], invited_at=now - dt.timedelta(days=450), invited_by=world.users["pi"],
        accepted_at=now - dt.timedelta(days=449),
    )
    world.extra["restart.rejected"] = rejected
    world.extra["restart.call"] = CallFactory()  # a year of the sequence: never one another call holds


# #21 amendments: world here (keep this comment).
def _world_amendments(world, *, now):
    """An extension the PI asked for on the award, waiting for the unit's opinion."""
    from funding.domain.amendments import amendment_request  # noqa: PLC0415 -- this part's world only

    world.extra["amendments.extension"] = amendment_request(
        award_id=world.award.pk, user=world.users["pi"], kind="extension", months=2,
        reason="La saison de terrain est reportée.", now=now)


def client_for(world, role) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


# Each part answers (method, path, data) for its own keys, or None for a key that is not its own.
def _request_base(world, role, method, name):
    if name == "proposals:detail":
        return method, reverse(name, args=[world.draft.pk]), {}
    return None


# #21 messages: requests here (keep this comment).
def _request_messages(world, role, method, name):
    funded = world.funded.pk
    question = world.extra["messages.question"]
    paths = {
        "conversation:thread": (reverse("conversation:thread", args=[funded, "proposal"]), {"text": "Une réponse."}),
        "conversation:thread_award": (reverse("conversation:thread", args=[funded, "award"]), {}),
        "conversation:attachment": (reverse("conversation:attachment", args=[funded, "proposal", question.pk]), {}),
        "conversation:close": (reverse("conversation:close", args=[funded, "proposal"]), {}),
        "conversation:reopen": (reverse("conversation:reopen", args=[funded, "award"]), {}),
        "admin:proposals_messagethread_changelist": (reverse("admin:proposals_messagethread_changelist"), {}),
    }
    if name not in paths:
        return None
    path, data = paths[name]
    return method, path, data


# #21 rfi: requests here (keep this comment).
def _request_rfi(world, role, method, name):
    asked, plain = world.extra["rfi.asked"], world.extra["rfi.plain"]
    if name == "proposals:information_answer":
        return method, reverse(name, args=[asked.pk]), {}
    if name == "admin:reviews_information_request":
        deadline = timezone.localtime(timezone.now() + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
        return method, reverse(name, args=[plain.call_id, plain.pk]), {
            "items": ["letter"], "message": "Merci de faire signer la lettre.", "deadline": deadline}
    if name == "admin:reviews_screening":
        return method, reverse(name, args=[asked.call_id]), {
            "action": "cancel_request", "request": world.extra["rfi.request"].pk}
    return None


# #21 coapplicants: requests here (keep this comment).
def _request_coapplicants(world, role, method, name):
    from tests.pdfs import pdf_upload
    from tests.proposals.test_editor import form_data

    draft = Proposal.objects.get(pk=world.extra["coapplicants.draft"].pk)
    pk = draft.pk
    if name in ("proposals:edit", "proposals:submit", "proposals:invite", "proposals:letter_upload"):
        data = {"email": "ana@usp.example.br", "language": "en"} if name == "proposals:invite" else {}
        if name == "proposals:letter_upload":
            data = {"file": pdf_upload()}
        return method, reverse(name, args=[pk]), data
    if name == "proposals:withdraw":
        return method, reverse(name, args=[pk]), {"reason": "Le partenaire se retire."}
    if name == "proposals:autosave":
        data = form_data(draft, title="Mémoires du littoral")
        return method, reverse(name, args=[pk]), data
    if name == "proposals:team_add":
        return method, reverse(name, args=[pk]), {"side": "cnrs", "name": "Marc Lefèvre", "position": "Post-doc"}
    if name == "proposals:team_remove":
        return method, reverse(name, args=[pk, world.extra["coapplicants.member"].pk]), {}
    if name == "proposals:coapplicant_invite":
        return method, reverse(name, args=[pk]), {"email": "marie.curie@cnrs.example.fr", "role": "editor",
                                                  "language": "fr"}
    if name == "proposals:coapplicant_revoke":
        target = world.extra["coapplicants.mine" if role == "coapplicant" else "coapplicants.pending"]
        return method, reverse(name, args=[pk, target.pk]), {}
    if name == "proposals:coapplicant_accept":
        return method, reverse(name, args=[world.extra["coapplicants.pending"].nonce]), {}
    return None


# #21 restart: requests here (keep this comment).
def _request_restart(world, role, method, name):
    if name == "proposals:restart":
        return method, reverse(name, args=[world.extra["restart.rejected"].pk, world.extra["restart.call"].year]), {}
    return None


# #21 amendments: requests here (keep this comment).
def _request_amendments(world, role, method, name):
    award, extension = world.award, world.extra.get("amendments.extension")
    if name == "funding:amendment_new":
        data = {"new_institution": "Universidade Estadual de Campinas", "new_country": "BR", "reason": "Moved."}
        return method, reverse(name, args=[award.pk, "institution"]), data if method == "POST" else {}
    if name == "funding:amendment_withdraw":
        return method, reverse(name, args=[extension.pk]), {}
    if name == "funding:amendment_opinion":
        return method, reverse(name, args=[extension.pk]), {f"a{extension.pk}-opinion": "favourable",
                                                           f"a{extension.pk}-comment": ""}
    if name == "funding:award":
        return method, reverse(name, args=[award.pk]), {}
    if name == "funding:award_letter_version":
        return method, reverse(name, args=[award.pk, 1]), {}
    if name == "admin:funding_amendment_changelist":
        return method, reverse(name), {}
    if name == "admin:funding_amendment_change":
        return method, reverse(name, args=[extension.pk]), {}
    if name == "admin:funding_amendment_decide":
        data = {"apply": "1", "action": "approve", "reason": ""} if method == "POST" else {}
        return method, reverse(name, args=[extension.pk, "approve"]), data
    return None


def request_for(world, role, key):
    method, name = key.split(" ")
    for part in (_request_base, _request_messages, _request_rfi, _request_coapplicants, _request_restart,
                 _request_amendments):
        answer = part(world, role, method, name)
        if answer is not None:
            return answer
    raise AssertionError(f"no request for {key}: add it to its part's _request_<part>")


def state_of_the_database(world) -> dict:
    """Everything an action of #21 could change; each part adds its own keys."""
    state = {
        "proposals": list(Proposal.objects.order_by("pk").values_list("pk", "state", "lock_version", "updated_at")),
        "coapplicants": list(CoApplicant.objects.order_by("pk").values_list("pk", "user_id", "accepted_at", "revoked_at")),
        "users": list(get_user_model().objects.order_by("pk").values_list("pk", flat=True)),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }
    # #21 messages: state here (keep this comment).
    state["messages"] = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    state["threads"] = list(MessageThread.objects.order_by("pk").values_list("pk", "closed_at", "last_message_at"))
    # #21 rfi: state here (keep this comment).
    from proposals.models import InformationRequest  # noqa: PLC0415 -- this part's state only
    state["information_requests"] = list(InformationRequest.objects.order_by("pk").values_list("pk", "state", "version_id"))
    # #21 restart: state here (keep this comment).
    # #21 amendments: state here (keep this comment).
    from funding.models import Amendment, Award  # noqa: PLC0415 -- this part's state only

    state["amendments"] = list(Amendment.objects.order_by("pk").values_list("pk", "state", "opinion"))
    state["awards"] = list(Award.objects.order_by("pk").values_list("pk", "end_date", "partner_institution"))
    return state  # noqa: RET504 (each part adds its keys above)


@pytest.mark.parametrize(("role", "key"), list(EXPECTED), ids=[f"{r}-{k.replace(' ', '-')}" for r, k in EXPECTED])
def test_access_matrix(world, role, key):
    method, path, data = request_for(world, role, key)
    effect = EFFECTS.get(key) if (role, key) not in NO_EFFECT else None
    check_cell(client=client_for(world, role), role=role, key=key, expected=EXPECTED[(role, key)], method=method,
               path=path, data=data, state=lambda: state_of_the_database(world), effect=effect)
