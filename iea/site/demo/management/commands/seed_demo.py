"""``manage.py seed_demo``: a realistic demo that a newcomer can sign in to at once.

It ensures the CNRS reference data, about forty real-looking units, one user per role with a verified
address, last year's call IEA 2026 in review (``_demo_review``: proposals, reviewer pool, assignments,
reviews and recommendations of the INEE panel, left half-done for the reviewer, officer and staff to
finish), IEA 2025 decided with pi2's award in its second year (``_demo_funding``: tranche 1 released,
the year-1 report in draft), and this year's open call IEA 2027 (its window always contains today) with
a few proposals. Everything is made through the domain functions, so the audit entries, versions and receipts exist.

Running it again changes nothing: every object is looked up before it is made, and it prints the
logins again. IEA 2026 is built only when it does not exist yet; a database seeded before keeps its
IEA 2026 as it is; IEA 2025 is built only together with IEA 2026, on a fresh database. The one
exception is the open call's deadline: once it has passed, the call is extended (through ``call_extend``,
with a logged reason) so the demo accepts submissions whatever the date.
"""

import datetime as dt
import os
from contextlib import nullcontext
from decimal import Decimal

from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from calls.domain import (
    call_accepts_submissions,
    call_deadline,
    call_extend,
    call_open,
    call_publish,
    criteria_seed,
    default_window,
)
from calls.models import Call, CallState, Delegation, Institute, InstitutePriority, Unit
from iea.accounts.domain import announcements_set
from iea.audit.domain import audit_trail
from iea.formats import PARIS
from iea.site.demo.reference_data import reference_data_ensure
from proposals.domain import (
    coapplicant_accept,
    coapplicant_invite,
    invitation_create,
    letter_attach,
    proposal_create,
    proposal_save_draft,
    proposal_submit,
    proposal_withdraw,
    team_member_add,
)
from proposals.letters import check_pdf
from proposals.models import CoApplicantRole, Proposal, TeamSide
from reviews.models import Reviewer

from ._demo_data import (
    ANNOUNCEMENT_SUBSCRIBERS,
    DEMO_TOTP_SECRET,
    OPEN_YEAR,
    PASSWORD,
    PAST_YEAR,
    POLLIDRY_FORM,
    PRIORITIES,
    RESEARCHERS,
    REVIEWERS,
    RULES_EN,
    RULES_FR,
    SUMMARY_EN,
    SUMMARY_FR,
    TOTP_ROLES,
    UNITS,
    USERS,
    WHAT_TO_TRY,
    demo_user_ensure,
    letter_pdf,
    state_in_english,
)
from ._demo_funding import FUNDED_YEAR, WHAT_TO_TRY_FUNDED, FundingDemo, funding_demo_present
from ._demo_review import ReviewDemo, review_demo_present

# Imported from here by ``demo_totp`` and the tests.
__all__ = ["DEMO_TOTP_SECRET", "OPEN_YEAR", "PASSWORD", "PAST_YEAR", "Command"]
CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"


def demo_closing_time(now: dt.datetime) -> dt.datetime:
    """10 days from now at 13:00 Paris time: the drafts are in their D−14 reminder window whatever the
    hour, so ``make run`` shows the reminders going out."""
    day = now.astimezone(PARIS).date() + dt.timedelta(days=10)
    return dt.datetime(day.year, day.month, day.day, 13, 0, tzinfo=PARIS)


def demo_opening_time(now: dt.datetime) -> dt.datetime:
    """20 days before now, at midnight Paris time."""
    day = now.astimezone(PARIS).date() - dt.timedelta(days=20)
    return dt.datetime(day.year, day.month, day.day, 0, 0, tzinfo=PARIS)


