"""Backup archives made wrong on purpose, for the restore tests (tests/iea/test_backup.py, tests/stack)."""

import hashlib
import io
import json
import tarfile
from pathlib import Path


def rebuild(archive: Path, *, dump=None, manifest=None) -> None:
    """Rewrite the archive's database dump through ``dump(data) -> data`` and its manifest through
    ``manifest(dict)``, the manifest then listing the new dump's size and SHA-256: the archive is consistent,
    and only the restore of the dump itself can find what is wrong."""
    with tarfile.open(archive) as tar:
        members = {member.name: tar.extractfile(member).read() for member in tar.getmembers()}
    content = json.loads(members["manifest.json"])
    name = content["database"]["file"]
    if dump:
        members[name] = dump(members[name])
        content["files"][name] = {"sha256": hashlib.sha256(members[name]).hexdigest(), "size": len(members[name])}
    if manifest:
        manifest(content)
    members["manifest.json"] = json.dumps(content).encode()
    with tarfile.open(archive, "w:gz") as tar:
        for member_name, data in members.items():
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
