"""Researcher identifiers, written one way: ORCID iDs as ``0000-0002-1825-0097`` (checksum checked) and HAL
author identifiers (idHAL) in lowercase. Used by the account page, the proposal's team and the reviewer profile,
and by the publication imports, so that co-author detection compares like with like."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ORCID_HOSTS = ("https://orcid.org/", "http://orcid.org/", "https://sandbox.orcid.org/", "orcid.org/")


def orcid_checksum(digits15: str) -> str:
    """The ORCID check character (ISO 7064 MOD 11-2) of the first fifteen digits: ``0``–``9`` or ``X``."""
    total = 0
    for digit in digits15:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def orcid_normalise(value: str) -> str:
    """``https://orcid.org/0000-0002-1825-0097``, ``0000000218250097`` or ``0000-0002-1825-0097`` →
    ``0000-0002-1825-0097``; empty stays empty. Anything else, or a wrong check digit, is refused."""
    text = (value or "").strip()
    if not text:
        return ""
    for host in ORCID_HOSTS:
        if text.lower().startswith(host):
            text = text[len(host):]
            break
    compact = text.replace("-", "").replace(" ", "").upper()
    if len(compact) != 16 or not compact[:15].isdigit() or not (compact[15].isdigit() or compact[15] == "X"):
        raise ValidationError(_("An ORCID iD has 16 digits in four groups, e.g. 0000-0002-1825-0097."),
                              code="orcid_format")
    if orcid_checksum(compact[:15]) != compact[15]:
        raise ValidationError(_("This ORCID iD is not valid: its last character does not match the others "
                                "(check for a typing error)."), code="orcid_checksum")
    return "-".join(compact[i:i + 4] for i in range(0, 16, 4))


def orcid_or_blank(value: str) -> str:
    """As ``orcid_normalise``, but an invalid identifier found in an imported file is dropped, not fatal."""
    try:
        return orcid_normalise(value)
    except ValidationError:
        return ""


def hal_id_normalise(value: str) -> str:
    """An idHAL (``jean-dupont``) in lowercase; letters, digits, dots, hyphens and underscores only."""
    text = (value or "").strip().lower()
    if text.startswith(("https://cv.hal.science/", "https://cv.archives-ouvertes.fr/")):
        text = text.rstrip("/").rsplit("/", 1)[-1]
    if not text:
        return ""
    if len(text) > 100 or not all(c.isalnum() or c in ".-_" for c in text) or not text[0].isalnum():
        raise ValidationError(_("An idHAL is written in lowercase letters, digits and hyphens, e.g. jean-dupont."),
                              code="hal_id_format")
    return text


def hal_id_or_blank(value: str) -> str:
    try:
        return hal_id_normalise(value)
    except ValidationError:
        return ""
