"""French typography in the catalogues: a no-break space (U+00A0) before « : ; ? ! » and inside « »
guillemets, so that a line never starts with a colon or a closing guillemet, and one kind of space for it (no
narrow U+202F mixed in). A colon inside a token ("13:00", "https://", "<app>.<modèle>:<id>") is not
punctuation and is left alone."""

import re
from pathlib import Path

import pytest

from tests.iea.test_translations import parse_po

LC_MESSAGES = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"
NBSP = "\u00a0"
# A sign is punctuation when it ends a word: followed by a space, the end, or closing punctuation.
BEFORE_A_SIGN = re.compile(r"(?P<before>.?)(?P<sign>[:;?!])(?=[\s\u00a0»)\"'.,]|$)")
GUILLEMETS = re.compile(r"«(?P<after>.?)|(?P<before>.?)»")
# Text that quotes code as it is typed, where the sign is not French punctuation.
VERBATIM = ["Authorization: Bearer"]


def typography_errors(text: str) -> list[str]:
    """The places in ``text`` where French typography wants a no-break space and has none."""
    for verbatim in VERBATIM:
        text = text.replace(verbatim, "")
    errors = [f"{match.group('before')!r} before {match.group('sign')!r}" for match in BEFORE_A_SIGN.finditer(text)
              if match.group("before") != NBSP and match.start("sign") > 0]
    errors += [f"{match.group(0)!r}" for match in GUILLEMETS.finditer(text)
               if (match.group("after") if match.group(0).startswith("«") else match.group("before")) != NBSP]
    if "\u202f" in text:
        errors.append("a narrow no-break space: the catalogue uses U+00A0")
    return errors


def _translations():
    for domain in ("django", "djangojs"):
        for entry in parse_po(LC_MESSAGES / f"{domain}.po"):
            if entry["msgid"]:
                yield from ((entry["msgid"], text) for text in entry["msgstr"])


def test_every_french_translation_has_a_no_break_space_before_high_signs_and_inside_guillemets():
    errors = [(msgid, text, found) for msgid, text in _translations() if (found := typography_errors(text))]
    assert errors == []


@pytest.mark.parametrize("wrong", [
    "Rappel : projet non déposé",  # plain space before a colon
    "Rappel: projet non déposé",  # no space
    "Voulez-vous continuer ?",
    "Attention !",
    "Indiquez le motif ; il est conservé",
    "L'appel « IEA 2026 » est ouvert",
    "L'appel «IEA 2026» est ouvert",
    "L'appel «\u00a0IEA 2026 » est ouvert",
    "Rappel\u202f: projet",
])
def test_the_check_finds_the_errors(wrong):
    assert typography_errors(wrong) != []


@pytest.mark.parametrize("right", [
    "Rappel\u00a0: projet non déposé",
    "L'appel «\u00a0IEA 2026\u00a0» est ouvert\u00a0!",
    "le 3 mars à 13:00, heure de Paris",
    "%(when)s:%(minutes)s",
    "voir https://iea.cnrs.fr/appels?annee=2026",
    "sous la forme <app>.<modèle>:<id>",
    "avec l'en-tête «\u00a0Authorization: Bearer <jeton>\u00a0»",
])
def test_the_check_leaves_tokens_alone(right):
    assert typography_errors(right) == []
