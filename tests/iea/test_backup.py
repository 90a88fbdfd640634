"""Backups: the restore drill (back up, restore into a fresh database as an operator would, compare every
table's row count and every file's SHA-256), on PostgreSQL and on SQLite; the refusals (a database that
is not empty, a damaged or tampered archive) change nothing."""

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

import iea.backups
import iea.restore
from proposals.models import SupportLetter
from tests.archives import rebuild
from tests.reviews.factories import eligible_proposal

BASE_DIR = Path(__file__).resolve().parents[2]


def source_counts() -> dict[str, int]:
    """Row count per table of the test database, read through Django's own introspection."""
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def file_hashes(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def back_up(directory: Path) -> tuple[Path, str]:
    out = io.StringIO()
    call_command("backup", dir=directory, stdout=out)
    return Path(out.getvalue().strip().splitlines()[-1]), out.getvalue()


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def restore_as_operator(archive: Path, *, database_url: str, media: Path) -> subprocess.CompletedProcess:
    """``manage.py restore`` in its own process, configured from the environment like ``make restore``."""
    env = {**os.environ, "DATABASE_URL": database_url, "PRIVATE_MEDIA_ROOT": str(media),
           "DJANGO_SETTINGS_MODULE": "iea.settings"}
    return subprocess.run([sys.executable, "manage.py", "restore", str(archive)], cwd=BASE_DIR, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=180, check=False)


def some_data() -> SupportLetter:
    """A submitted proposal with its letter on disk: users, call, proposal, version, audit, mails queued."""
    proposal = eligible_proposal()
    return SupportLetter.objects.get(proposal=proposal)


def assert_manifest_describes(manifest: dict, letter: SupportLetter, counts: dict[str, int]) -> None:
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"] == counts
    assert manifest["tables"]["proposals_supportletter"] == 1
    assert manifest["files"][f"media/{letter.file.name}"]["sha256"] == letter.sha256
    assert isinstance(manifest["migrations"], dict)
    assert manifest["created_at"].endswith("+00:00")


# --- PostgreSQL ---

@pytest.fixture
def fresh_postgres_database(require_postgres):
    """An empty database of its own on the same server, and its DATABASE_URL; dropped afterwards."""
    import psycopg

    name = f"iea_restore_{uuid.uuid4().hex[:12]}"
    server = {key: value for key, value in {
        "host": connection.settings_dict["HOST"], "port": connection.settings_dict["PORT"],
        "user": connection.settings_dict["USER"], "password": connection.settings_dict["PASSWORD"],
    }.items() if value}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(os.environ["DATABASE_URL"])
    yield name, urlunsplit(url._replace(path=f"/{name}")), server
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_postgresql(fresh_postgres_database, tmp_path, monkeypatch):
    import psycopg

    name, database_url, server = fresh_postgres_database
    letter = some_data()
    counts, hashes = source_counts(), file_hashes(Path(settings.MEDIA_ROOT))
    # The password reaches pg_dump through PGPASSWORD only, and no output shows it (trust auth ignores it).
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "pw-Never-Shown-42")
    calls = []
    real_run = subprocess.run

    def spy(command, **kwargs):
        calls.append((command, kwargs["env"].get("PGPASSWORD")))
        return real_run(command, **kwargs)

    monkeypatch.setattr(iea.backups.subprocess, "run", spy)

    archive, output = back_up(tmp_path / "backups")

    assert [(command[0], password) for command, password in calls] == [("pg_dump", "pw-Never-Shown-42")]
    assert "pw-Never-Shown-42" not in " ".join(calls[0][0]) + output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert_manifest_describes(manifest_of(archive), letter, counts)

    restored_media = tmp_path / "restored"
    result = restore_as_operator(archive, database_url=database_url, media=restored_media)

    assert result.returncode == 0, result.stderr
    assert "all equal" in result.stdout
    with psycopg.connect(dbname=name, **server) as restored:
        tables = [row[0] for row in restored.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        restored_counts = {table: restored.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                           for table in tables}
    assert restored_counts == counts
    assert file_hashes(restored_media) == hashes
    assert len(hashes) == 1


# --- SQLite ---

@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_sqlite(require_sqlite, tmp_path):
    letter = some_data()
    counts, hashes = source_counts(), file_hashes(Path(settings.MEDIA_ROOT))

    archive, _output = back_up(tmp_path / "backups")

    assert_manifest_describes(manifest_of(archive), letter, counts)
    target, restored_media = tmp_path / "restored.sqlite3", tmp_path / "restored"
    result = restore_as_operator(archive, database_url=f"sqlite:///{target}", media=restored_media)

    assert result.returncode == 0, result.stderr
    assert "all equal" in result.stdout
    restored = sqlite3.connect(target)
    tables = [row[0] for row in restored.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    restored_counts = {table: restored.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                           for table in tables}
    restored.close()
    assert restored_counts == counts
    assert file_hashes(restored_media) == hashes
    assert len(hashes) == 1


# --- refusals, on either database ---

@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_without_force(tmp_path):
    some_data()
    archive, _output = back_up(tmp_path / "backups")
    some_data()  # the database moved on since the backup
    counts, hashes = source_counts(), file_hashes(Path(settings.MEDIA_ROOT))

    with pytest.raises(CommandError, match="is not empty: restore into an empty database, or replace its "
                                           r"content with FORCE=1 \(--force\)"):
        call_command("restore", str(archive), stdout=io.StringIO())

    assert source_counts() == counts
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


def rewrite(archive: Path, change) -> None:
    """Rewrite the archive's members through ``change(name, data) -> data``, keeping its manifest."""
    with tarfile.open(archive) as tar:
        members = [(member, tar.extractfile(member).read()) for member in tar.getmembers()]
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            data = change(member.name, data)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@pytest.mark.django_db(transaction=True)
def test_a_tampered_file_is_caught_by_its_hash_before_anything_changes(tmp_path):
    letter = some_data()
    archive, _output = back_up(tmp_path / "backups")
    name = f"media/{letter.file.name}"
    rewrite(archive, lambda member, data: data.replace(b"%%EOF", b"%%EOX") if member == name else data)
    counts, hashes = source_counts(), file_hashes(Path(settings.MEDIA_ROOT))

    with pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), force=True, stdout=io.StringIO())

    assert str(refused.value) == (f"{archive.name} does not match its manifest; nothing was restored. "
                                  f"SHA-256 mismatch: {name}")
    assert source_counts() == counts
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


