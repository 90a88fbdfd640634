"""IEA 2025, decided and funded, for ``seed_demo``: a newcomer can follow an award through both tranches
and the final report.

Everything goes through the domain functions, with ``now`` set to the moment each step would have
happened: three INEE proposals submitted inside the 2025 window, screened, reviewed twice each,
recommended, decided (one selected, one on the reserve list, one rejected), announced in October 2025
(the announcement creates pi2's award, which starts on 1 November 2025) and the call marked decided.
Built once, on a fresh database, right after IEA 2026.

What is left for the demo (year 1 of the award ended on 1 November 2026): tranche 1 was released by
staff and its receipt confirmed by manager@ (CEFE), who recorded the year's spending; pi2's year-1
report is a draft, filled in, for pi2 to submit. Then the partner co-signs through the link in the
console mail, officer@ (the INEE panel's officer) or staff@ approve, staff@ release tranche 2, and the
final report, once approved, closes the award.

The partners' e-mails are demo addresses on sub-domains of demo.iea.localhost: the console shows their
mails, and a partner's domain is not the reviewers' (the same domain would be a detected conflict).
"""

import datetime as dt
from decimal import Decimal

from django.core.management.base import CommandError

from calls.domain import (
    call_close,
    call_mark_decided,
    call_open,
    call_publish,
    call_start_review,
    criteria_seed,
    default_window,
)
from calls.models import Call, CallState, Institute, InstitutePriority
from funding.domain.acceptance import award_accept
from funding.domain.amendments import amendment_decide, amendment_give_opinion, amendment_request
from funding.domain.awards import tranche_confirm_receipt, tranche_release
from funding.domain.decisions import decision_set, decisions_announce
from funding.domain.reports import report_save
from funding.domain.spending import spending_record
from funding.models import AmendmentKind, Award, ReportPeriod, UnitOpinion
from iea.audit.domain import audit_record
from iea.formats import PARIS
from proposals.models import Proposal
from reviews.domain.assignment import assignment_create, assignment_respond, panel_get_or_create
from reviews.domain.panel import ranks_set, recommendation_set
from reviews.domain.screening import screening_confirm_eligible
from reviews.models import Reviewer

from ._demo_data import RESEARCHERS, RULES_EN, RULES_FR, SUMMARY_EN, SUMMARY_FR, demo_user_ensure, euros
from ._demo_messages import seed_conversations
from ._demo_review import DEMO_DOMAIN, ReviewDemo, submit_proposal

FUNDED_YEAR = 2025


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


PUBLISHED_AT = at(2025, 5, 19, 9)
CLOSED_AT = at(2025, 10, 1, 9)  # the day after the deadline (Tuesday 30 September, 13:00)
SCREENED_AT = at(2025, 10, 1, 14)
REVIEW_STARTS_AT = at(2025, 10, 2, 9)
REVIEWS_DUE_AT = at(2025, 10, 17, 18)
ASSIGNED_AT = at(2025, 10, 2, 11)
REVIEWS_FROM = at(2025, 10, 6, 9)
RECOMMENDED_AT = at(2025, 10, 20, 15)
DECIDED_AT = at(2025, 10, 22, 11)
NOTIFIED_AT = at(2025, 10, 24, 10)  # → the award starts on 1 November 2025
ACCEPTED_AT = at(2025, 10, 27, 11)  # pi2 accepts the award (funding.domain.acceptance)
MARKED_DECIDED_AT = at(2025, 10, 24, 10, 30)
RELEASED_AT = at(2025, 11, 3, 9, 30)
RECEIVED_AT = at(2025, 11, 12, 14)
REPORT_SAVED_AT = at(2026, 11, 16, 17, 40)
# The amendments of the award (#21): an extension asked, given the unit's opinion and approved (version 2), and a
# budget transfer asked that waits for the unit's opinion.
EXTENSION_ASKED_AT = at(2026, 3, 9, 10, 15)
EXTENSION_OPINION_AT = at(2026, 3, 11, 14, 30)
EXTENSION_APPROVED_AT = at(2026, 3, 16, 11)
TRANSFER_ASKED_AT = at(2026, 11, 20, 9, 45)
EXTENSION_REASON = (
    "The Chilean team's field season in the garrigue moves from May to September 2027: the visas of our two PhD "
    "students will not be issued in time for the spring. The final workshop in Santiago then moves to December "
    "2027, so we ask for three more months, at no extra cost.")
