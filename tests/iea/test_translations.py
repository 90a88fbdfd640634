"""French is complete and up to date.

``makemessages`` runs on a copy of the sources in a temporary directory (the working tree is never
touched); the regenerated catalogues must hold exactly the msgids of the committed ones, each translated
and none fuzzy. The committed catalogues are compiled into a temporary directory too, so the pages below
are rendered with the translations as committed, whatever ``.mo`` files lie in the working tree.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
LC_MESSAGES = Path("locale", "fr", "LC_MESSAGES")
# What `make messages` scans, less what it ignores (.venv, .tools, var, static/vendor) and what holds no strings.
SOURCES = ["iea", "calls", "proposals", "reviews", "funding", "templates", "static/js", "locale", "manage.py"]
MAKEMESSAGES = {
    "django": ["makemessages", "-l", "fr", "--no-obsolete"],
    "djangojs": ["makemessages", "-l", "fr", "-d", "djangojs", "--no-obsolete"],
}


# A compact .po reader ------------------------------------------------------------------------------------

def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: ``msgctxt``, ``msgid``, ``msgid_plural``, ``msgstr`` (a list: one string,
    or one per plural form), ``flags`` and ``refs``. Obsolete (``#~``) entries are left out; the header
    (empty msgid) is kept."""
    entries, entry, key = [], None, None

    def flush():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~") or not line:
            continue
        if line.startswith("#"):
            if entry is not None and "msgid" in entry:  # a comment starts the next entry
                flush()
                entry = None
            entry = entry or {"flags": set(), "refs": [], "msgstr": {}}
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#:"):
                entry["refs"].extend(line[2:].split())
            continue
        match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            word, index, text = match.groups()
            if word in ("msgctxt", "msgid") and entry is not None and "msgid" in entry:
                flush()
                entry = None
            entry = entry or {"flags": set(), "refs": [], "msgstr": {}}
            key = ("msgstr", int(index or 0)) if word.startswith("msgstr") else word
        elif line.startswith('"'):
            text = line  # continuation of the current string
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
        value = ast.literal_eval(text)
        if isinstance(key, tuple):
            entry["msgstr"][key[1]] = entry["msgstr"].get(key[1], "") + value
        else:
            entry[key] = entry.get(key, "") + value
    flush()
    for e in entries:
        e["msgstr"] = [e["msgstr"][i] for i in sorted(e["msgstr"])]
    return entries


def keys(entries: list[dict]) -> set[tuple]:
    return {(e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for e in entries if e["msgid"]}


def describe(items) -> str:
    return "\n".join(
        "  " + (f"[{ctx}] " if ctx else "") + repr(msgid) + (f" / {plural!r}" if plural else "")
        for ctx, msgid, plural in sorted(items, key=lambda k: (k[1], k[0] or "", k[2] or ""))
    )


# Fixtures ------------------------------------------------------------------------------------------------

def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "iea.settings", "PYTHONPATH": str(cwd)}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """A copy of the sources on which `make messages` has just run."""
    copy = tmp_path_factory.mktemp("sources")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    for args in MAKEMESSAGES.values():
        _run(args, copy)
    return copy


@pytest.fixture(scope="module")
def committed_locale(tmp_path_factory) -> Path:
    """The committed French catalogues, compiled (``msgfmt --check``) outside the working tree."""
    locale = tmp_path_factory.mktemp("compiled") / "locale"
    shutil.copytree(ROOT / "locale", locale, ignore=shutil.ignore_patterns("*.mo"))
    for po in sorted((locale / "fr" / "LC_MESSAGES").glob("*.po")):
        result = subprocess.run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"msgfmt --check {po.name} failed:\n{result.stderr}"
    return locale


@pytest.fixture
def french_catalogues(settings, committed_locale):
    # Changing LOCALE_PATHS clears Django's translation caches (django.test.signals).
    settings.LOCALE_PATHS = [committed_locale]


