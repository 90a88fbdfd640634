"""Restoring a backup archive (iea.backups): the database and the uploaded files back, checked against the
archive's manifest (``manage.py restore``, ``make restore``; README, "Backups").

The order is what makes a failed restore change nothing:

1. the archive is unpacked and every member checked against its SHA-256 in the manifest;
2. the database dump is read whole before the database is touched. PostgreSQL: ``pg_restore`` writes the
   complete SQL script to a file, which reads every data block, so a truncated dump, or one from a newer
   ``pg_dump``, is refused here. SQLite: the copy must be a SQLite file, pass ``PRAGMA integrity_check``
   and match the manifest;
3. PostgreSQL: the old tables are dropped, the script loaded and the result compared with the manifest (a
   generated ``DO`` block that raises on any difference) in ONE transaction, ``psql --single-transaction``
   with ON_ERROR_STOP: any error, the comparison's included, rolls everything back. SQLite: the checked copy
   replaces the database through SQLite's backup API, in one step;
4. only then the files.

When the load fails, the database is read again, and the message says "nothing was changed" only when its
tables and row counts are those it had before.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_restore and psql, with fixed arguments
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from iea.backups import (
    FORMAT,
    MANIFEST,
    MEDIA,
    BackupError,
    DatabaseState,
    database_describe,
    database_state,
    media_files,
    media_root,
    pg_environment,
    quote_identifier,
    table_names,
    without_password,
)

_CHUNK = 1024 * 1024
_SQLITE_HEADER = b"SQLite format 3\x00"
_MISMATCH = "iea-restore-mismatch: "
_LONGEST_DETAIL = 1500

# The restored database against the manifest, run by psql last, inside the restore's one transaction: a
# difference raises, and the whole restore rolls back. The manifest reaches it through a setting of that
# transaction (iea.restore_manifest). The script pg_restore writes empties search_path: every name here is
# qualified or built in.
_VERIFICATION = r"""
DO $verify$
DECLARE
  expected jsonb := pg_catalog.current_setting('iea.restore_manifest')::jsonb;
  target text := expected ->> 'schema';
  problems text[] := ARRAY[]::text[];
  entry record;
  found bigint;
  differing bigint;
BEGIN
  FOR entry IN
    SELECT coalesce(present.tablename::text, listed.key) AS name, present.tablename IS NOT NULL AS here,
           listed.value::bigint AS wanted
    FROM (SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = target) AS present
    FULL JOIN pg_catalog.jsonb_each_text(expected -> 'tables') AS listed ON listed.key = present.tablename::text
    ORDER BY 1
  LOOP
    found := NULL;
    IF entry.here THEN
      EXECUTE pg_catalog.format('SELECT count(*) FROM %I.%I', target, entry.name) INTO found;
    END IF;
    IF entry.wanted IS NULL THEN
      problems := problems || pg_catalog.format('table %s: %s rows, not in the backup', entry.name, found);
    ELSIF found IS NULL THEN
      problems := problems || pg_catalog.format('table %s: missing, the backup had %s rows', entry.name, entry.wanted);
    ELSIF found <> entry.wanted THEN
      problems := problems || pg_catalog.format('table %s: %s rows, the backup had %s', entry.name, found, entry.wanted);
    END IF;
  END LOOP;
  IF pg_catalog.to_regclass(pg_catalog.format('%I.django_migrations', target)) IS NULL THEN
    differing := pg_catalog.jsonb_array_length(expected -> 'migrations');
  ELSE
    EXECUTE pg_catalog.format($query$
      SELECT count(*) FROM (
        (SELECT pg_catalog.jsonb_build_array(app, name) FROM %1$I.django_migrations
         EXCEPT SELECT pg_catalog.jsonb_array_elements($1))
        UNION ALL
        (SELECT pg_catalog.jsonb_array_elements($1)
         EXCEPT SELECT pg_catalog.jsonb_build_array(app, name) FROM %1$I.django_migrations)
      ) AS differences$query$, target) USING expected -> 'migrations' INTO differing;
  END IF;
  IF differing > 0 THEN
    problems := problems || 'the migrations applied differ from the backup''s'::text;
  END IF;
  IF pg_catalog.cardinality(problems) > 0 THEN
    RAISE EXCEPTION 'iea-restore-mismatch: %', pg_catalog.array_to_string(problems, '; ');
  END IF;
