"""Is a page in one language? The project's own catalogue says which strings are English and which French.

On a French page no English ``msgid`` whose French differs may show; on an English page no French ``msgstr``.
Phrases (three words or more, the text between placeholders) are looked for in the whole text; a single word
or a short label only where it is a whole label of the page's chrome (a heading, a button, a column), so that
a proposal's own English title does not count against the French page.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

CATALOGUES = [Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / name
              for name in ("django.mo", "djangojs.mo")]

# Words that read the same to both audiences (names, acronyms, loanwords): never a finding.
SHARED = {
    "IEA", "CNRS", "API", "PDF", "XLSX", "ORCID", "HAL", "OK", "E-mail", "Email", "Total", "Budget", "Version",
    "Institut", "Institute", "Description", "Conflict", "Conflits", "Action", "Actions", "Date", "Type", "Note",
    "Notes", "Position", "Information", "Documentation", "Menu", "Administration", "Question", "Format", "Code",
    "Contact", "Unit", "Message", "Messages", "Source", "Instructions", "Article", "Options", "Service",
    "English", "Français",  # the language switch names each language in its own
}
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{\w*\}|<[^>]+>")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u2019", "'")).strip()


def _fragments(text: str) -> list[str]:
    return [normalise(part) for part in _PLACEHOLDER.split(text) if normalise(part)]


@dataclass
class Catalogue:
    english_phrases: dict[str, list[str]] = field(default_factory=dict)  # first word → phrases
    french_phrases: dict[str, list[str]] = field(default_factory=dict)
    english_labels: set[str] = field(default_factory=set)
    french_labels: set[str] = field(default_factory=set)

    @classmethod
    def load(cls) -> "Catalogue":
        pairs: dict[str, str] = {}
        for path in CATALOGUES:
            with path.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog
            for key, value in catalog.items():
                msgid = key[0] if isinstance(key, tuple) else key
                if msgid and value and isinstance(msgid, str):
                    pairs[msgid.split("\x04")[-1]] = value
        catalogue = cls()
        english = {normalise(k) for k in pairs} | {normalise(v) for k, v in pairs.items() if normalise(k) == normalise(v)}
        french = {normalise(v) for v in pairs.values()}
        for msgid, msgstr in pairs.items():
            if normalise(msgid) == normalise(msgstr):
                continue
            catalogue._add(msgid, catalogue.english_phrases, catalogue.english_labels, other=french)
            catalogue._add(msgstr, catalogue.french_phrases, catalogue.french_labels, other=english)
        return catalogue

    @staticmethod
    def _add(text: str, phrases: dict, labels: set, *, other: set) -> None:
        whole = normalise(text)
        if whole and whole not in other and whole not in SHARED and len(whole) > 2:
            labels.add(whole.rstrip(" :*"))
        for fragment in _fragments(text):
            words = fragment.split(" ")
            if len(words) >= 3 and len(fragment) >= 14 and fragment not in other:
                phrases.setdefault(words[0], []).append(fragment)

    def foreign(self, *, language: str, text: str, chrome: list[str]) -> list[str]:
        """The other language's strings found on a page in ``language``."""
        phrases, labels = ((self.english_phrases, self.english_labels) if language == "fr"
                           else (self.french_phrases, self.french_labels))
        found = []
        for line in normalise(text.replace("\n", " \n ")).split(" \n "):
            line = normalise(line)
            words = line.split(" ")
            for index, word in enumerate(words):
                for phrase in phrases.get(word, ()):
                    if line.startswith(phrase, len(" ".join(words[:index])) + (1 if index else 0)):
                        end = len(" ".join(words[:index])) + (1 if index else 0) + len(phrase)
                        if end == len(line) or not line[end].isalpha():
                            found.append(phrase)
        for label in chrome:
            label = normalise(label).rstrip(" :*")
            if label in labels:
                found.append(label)
        return sorted(set(found))