EXTENSION_OPINION = ("Avis favorable : la mission peut être engagée à l'automne sur les crédits déjà prévus, "
                     "sans surcoût pour l'unité.")
TRANSFER_REASON = (
    "The final workshop in Santiago will be hosted by the Universidad de Chile, which covers the rooms and meals: "
    "we ask to move €600 of year 2 from working meetings to field missions, to extend the garrigue mission by a week.")

PRIORITY_2025 = ("INEE", "Biodiversité et changement climatique ; écosystèmes méditerranéens.",
                 "Biodiversity and climate change; Mediterranean ecosystems.", ["CL", "TN", "ZA"])

# Like ``_demo_data.PROPOSALS_2026``, with the moments (year, month, day, hour, minute) the draft was
# started, the letter uploaded and the proposal submitted; then the reviews (reviewer key → scores,
# recommendation, comment for the PI, confidential comment), the officer's recommendation (outcome,
# amount, consensus) and the directorate's decision (outcome, amount).
PROPOSALS_2025 = [
    {
        "pi": "pi2", "unit": "CEFE", "position": "Research scientist (CR)",
        "moments": ((2025, 6, 12, 9, 30), (2025, 9, 8, 16, 10), (2025, 9, 24, 11, 5)),
        "partner": ("Javiera Muñoz", f"javiera.munoz@uchile.{DEMO_DOMAIN}", "Universidad de Chile", "CL",
                    "Profesora asociada"),
        "team": [("cnrs", "Lucas Petit", "Master's student", True), ("partner", "Tomás Vergara", "PhD student", True)],
        "budget": {"mobility": (3500, 3500), "meetings": (1500, 1500), "field": (1000, 1000)},
        "cofunding": (4000000, "CLP"),
        "title": "Seed-dispersing ants in the Mediterranean-climate shrublands of Chile and southern France",
        "acronym": "ANTSEED",
        "abstract": "Many shrubs of the Chilean matorral and the French garrigue rely on ants to disperse their "
                    "seeds. We will compare these ant–seed networks in both regions with one field protocol, "
                    "and test whether drought years break them, to prepare a joint research programme.",
        "keywords": "seed dispersal, ants, plant–animal interactions, drylands, Mediterranean ecosystems",
        "activities": "Year 1: field mission of the CNRS team in central Chile (La Campana, March); working "
                      "meeting in Montpellier (June).\nYear 2: field mission of the Chilean team in the "
                      "garrigue near Montpellier (May); final workshop in Santiago.",
        "ethics_statement": "Invertebrates and seeds only, sampled under CONAF and prefectoral permits. "
                            "Data shared under an open licence.",
        "reviews": {
            "reviewer2": ((4.5, 4.5, 4, 4.5, 5, 4), "fund",
                          "A well-designed comparison with a single protocol in both regions, and a clear place "
                          "for the two students. The drought-year test is the most original part.",
                          "Strong and feasible. Fund."),
            "reviewer4": ((4, 4.5, 4.5, 4, 5, 4.5), "fund",
                          "Convincing, with a real exchange in both directions. The budget is realistic; the "
                          "co-funding from the Universidad de Chile strengthens it.",
                          "I support funding it in full."),
        },
        "recommendation": ("fund", 12000,
                           "Both reviewers rate this proposal highly: one protocol in two regions, a new "
                           "partnership and a real role for early-career researchers. The panel recommends "
                           "funding it in full."),
        "decision": ("selected", 12000),
    },
    {
        "pi": "researcher4", "unit": "IMBE", "position": "Directeur de recherche",
        "moments": ((2025, 7, 1, 14, 0), (2025, 9, 16, 10, 20), (2025, 9, 29, 15, 45)),
        "partner": ("Amira Ben Salem", f"a.bensalem@instm.{DEMO_DOMAIN}",
                    "Institut national des sciences et technologies de la mer", "TN", "Maître de conférences"),
        "team": [("partner", "Karim Jaziri", "PhD student", True)],
        "budget": {"mobility": (3500, 3000), "meetings": (1000, 1500), "field": (1000, 1000)},
        "cofunding": None,
        "title": "Decline of Posidonia meadows in the Gulf of Gabès and the Gulf of Lion", "acronym": "POSIDEC",
        "abstract": "Posidonia meadows shelter much of Mediterranean coastal biodiversity and are retreating on "
                    "both shores. We will compare their decline in the Gulf of Gabès and the Gulf of Lion with "
                    "the same diving surveys, and relate it to water quality and anchoring.",
        "keywords": "seagrass, Posidonia, coastal ecology, Mediterranean",
        "activities": "Year 1: diving surveys in Gabès; year 2: in the Gulf of Lion, then a joint workshop in Marseille.",
        "ethics_statement": "Non-destructive surveys; sampling authorised by the Tunisian and French authorities.",
        "reviews": {
            "reviewer4": ((3.5, 4, 3.5, 3.5, 5, 3.5), "reserve",
                          "A relevant comparison for conservation on both shores. The link between decline and "
                          "its causes needs a clearer design.",
                          "Good but the causal part is vague; reserve."),
            "reviewer5": ((4, 3.5, 3.5, 3, 4.5, 3.5), "fund",
                          "Timely and feasible. Say more about how the PhD student's work is shared between "
                          "the two teams.",
                          "Could be funded if money allows."),
        },
        "recommendation": ("reserve", 11000,
                           "A relevant, feasible comparison whose analysis of the causes of decline should be "
                           "sharpened. The panel puts it on the reserve list, at €11,000 if the budget allows."),
        "decision": ("reserve", 11000),
    },
    {
        "pi": "researcher7", "unit": "LEHNA", "position": "Chargée de recherche",
        "moments": ((2025, 8, 25, 11, 15), (2025, 9, 22, 9, 40), (2025, 9, 30, 10, 2)),
        "partner": ("Rachel Collins", f"r.collins@maine.{DEMO_DOMAIN}", "University of Maine", "US",
                    "Assistant professor"),
        "team": [],
        "budget": {"mobility": (5000, 4000), "meetings": (0, 1500), "field": (1000, 0)},
        "cofunding": None,
        "title": "Migratory fish after dam removal: the Penobscot and the Sélune", "acronym": "DAMFISH",
        "abstract": "Dams were removed on the Penobscot (Maine) and the Sélune (Normandy). We will compare how "
                    "migratory fish recolonise both rivers, from the monitoring data of each team.",
        "keywords": "freshwater ecology, river restoration, migratory fish, dam removal",
        "activities": "Year 1: mission to Maine; year 2: analysis meeting in Lyon.",
        "ethics_statement": "Existing monitoring data only.",
        "reviews": {
            "reviewer3": ((3, 2.5, 3, 1.5, 4.5, 2.5), "reject",
                          "The comparison is interesting, but the project reads as an exchange of data rather "
                          "than a joint research plan, and no early-career researcher takes part.",
                          "Weak as written."),
            "reviewer5": ((3, 3, 2.5, 1.5, 4.5, 2), "reject",
                          "One mission takes most of the budget, and the plan does not say what will be "
                          "analysed together.",
                          "Reject; could come back with a clearer plan."),
        },
        "recommendation": ("reject", None,
                           "The comparison of two dam removals is interesting, but the proposal is an exchange of "
                           "data rather than a joint research plan, and no early-career researcher takes part. "
                           "The panel encourages a revised proposal."),
        "decision": ("rejected", None),
    },
]

