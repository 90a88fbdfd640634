"""Requests for information at screening (#21) in the demo's IEA 2026, for ``_demo_review``.

Two more proposals are submitted in the call's window. At screening the directorate asks Camille Moreau
(MIGRAVIA, French) to send the letter again, signed: the request is open, its deadline a few days after the day
the demo is built, so researcher9 can make the change and send the answer. It asks Daniel Okafor (KELPNET,
English) for the permit missing from the ethics statement: he changed it and answered, so the screening page
shows "answered — screen again" with version 2, and the receipt of version 2 carries the history.
"""

import datetime as dt

from proposals.domain import information_answer, proposal_save_draft
from proposals.models import Proposal
from reviews.domain.information_requests import information_request_ask, information_request_default_deadline

RFI_RESEARCHERS = [("researcher9", "Camille Moreau", "fr"), ("researcher10", "Daniel Okafor", "en")]

PROPOSALS_2026_RFI = [
    {
        "pi": "researcher9", "unit": "CEFE", "position": "Chargée de recherche", "moments": ((8, 28, 9, 5), (9, 26, 16, 30), (9, 29, 11, 12)),
        "partner": ("Nguyễn Thị Lan", "lan.nguyen@vnu.example.vn", "Vietnam National University, Hanoi", "VN", "Associate professor"),
        "team": [("cnrs", "Inès Garnier", "PhD student", True)],
        "budget": {"mobility": (4000, 4000), "meetings": (1500, 1500), "field": (500, 500)}, "cofunding": None,
        "title": "Migratory shorebirds of the Red River delta and the Camargue", "acronym": "MIGRAVIA",
        "abstract": "Shorebirds that winter in the Red River delta and in the Camargue face the same loss of mudflats. We will compare their diets and stopover times with the same GPS and isotope protocols, and prepare a joint ringing campaign.",
        "keywords": "ornithology, migration, wetlands, coastal ecology",
        "activities": "Year 1: ringing mission in Xuân Thủy National Park; year 2: workshop in Montpellier.",
        "ethics_statement": "Ringing under the permits of both national ringing schemes; no bird is kept.",
        # Typed, never signed: what the directorate asks to have again.
        "letter": ["Vietnam National University, Hanoi", "", "Letter of support — MIGRAVIA", "",
                   "I support the International Emerging Action proposed by Dr Camille Moreau (UMR 5175 CEFE).",
                   "No co-funding is committed.", "", "Nguyễn Thị Lan", "(signature to follow)"],
    },
    {
        "pi": "researcher10", "unit": "LECA", "position": "Research scientist (CR)", "moments": ((9, 2, 14, 0), (9, 24, 10, 0), (9, 30, 9, 41)),
        "partner": ("Wanjiru Kamau", "w.kamau@uonbi.example.ke", "University of Nairobi", "KE", "Senior lecturer"),
        "team": [],
        "budget": {"mobility": (5000, 4000), "meetings": (0, 2000), "field": (1000, 0)}, "cofunding": None,
        "title": "Alpine plants of Mount Kenya and the Écrins: tropical and temperate treelines", "acronym": "KELPNET",
        "abstract": "Treelines move upslope on tropical and temperate mountains at different speeds. We will resurvey historical plots on Mount Kenya and in the Écrins with the same protocol to compare the drivers of the shift.",
        "keywords": "alpine ecology, treeline, climate change, plant communities",
        "activities": "Year 1: field mission on Mount Kenya (January); year 2: joint analysis in Grenoble.",
        "ethics_statement": "Plant surveys only.",
    },
]

SIGNED_LETTER_MESSAGE_FR = (
    "La lettre de soutien de Mme Nguyễn Thị Lan n'est pas signée (« signature to follow »). Merci de déposer la "
    "lettre signée par la partenaire — vous pouvez aussi lui renvoyer le lien d'invitation pour qu'elle la dépose "
    "elle-même."
)
PERMIT_MESSAGE = (
    "The ethics statement does not say which permit covers the surveys in Mount Kenya National Park. Please name "
    "the Kenya Wildlife Service research permit (or the request under way)."
)
PERMIT_ETHICS = ("Plant surveys only, under a Kenya Wildlife Service research permit (request KWS/BRM/5001 filed "
                 "in September 2026) and the Écrins National Park's authorisation; no specimen is exported.")


def information_requests_build(*, proposals: dict[str, Proposal], staff, users: dict, screened_at: dt.datetime,
                               now: dt.datetime):
    """Ask both PIs at screening (before the bulk confirm, which then skips them). Returns KELPNET's answer, to
    run after the bulk confirm: an answered proposal is on time and would be confirmed with the others, while
    the demo shows it as "answered — screen again"."""
    information_request_ask(proposal_id=proposals["MIGRAVIA"].pk, user=staff, items=["letter"],
                            message=SIGNED_LETTER_MESSAGE_FR, language="fr", deadline=information_request_default_deadline(now),
                            now=screened_at - dt.timedelta(minutes=30))
    kelpnet = proposals["KELPNET"]
    request = information_request_ask(proposal_id=kelpnet.pk, user=staff, items=["ethics_statement"],
                                      message=PERMIT_MESSAGE, language="en", deadline=screened_at + dt.timedelta(days=7),
                                      now=screened_at - dt.timedelta(minutes=25))

    def answer() -> None:
        pi, answered_at = users["researcher10"], screened_at + dt.timedelta(days=2, hours=2)
        stored = Proposal.objects.get(pk=kelpnet.pk)
        proposal_save_draft(proposal_id=stored.pk, user=pi, data={"ethics_statement": PERMIT_ETHICS}, budget={},
                            lock_version=stored.lock_version, now=answered_at)
        information_answer(request_id=request.pk, user=pi, now=answered_at + dt.timedelta(minutes=4))

    return answer
