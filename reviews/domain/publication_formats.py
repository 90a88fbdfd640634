"""Reading the publication files researchers already have, into one record (``Work``).

Four formats, each read by a maintained library, never by hand-written patterns:
- HAL's BibTeX export — bibtexparser 2 (its middlewares decode LaTeX accents and split the author list into
  name parts);
- HAL's CSV (the search export, one column per Solr field: ``halId_s``, ``title_s``, ``authFullName_s``…) —
  the standard ``csv`` module;
- HAL's TEI (``listBibl/biblFull``) — defusedxml's ElementTree (no DTD, no entity expansion);
- ORCID's works JSON (v3.0 ``/works`` summary, or the ``/works/{put-codes}`` bulk record with contributors) —
  ``json``.
The format is recognised from the content, whatever the file's name. A file that cannot be read raises a
``ValidationError`` that says, in the user's language, what was wrong; nothing is saved then.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from iea.identifiers import hal_id_or_blank, orcid_or_blank

from ..models import PublicationSource

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_WORKS = 2000
TEI = "{http://www.tei-c.org/ns/1.0}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class Work:
    """One publication as read from a file; ``authors`` are {"name", "orcid", "hal_id"} in the file's order."""

    title: str
    key: str = ""
    abstract: str = ""
    keywords: str = ""
    year: int | None = None
    venue: str = ""
    doi: str = ""
    authors: list[dict] = field(default_factory=list)


@dataclass
class ParsedFile:
    source: str  # a PublicationSource value
    works: list[Work]
    skipped: int  # entries without a title, or the same work twice in the file


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _clean(text) -> str:
    """Whitespace of a multi-line field (an abstract wrapped by the exporter) folded to single spaces."""
    return " ".join(str(text or "").split())


def _year(text) -> int | None:
    text = _clean(text)[:4]
    if len(text) == 4 and text.isdigit() and 1000 <= int(text) <= 2999:
        return int(text)
    return None


def _doi(text) -> str:
    """A DOI without its resolver prefix, lowercased (DOIs are case-insensitive)."""
    text = _clean(text)
    lowered = text.lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"):
        if lowered.startswith(prefix):
            text = text[len(prefix):]
            break
    return text.lower()[:200]


def _author(name: str, orcid: str = "", hal_id: str = "") -> dict:
    return {"name": _clean(name), "orcid": orcid_or_blank(orcid), "hal_id": hal_id_or_blank(hal_id)}


def work_key(work: Work, source_id: str = "") -> str:
    """Importing the same work again updates it: its DOI (the same paper from HAL or ORCID), else the source's
    identifier (HAL id, ORCID put-code), else a hash of title and year."""
    if work.doi:
        return f"doi:{work.doi}"[:200]
    if source_id:
        return source_id[:200]
    digest = hashlib.sha256(f"{work.title.casefold()}|{work.year or ''}".encode()).hexdigest()[:32]
    return f"title:{digest}"


# ---------------------------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _error(_("The file is not in UTF-8, the encoding HAL and ORCID export in. Download the export "
                       "again and upload it unchanged."), "encoding") from None