# The catalogues ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("domain", sorted(MAKEMESSAGES))
def test_catalogue_is_complete_and_up_to_date(regenerated, domain):
    committed = parse_po(ROOT / LC_MESSAGES / f"{domain}.po")
    fresh = parse_po(regenerated / LC_MESSAGES / f"{domain}.po")

    outside = sorted({ref.rsplit(":", 1)[0] for e in committed for ref in e["refs"]
                      if not any(ref == s or ref.startswith(s.rstrip("/") + "/") for s in SOURCES)})
    assert not outside, f"strings come from files this test does not copy; add them to SOURCES: {outside}"

    missing = keys(fresh) - keys(committed)
    assert not missing, (
        f"{domain}.po lacks strings that are in the code; run `make messages` and translate:\n{describe(missing)}"
    )
    stale = keys(committed) - keys(fresh)
    assert not stale, f"{domain}.po holds strings no longer in the code; run `make messages`:\n{describe(stale)}"

    fuzzy = {k for e in fresh if e["msgid"] and "fuzzy" in e["flags"] for k in keys([e])}
    assert not fuzzy, f"{domain}.po has fuzzy entries; check and unflag them:\n{describe(fuzzy)}"
    untranslated = {k for e in fresh if e["msgid"] for k in keys([e])
                    if not e["msgstr"] or not all(s.strip() for s in e["msgstr"])
                    or (e.get("msgid_plural") and len(e["msgstr"]) < 2)}
    assert not untranslated, f"{domain}.po has untranslated entries:\n{describe(untranslated)}"

    header = next(e for e in committed if not e["msgid"])
    assert "fuzzy" not in header["flags"], f"the header of {domain}.po is still marked fuzzy"
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header["msgstr"][0]
    assert "Language: fr" in header["msgstr"][0]


def test_the_po_reader_handles_plurals_contexts_and_continuations(tmp_path):
    po = tmp_path / "t.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\nmsgctxt "verb"\nmsgid "Open"\nmsgstr "Ouvrir"\n\n'
        '#: b.html:2\nmsgid ""\n"%(n)s day "\n"left"\nmsgid_plural "%(n)s days left"\nmsgstr[0] "%(n)s jour"\n'
        'msgstr[1] ""\n\n#~ msgid "gone"\n#~ msgstr "parti"\n',
        encoding="utf-8",
    )
    header, verb, days = parse_po(po)
    assert header["msgstr"] == ["Language: fr\n"]
    assert (verb["msgctxt"], verb["msgid"], verb["msgstr"], verb["flags"]) == (
        "verb", "Open", ["Ouvrir"], {"fuzzy", "python-format"})
    assert (days["msgid"], days["msgid_plural"], days["msgstr"], days["refs"]) == (
        "%(n)s day left", "%(n)s days left", ["%(n)s jour", ""], ["b.html:2"])


# The pages -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_home_page_speaks_french(client, french_catalogues, call):
    body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in body
    assert "Aller au contenu principal" in body
    assert "unité de recherche du CNRS et un partenaire étranger" in body
    assert "Date limite (heure de Paris)" in body and "Consulter l'appel et candidater" in body
    assert re.search(r"\d+ jours, \d+ heures?", body), "the time left is not in French"
    assert "Two-year" not in body and "Deadline (Paris time)" not in body


@pytest.mark.django_db
def test_javascript_catalogue_is_french(client, french_catalogues):
    body = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "cl\\u00f4tur\\u00e9" in body or "clôturé" in body
    assert "(n > 1)" in body


@pytest.mark.django_db
def test_set_language_switches_to_english(client, french_catalogues, call):
    assert "Aller au contenu principal" in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("calls:list")},
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302 and response["Location"] == reverse("calls:list")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="en">' in body and "Skip to main content" in body and "Deadline (Paris time)" in body
    assert "Aller au contenu principal" not in body