END
$verify$;
"""


@dataclass
class RestoreReport:
    manifest: dict
    database: DatabaseState
    files: int
    left_in_place: list[str] = field(default_factory=list)


class _LoadFailed(BackupError):
    """The load had begun when it failed: what it changed, if anything, is read from the database."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _extract_plain_file(tar: tarfile.TarFile, member: tarfile.TarInfo, work: Path) -> None:
    """One regular file of the archive into ``work``, refusing a name that would land outside it. By hand,
    not ``extractall(filter="data")``: Python 3.11 before 3.11.4 (Debian bookworm's) has no filter."""
    target = (work / member.name).resolve()
    if member.name.startswith("/") or ".." in Path(member.name).parts or not target.is_relative_to(work.resolve()):
        raise BackupError(f"{member.name}: a name outside the archive's folder; not one of ours.")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    with source, target.open("xb") as handle:
        shutil.copyfileobj(source, handle, _CHUNK)


def archive_unpack(archive: Path, work: Path) -> dict:
    """Unpack into ``work`` and check every member against the manifest; return the manifest.

    Refuses an archive that is damaged, holds anything but plain files, lacks a file the manifest lists,
    has one it does not, or whose file differs from its SHA-256."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            if any(not member.isfile() for member in members):
                raise BackupError(f"{archive.name}: holds something other than plain files; not one of ours.")
            for member in members:
                _extract_plain_file(tar, member, work)
    except (tarfile.TarError, OSError, EOFError) as damaged:
        raise BackupError(f"{archive.name} cannot be read (damaged or not a backup archive): {damaged}") from damaged
    try:
        manifest = json.loads((work / MANIFEST).read_text())
    except (OSError, ValueError) as missing:
        raise BackupError(f"{archive.name} has no readable {MANIFEST}.") from missing
    if manifest.get("format") != FORMAT or manifest.get("application") != "iea":
        raise BackupError(f"{archive.name}: not an IEA backup of format {FORMAT}.")
    listed = manifest["files"]
    present = {member.name for member in members} - {MANIFEST}
    problems = [f"missing: {name}" for name in sorted(set(listed) - present)]
    problems += [f"not in the manifest: {name}" for name in sorted(present - set(listed))]
    problems += [f"SHA-256 mismatch: {name}" for name in sorted(present & set(listed))
                 if _sha256(work / name) != listed[name]["sha256"]]
    if problems:
        raise BackupError(f"{archive.name} does not match its manifest; nothing was restored. " + "; ".join(problems))
    return manifest


def _current_state(connection: BaseDatabaseWrapper) -> DatabaseState:
    with connection.cursor() as cursor:
        return database_state(cursor, connection.vendor)


def _shortened(text: str) -> str:
    return text if len(text) <= _LONGEST_DETAIL else text[:_LONGEST_DETAIL] + " […]"


# --- PostgreSQL ---

def _pg_restore_version() -> str:
    result = subprocess.run(["pg_restore", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    version = re.search(r"\d+(\.\d+)*", result.stdout)
    return version[0] if version else "of unknown version"


def _dump_problem(errors: str) -> str:
    """What pg_restore's complaint about a dump means, in the operator's terms."""
    if newer := re.search(r"unsupported version \(([\d.]+)\) in file header", errors):
        return (f"was made by a newer pg_dump (archive version {newer[1]}) than this pg_restore "
                f"({_pg_restore_version()}) reads: restore it with PostgreSQL client tools of that version or later")
    if "did not find magic string" in errors or "does not appear to be a valid archive" in errors:
        return "is not a pg_dump custom-format archive"
    if re.search(r"end of file|uncompress|corrupt|invalid|unexpected", errors):
        return "is damaged or truncated"
    return "cannot be read by pg_restore"


def _postgresql_script(connection: BaseDatabaseWrapper, dump: Path, script: Path, *, replace: bool,
                       archive_name: str) -> None:
    """The dump, read whole into the SQL script psql will load; refuses a dump pg_restore cannot read."""
    command = ["pg_restore", "--no-owner", "--no-privileges", f"--file={script}"]
    if replace:
        command += ["--clean", "--if-exists"]  # what tables do not carry: functions, triggers' code
    try:
        result = subprocess.run([*command, str(dump)], env=pg_environment(connection),  # noqa: S603
                                capture_output=True, text=True, check=False)
    except FileNotFoundError as missing:
        raise BackupError("pg_restore is not installed (the postgresql-client package); nothing was changed.") from missing
    if result.returncode != 0:
        errors = without_password(result.stderr.strip(), connection)
        raise BackupError(f"{archive_name}: the database dump {_dump_problem(errors)}; nothing was changed. "
                          f"pg_restore said: {_shortened(errors)}")


def _verification_script(manifest: dict, schema: str) -> str:
    expected = json.dumps({"schema": schema, "tables": manifest["tables"],
                           "migrations": [[app, name] for app, names in manifest["migrations"].items()
                                          for name in names]})
    tag = "manifest"
    while f"${tag}$" in expected:
        tag += "_"
    return (f"SELECT pg_catalog.set_config('iea.restore_manifest', ${tag}${expected}${tag}$, true);\n"
            + _VERIFICATION)


def _restore_postgresql(connection: BaseDatabaseWrapper, dump: Path, manifest: dict, work: Path, *,
                        replace: bool, archive_name: str) -> None:
    """Check the whole dump, then drop (``replace``), load and verify in one transaction."""
    script, verification = work / "restore.sql", work / "verify.sql"
    _postgresql_script(connection, dump, script, replace=replace, archive_name=archive_name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        tables = table_names(cursor, "postgresql") if replace else []
    verification.write_text(_verification_script(manifest, schema))
    command = ["psql", "--no-password", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction"]
    if tables:
        command.append(f"--command=DROP TABLE IF EXISTS {', '.join(quote_identifier(name) for name in tables)} CASCADE")
    command += [f"--file={script}", f"--file={verification}"]
    connection.close()
    environment = pg_environment(connection)
    environment["PGOPTIONS"] = " ".join(filter(None, [environment.get("PGOPTIONS"), "-c client_min_messages=warning"]))
    try:
        result = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # noqa: S603
                                text=True, check=False)
    except FileNotFoundError as missing:
        raise BackupError("psql is not installed (the postgresql-client package); nothing was changed.") from missing
    if result.returncode == 0:
        return
    errors = without_password(result.stderr.strip(), connection)
    if _MISMATCH in errors:
        found = errors.split(_MISMATCH, 1)[1].splitlines()[0]
        raise _LoadFailed(f"The database loaded from {archive_name} does not match its manifest ({found}); "
                          "psql rolled the restore back.")
    if result.returncode == 3:  # ON_ERROR_STOP: an SQL error, the transaction rolled back
        raise _LoadFailed(f"psql stopped on an SQL error while loading the dump and rolled the restore back: "
                          f"{_shortened(errors)}")
    raise _LoadFailed(f"psql failed (exit {result.returncode}) while loading the dump: {_shortened(errors)}")


# --- SQLite ---

def _sqlite_size_problem(header: bytes, size: int) -> str:
    """A file cut short can still pass ``integrity_check`` when the pages lost were free ones: its header
    says how many pages it has (when that count is current) and how large a page is."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, change_counter, valid_for = (int.from_bytes(header[offset:offset + 4], "big") for offset in (28, 24, 92))
    if page_size < 512 or size % page_size:
        return f"{size} bytes, not whole pages of {page_size}"
    if pages and change_counter == valid_for and pages * page_size != size:
        return f"{size // page_size} pages of the {pages} its header names"
    return ""


