"""How a proposal matches its institute's priorities for the call (call text §3: institutes may publish
thematic or geographic priorities): the partner's country among the priority countries, or keywords of the
proposal found in the priority themes, French or English — whole words, case and accents ignored.

The panel table shows why each proposal matches (``Priorities.match``) and keeps whether it does with its
figures (``reviews.domain.panel_figures``), so that it filters and sorts on it in SQL: accents cannot be
ignored the same way by SQLite and PostgreSQL."""

import functools
import re
from dataclasses import dataclass

from calls.models import InstitutePriority
from iea.text import fold
from proposals.models import Proposal


@dataclass(frozen=True)
class PriorityMatch:
    """Why a proposal matches the institute's priorities for the call: the partner's country, or keywords
    of the proposal found in the priority themes."""

    country: str = ""
    keywords: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return bool(self.country or self.keywords)


# Keywords and themes compared as ``iea.text.fold`` folds them, in any script.
_norm = fold
MATCHING = "fold-2"  # fold-1: ASCII only (a Greek or Cyrillic keyword folded to nothing)


@functools.lru_cache(maxsize=65536)
def _keywords_found(keywords: str, themes: str) -> tuple[str, ...]:
    """The keywords (comma- or semicolon-separated) found whole in the normalised themes. Cached: the
    table shows the match of each row it reads."""
    found = []
    for keyword in re.split(r"[,;]", keywords or ""):
        normalised = _norm(keyword)
        if normalised and f" {normalised} " in themes:
            found.append(keyword.strip())
    return tuple(found)


class Priorities:
    """The institute's priorities for the call (``None``: none published), read once for many proposals."""

    def __init__(self, priority: InstitutePriority | None):
        self.countries = {str(country.code) for country in priority.priority_countries} if priority else set()
        self.themes = f" {_norm(priority.themes_fr)} {_norm(priority.themes_en)} " if priority else ""
        # What the match depends on besides the proposal: a change here changes every proposal's match.
        # MATCHING names the folding rule: when it changes, every kept match is recomputed on the next read.
        self.key = f"{MATCHING}|{','.join(sorted(self.countries))}|{self.themes}"

    @classmethod
    def of(cls, *, call_id: int, institute_id: int) -> "Priorities":
        return cls(InstitutePriority.objects.filter(call_id=call_id, institute_id=institute_id).first())

    def match(self, *, country: str, keywords: str) -> PriorityMatch:
        return PriorityMatch(country=country if country in self.countries else "",
                             keywords=_keywords_found(keywords or "", self.themes) if self.themes.strip() else ())


def priority_match(proposal: Proposal, priority: InstitutePriority | None) -> PriorityMatch:
    """How one proposal matches the institute's priorities."""
    country = str(proposal.partner_country.code or "") if proposal.partner_country else ""
    return Priorities(priority).match(country=country, keywords=proposal.keywords)
