"""IEA 2026 in review, for ``seed_demo``: a newcomer can play each review role through to the decision mail.

Everything goes through the domain functions, with ``now`` set to the moment each step would have
happened (submissions inside the 2026 window, screening and review after its deadline), so the audit
trail, the versions and the receipts are those the platform would have made. Built once, on a fresh
database: the call is created as a draft, published, opened, filled, closed, screened and put in review.

What is left for the demo: reviewer@ has an invitation to answer (LAGUNES) and an accepted proposal to
score (SNOWALP); the officer has THERMOFISH (the reviewers disagree), SNOWALP, LAGUNES and GLACIRIV to
recommend, and LAGUNES and GLACIRIV to cover ("Assign automatically"); staff take every decision.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError

from calls.domain import call_close, call_open, call_publish, call_start_review
from calls.models import Call, Institute
from iea.audit.domain import audit_record
from iea.formats import PARIS
from proposals.domain import (
    letter_attach,
    proposal_create,
    proposal_save_draft,
    proposal_submit,
    team_member_add,
)
from proposals.letters import check_pdf
from proposals.models import Proposal, TeamSide
from reviews.domain.affinities import affinities_compute
from reviews.domain.assignment import assignment_create, assignment_respond, panel_get_or_create
from reviews.domain.availability import unavailability_add
from reviews.domain.caps import panel_default_cap_set, reviewer_cap_set
from reviews.domain.panel import ranks_set, recommendation_set
from reviews.domain.pool import reviewer_add
from reviews.domain.publications import identifiers_set, publications_import
from reviews.domain.scoring import review_open, review_save_draft, review_submit
from reviews.domain.screening import proposal_screen, screening_confirm_eligible
from reviews.models import Panel, Reviewer

from ._demo_data import (
    INELIGIBLE_REASON,
    PAST_YEAR,
    PROPOSALS_2026,
    PUBLICATIONS,
    RESEARCHERS,
    REVIEWERS,
    demo_user_ensure,
    hal_bibtex,
    letter_pdf,
)
from ._demo_rfi import PROPOSALS_2026_RFI, RFI_RESEARCHERS, information_requests_build

DEMO_DOMAIN = "demo.iea.localhost"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(PAST_YEAR, month, day, hour, minute, tzinfo=PARIS)


PUBLISHED_AT = at(5, 18, 9)
CLOSED_AT = at(10, 1, 9)  # the day after the deadline (30 September, 13:00)
SCREENED_AT = at(10, 5, 14)
REVIEW_STARTS_AT = at(10, 6, 9)
ASSIGNED_AT = at(10, 8, 10)
REVIEWS_FROM = at(10, 14, 9)
RECOMMENDED_AT = at(11, 18, 15)
RANKED_AT = at(11, 20, 17)

# (proposal, reviewer, what became of the assignment). reviewer3 × THERMOFISH is refused: a detected conflict.
ASSIGNMENTS = [
    ("ANTADAPT", "reviewer2", "submitted"), ("ANTADAPT", "reviewer3", "submitted"),
    ("FRUGINET", "reviewer", "submitted"), ("FRUGINET", "reviewer4", "submitted"),
    ("THERMOFISH", "reviewer3", "conflict"), ("THERMOFISH", "reviewer2", "submitted"),
    ("THERMOFISH", "reviewer5", "submitted"),
    ("SNOWALP", "reviewer", "accepted"), ("SNOWALP", "reviewer4", "submitted"),
    ("LAGUNES", "reviewer", "invited"),
    ("FYNMED", "reviewer3", "submitted"), ("FYNMED", "reviewer4", "submitted"),
    ("SEAHEAT", "reviewer2", "submitted"), ("SEAHEAT", "reviewer5", "submitted"),
    ("GLACIRIV", "reviewer4", "declined"),
]
DECLINE_REASON = "I already review three proposals of this call and could not do a fourth one in time."

# (proposal, reviewer) → (scores of the six criteria, recommendation, comment for the PI, confidential
# comment, {criterion position: comment}).
REVIEWS = {
    ("ANTADAPT", "reviewer2"): (
        (4, 4.5, 4, 3.5, 5, 4), "fund",
        "A focused and feasible project: the native/introduced comparison is well chosen and the Buenos Aires "
        "team brings the sampling network the Lyon group lacks. The second-year workshop could be opened to "
        "other groups working on invasive ants.",
        "Modest in ambition but very likely to deliver. The partner is well established.", {}),
    ("ANTADAPT", "reviewer3"): (
        (4.5, 4, 4.5, 4, 5, 3.5), "fund",
        "The genomic design (paired native and introduced populations) is sound and the teams are "
        "complementary. The budget says nothing of sequencing: state its cost, even if it is covered elsewhere.",
        "Strong group in ant genomics. Minor concern on how sequencing is paid for.", {6: "Sequencing costs missing."}),
    ("FRUGINET", "reviewer"): (
        (4.5, 5, 4.5, 4.5, 5, 4), "fund",
        "An excellent proposal: the fragmentation gradient is a strong design, and comparing tropical and "
        "Mediterranean networks is original. The two early-career researchers have real roles. Share the "
        "camera-trap data with the Brazilian team in one format from the start.",
        "Top of my pile. Fund.",
        {1: "Clear question, sound gradient design.", 2: "A new partnership with a well-known Brazilian group.",
         4: "A PhD student and a post-doc are at the heart of the plan.",
         6: "Mostly mobility, which is justified; UNESP's co-funding helps."}),
    ("FRUGINET", "reviewer4"): (
        (5, 4.5, 4.5, 4, 5, 4.5), "fund",
        "Very convincing, with clear conservation relevance for the Atlantic Forest. The activities are "
        "realistic for two years.",
        "Strongly support.", {}),
    ("THERMOFISH", "reviewer2"): (
        (4.5, 4.5, 5, 4, 5, 4.5), "fund",
        "An elegant comparison of lakes with contrasting warming histories, carried by two strong teams. The "
        "experiments at Laval's aquatic station are well thought out.",
        "Excellent teams; I would fund.", {}),
    ("THERMOFISH", "reviewer5"): (
        (2.5, 2, 3, 2.5, 4, 2), "reject",
        "The question matters, but two years and this budget will not be enough both to measure thermal "
        "tolerance and to find its genetic basis; a narrower aim would be stronger. The role of the Canadian "
        "partner beyond hosting the experiments is not explained.",
        "Over-ambitious: the genetic part is not feasible at this scale. I disagree with funding it as is.",
        {1: "Too broad for an IEA.", 2: "The partner's scientific role is unclear."}),
    ("SNOWALP", "reviewer4"): (
        (3.5, 4, 3.5, 4.5, 5, 3), "reserve",
        "A useful monitoring collaboration with a good place for the PhD student. The question is less new than "
        "the design suggests, since snow-removal experiments exist in both ranges. Justify the year-2 field costs.",
        "Fine but not outstanding; reserve.", {}),
    ("FYNMED", "reviewer3"): (
        (4, 3.5, 4, 3, 5, 3.5), "reserve",
        "A good comparison of two Mediterranean-climate shrublands, with a clear protocol. The common garden is "
        "the most original part; the field survey could be shorter. Say what the MSc student will do.",
        "Good, in a priority country: reserve, or fund if money allows.", {}),
    ("FYNMED", "reviewer4"): (
        (3.5, 4, 3.5, 3.5, 4.5, 3), "fund",
        "The link with the Cape Town group is promising and the project fits the institute's priority on "
        "biodiversity and climate change. The budget is reasonable.",
        "I would fund it at a reduced amount.", {}),
    ("SEAHEAT", "reviewer2"): (
        (2.5, 3, 2.5, 2, 4, 2.5), "reject",
        "Marine heatwaves are a timely topic, but the proposal does not say how heatwave and normal years will "
        "be compared within two years. No early-career researcher takes part, and one mission takes most of "
        "the budget.",
        "Weak as written; could come back next year.", {}),
    ("SEAHEAT", "reviewer5"): (
        (3, 2.5, 3, 2, 3, 2), "reject",
        "The permits to fit loggers on protected species are still to be requested: this must be settled "
        "before any deployment. The team is strong in biologging, but the collaboration reads as one exchange "
        "rather than a partnership.",
        "Reject; encourage a new proposal with the permits in hand.", {5: "Permits not yet requested."}),
}

# The officer's work so far: (proposal, recommendation, proposed amount, consensus sent to the PI), and the ranking.
RECOMMENDATIONS = [
    ("FRUGINET", "fund", 14000,
     "Both reviewers rate this proposal very highly: a strong design along a fragmentation gradient, an "
     "original tropical–Mediterranean comparison and a real role for early-career researchers. The panel "
     "recommends funding it in full."),
    ("ANTADAPT", "fund", 12000,
     "A focused, feasible project with complementary teams. The reviewers ask that the sequencing costs be "
     "stated. The panel recommends funding it."),
    ("FYNMED", "reserve", 11000,
     "A good comparison in a priority country, with an original common-garden experiment. The panel puts it "
     "on the reserve list, at €11,000 if the budget allows."),
    ("SEAHEAT", "reject", None,
     "The topic is timely, but the plan does not show how the comparison can be made within two years, no "
     "early-career researcher takes part, and the permits to fit loggers on protected species are not yet "
     "requested. The panel encourages a revised proposal to a later call."),
]
RANKING = ["FRUGINET", "ANTADAPT", "FYNMED", "SEAHEAT"]


def review_due(now: dt.datetime) -> dt.datetime:
    """Six days from now (or from the last step of the demo, if that is later), at 18:00 Paris time: the
    unfinished reviews are in their D−7 reminder window, so ``make run`` shows the reminders going out."""
    day = max(now, RANKED_AT).astimezone(PARIS).date() + dt.timedelta(days=6)
    return dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=PARIS)


def review_demo_present() -> bool:
    """Whether the database holds this demo: the INEE panel of IEA 2026."""
    return Panel.objects.filter(call__year=PAST_YEAR, institute__code="INEE").exists()


def submit_proposal(call: Call, spec: dict, *, users: dict, units: dict, at) -> Proposal:
    """A demo proposal created, filled, given its letter and submitted at the moments of ``spec``
    (``at`` turns them into datetimes of the call's year), through the domain functions."""
    pi = users[spec["pi"]]
    started, uploaded, submitted = (at(*moment) for moment in spec["moments"])
    unit = units[spec["unit"]]
    unit_label = f"{unit.code} {unit.acronym}"
    partner_name, partner_email, institution, country, position = spec["partner"]
    proposal = proposal_create(call_id=call.pk, pi=pi, now=started)
    data = {name: spec[name] for name in ("title", "acronym", "abstract", "keywords", "activities", "ethics_statement")}
    data |= {"unit": unit, "partner_name": partner_name, "partner_email": partner_email,
             "partner_institution": institution, "partner_country": country}
    budget = {(year, category): Decimal(amounts[year - 1])
              for category, amounts in spec["budget"].items() for year in (1, 2)}
    result = proposal_save_draft(proposal_id=proposal.pk, user=pi, data=data, budget=budget,
                                 lock_version=proposal.lock_version, now=started)
    if not result.saved:
        raise CommandError(f"Proposal {proposal.reference} was changed while the demo was being built.")
    team = [
        {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": spec["position"],
         "institution": unit_label},
        {"side": TeamSide.PARTNER, "name": partner_name, "email": partner_email, "position": position,
         "institution": institution},
        *({"side": side, "name": name, "position": role, "early_career": early,
           "institution": unit_label if side == TeamSide.CNRS else institution}
          for side, name, role, early in spec["team"]),
    ]
    for member in team:
        team_member_add(proposal_id=proposal.pk, user=pi, now=started, **member)
    cofunding = spec["cofunding"]
    lines = spec.get("letter") or [
        institution, "", f"Letter of support — {spec['acronym']}", "",
        f"I support the International Emerging Action proposed by Dr {pi.full_name} ({unit_label}).",
        f"My institution will co-fund it with {cofunding[1]} {cofunding[0]:,}." if cofunding else "No co-funding is committed.",
        "", partner_name,
    ]
    upload = SimpleUploadedFile(f"support-letter-{spec['acronym']}.pdf", letter_pdf(lines), content_type="application/pdf")
    letter_attach(
        proposal_id=proposal.pk, pdf=check_pdf(upload), now=uploaded, user=pi, cofunding=bool(cofunding),
        cofunding_amount=Decimal(cofunding[0]) if cofunding else None, cofunding_currency=cofunding[1] if cofunding else "",
    )
    proposal_submit(proposal_id=proposal.pk, user=pi, now=submitted)
    return proposal


class ReviewDemo:
    def __init__(self, *, users: dict, units: dict):
        self.users = dict(users)  # the demo users by key: pi, reviewer, officer, staff…
        self.units = units  # by acronym

    def build(self, call: Call, *, now: dt.datetime) -> str:
        """Fill a new draft call ``call`` and take it to review; return a one-line summary."""
        staff = self.users["staff"]
        call_publish(call_id=call.pk, user=staff, now=PUBLISHED_AT)
        call_open(call_id=call.pk, user=staff, now=call.opens_at)
        for key, full_name, language in [*RESEARCHERS, *RFI_RESEARCHERS]:
            self.users[key], _created = demo_user_ensure(f"{key}@{DEMO_DOMAIN}", full_name, language)
        proposals = {spec["acronym"]: self.submit(call, spec) for spec in PROPOSALS_2026}
        asked = {spec["acronym"]: self.submit(call, spec) for spec in PROPOSALS_2026_RFI}
        call_close(call_id=call.pk, user=staff, now=CLOSED_AT)
        proposal_screen(proposal_id=proposals["SATOSOIL"].pk, user=staff, eligible=False, reason=INELIGIBLE_REASON,
                        now=SCREENED_AT)
        answer = information_requests_build(proposals=asked, staff=staff, users=self.users, screened_at=SCREENED_AT,
                                            now=now)
        eligible = screening_confirm_eligible(call_id=call.pk, user=staff, now=SCREENED_AT + dt.timedelta(minutes=40)).count
        answer()
        call_start_review(call_id=call.pk, user=staff, now=REVIEW_STARTS_AT)
        panel = self.open_panel(call, now=now)
        reviewers = self.pool(panel)
        self.profiles(panel, reviewers, now=now)
        counts = self.assign(panel, proposals, reviewers)
        self.recommend(panel, proposals)
        return (f"{len(proposals)} proposals ({eligible} eligible, 1 ineligible), {len(reviewers)} reviewers, "
                f"{counts['assignments']} assignments, {counts['submitted']} reviews submitted, "
                f"{len(RECOMMENDATIONS)} recommendations; reviews due {review_due(now).astimezone(PARIS):%Y-%m-%d}")

    # --- proposals ----------------------------------------------------------------------------------------

    def submit(self, call: Call, spec: dict) -> Proposal:
        return submit_proposal(call, spec, users=self.users, units=self.units, at=at)

    # --- the panel --------------------------------------------------------------------------------------------

    def open_panel(self, call: Call, *, now: dt.datetime) -> Panel:
        """The directorate opens the INEE panel when the call goes to review, and sets when reviews are due."""
        staff = self.users["staff"]
        panel = panel_get_or_create(call=call, institute=Institute.objects.get(code="INEE"), now=REVIEW_STARTS_AT,
                                    user=staff)
        panel.review_due_at = review_due(now)
        panel.save(update_fields=["review_due_at"])
        audit_record(actor=staff, target=panel, action="panel.update", now=REVIEW_STARTS_AT,
                     data={"changed": ["review_due_at"]})
        return panel

    def pool(self, panel: Panel) -> dict[str, Reviewer]:
        """reviewer@ (already in the pool) and the four others, added by the officer."""
        reviewers = {"reviewer": Reviewer.objects.get(user=self.users["reviewer"], institute=panel.institute)}
        for index, (key, full_name, language, unit_code, institution, keywords, sections, external) in enumerate(REVIEWERS):
            email = f"{key}@{DEMO_DOMAIN}"
            self.users[key], _created = demo_user_ensure(email, full_name, language, totp=True)
            reviewers[key] = reviewer_add(
                panel_id=panel.pk, user=self.users["officer"], email=email, full_name=full_name,
                now=REVIEW_STARTS_AT + dt.timedelta(hours=2, minutes=10 * index), institution=institution,
                unit_code=unit_code, keywords=keywords, sections=sections, external=external,
            ).reviewer
        return reviewers

    def profiles(self, panel: Panel, reviewers: dict[str, Reviewer], *, now: dt.datetime) -> None:
        """#20: each reviewer uploads their HAL export; reviewer@ gives their ORCID iD and says when they will be
        away (from the real today, so the page lists it); the officer sets the panel's default maximum and a lower
        one for Sophie Marchand, and the affinities are computed."""
        uploaded = REVIEW_STARTS_AT + dt.timedelta(hours=4)
        for key, reviewer in reviewers.items():
            user = reviewer.user
            upload = SimpleUploadedFile(f"hal-{key}.bib", hal_bibtex(f"{user.last_name}, {user.first_name}",
                                                                       PUBLICATIONS[key]))
            publications_import(user=user, file=upload, imported_by=user, now=uploaded)
        demo_reviewer = reviewers["reviewer"].user
        identifiers_set(user=demo_reviewer, orcid="0000-0002-1825-0097", hal_id="", by=demo_reviewer, now=uploaded)
        today = now.astimezone(PARIS).date()
        unavailability_add(user=demo_reviewer, starts_on=today + dt.timedelta(days=40),
                           ends_on=today + dt.timedelta(days=54), note="Terrain en Patagonie", now=now)
        officer = self.users["officer"]
        panel_default_cap_set(panel_id=panel.pk, user=officer, max_reviews=4, now=uploaded)
        reviewer_cap_set(panel_id=panel.pk, reviewer_id=reviewers["reviewer4"].pk, user=officer, max_reviews=2,
                         now=uploaded)
        # What the officer's *Compute affinities* does in the background: each proposal's best matches are there.
        affinities_compute(panel_id=panel.pk, now=uploaded)

    def assign(self, panel: Panel, proposals: dict[str, Proposal], reviewers: dict[str, Reviewer]) -> dict[str, int]:
        officer = self.users["officer"]
        counts = {"assignments": 0, "submitted": 0}
        for index, (acronym, key, outcome) in enumerate(ASSIGNMENTS):
            proposal, reviewer = proposals[acronym], reviewers[key]
            now = ASSIGNED_AT + dt.timedelta(minutes=3 * index)
            if outcome == "conflict":
                # The officer tries; the conflict is detected and kept, and the assignment refused.
                try:
                    assignment_create(panel=panel, proposal=proposal, reviewer=reviewer, user=officer, now=now)
                except ValidationError as error:
                    if error.code != "conflict":
                        raise
                else:
                    raise CommandError(f"{reviewer} was expected to be in conflict with {acronym}.")
                continue
            assignment = assignment_create(panel=panel, proposal=proposal, reviewer=reviewer, user=officer, now=now)
            counts["assignments"] += 1
            if outcome == "invited":
                continue
            assignment_respond(
                assignment_id=assignment.pk, user=reviewer.user, accept=outcome != "declined",
                reason=DECLINE_REASON if outcome == "declined" else "",
                now=ASSIGNED_AT + dt.timedelta(days=1 + index % 4, hours=index % 7),
            )
            if outcome == "submitted":
                self.write_review(assignment.pk, reviewer.user, REVIEWS[acronym, key],
                                  opened=REVIEWS_FROM + dt.timedelta(days=3 * counts["submitted"]))
                counts["submitted"] += 1
        return counts

    def write_review(self, assignment_id: int, user, content: tuple, *, opened: dt.datetime) -> None:
        scores, recommendation, for_pi, confidential, comments = content
        review = review_open(assignment_id=assignment_id, user=user, now=opened)
        criteria = dict(review.scores.values_list("criterion__position", "criterion_id"))
        result = review_save_draft(
            review_id=review.pk, user=user, lock_version=review.lock_version, now=opened + dt.timedelta(hours=2),
            data={"comment_for_pi": for_pi, "confidential_comment": confidential, "recommendation": recommendation},
            scores={criteria[position]: (Decimal(str(score)), comments.get(position, ""))
                    for position, score in enumerate(scores, start=1)},
        )
        if not result.saved:
            raise CommandError(f"The demo review {review.pk} was changed while the demo was being built.")
        review_submit(review_id=review.pk, user=user, now=opened + dt.timedelta(days=2, hours=3))

    def recommend(self, panel: Panel, proposals: dict[str, Proposal]) -> None:
        officer = self.users["officer"]
        for index, (acronym, recommendation, amount, consensus) in enumerate(RECOMMENDATIONS):
            recommendation_set(
                proposal_id=proposals[acronym].pk, user=officer, consensus=consensus, recommendation=recommendation,
                proposed_amount=amount, now=RECOMMENDED_AT + dt.timedelta(minutes=20 * index),
            )
        ranks_set(panel_id=panel.pk, user=officer, ordered_proposal_ids=[proposals[a].pk for a in RANKING], now=RANKED_AT)
