"""French that reads right: no "de" or "le" before a vowel or before a name that starts with one (a reference
"IEA26-…", a call, a proposal), no "a clos", straight apostrophes throughout the catalogue."""

import re
from pathlib import Path

from tests.iea.test_translations import parse_po

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# Placeholders whose value starts with a vowel, or may: IEA26-0001, "IEA 2026", a proposal "IEA26-0001 ACRO".
VOWEL_PLACEHOLDERS = r"%\((?:ref|reference|proposal|call)\)s|\{(?:ref|reference|proposal|call)\}"
ELISIONS = [
    re.compile(rf"\b[dD]e (?:{VOWEL_PLACEHOLDERS}|IEA|[aeiouyéèêàâîôûAEIOUYÉÈÊÀ]\w)"),
    re.compile(rf"(?<![-\w])[lL]e (?:{VOWEL_PLACEHOLDERS}|IEA|(?!ou\b)[aeiouyéèêàâîôûAEIOUYÉÈÊÀ]\w)"),
    re.compile(rf"\b[qQ]ue (?:{VOWEL_PLACEHOLDERS}|IEA|(?!ou\b)[aeiouyéèêàâîôûAEIOUYÉÈÊÀ]\w)"),
    re.compile(rf"\bà (?:{VOWEL_PLACEHOLDERS})"),  # "déposé à IEA 2026": "à l'appel IEA 2026"
    re.compile(r"\ba clos\b"),
]


def _translations():
    for entry in parse_po(CATALOGUE):
        if entry["msgid"]:
            yield from ((entry["msgid"], text) for text in entry["msgstr"])


def test_no_elision_errors_in_the_french_catalogue():
    errors = [(pattern.pattern, text) for msgid, text in _translations() for pattern in ELISIONS
              if pattern.search(text)]
    assert errors == []


def test_the_patterns_catch_the_errors_found_in_the_demo():
    for wrong in ["Votre évaluation de %(ref)s est en retard", "Modification de appel", "Votre évaluation de IEA26-0001",
                  "L'appel %(call)s a clos le %(when)s", "déposé à %(call)s"]:
        assert any(pattern.search(wrong) for pattern in ELISIONS), wrong
    for right in ["Votre évaluation du projet %(ref)s", "le ou la chargé·e de mission", "de %(amount)s €"]:
        assert not any(pattern.search(right) for pattern in ELISIONS), right


def test_one_kind_of_apostrophe():
    assert [text for _msgid, text in _translations() if "’" in text] == []
