"""Text compared the way people type it: ``fold`` for searches that ignore case, accents and punctuation."""

import re
import unicodedata

_NOT_A_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Casefolded, accents stripped (any script), punctuation reduced to single spaces: ``"Lab. d'Écologie"``
    gives ``"lab d ecologie"``. A search compares folded text with folded text."""
    text = unicodedata.normalize("NFKD", (text or "").casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(_NOT_A_WORD.sub(" ", text).split())