def _check_sqlite_copy(connection: BaseDatabaseWrapper, copy: Path, manifest: dict, archive_name: str) -> None:
    """The copy is a sound SQLite database that matches the manifest, or nothing is replaced."""
    with copy.open("rb") as handle:
        header = handle.read(100)
    if header[:len(_SQLITE_HEADER)] != _SQLITE_HEADER:
        raise BackupError(f"{archive_name}: the database dump is not a SQLite database; nothing was changed.")
    if size_problem := _sqlite_size_problem(header, copy.stat().st_size):
        raise BackupError(f"{archive_name}: the database dump is damaged or truncated ({size_problem}); nothing was changed.")
    # Through Django's own backend: the CHECK constraints that integrity_check evaluates call its functions.
    checker = type(connection)({**connection.settings_dict, "NAME": str(copy)}, alias="restore_check")
    state = None
    try:
        with checker.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            verdict = [row[0] for row in cursor.fetchall()]
            if verdict == ["ok"]:
                state = database_state(cursor, "sqlite")
    except (DatabaseError, sqlite3.DatabaseError) as damaged:
        verdict = [str(damaged)]
    finally:
        checker.close()
    if state is None:
        shown = "; ".join(line for line in verdict[:4] if not line.startswith("***"))
        raise BackupError(f"{archive_name}: the database dump is damaged or truncated (integrity check: "
                          f"{_shortened(shown)}{' …' if len(verdict) > 4 else ''}); nothing was changed.")
    if problems := _compare_database(manifest, state):
        raise BackupError(f"{archive_name}: its database does not match its manifest ({'; '.join(problems)}); "
                          "nothing was changed.")


