"""Co-author conflicts (issue #20): a reviewer who co-published with the PI, a team member or the foreign partner
in the call's window is in conflict with the proposal, and the shared publication is the evidence.

The window: a publication counts when its year is at least the call's year minus ``Call.coauthor_conflict_years``
(5 by default: for the 2027 call, the papers of 2022 to 2027 — and a paper dated later, already accepted). It
counts back from the call's year, not from today, so re-running detection a year later finds the same conflicts.
A publication without a year is not counted: nothing says it is recent.

Who is who, in this order:
1. identifiers — when the author in the publication and the proposal's person both have an ORCID iD, they are
   the same person if and only if the iDs are equal; else, when both have an idHAL, the same with idHAL. Two
   different identifiers mean two different people, even with the same name (cause ``coauthor``, certain);
2. otherwise names (cause ``coauthor_name``, which the officer may dismiss as "not the same person",
   ``conflict_dismiss``): the family names are equal once folded (``iea.text.fold``: case, accents,
   punctuation) and stripped of particles (de, van, von…), and the given names agree name by name, an initial
   standing for any name with that letter ("J. Dupont" = "Jean Dupont", "J.-P." = "Jean-Pierre", but
   "Jean" ≠ "Jean-Pierre": a hyphenated first name is one name). No similarity ratio: two spellings either
   agree on these rules or do not match, so a false match costs a typo, not a threshold.

Names are split without a name-parsing library (``nameparser`` is not a dependency): the exports give structure
— BibTeX (HAL) and ORCID "credit-name" lists write "Family, Given", the platform's users have first and last
names — and a name written "Given Family" without a comma is tried with each of its last one to three words as
the family name (so "María García López" matches "García López, María"); a word in capitals among words that are
not ("DUPONT Jean") is the family name, as French lists write it.

The reviewer is found among the authors of their own publications by the same rules and left out. The partner
has no identifier on the proposal: they match by name only.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from calls.models import Call
from iea.text import fold
from proposals.models import Proposal, TeamMember

from ..models import ConflictDismissal, Publication, Reviewer

COAUTHOR = "coauthor"
COAUTHOR_NAME = "coauthor_name"
# The causes an officer may dismiss as a false match (``reviews.domain.conflicts.conflict_dismiss``).
DISMISSIBLE_CAUSES = frozenset({COAUTHOR_NAME})

PARTICLES = frozenset({
    "d", "da", "das", "de", "dei", "del", "della", "der", "des", "di", "do", "dos", "du", "la", "le", "les", "lo",
    "ten", "ter", "van", "vande", "vanden", "vander", "von", "zu", "zum", "zur",
})
_ORCID = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])", re.I)
_SPLIT_GIVEN = re.compile(r"[\s]+")
_SUBPARTS = re.compile(r"[-‐‑.]+")


def orcid_normal(value: str) -> str:
    """"https://orcid.org/0000-0002-1825-0097" and "0000000218250097" give "0000-0002-1825-0097"; '' if none."""
    match = _ORCID.search(value or "")
    return "-".join(match.groups()).upper() if match else ""


def hal_id_normal(value: str) -> str:
    return (value or "").strip().lower()


# ---------------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------------

GivenName = tuple[str, ...]  # one given name: its hyphenated parts, folded ("jean", "pierre"); "j" is an initial


@dataclass(frozen=True)
class NameReading:
    """One way to read a written name: the folded family name without particles, and the given names."""

    family: str
    given: tuple[GivenName, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.family, self.given[0][0][0])


_NOT_A_WORD = re.compile(r"[\W_]+")


def _words(name: str) -> list[str]:
    # ``fold``'s words, faster for the names most exports write in ASCII.
    return _NOT_A_WORD.split(name.lower()) if name.isascii() else fold(name).split()


def _family_key(text: str) -> str:
    return " ".join(word for word in _words(text) if word and word not in PARTICLES)


def _given_names(text: str) -> tuple[GivenName, ...]:
    names = []
    for word in _SPLIT_GIVEN.split((text or "").strip()):
        parts = tuple(part for part in ("".join(_words(piece)) for piece in _SUBPARTS.split(word)) if part)
        if parts:
            names.append(parts)
    # A particle after the given names belongs to the family name ("Ludwig van Beethoven", "Beethoven, Ludwig
    # van"); one before them is a name ("Van Anh").
    while names and len(names[-1]) == 1 and names[-1][0] in PARTICLES:
        names.pop()
    return tuple(names)


def _reading(family: str, given: str) -> NameReading | None:
    family_key, given_names = _family_key(family), _given_names(given)
    return NameReading(family_key, given_names) if family_key and given_names else None


def _is_capitalised(word: str) -> bool:
    """A family name in capitals ("DUPONT"), not initials ("J.P.")."""
    letters = [char for char in word if char.isalpha()]
    return "." not in word and len(letters) >= 2 and all(char.isupper() for char in letters)


@lru_cache(maxsize=65536)
def name_readings(written: str, family: str = "") -> tuple[NameReading, ...]:
    """The ways to read a name as written in an export or typed in a form (see the module's docstring).
    ``family``, when the source has it apart (a user's last name), makes the reading certain."""
    written = unicodedata.normalize("NFC", " ".join((written or "").split()))
    readings: list[NameReading | None] = []
    if family:
        readings.append(_reading(family, written))
    elif "," in written:
        # BibTeX: "von Last, First" or "von Last, Jr, First".
        pieces = [piece.strip() for piece in written.split(",")]
        readings.append(_reading(pieces[0], pieces[-1]))
    else:
        words = written.split()
        capitals = [_is_capitalised(word) for word in words]
        if any(capitals) and not all(capitals):
            readings.append(_reading(" ".join(w for w, c in zip(words, capitals, strict=True) if c),
                                     " ".join(w for w, c in zip(words, capitals, strict=True) if not c)))
        else:
            for size in range(1, min(3, len(words) - 1) + 1):
                readings.append(_reading(" ".join(words[-size:]), " ".join(words[:-size])))
    return tuple(dict.fromkeys(reading for reading in readings if reading is not None))


def _given_agrees(one: GivenName, other: GivenName) -> bool:
    if len(one) == 1 and len(one[0]) == 1 or len(other) == 1 and len(other[0]) == 1:
        return one[0][0] == other[0][0]  # an initial stands for any name that starts with it
    if len(one) != len(other):
        return False  # "Jean" and "Jean-Pierre" are two first names
    return all(a == b or (len(a) == 1 or len(b) == 1) and a[0] == b[0] for a, b in zip(one, other, strict=True))


def readings_agree(one: NameReading, other: NameReading) -> bool:
    """Same family name, and each given name written on both sides agrees (a middle name on one side only is
    allowed: "John R. Smith" = "John Smith")."""
    return one.family == other.family and all(
        _given_agrees(a, b) for a, b in zip(one.given, other.given, strict=False))


def names_agree(one: tuple[NameReading, ...], other: tuple[NameReading, ...]) -> bool:
    return any(readings_agree(a, b) for a in one for b in other)


# ---------------------------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """A person of a proposal (or a reviewer), as co-author matching compares them."""

    name: str
    orcid: str = ""
    hal_id: str = ""
    readings: tuple[NameReading, ...] = ()

    @classmethod
    def of(cls, name: str, *, orcid: str = "", hal_id: str = "", given: str = "", family: str = "") -> "Person":
        """``given`` and ``family``, when the source has them apart (a user's first and last names), are read
        as such; else ``name`` is read as written."""
        return cls(name=name, orcid=orcid_normal(orcid), hal_id=hal_id_normal(hal_id),
                   readings=name_readings(given, family) if given and family else name_readings(name))


def same_person(author: Person, person: Person) -> str:
    """How ``author`` (from a publication) is ``person``: "orcid", "hal" (certain), "name" (to check), or ''
    (not them). Identifiers decide when both sides have one of the same kind, in both directions."""
    if author.orcid and person.orcid:
        return "orcid" if author.orcid == person.orcid else ""
    if author.hal_id and person.hal_id:
        return "hal" if author.hal_id == person.hal_id else ""
    return "name" if names_agree(author.readings, person.readings) else ""


def _user_person(user) -> Person:
    return Person.of(user.full_name or f"{user.first_name} {user.last_name}".strip(), orcid=user.orcid,
                     hal_id=user.hal_id, given=user.first_name, family=user.last_name)


def _author_person(author: dict) -> Person:
    return _person_of(str(author.get("name") or ""), str(author.get("orcid") or ""), str(author.get("hal_id") or ""))


@lru_cache(maxsize=65536)
def _person_of(name: str, orcid: str, hal_id: str) -> Person:
    # Cached: a panel's publications name the same co-authors over and over.
    return Person.of(name, orcid=orcid, hal_id=hal_id)


class PeopleIndex:
    """The proposals' people by ORCID, idHAL and name key (family name, first initial), so that each author of
    each reviewer's publications is looked up once instead of compared with every person of the panel."""

    def __init__(self):
        self.by_orcid: defaultdict[str, list] = defaultdict(list)
        self.by_hal: defaultdict[str, list] = defaultdict(list)
        self.by_name: defaultdict[tuple[str, str], list] = defaultdict(list)
        self.family_words: set[str] = set()

    def add(self, proposal_id: int, person: Person) -> None:
        entry = (proposal_id, person)
        if person.orcid:
            self.by_orcid[person.orcid].append(entry)
        if person.hal_id:
            self.by_hal[person.hal_id].append(entry)
        for key in dict.fromkeys(reading.key for reading in person.readings):
            self.by_name[key].append(entry)
            self.family_words.update(key[0].split())

    def may_hold(self, author: dict) -> bool:
        """Whether ``author`` (a publication's {name, orcid, hal_id}) could be someone of the index: a quick
        test that spares reading the names of most authors (a family name is made of the name's words)."""
        if author.get("orcid") or author.get("hal_id"):
            return True
        return not self.family_words.isdisjoint(_words(str(author.get("name") or "")))

    def matches(self, author: Person) -> Iterable[tuple[int, Person, str]]:
        """(proposal id, person, how) for each person of the index ``author`` is."""
        seen = set()
        candidates = [*self.by_orcid.get(author.orcid, ()), *self.by_hal.get(author.hal_id, ())]
        for key in dict.fromkeys(reading.key for reading in author.readings):
            candidates.extend(self.by_name.get(key, ()))
        for proposal_id, person in candidates:
            if (proposal_id, person) in seen:
                continue
            seen.add((proposal_id, person))
            if how := same_person(author, person):
                yield proposal_id, person, how


# ---------------------------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoauthorMatch:
    cause: str
    detail: str


def _detail(publication: Publication, person: Person, author: Person, how: str) -> str:
    """The evidence, in the data's own words (it is stored, exported and audited; the cause's label says the
    rest in the reader's language): who matched on what, then the shared publication."""
    basis = {"orcid": f"ORCID {author.orcid}", "hal": f"idHAL {author.hal_id}"}.get(how, f"“{author.name}”")
    where = ", ".join(part for part in (publication.venue, str(publication.year or ""),
                                        f"doi:{publication.doi}" if publication.doi else "") if part)
    return f"{person.name} = {basis} — “{publication.title}”" + (f", {where}" if where else "")


def window_start(call: Call) -> int:
    """The first year a publication counts in for ``call``'s co-author conflicts."""
    return call.year - call.coauthor_conflict_years


def _calls_of(proposals: list[Proposal]) -> dict[int, Call]:
    calls = {p.call_id: p.call for p in proposals if Proposal.call.is_cached(p)}
    missing = {p.call_id for p in proposals} - set(calls)
    if missing:
        calls.update(Call.objects.only("pk", "year", "coauthor_conflict_years").in_bulk(missing))
    return calls


def _people_index(proposals: list[Proposal]) -> PeopleIndex:
    """The PI, team members and partner of each proposal: two queries, whatever the caller loaded."""
    from django.contrib.auth import get_user_model  # noqa: PLC0415 -- the user model is known once apps are ready

    index = PeopleIndex()
    users = get_user_model().objects.only("pk", "first_name", "last_name", "full_name", "orcid", "hal_id").in_bulk(
        {p.pi_id for p in proposals})
    for proposal in proposals:
        if proposal.pi_id in users:
            index.add(proposal.pk, _user_person(users[proposal.pi_id]))
        if proposal.partner_name:
            index.add(proposal.pk, Person.of(proposal.partner_name))
    for proposal_id, name, orcid in TeamMember.objects.filter(proposal_id__in=[p.pk for p in proposals]).values_list(
            "proposal_id", "name", "orcid"):
        index.add(proposal_id, Person.of(name, orcid=orcid))
    return index


def coauthors_scan(*, index: PeopleIndex, publications, selves: dict[int, Person], starts: dict[int, int],
                   reviewers_of_user: dict[int, list[int]]) -> dict[tuple[int, int], dict[str, CoauthorMatch]]:
    """The matching itself, without the database: each author of each publication (most recent first) looked
    up once in the proposals' ``index``, the publication's owner (``selves``) left out, each proposal's window
    (``starts``: its first year) applied. (proposal id, reviewer id) → cause → the first match."""
    found: dict[tuple[int, int], dict[str, CoauthorMatch]] = defaultdict(dict)
    for publication in publications:
        me = selves[publication.user_id]
        for raw in publication.authors if isinstance(publication.authors, list) else ():
            if not isinstance(raw, dict) or not index.may_hold(raw):
                continue
            author = _author_person(raw)
            matches = list(index.matches(author))
            if not matches or same_person(author, me):
                continue
            for proposal_id, person, how in matches:
                if publication.year < starts[proposal_id]:
                    continue
                cause = COAUTHOR_NAME if how == "name" else COAUTHOR
                for reviewer_id in reviewers_of_user[publication.user_id]:
                    found[(proposal_id, reviewer_id)].setdefault(
                        cause, CoauthorMatch(cause, _detail(publication, person, author, how)))
    return found


def coauthor_conflicts_find(*, proposals: list[Proposal], reviewers: list[Reviewer]) -> dict[tuple[int, int], list[CoauthorMatch]]:
    """Co-author conflicts between these proposals and reviewers: (proposal id, reviewer id) → at most one
    ``coauthor`` and one ``coauthor_name`` match (the first publication found, most recent first). A name
    match the officer dismissed for the pair is left out. ``reviewers`` come with ``user`` loaded. Five
    queries at most (calls, publications, PIs, team members, dismissals), two when no reviewer has a
    publication in the window: the people are indexed once, each publication's authors read once."""
    proposals = [proposal for proposal in proposals if proposal.pk is not None and proposal.call_id is not None]
    reviewers = [reviewer for reviewer in reviewers if reviewer.pk is not None and reviewer.user_id is not None]
    if not proposals or not reviewers:
        return {}
    calls = _calls_of(proposals)
    first_year = min(window_start(call) for call in calls.values())
    reviewers_of_user: defaultdict[int, list[Reviewer]] = defaultdict(list)
    for reviewer in reviewers:
        reviewers_of_user[reviewer.user_id].append(reviewer)
    publications = list(
        Publication.objects.filter(user_id__in=list(reviewers_of_user), year__gte=first_year)
        .only("pk", "user_id", "title", "year", "venue", "doi", "authors").order_by("user_id", "-year", "pk")
    )
    if not publications:
        return {}
    index = _people_index(proposals)
    starts = {proposal.pk: window_start(calls[proposal.call_id]) for proposal in proposals}
    selves = {user_id: _user_person(rs[0].user) for user_id, rs in reviewers_of_user.items()}
    found = coauthors_scan(index=index, publications=publications, selves=selves, starts=starts,
                           reviewers_of_user={u: [r.pk for r in rs] for u, rs in reviewers_of_user.items()})
    result = {pair: list(by_cause.values()) for pair, by_cause in found.items()}
    named = [pair for pair, matches in result.items() if any(m.cause in DISMISSIBLE_CAUSES for m in matches)]
    if named:
        dismissed = set(ConflictDismissal.objects.filter(
            proposal_id__in={p for p, _ in named}, reviewer_id__in={r for _, r in named}, cause__in=DISMISSIBLE_CAUSES,
        ).values_list("proposal_id", "reviewer_id", "cause"))
        result = {pair: kept for pair, matches in result.items()
                  if (kept := [m for m in matches if (*pair, m.cause) not in dismissed])}
    return result

