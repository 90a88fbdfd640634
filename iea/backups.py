"""Backups: one archive holds the database, the uploaded files and a manifest; a restore (iea.restore) puts
them back and checks them against the manifest (``manage.py backup`` and ``restore``, ``make backup`` and
``restore``; README, "Backups").

The archive (``iea-<UTC time>.tar.gz``, readable by its owner only):

- ``database.pgdump`` — ``pg_dump --format=custom`` (PostgreSQL), or ``database.sqlite3`` — a copy made
  with SQLite's backup API (the embedded default): consistent even while the app writes;
- ``media/…`` — the uploaded private files (MEDIA_ROOT), under their storage names;
- ``manifest.json`` — the time, the database vendor, the Django migrations applied, the row count of
  every table, and the SHA-256 and size of every other member.

The row counts and migrations are read in the very snapshot the dump is made from (PostgreSQL: an exported
snapshot shared with ``pg_dump``; SQLite: the copy itself), so they describe the dump exactly. The
database is copied before the files, so every file the database names is in the archive.

The connection parameters reach ``pg_dump``/``pg_restore`` through the environment (PGPASSWORD…), never
their command line, and no message shows the password.
"""

import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import subprocess  # noqa: S404 - pg_dump, with fixed arguments
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages
from django.db.backends.base.base import BaseDatabaseWrapper

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
MEDIA = "media"
_CHUNK = 1024 * 1024
# OPTIONS of a PostgreSQL DATABASE_URL that libpq also reads from the environment.
_PG_OPTION_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                  "sslkey": "PGSSLKEY", "passfile": "PGPASSFILE", "service": "PGSERVICE",
                  "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS"}


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why, for the operator."""


@dataclass
class DatabaseState:
    """What the manifest records of a database, and what a restore compares."""

    tables: dict[str, int]
    migrations: dict[str, list[str]]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# --- reading a database ---

def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [row[0] for row in cursor.fetchall()]


def database_state(cursor, vendor: str) -> DatabaseState:
    """Row count per table and the migrations applied, through any DB-API cursor of that vendor."""
    tables = {}
    for name in table_names(cursor, vendor):
        cursor.execute(f"SELECT count(*) FROM {quote_identifier(name)}")  # noqa: S608 - a quoted name from the catalogue
        tables[name] = cursor.fetchone()[0]
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    return DatabaseState(tables=tables, migrations=migrations)


def database_describe(connection: BaseDatabaseWrapper) -> str:
    """Which database, for messages: vendor, name and host; never the password."""
    settings = connection.settings_dict
    where = f" on {settings['HOST']}" + (f":{settings['PORT']}" if settings.get("PORT") else "") if settings.get("HOST") else ""
    return f"{connection.display_name} database {str(settings['NAME'])!r}{where}"


def pg_environment(connection: BaseDatabaseWrapper) -> dict[str, str]:
    settings = connection.settings_dict
    given = {"PGHOST": settings.get("HOST"), "PGPORT": settings.get("PORT"), "PGUSER": settings.get("USER"),
             "PGPASSWORD": settings.get("PASSWORD"), "PGDATABASE": settings.get("NAME")}
    for option, variable in _PG_OPTION_ENV.items():
        given[variable] = settings.get("OPTIONS", {}).get(option)
    return {**os.environ, **{key: str(value) for key, value in given.items() if value not in (None, "")}}


def _run(command: list[str], connection: BaseDatabaseWrapper) -> None:
    try:
        result = subprocess.run(command, env=pg_environment(connection), capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as missing:
        raise BackupError(f"{command[0]} is not installed (the postgresql-client package).") from missing
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed (exit {result.returncode}): "
                          + without_password(result.stderr.strip(), connection))


def without_password(message: str, connection: BaseDatabaseWrapper) -> str:
    password = connection.settings_dict.get("PASSWORD")
    return message.replace(str(password), "***") if password else message


# --- making an archive ---

class _HashingReader:
    """Reads a file into the archive and hashes exactly the bytes archived."""

    def __init__(self, handle):
        self.handle, self.sha256, self.size = handle, hashlib.sha256(), 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add_file(archive: tarfile.TarFile, path: Path, name: str, files: dict) -> None:
    with path.open("rb") as handle:
        info = archive.gettarinfo(fileobj=handle, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    files[name] = {"sha256": reader.sha256.hexdigest(), "size": reader.size}


def _dump_postgresql(connection: BaseDatabaseWrapper, target: Path) -> DatabaseState:
    import psycopg  # noqa: PLC0415 -- the driver, only where the database is PostgreSQL

    # A connection of its own, so the snapshot's transaction is the first thing it does.
    wrapper = type(connection)(connection.settings_dict, alias="backup")
    raw = wrapper.get_new_connection(wrapper.get_connection_params())
    try:
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        with raw.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            _run(["pg_dump", "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={target}"],
                 connection)
            state = database_state(cursor, "postgresql")
        raw.rollback()
    finally:
        raw.close()
    return state


def _dump_sqlite(connection: BaseDatabaseWrapper, target: Path) -> DatabaseState:
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # One self-contained file: the copy keeps no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        state = database_state(copy.cursor(), "sqlite")
    finally:
        copy.close()
    return state


def media_root() -> Path | None:
    """The folder of the uploaded files, or None when they live elsewhere (S3: back up the bucket)."""
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def media_files(root: Path | None) -> list[tuple[Path, str]]:
    """(path, name in the storage) of every regular file under ``root``; links are not followed."""
    if root is None or not root.is_dir():
        return []
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append((path, path.relative_to(root).as_posix()))
    return found


def _archive_path(directory: Path, now: dt.datetime) -> Path:
    stem = f"iea-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    path, number = directory / f"{stem}.tar.gz", 1
    while path.exists():
        number += 1
        path = directory / f"{stem}-{number}.tar.gz"
    return path


def backup_create(*, connection: BaseDatabaseWrapper, directory: Path, now: dt.datetime) -> tuple[Path, dict]:
    """Write one archive of the database and the uploaded files into ``directory``; return its path and
    manifest. The archive appears under its final name only once complete."""
    vendor = connection.vendor
    if vendor not in DATABASE_MEMBER:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.display_name}.")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _archive_path(directory, now)
    partial = path.with_name(path.name + ".part")
    root = media_root()
    files: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=directory, prefix=".iea-backup-") as work:
        dump = Path(work) / DATABASE_MEMBER[vendor]
        state = _dump_postgresql(connection, dump) if vendor == "postgresql" else _dump_sqlite(connection, dump)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                _add_file(archive, dump, dump.name, files)
                for file_path, name in media_files(root):
                    _add_file(archive, file_path, f"{MEDIA}/{name}", files)
                manifest = {
                    "format": FORMAT,
                    "application": "iea",
                    "created_at": now.astimezone(dt.UTC).isoformat(),
                    "database": {"vendor": vendor, "file": dump.name},
                    "media": {"included": root is not None,
                              "storage": type(storages["default"]).__name__},
                    "migrations": state.migrations,
                    "tables": state.tables,
                    "files": files,
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(now.timestamp()), 0o600
                archive.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, path)
    return path, manifest