def _restore_sqlite(connection: BaseDatabaseWrapper, copy: Path, manifest: dict, archive_name: str) -> None:
    _check_sqlite_copy(connection, copy, manifest, archive_name)
    connection.close()
    target = Path(connection.settings_dict["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        source, destination = sqlite3.connect(copy), sqlite3.connect(target)
        try:
            source.backup(destination)  # in one step, under SQLite's locks: safe beside a write-ahead log
        finally:
            source.close()
            destination.close()
    except sqlite3.Error as failed:
        raise _LoadFailed(f"SQLite could not copy the backup into {target}: {failed}.") from failed


# --- files, and the whole ---

def _restore_files(work: Path, manifest: dict, root: Path) -> None:
    for name in manifest["files"]:
        if not name.startswith(f"{MEDIA}/"):
            continue
        target = root / name.removeprefix(f"{MEDIA}/")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(work / name, partial)
        partial.chmod(0o640)
        os.replace(partial, target)


def _compare_database(manifest: dict, state: DatabaseState) -> list[str]:
    problems = []
    for table in sorted(set(manifest["tables"]) | set(state.tables)):
        expected, found = manifest["tables"].get(table), state.tables.get(table)
        if expected is None:
            problems.append(f"table {table}: {found} rows, not in the backup")
        elif found is None:
            problems.append(f"table {table}: missing, the backup had {expected} rows")
        elif expected != found:
            problems.append(f"table {table}: {found} rows, the backup had {expected}")
    if state.migrations != manifest["migrations"]:
        problems.append("the migrations applied differ from the backup's")
    return problems


def _compare_files(manifest: dict, root: Path | None) -> list[str]:
    problems = []
    for name, listed in manifest["files"].items():
        if name.startswith(f"{MEDIA}/"):
            restored = root / name.removeprefix(f"{MEDIA}/")
            if not restored.is_file() or _sha256(restored) != listed["sha256"]:
                problems.append(f"file {name}: differs from the backup")
    return problems


def _after_failure(connection: BaseDatabaseWrapper, before: DatabaseState) -> str:
    """What the failed load left, read from the database: "nothing was changed" only when that is so."""
    where = database_describe(connection)
    try:
        after = _current_state(connection)
    except DatabaseError as unreadable:
        return (f"The {where} cannot be read after the failure "
                f"({without_password(str(unreadable), connection)}): check it before using it.")
    if after == before:
        return (f"The {where} is as it was before the restore ({len(after.tables)} tables, {after.rows} rows): "
                "nothing was changed.")
    return (f"The {where} was changed: it has {len(after.tables)} tables and {after.rows} rows, against "
            f"{len(before.tables)} and {before.rows} before; restore a backup (FORCE=1) before using it.")


def backup_restore(*, connection: BaseDatabaseWrapper, archive: Path, force: bool) -> RestoreReport:
    """Restore ``archive`` into the configured database and files, then check them against its manifest.

    The archive is checked first, whole, then the database dump: a damaged one changes nothing. The
    database is replaced in one step that rolls back unless the result matches the manifest; the files
    only after it. A database that already has tables, or a files folder that already has files, is
    replaced only with ``force``. Files already there that the backup does not have are left in place
    (and listed)."""
    vendor = connection.vendor
    root = media_root()
    with tempfile.TemporaryDirectory(prefix="iea-restore-") as folder:
        work = Path(folder)
        manifest = archive_unpack(archive, work)
        if manifest["database"]["vendor"] != vendor:
            raise BackupError(f"{archive.name} holds a {manifest['database']['vendor']} database; "
                              f"the configured one is {connection.display_name}.")
        media_names = [name for name in manifest["files"] if name.startswith(f"{MEDIA}/")]
        if media_names and root is None:
            raise BackupError("The archive holds uploaded files but the storage is not a local folder (S3?).")
        existing = [name for _path, name in media_files(root)]
        try:
            before = _current_state(connection)
        except DatabaseError as unreadable:
            raise BackupError(f"The {database_describe(connection)} cannot be read "
                              f"({without_password(str(unreadable), connection)}); nothing was changed.") from unreadable
        if not force:
            if before.tables:
                raise BackupError(f"The {database_describe(connection)} is not empty: restore into an empty "
                                  "database, or replace its content with FORCE=1 (--force).")
            if existing:
                raise BackupError(f"{root} already holds {len(existing)} file(s): restore into an empty folder, "
                                  "or replace with FORCE=1 (--force).")
        dump = work / manifest["database"]["file"]
        try:
            if vendor == "postgresql":
                _restore_postgresql(connection, dump, manifest, work, replace=force, archive_name=archive.name)
            else:
                _restore_sqlite(connection, dump, manifest, archive.name)
        except _LoadFailed as failed:
            raise BackupError(f"{failed} {_after_failure(connection, before)}") from failed
        if root is not None:
            try:
                _restore_files(work, manifest, root)
            except OSError as failed:
                raise BackupError(f"The database was restored and matches the manifest, but the files could not "
                                  f"be put back into {root}: {failed}. Free the space or fix the permissions, "
                                  "then restore again with FORCE=1.") from failed
    state = _current_state(connection)
    problems = _compare_database(manifest, state) + _compare_files(manifest, root)
    if problems:
        raise BackupError("The restore does not match the backup's manifest: " + "; ".join(problems))
    backed_up = {name.removeprefix(f"{MEDIA}/") for name in media_names}
    return RestoreReport(manifest=manifest, database=state, files=len(media_names),
                         left_in_place=sorted(set(existing) - backed_up))
