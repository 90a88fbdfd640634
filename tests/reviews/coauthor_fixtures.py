"""The real-format exports written for the co-author tests (fixtures/coauthors/: a HAL BibTeX and an ORCID works
bulk JSON) as the Publication rows they give (publications.json, checked against the raw files by
tests/reviews/test_coauthors.py). On merge, ``load_publications`` may read the raw files with the real parser."""

import datetime as dt
import json
from pathlib import Path

from reviews.models import Publication

FIXTURES = Path(__file__).parent / "fixtures" / "coauthors"
IMPORTED_AT = dt.datetime(2027, 10, 15, 9, 0, tzinfo=dt.UTC)


def fixture_rows(export: str) -> list[dict]:
    return json.loads((FIXTURES / "publications.json").read_text(encoding="utf-8"))[export]


def load_publications(user, export: str, *, only_years=None) -> list[Publication]:
    """The tiny test-side loader: the Publication rows an export gives, for ``user``."""
    return [Publication.objects.create(user=user, imported_at=IMPORTED_AT, **row) for row in fixture_rows(export)
            if only_years is None or row["year"] in only_years]