@pytest.mark.django_db(transaction=True)
def test_a_truncated_archive_is_refused(tmp_path):
    some_data()
    archive, _output = back_up(tmp_path / "backups")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    counts = source_counts()

    with pytest.raises(CommandError, match="cannot be read"):
        call_command("restore", str(archive), force=True, stdout=io.StringIO())

    assert source_counts() == counts


def test_an_archive_whose_member_would_land_outside_is_refused_before_anything_is_written(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("manifest.json", "../escaped.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
    work = tmp_path / "work"
    work.mkdir()

    with pytest.raises(iea.restore.BackupError, match="a name outside the archive's folder"):
        iea.restore.archive_unpack(archive, work)

    assert not (tmp_path / "escaped.txt").exists()


def test_restore_wants_an_archive_that_exists(tmp_path):
    with pytest.raises(CommandError, match="No archive at"):
        call_command("restore", str(tmp_path / "nothing.tar.gz"))


# --- a restore that fails changes nothing, and says why ---

def database_fingerprint() -> dict[str, tuple[int, str]]:
    """Every table of the test database: its row count and a hash of all its rows, in a fixed order."""
    with connection.cursor() as cursor:
        fingerprint = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            fingerprint[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return fingerprint


def failed_restore(archive: Path) -> str:
    """``restore --force`` over the full test database; the message it fails with."""
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), force=True, stdout=io.StringIO())
    return str(refused.value)


def full_database_and_archive(tmp_path) -> tuple[Path, dict, dict]:
    """A database with data, a backup of it, then more data and a file changed since: a restore that went
    through would change both."""
    letter = some_data()
    archive, _output = back_up(tmp_path / "backups")
    some_data()
    with letter.file.open("ab") as handle:
        handle.write(b"% changed since the backup\n")
    return archive, database_fingerprint(), file_hashes(Path(settings.MEDIA_ROOT))


@pytest.mark.django_db(transaction=True)
def test_a_truncated_dump_changes_nothing(tmp_path):
    archive, before, hashes = full_database_and_archive(tmp_path)
    rebuild(archive, dump=lambda data: data[: len(data) - 200])

    message = failed_restore(archive)

    assert database_fingerprint() == before
    assert "the database dump is damaged or truncated" in message
    assert "nothing was changed" in message
    assert len(before) > 20
    assert sum(count for count, _hash in before.values()) > 20
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


@pytest.mark.django_db(transaction=True)
def test_a_dump_that_is_not_a_database_changes_nothing(tmp_path):
    archive, before, hashes = full_database_and_archive(tmp_path)
    rebuild(archive, dump=lambda data: b"not a database at all\n" * 100)

    message = failed_restore(archive)

    assert database_fingerprint() == before
    kind = "a pg_dump custom-format archive" if connection.vendor == "postgresql" else "a SQLite database"
    assert f"the database dump is not {kind}" in message
    assert "nothing was changed" in message
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_from_a_newer_pg_dump_changes_nothing(require_postgres, tmp_path):
    archive, before, hashes = full_database_and_archive(tmp_path)
    # The custom format's header: "PGDMP", then the archive version's major, minor and revision bytes.
    rebuild(archive, dump=lambda data: data[:5] + bytes([1, 99, 0]) + data[8:])

    message = failed_restore(archive)

    assert database_fingerprint() == before
    assert "the database dump was made by a newer pg_dump (archive version 1.99)" in message
    assert "nothing was changed" in message
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


@pytest.mark.django_db(transaction=True)
def test_a_dump_that_does_not_match_its_manifest_is_rolled_back(tmp_path):
    archive, before, hashes = full_database_and_archive(tmp_path)
    count = manifest_of(archive)["tables"]["proposals_supportletter"]
    rebuild(archive, manifest=lambda content: content["tables"].update(proposals_supportletter=count + 5))

    message = failed_restore(archive)

    assert database_fingerprint() == before
    assert f"table proposals_supportletter: {count} rows, the backup had {count + 5}" in message
    assert "nothing was changed" in message
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_sql_error_while_loading_rolls_back(require_postgres, tmp_path, monkeypatch):
    archive, _before, hashes = full_database_and_archive(tmp_path)
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "pw-Never-Shown-42")  # trust auth ignores it
    # Something the restore's drop of the tables leaves and its load then collides with: a composite type
    # that takes a table's name.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE proposals_supportletter RENAME TO proposals_supportletter_aside")
        cursor.execute("CREATE TYPE proposals_supportletter AS (x integer)")
    try:
        before = database_fingerprint()

        message = failed_restore(archive)

        assert database_fingerprint() == before
        assert "SQL error while loading the dump" in message
        assert "proposals_supportletter" in message
        assert "nothing was changed" in message
        assert "pw-Never-Shown-42" not in message
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TYPE IF EXISTS proposals_supportletter")
            cursor.execute("ALTER TABLE IF EXISTS proposals_supportletter_aside RENAME TO proposals_supportletter")
    assert file_hashes(Path(settings.MEDIA_ROOT)) == hashes


def test_a_sqlite_file_shorter_than_its_header_says_is_found_whatever_integrity_check_says(tmp_path):
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE t (x BLOB)")
        database.executemany("INSERT INTO t VALUES (?)", [(b"x" * 3000,) for _ in range(20)])
    data = path.read_bytes()
    assert iea.restore._sqlite_size_problem(data[:100], len(data)) == ""
    assert "not whole pages" in iea.restore._sqlite_size_problem(data[:100], len(data) - 200)
    assert "of the" in iea.restore._sqlite_size_problem(data[:100], len(data) - 4096)