# What CEFE spent of tranche 1, recorded by manager@: (date, category, amount, description).
SPENDING = [
    (dt.date(2026, 3, 2), "mobility", "1840.00", "Flights Montpellier–Santiago, S. Thompson and L. Petit (field mission)"),
    (dt.date(2026, 3, 20), "field", "860.00", "Field mission at La Campana: vehicle hire and field station, 12 days"),
    (dt.date(2026, 6, 17), "meetings", "1150.00", "Working meeting in Montpellier, 3 days: J. Muñoz's stay and meals"),
    (dt.date(2026, 9, 14), "mobility", "1320.00", "Stay of T. Vergara (PhD student, Universidad de Chile) at CEFE, 3 weeks"),
]

YEAR1_REVIEW = """\
Year 1 went as planned. In March 2026 the CNRS team (S. Thompson, L. Petit) spent twelve days at La Campana \
with the Chilean team: we set up 24 seed-depot stations on four slopes and recorded 1,930 ant–seed \
interactions involving 17 ant and 11 plant species. In June, J. Muñoz came to Montpellier for a three-day \
working meeting, where we agreed on one protocol for both regions and started the shared database.

T. Vergara (PhD student, Universidad de Chile) spent three weeks at CEFE in September to learn the network \
analyses; a joint paper on the Chilean networks is in preparation.

Year 2: field season in the garrigue in May 2027 with the Chilean team, then the final workshop in Santiago."""