def parse_publications(data: bytes) -> ParsedFile:
    """The works of an uploaded export, its format recognised from the content."""
    if len(data) > MAX_FILE_BYTES:
        raise _error(_("The file is larger than %(size)s MB: export fewer publications at a time.")
                     % {"size": MAX_FILE_BYTES // (1024 * 1024)}, "too_large")
    text = _decode(data).lstrip()
    if not text:
        raise _error(_("The file is empty."), "empty")
    first_line = text.splitlines()[0]
    if text[0] in "{[":
        parsed = _parse_orcid(text)
    elif text[0] == "<":
        parsed = _parse_tei(text)
    elif text[0] in "@%":
        parsed = _parse_bibtex(text)
    elif "title_s" in first_line or "halId_s" in first_line:
        parsed = _parse_hal_csv(text)
    else:
        raise _error(_("This file is not a HAL export (BibTeX, CSV or TEI) nor an ORCID works export (JSON)."),
                     "unknown_format")
    if len(parsed.works) > MAX_WORKS:
        raise _error(_("The file holds %(count)s publications; at most %(max)s are imported at a time.")
                     % {"count": len(parsed.works), "max": MAX_WORKS}, "too_many")
    return _deduplicated(parsed)


def _deduplicated(parsed: ParsedFile) -> ParsedFile:
    seen, works, skipped = set(), [], parsed.skipped
    for work in parsed.works:
        if not work.title or work.key in seen:
            skipped += 1
            continue
        seen.add(work.key)
        works.append(work)
    if not works:
        raise _error(_("No publication with a title was found in this file."), "no_work")
    return ParsedFile(source=parsed.source, works=works, skipped=skipped)


# ---------------------------------------------------------------------------------------------------------------
# HAL BibTeX
# ---------------------------------------------------------------------------------------------------------------

class _LatexDecoding(middlewares.LatexDecodingMiddleware):
    """bibtexparser's LaTeX decoding, asked only of the values that hold LaTeX at all: pylatexenc takes some
    20 ms for a long abstract, which made a 2,000-entry export take over half a minute; plain text (most of
    HAL's values, already in UTF-8) is what decoding would return anyway."""

    LATEX_SIGNS = frozenset("\\{}$~%")

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        if self.LATEX_SIGNS.isdisjoint(python_string):
            return python_string, ""
        return super()._transform_python_value_string(python_string)


def _bib_value(entry, name: str) -> str:
    found = entry.fields_dict.get(name)
    return _clean(found.value) if found is not None and isinstance(found.value, str) else ""


def _parse_bibtex(text: str) -> ParsedFile:
    library = bibtexparser.parse_string(text, append_middleware=[
        middlewares.NormalizeFieldKeys(),  # HAL writes TITLE, AUTHOR…
        _LatexDecoding(),  # {\'e} → é; braces around capitals dropped
        middlewares.SeparateCoAuthors(),  # "A and B" → ["A", "B"]
        middlewares.SplitNameParts(),  # "Le Goff, Anne-Marie" → first/von/last/jr
    ])
    # Two entries with one citation key (files joined by hand): the second is skipped, as a duplicate work is.
    duplicates = [b for b in library.failed_blocks if isinstance(b, DuplicateBlockKeyBlock)]
    failed = [b for b in library.failed_blocks if not isinstance(b, DuplicateBlockKeyBlock)]
    if failed:
        line = getattr(failed[0], "start_line", 0) + 1
        if isinstance(failed[0], DuplicateFieldKeyBlock):
            raise _error(_("The BibTeX file could not be read: the entry starting on line %(line)s gives the same "
                           "field twice.") % {"line": line}, "bibtex")
        raise _error(_("The BibTeX file could not be read: the entry starting on line %(line)s is incomplete "
                       "(a missing brace or comma?).") % {"line": line}, "bibtex")
    if not library.entries:
        raise _error(_("The BibTeX file holds no entry."), "no_work")
    works = []
    for entry in library.entries:
        authors_field = entry.fields_dict.get("author")
        names = authors_field.value if authors_field is not None and isinstance(authors_field.value, list) else []
        work = Work(
            title=_bib_value(entry, "title"), abstract=_bib_value(entry, "abstract"),
            keywords=", ".join(k.strip() for k in _bib_value(entry, "keywords").split(";") if k.strip()),
            year=_year(_bib_value(entry, "year")),
            venue=_bib_value(entry, "journal") or _bib_value(entry, "booktitle"),
            doi=_doi(_bib_value(entry, "doi")),
            authors=[_author(_clean(" ".join([*n.first, *n.von, *n.last, *n.jr]))) for n in names],
        )
        hal_id = _bib_value(entry, "hal_id")
        work.key = work_key(work, f"hal:{hal_id}" if hal_id else "")
        works.append(work)
    return ParsedFile(source=PublicationSource.HAL_BIBTEX, works=works, skipped=len(duplicates))


# ---------------------------------------------------------------------------------------------------------------
# HAL CSV
# ---------------------------------------------------------------------------------------------------------------

def _multi(value: str) -> list[str]:
    """A multi-valued column of HAL's CSV export: values joined by commas (Solr's default separator)."""
    return [part.strip() for part in next(csv.reader([value or ""]), []) if part.strip()]


def _parse_hal_csv(text: str) -> ParsedFile:
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if "title_s" not in (reader.fieldnames or []):
        raise _error(_("The CSV file has no title_s column: export it from HAL with the title among the fields."),
                     "csv")
    works = []
    try:
        for row in reader:
            names = _multi(row.get("authFullName_s", ""))
            hal_ids = _multi(row.get("authIdHal_s", ""))
            orcids = _multi(row.get("authORCIDIdExt_s", ""))
            by_name = {}
            for pair in _multi(row.get("authFullNameIdHal_fs", "")):
                name, _sep, hal_id = pair.partition("_FacetSep_")
                by_name[_clean(name)] = hal_id
            # The identifier columns list only the authors who have one: they match the names only when complete.
            aligned_hal = hal_ids if len(hal_ids) == len(names) else [by_name.get(_clean(n), "") for n in names]
            aligned_orcid = orcids if len(orcids) == len(names) else [""] * len(names)
            work = Work(
                title=_clean(row.get("title_s")), abstract=_clean(row.get("abstract_s")),
                keywords=", ".join(_multi(row.get("keyword_s", ""))),
                year=_year(row.get("producedDateY_i") or row.get("publicationDateY_i")),
                venue=_clean(row.get("journalTitle_s") or row.get("conferenceTitle_s") or row.get("bookTitle_s")),
                doi=_doi(row.get("doiId_s")),
                authors=[_author(n, o, h) for n, o, h in zip(names, aligned_orcid, aligned_hal, strict=True)],
            )
            hal_id = _clean(row.get("halId_s"))
            work.key = work_key(work, f"hal:{hal_id}" if hal_id else "")
            works.append(work)
    except csv.Error as error:
        raise _error(_("The CSV file could not be read near line %(line)s.") % {"line": reader.line_num},
                     "csv") from error
    return ParsedFile(source=PublicationSource.HAL_CSV, works=works, skipped=0)


# ---------------------------------------------------------------------------------------------------------------
# HAL TEI
# ---------------------------------------------------------------------------------------------------------------

def _text(element: Element | None) -> str:
    return _clean("".join(element.itertext())) if element is not None else ""


def _parse_tei(text: str) -> ParsedFile:
    try:
        root = SafeET.fromstring(text.encode())
    except (ParseError, DefusedXmlException) as error:
        raise _error(_("The XML file could not be read (%(detail)s).") % {"detail": error}, "xml") from None
    if root.tag != f"{TEI}TEI":
        raise _error(_("This XML file is not a HAL TEI export (its root is not a TEI element)."), "xml")
    works = [_tei_work(bibl) for bibl in root.iter(f"{TEI}biblFull")]
    if not works:
        raise _error(_("The TEI file holds no publication (no biblFull element)."), "no_work")
    return ParsedFile(source=PublicationSource.HAL_TEI, works=works, skipped=0)


def _tei_author(author: Element) -> dict:
    pers = author.find(f"{TEI}persName")
    parts = [_text(p) for p in (pers if pers is not None else []) if p.tag in (f"{TEI}forename", f"{TEI}surname")]
    hal_id = orcid = ""
    for idno in author.findall(f"{TEI}idno"):
        kind = (idno.get("type") or "").lower()
        if kind == "idhal" and idno.get("notation", "string") == "string":
            hal_id = _text(idno)
        elif kind == "orcid":
            orcid = _text(idno)
    return _author(" ".join(parts), orcid, hal_id)


def _tei_work(bibl: Element) -> Work:
    title_stmt = bibl.find(f"{TEI}titleStmt")
    source = bibl.find(f"{TEI}sourceDesc/{TEI}biblStruct")
    profile = bibl.find(f"{TEI}profileDesc")
    title = _text(title_stmt.find(f"{TEI}title")) if title_stmt is not None else ""
    authors = [_tei_author(a) for a in (title_stmt.findall(f"{TEI}author") if title_stmt is not None else [])
               if a.get("role", "aut") == "aut"]
    venue = doi = ""
    year = None
    if source is not None:
        monogr = source.find(f"{TEI}monogr")
        if monogr is not None:
            venue = (_text(monogr.find(f"{TEI}title[@level='j']")) or _text(monogr.find(f"{TEI}meeting/{TEI}title"))
                     or _text(monogr.find(f"{TEI}title")))
            year = _year(_text(monogr.find(f"{TEI}imprint/{TEI}date[@type='datePub']")))
        doi = _doi(_text(source.find(f"{TEI}idno[@type='doi']")))
    if year is None:
        year = _year(_text(bibl.find(f"{TEI}editionStmt/{TEI}edition/{TEI}date[@type='whenProduced']")))
    abstract = keywords = ""
    if profile is not None:
        abstract = _text(profile.find(f"{TEI}abstract"))
        keywords = ", ".join(_text(t) for t in profile.iter(f"{TEI}term") if _text(t))
    work = Work(title=title, abstract=abstract, keywords=keywords, year=year, venue=venue, doi=doi, authors=authors)
    hal_id = _text(bibl.find(f"{TEI}publicationStmt/{TEI}idno[@type='halId']"))
    work.key = work_key(work, f"hal:{hal_id}" if hal_id else "")
    return work


# ---------------------------------------------------------------------------------------------------------------
# ORCID JSON
# ---------------------------------------------------------------------------------------------------------------

def _value(node, *path) -> str:
    """``node[path[0]][path[1]]…`` where any step may be null, as ORCID writes absent values."""
    for step in path:
        if not isinstance(node, dict):
            return ""
        node = node.get(step)
    return _clean(node) if isinstance(node, (str, int)) else ""


def _parse_orcid(text: str) -> ParsedFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _error(_("The JSON file could not be read (line %(line)s, column %(column)s).")
                     % {"line": error.lineno, "column": error.colno}, "json") from None
    if isinstance(document, dict) and isinstance(document.get("group"), list):
        # The /works summary: one group per work, its first summary the one ORCID shows.
        records = [g["work-summary"][0] for g in document["group"]
                   if isinstance(g, dict) and isinstance(g.get("work-summary"), list) and g["work-summary"]]
    elif isinstance(document, dict) and isinstance(document.get("bulk"), list):
        records = [item["work"] for item in document["bulk"] if isinstance(item, dict) and isinstance(item.get("work"), dict)]
    elif isinstance(document, dict) and "put-code" in document:
        records = [document]
    elif isinstance(document, list):
        records = [item for item in document if isinstance(item, dict)]
    else:
        raise _error(_("This JSON file is not an ORCID works export (no \"group\" nor \"bulk\" list)."), "json")
    works, skipped = [], 0
    for record in records:
        work = _orcid_work(record)
        if work is None:
            skipped += 1
        else:
            works.append(work)
    return ParsedFile(source=PublicationSource.ORCID_JSON, works=works, skipped=skipped)


def _orcid_work(record: dict) -> Work | None:
    title = _value(record, "title", "title", "value")
    if not title:
        return None
    doi = ""
    for external in (record.get("external-ids") or {}).get("external-id") or []:
        if isinstance(external, dict) and external.get("external-id-type") == "doi":
            doi = _doi(_value(external, "external-id-normalized", "value") or _value(external, "external-id-value"))
            break
    authors = []
    for contributor in (record.get("contributors") or {}).get("contributor") or []:
        if isinstance(contributor, dict):
            authors.append(_author(_value(contributor, "credit-name", "value"),
                                   _value(contributor, "contributor-orcid", "path")
                                   or _value(contributor, "contributor-orcid", "uri")))
    work = Work(
        title=title, abstract=_value(record, "short-description"),
        year=_year(_value(record, "publication-date", "year", "value")),
        venue=_value(record, "journal-title", "value"), doi=doi,
        authors=[a for a in authors if a["name"]],
    )
    put_code = _value(record, "put-code")
    work.key = work_key(work, f"orcid:{put_code}" if put_code else "")
    return work