class Command(BaseCommand):
    help = "Build a demo (units, calls, one user per role, proposals, a review) idempotently and print the logins."

    def handle(self, *args, **options):
        now = timezone.now()
        # The domain mails its receipts and invitations (with PDFs); printed on the console they would bury
        # the logins, so while seeding they are kept in memory and only counted.
        quiet = settings.EMAIL_BACKEND == CONSOLE_MAIL
        data_saved = False
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend") if quiet else nullcontext():
            sent_before = len(getattr(mail, "outbox", []))
            try:
                with transaction.atomic():
                    self.build(now=now)
                    data_saved = True
            except Exception as exc:
                # Mail is queued on commit: a missing template or renderer must not hide that the demo exists.
                if not data_saved:
                    raise
                self.stderr.write(self.style.WARNING(
                    f"The demo data is saved, but a notification could not be sent: {type(exc).__name__}: {exc}"
                ))
            if quiet:
                outbox = getattr(mail, "outbox", [])
                sent = len(outbox) - sent_before
                del outbox[sent_before:]
                if sent:
                    self.say(f"Mails: {sent} sent while seeding (receipts, invitations…), not printed here.")
        self.print_logins()

    # --- building ----------------------------------------------------------------------------------------

    def build(self, *, now: dt.datetime) -> None:
        institutes, delegations = reference_data_ensure()
        self.say(f"Reference data: {institutes} institute(s) and {delegations} delegation(s) created.")
        self.units = self.ensure_units()
        self.users = self.ensure_users()
        self.ensure_roles()
        self.ensure_announcement_subscribers(now=now)
        fresh = not Call.objects.filter(year=PAST_YEAR).exists()
        self.ensure_past_call(now=now)
        self.ensure_funded_call(fresh=fresh)
        current = self.ensure_open_call(now=now)
        self.ensure_open_call_proposals(current, now=now)

    def say(self, message: str) -> None:
        self.stdout.write(message)

    def ensure_units(self) -> dict[str, Unit]:
        institutes = {i.code: i for i in Institute.objects.all()}
        delegations = {d.code: d for d in Delegation.objects.all()}
        units, created_count = {}, 0
        for unit_type, number, acronym, name, city, delegation, main, secondary in UNITS:
            unit, created = Unit.objects.get_or_create(
                unit_type=unit_type, number=number,
                defaults={"acronym": acronym, "name": name, "city": city, "delegation": delegations[delegation],
                          "main_institute": institutes[main]},
            )
            if created:
                unit.secondary_institutes.set([institutes[code] for code in secondary])
                created_count += 1
            units[acronym] = unit
        self.say(f"Units: {created_count} created, {len(UNITS) - created_count} already present.")
        return units

    def ensure_users(self) -> dict:
        users, created_count = {}, 0
        for key, email, full_name, language, staff, _role in USERS:
            users[key], created = demo_user_ensure(email, full_name, language, staff=staff, totp=key in TOTP_ROLES)
            created_count += created
        self.say(f"Users: {created_count} created, {len(USERS) - created_count} already present.")
        return users

    def ensure_roles(self) -> None:
        inee = Institute.objects.get(code="INEE")
        Reviewer.objects.get_or_create(
            user=self.users["reviewer"], institute=inee,
            defaults={"institution": "ECOBIO, Université de Rennes", "sections": "29, 30",
                      "keywords": "community ecology, pollination, drylands, plant–animal interactions"},
        )
        inee.officers.add(self.users["officer"])
        self.units["CEFE"].managers.add(self.users["manager"])

    def ensure_announcement_subscribers(self, *, now: dt.datetime) -> None:
        """Subscribe the demo's subscribers to call announcements, through the domain (audited). Someone who
        already chose — subscribed by an earlier run, or unsubscribed since — keeps their choice."""
        for key in ANNOUNCEMENT_SUBSCRIBERS:
            user = self.users[key]
            if not audit_trail(user).filter(action__startswith="account.announcements_").exists():
                announcements_set(user=user, subscribed=True, now=now, via="demo")
                self.say(f"Call announcements: {user.email} subscribed.")

    def ensure_past_call(self, *, now: dt.datetime) -> Call:
        """IEA 2026, in review. Built whole when missing; an existing one is left as it is."""
        call = Call.objects.filter(year=PAST_YEAR).first()
        if call is not None:
            self.ensure_criteria_and_priorities(call)
            self.say(f"Call {call}: already present ({state_in_english(call)}).")
            if not review_demo_present():
                self.stderr.write(self.style.WARNING(
                    f"Call {call} was seeded by an older demo and has no review in progress; it is left as it "
                    "is. For the peer-review demo, seed a fresh database (by default: delete var/db.sqlite3, then make run)."
                ))
            return call
        opens_at, closes_at = default_window(PAST_YEAR)
        call = Call.objects.create(
            year=PAST_YEAR, title_fr=f"IEA {PAST_YEAR}", title_en=f"IEA {PAST_YEAR}",
            summary_fr=SUMMARY_FR.format(year=PAST_YEAR), summary_en=SUMMARY_EN.format(year=PAST_YEAR),
            rules_fr=RULES_FR, rules_en=RULES_EN,
            state=CallState.DRAFT, opens_at=opens_at, closes_at=closes_at, grace_minutes=0,
            budget_min=Decimal(10000), budget_max=Decimal(14000), total_envelope=Decimal(1200000),
            duration_months=24, max_active_proposals_per_pi=1, excluded_countries=["RU"],
        )
        self.ensure_criteria_and_priorities(call)
        summary = ReviewDemo(users=self.users, units=self.units).build(call, now=now)
        call.refresh_from_db()
        self.say(f"Call {call}: created, {state_in_english(call).lower()}: {summary}.")
        return call

    def ensure_funded_call(self, *, fresh: bool) -> None:
        """IEA 2025, decided, with pi2's award in its second year. Built only on a fresh database (with IEA
        2026); an existing one is left as it is."""
        call = Call.objects.filter(year=FUNDED_YEAR).first()
        if call is not None:
            self.say(f"Call {call}: already present ({state_in_english(call)}).")
        elif not fresh:
            self.stderr.write(self.style.WARNING(
                f"This database was seeded by an older demo and has no IEA {FUNDED_YEAR}; it is left as it is. "
                "For the funding demo, seed a fresh database (by default: delete var/db.sqlite3, then make run)."
            ))
        else:
            summary = FundingDemo(users=self.users, units=self.units).build()
            self.say(f"Call IEA {FUNDED_YEAR}: created, decided: {summary}.")

    def ensure_open_call(self, *, now: dt.datetime) -> Call:
        staff = self.users["staff"]
        call = Call.objects.filter(year=OPEN_YEAR).first()
        if call is None:
            opens_at = demo_opening_time(now)
            call = Call.objects.create(
                year=OPEN_YEAR, title_fr=f"IEA {OPEN_YEAR}", title_en=f"IEA {OPEN_YEAR}",
                summary_fr=SUMMARY_FR.format(year=OPEN_YEAR), summary_en=SUMMARY_EN.format(year=OPEN_YEAR),
                rules_fr=RULES_FR, rules_en=RULES_EN,
                state=CallState.DRAFT, opens_at=opens_at, closes_at=demo_closing_time(now), grace_minutes=0,
                budget_min=Decimal(10000), budget_max=Decimal(14000), total_envelope=Decimal(1200000),
                duration_months=24, max_active_proposals_per_pi=1, excluded_countries=["RU"],
            )
            # Through the domain, so the call's history shows who published and opened it, and when.
            call_publish(call_id=call.pk, user=staff, now=opens_at - dt.timedelta(days=7))
            call = call_open(call_id=call.pk, user=staff, now=opens_at)
            self.say(f"Call {call}: created, open until {timezone.localtime(call.closes_at):%Y-%m-%d %H:%M %Z}.")
        elif call.state in (CallState.OPEN, CallState.CLOSED) and call_deadline(call) <= now:
            call = call_extend(
                call_id=call.pk, user=staff, now=now, new_closes_at=demo_closing_time(now),
                reason="Demo: the deadline passed, so seed_demo moved it 10 days ahead.",
            )
            self.say(f"Call {call}: deadline passed, extended to {timezone.localtime(call.closes_at):%Y-%m-%d %H:%M %Z}.")
        else:
            self.say(f"Call {call}: already present ({state_in_english(call)}).")
        self.ensure_criteria_and_priorities(call)
        if not call_accepts_submissions(call, now=now):
            self.stderr.write(self.style.WARNING(
                f"Call {call} does not accept submissions now (state: {state_in_english(call)}); "
                "the demo proposals in it are left as they are."
            ))
        return call

    def ensure_criteria_and_priorities(self, call: Call) -> None:
        if not call.criteria.exists():
            criteria_seed(call)
        for code, themes_fr, themes_en, countries in PRIORITIES[call.year]:
            InstitutePriority.objects.get_or_create(
                call=call, institute=Institute.objects.get(code=code),
                defaults={"themes_fr": themes_fr, "themes_en": themes_en, "priority_countries": countries},
            )

    # --- proposals ---------------------------------------------------------------------------------------

    def ensure_open_call_proposals(self, call: Call, *, now: dt.datetime) -> None:
        if not call_accepts_submissions(call, now=now):
            return
        builders = [("pi2", self.build_submitted), ("pi3", self.build_withdrawn), ("pi4", self.build_draft)]
        for key, build in builders:
            user = self.users[key]
            existing = Proposal.objects.filter(call=call, pi=user).first()
            if existing is not None:
                continue
            proposal = build(call=call, pi=user, now=now)
            proposal.refresh_from_db()
            self.say(f"Proposal {proposal.reference} ({call}, {user.email}): created, {state_in_english(proposal).lower()}.")

    def _fill(self, proposal: Proposal, *, pi, now: dt.datetime, data: dict, budget: dict, team: list[dict]) -> None:
        result = proposal_save_draft(
            proposal_id=proposal.pk, user=pi, data=data,
            budget={key: Decimal(amount) for key, amount in budget.items()},
            lock_version=proposal.lock_version, now=now,
        )
        if not result.saved:
            raise CommandError(f"Proposal {proposal.reference} was changed while the demo was being built.")
        for member in team:
            team_member_add(proposal_id=proposal.pk, user=pi, now=now, **member)

    def _attach_letter(self, proposal: Proposal, *, pi, now: dt.datetime, name: str, lines: list[str], **cofunding) -> None:
        upload = SimpleUploadedFile(name, letter_pdf(lines), content_type="application/pdf")
        letter_attach(proposal_id=proposal.pk, pdf=check_pdf(upload), now=now, user=pi, **cofunding)

    def build_submitted(self, *, call: Call, pi, now: dt.datetime) -> Proposal:
        proposal = proposal_create(call_id=call.pk, pi=pi, now=now)
        self._fill(
            proposal, pi=pi, now=now,
            data={**POLLIDRY_FORM, "unit": self.units["CEFE"]},
            budget={(1, "mobility"): 4000, (1, "meetings"): 1500, (1, "field"): 500,
                    (2, "mobility"): 3500, (2, "meetings"): 1500, (2, "field"): 1000},
            team=[
                {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": "Research scientist (CR)",
                 "institution": "UMR 5175 CEFE"},
                {"side": TeamSide.CNRS, "name": "Lucas Petit", "position": "PhD student",
                 "institution": "UMR 5175 CEFE", "early_career": True},
                {"side": TeamSide.PARTNER, "name": "Ana Beatriz Souza", "email": "ana.souza@unb.example.br",
                 "position": "Associate professor", "institution": "Universidade de Brasília"},
                {"side": TeamSide.PARTNER, "name": "Rafael Lima", "position": "Post-doctoral researcher",
                 "institution": "Universidade de Brasília", "early_career": True},
            ],
        )
        self._attach_letter(
            proposal, pi=pi, now=now, name="Carta de apoio - POLLIDRY.pdf",
            lines=["Universidade de Brasília — Departamento de Ecologia", "", "Letter of support — POLLIDRY", "",
                   "I am pleased to support the International Emerging Action proposed by",
                   "Dr Sarah Thompson (UMR 5175 CEFE, Montpellier).",
                   "Our department will co-fund the field missions in Brazil with BRL 20,000.", "",
                   "Prof. Ana Beatriz Souza"],
            cofunding=True, cofunding_amount=Decimal(20000), cofunding_currency="BRL",
        )
        proposal_submit(proposal_id=proposal.pk, user=pi, now=now)
        return proposal

    def build_withdrawn(self, *, call: Call, pi, now: dt.datetime) -> Proposal:
        proposal = proposal_create(call_id=call.pk, pi=pi, now=now)
        self._fill(
            proposal, pi=pi, now=now,
            data={
                "title": "Soft robotic grippers for fragile agricultural produce",
                "acronym": "SOFTGRIP",
                "abstract": ("We will combine soft pneumatic actuators designed at LAAS with tactile sensing "
                             "developed in Sendai to harvest fragile fruit without damage."),
                "keywords": "soft robotics, tactile sensing, agriculture",
                "unit": self.units["LAAS"],
                "partner_name": "Kenji Watanabe",
                "partner_email": "k.watanabe@tohoku.example.jp",
                "partner_institution": "Tohoku University",
                "partner_country": "JP",
                "activities": "Two research stays of one month per year; a joint workshop in Toulouse in year 2.",
                "ethics_statement": "No human or animal subjects; no dual-use concern.",
            },
            budget={(1, "mobility"): 4500, (1, "meetings"): 1000, (2, "mobility"): 4500, (2, "meetings"): 1000},
            team=[
                {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": "Directeur de recherche",
                 "institution": "UPR 8001 LAAS"},
                {"side": TeamSide.PARTNER, "name": "Kenji Watanabe", "email": "k.watanabe@tohoku.example.jp",
                 "position": "Professor", "institution": "Tohoku University"},
            ],
        )
        self._attach_letter(
            proposal, pi=pi, now=now, name="letter_watanabe.pdf",
            lines=["Tohoku University — Graduate School of Engineering", "", "Letter of support — SOFTGRIP", "",
                   "I support the proposal of Dr Thomas Bernard (UPR 8001 LAAS).", "No co-funding.", "",
                   "Prof. Kenji Watanabe"],
        )
        proposal_submit(proposal_id=proposal.pk, user=pi, now=now)
        proposal_withdraw(
            proposal_id=proposal.pk, user=pi, now=now,
            reason="The partner's laboratory is moving next year; we will apply to the next call.",
        )
        return proposal

    def build_draft(self, *, call: Call, pi, now: dt.datetime) -> Proposal:
        proposal = proposal_create(call_id=call.pk, pi=pi, now=now)
        self._fill(
            proposal, pi=pi, now=now,
            data={
                "title": "Slow-slip events and seismic swarms along the Chilean subduction",
                "acronym": "SLOWCHILE",
                "abstract": ("Slow-slip events may precede large subduction earthquakes. We will combine GNSS "
                             "and seismological records from northern Chile to"),
                "unit": self.units["IPGP"],
                "partner_name": "Diego Fuentes",
                "partner_email": "dfuentes@uchile.example.cl",
                "partner_institution": "Universidad de Chile",
                "partner_country": "CL",
            },
            budget={(1, "mobility"): 3000, (1, "field"): 2500},
            team=[
                {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": "Physicienne adjointe",
                 "institution": "UMR 7154 IPGP"},
            ],
        )
        invitation_create(proposal_id=proposal.pk, user=pi, email="dfuentes@uchile.example.cl", language="en", now=now)
        self.add_coapplicants(proposal, pi=pi, now=now)
        return proposal

    def add_coapplicants(self, proposal: Proposal, *, pi, now: dt.datetime) -> None:
        """#21: coapplicant@ accepted and edited the abstract (the history shows it); a colleague of IPGP is
        invited and has not answered yet."""
        colleague = self.users["coapplicant"]
        invited = coapplicant_invite(proposal_id=proposal.pk, user=pi, email=colleague.email,
                                     role=CoApplicantRole.EDITOR, language="fr", now=now)
        coapplicant_accept(coapplicant_id=invited.pk, user=colleague, now=now)
        proposal.refresh_from_db()
        proposal_save_draft(
            proposal_id=proposal.pk, user=colleague, budget={}, lock_version=proposal.lock_version, now=now,
            data={"abstract": proposal.abstract + (" separate slow slip from seismic swarms, and test "
                                                   "whether they migrate towards the seismogenic zone.")},
        )
        coapplicant_invite(proposal_id=proposal.pk, user=pi, email="lea.fontaine@ipgp.example.fr",
                           role=CoApplicantRole.EDITOR, language="fr", now=now)

    # --- output ------------------------------------------------------------------------------------------

    def print_logins(self) -> None:
        base = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}/"
        width_role = max(len(row[5]) for row in USERS)
        width_email = max(len(row[1]) for row in USERS)
        rule = "=" * (width_role + width_email + len(PASSWORD) + 6)
        review = review_demo_present()
        lines = [
            "",
            rule,
            f"IEA demo ready: {base}",
            f"Administration (staff): {base}admin/",
            *([f"Mails sent (the partner's invitation, co-signature links…): {base}dev/mails/"] if settings.DEBUG else []),
            "",
            f"{'role':<{width_role}}   {'e-mail':<{width_email}}   password",
            f"{'-' * width_role}   {'-' * width_email}   {'-' * len(PASSWORD)}",
            *(f"{role:<{width_role}}   {email:<{width_email}}   {PASSWORD}" for _key, email, _n, _l, _s, role in USERS),
        ]
        if review:
            lines += [
                f"plus {len(RESEARCHERS)} researchers with proposals in IEA {PAST_YEAR} "
                f"(researcher1…{len(RESEARCHERS)}@demo.iea.localhost)",
                f"plus {len(REVIEWERS)} more INEE reviewers (reviewer2…{len(REVIEWERS) + 1}@demo.iea.localhost)",
            ]
        lines += [
            "",
            "Reviewers, officer and staff sign in with a two-factor code: get the current one with",
            "  make totp        (or add the secret " + DEMO_TOTP_SECRET + " to an authenticator app)",
        ]
        if review:
            lines += ["", *(line.format(year=PAST_YEAR) for line in WHAT_TO_TRY)]
        if funding_demo_present():
            lines += ["", *(line.format(year=FUNDED_YEAR) for line in WHAT_TO_TRY_FUNDED)]
        lines += [rule, ""]
        self.stdout.write("\n".join(lines))