# Printed after the logins when the funding demo is present.
WHAT_TO_TRY_FUNDED = [
    "What to try (IEA {year} funded: ANTSEED, €12,000, managed by CEFE):",
    "  pi2@       My awards → ANTSEED → the year-1 report: complete it if you like, then submit",
    "             (the partner's co-signature link: in the mails sent, /dev/mails/)",
    "  officer@   Reports to review → approve the co-signed year-1 report (or staff@)",
    "  staff@     Administration → Funding → Awards → ANTSEED → \"Release the next tranche\"",
    "  manager@   Unit awards → ANTSEED: record spending, confirm receipt of tranche 2, give the unit's opinion",
    "             on pi2's budget transfer (Amendments); staff@ then approves it: Administration → Funding →",
    "             Amendments (the award's letter is re-issued at version 3)",
    "  Then pi2@ files the final report; once approved, it closes the award.",
    "  staff@     Screening and decisions → IEA {year} → Decisions: select POSIDEC from the reserve list (\"Select",
    "             and mail the PI\"); researcher4@ (its PI) then accepts or declines the award under My awards",
    "  researcher7@ My proposals → DAMFISH (IEA {year}, not selected) → \"Start a new proposal from this one in",
    "             IEA 2027\": a new draft, the panel's evaluation of DAMFISH beside the editor",
]


def funding_demo_present() -> bool:
    """Whether the database holds this demo: pi2's award in IEA 2025."""
    return Award.objects.filter(proposal__call__year=FUNDED_YEAR, proposal__pi__email=f"pi2@{DEMO_DOMAIN}").exists()


class FundingDemo:
    def __init__(self, *, users: dict, units: dict):
        self.users = dict(users)
        self.units = units

    def create_call(self) -> Call:
        opens_at, closes_at = default_window(FUNDED_YEAR)
        call = Call.objects.create(
            year=FUNDED_YEAR, title_fr=f"IEA {FUNDED_YEAR}", title_en=f"IEA {FUNDED_YEAR}",
            summary_fr=SUMMARY_FR.format(year=FUNDED_YEAR), summary_en=SUMMARY_EN.format(year=FUNDED_YEAR),
            rules_fr=RULES_FR, rules_en=RULES_EN,
            state=CallState.DRAFT, opens_at=opens_at, closes_at=closes_at, grace_minutes=0,
            budget_min=Decimal(10000), budget_max=Decimal(14000), total_envelope=Decimal(1100000),
            duration_months=24, max_active_proposals_per_pi=1, excluded_countries=["RU"],
        )
        criteria_seed(call)
        code, themes_fr, themes_en, countries = PRIORITY_2025
        InstitutePriority.objects.create(call=call, institute=Institute.objects.get(code=code), themes_fr=themes_fr,
                                         themes_en=themes_en, priority_countries=countries)
        return call

    def build(self) -> str:
        """Create IEA 2025 and take it to decided, with pi2's award in year 2; return a one-line summary."""
        staff = self.users["staff"]
        call = self.create_call()
        call_publish(call_id=call.pk, user=staff, now=PUBLISHED_AT)
        call_open(call_id=call.pk, user=staff, now=call.opens_at)
        researchers = {key: (full_name, language) for key, full_name, language in RESEARCHERS}
        for spec in PROPOSALS_2025:
            if spec["pi"] not in self.users:
                full_name, language = researchers[spec["pi"]]
                self.users[spec["pi"]], _created = demo_user_ensure(f"{spec['pi']}@{DEMO_DOMAIN}", full_name, language)
        proposals = {spec["acronym"]: self.submit(call, spec) for spec in PROPOSALS_2025}
        call_close(call_id=call.pk, user=staff, now=CLOSED_AT)
        eligible = screening_confirm_eligible(call_id=call.pk, user=staff, now=SCREENED_AT).count
        if eligible != len(proposals):
            raise CommandError(f"Only {eligible} of the {len(proposals)} IEA {FUNDED_YEAR} demo proposals are eligible.")
        call_start_review(call_id=call.pk, user=staff, now=REVIEW_STARTS_AT)
        reviews = self.review(call, proposals)
        self.decide(call, proposals)
        award = Award.objects.get(proposal=proposals["ANTSEED"])
        spent = self.year_one(award)
        self.amendments(award)
        seed_conversations(proposal=award.proposal, users=self.users, at=at)
        return (f"{len(proposals)} proposals reviewed ({reviews} reviews), decided and announced; award "
                f"{award.proposal.reference} ({euros(award.amount)} for pi2, {award.unit.acronym}) from "
                f"{award.start_date:%Y-%m-%d}: tranche 1 released and received, {len(SPENDING)} spending lines "
                f"({euros(spent, cents=True)}), year-1 report in draft, an extension approved (version 2) and a budget "
                f"transfer waiting for the unit's opinion")

    def submit(self, call: Call, spec: dict) -> Proposal:
        return submit_proposal(call, spec, users=self.users, units=self.units, at=at)

    def review(self, call: Call, proposals: dict[str, Proposal]) -> int:
        """The INEE panel (officer@) asks two reviewers of the pool per proposal; all of them submit."""
        staff, officer = self.users["staff"], self.users["officer"]
        institute = Institute.objects.get(code="INEE")
        panel = panel_get_or_create(call=call, institute=institute, now=REVIEW_STARTS_AT, user=staff)
        panel.review_due_at = REVIEWS_DUE_AT
        panel.save(update_fields=["review_due_at"])
        audit_record(actor=staff, target=panel, action="panel.update", now=REVIEW_STARTS_AT,
                     data={"changed": ["review_due_at"]})
        writer = ReviewDemo(users=self.users, units=self.units)
        count = 0
        for spec in PROPOSALS_2025:
            proposal = proposals[spec["acronym"]]
            for key, (scores, recommendation, for_pi, confidential) in spec["reviews"].items():
                reviewer = Reviewer.objects.select_related("user").get(user__email=f"{key}@{DEMO_DOMAIN}", institute=institute)
                assignment = assignment_create(panel=panel, proposal=proposal, reviewer=reviewer, user=officer,
                                               now=ASSIGNED_AT + dt.timedelta(minutes=3 * count))
                assignment_respond(assignment_id=assignment.pk, user=reviewer.user, accept=True,
                                   now=ASSIGNED_AT + dt.timedelta(days=1, hours=count % 5))
                writer.write_review(assignment.pk, reviewer.user, (scores, recommendation, for_pi, confidential, {}),
                                    opened=REVIEWS_FROM + dt.timedelta(days=count))
                count += 1
        for index, spec in enumerate(PROPOSALS_2025):
            recommendation, amount, consensus = spec["recommendation"]
            recommendation_set(
                proposal_id=proposals[spec["acronym"]].pk, user=officer, consensus=consensus,
                recommendation=recommendation, proposed_amount=amount,
                now=RECOMMENDED_AT + dt.timedelta(minutes=20 * index),
            )
        ranks_set(panel_id=panel.pk, user=officer, ordered_proposal_ids=[proposals[s["acronym"]].pk for s in PROPOSALS_2025],
                  now=RECOMMENDED_AT + dt.timedelta(hours=1))
        return count

    def decide(self, call: Call, proposals: dict[str, Proposal]) -> None:
        """Staff decide, announce the decisions (which creates the award) and mark the call decided."""
        staff = self.users["staff"]
        for index, spec in enumerate(PROPOSALS_2025):
            outcome, amount = spec["decision"]
            decision_set(proposal_id=proposals[spec["acronym"]].pk, user=staff, outcome=outcome,
                         amount=None if amount is None else Decimal(amount),
                         now=DECIDED_AT + dt.timedelta(minutes=5 * index))
        decisions_announce(call_id=call.pk, user=staff, now=NOTIFIED_AT)
        call_mark_decided(call_id=call.pk, user=staff, now=MARKED_DECIDED_AT)

    def amendments(self, award: Award) -> None:
        """pi2 asked for a three-month extension, approved (version 2), then for a transfer the unit has to see."""
        staff, manager, pi = self.users["staff"], self.users["manager"], self.users["pi2"]
        extension = amendment_request(award_id=award.pk, user=pi, kind=AmendmentKind.EXTENSION, months=3,
                                      reason=EXTENSION_REASON, now=EXTENSION_ASKED_AT)
        amendment_give_opinion(amendment_id=extension.pk, user=manager, opinion=UnitOpinion.FAVOURABLE,
                               comment=EXTENSION_OPINION, now=EXTENSION_OPINION_AT)
        amendment_decide(amendment_id=extension.pk, user=staff, approve=True, reason="", now=EXTENSION_APPROVED_AT)
        amendment_request(award_id=award.pk, user=pi, kind=AmendmentKind.TRANSFER, from_year=2,
                          from_category="meetings", to_year=2, to_category="field", amount=Decimal(600),
                          reason=TRANSFER_REASON, now=TRANSFER_ASKED_AT)

    def year_one(self, award: Award) -> Decimal:
        """Year 1 of the award: tranche 1 released and received, the spending recorded, the report drafted."""
        staff, manager, pi = self.users["staff"], self.users["manager"], self.users["pi2"]
        award_accept(award_id=award.pk, user=pi, now=ACCEPTED_AT)
        first = award.tranches.get(number=1)
        tranche_release(tranche_id=first.pk, user=staff, now=RELEASED_AT)
        tranche_confirm_receipt(tranche_id=first.pk, user=manager, now=RECEIVED_AT)
        totals: dict[str, Decimal] = {}
        for day, category, amount, description in SPENDING:
            recorded = dt.datetime(day.year, day.month, day.day, 16, 30, tzinfo=PARIS) + dt.timedelta(days=3)
            spending_record(award_id=award.pk, user=manager, date=day, category=category, amount=Decimal(amount),
                            description=description, now=recorded)
            totals[category] = totals.get(category, Decimal(0)) + Decimal(amount)
        report = award.reports.get(period=ReportPeriod.YEAR_1)
        report_save(report_id=report.pk, user=pi, scientific_review=YEAR1_REVIEW, spending=totals,
                    cofunding_received=Decimal(2500000), cofunding_currency="CLP", now=REPORT_SAVED_AT)
        return sum(totals.values(), Decimal(0))

