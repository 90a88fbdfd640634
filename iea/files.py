"""The uploaded files: the names people see.

- ``safe_filename``: what an uploader called a file, reduced to a name safe to show and to send in a
  ``Content-Disposition`` header. Used at every upload and for every download.
"""

import unicodedata


def safe_filename(name: str | None, *, default: str, extension: str | None = ".pdf", max_length: int = 200) -> str:
    """``name`` without folders, without invisible or control characters, in Unicode NFC, on one line,
    with no leading dot (a hidden file) nor trailing dots or spaces (Windows drops them), and ending in
    ``extension`` when one is given: a known extension other than it is replaced ("x.exe" becomes "x.pdf"),
    anything else gets it appended. Accented letters and other scripts stay. ``default`` when nothing is left.
    """
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Unicode's "Other" categories go: controls (Cc), format characters (Cf: bidirectional overrides and
    # isolates, zero-width spaces and joiners, soft hyphens), surrogates, private use, unassigned code points.
    # A right-to-left override makes "lettre\u202efdp.exe" read as "lettreexe.pdf".
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    # Every run of white space (no-break spaces, line and paragraph separators…) becomes one plain space.
    name = unicodedata.normalize("NFC", " ".join(name.split())).strip(" .")
    if extension is None:
        return name[:max_length].rstrip(" .") or default
    stem, dot, suffix = name.rpartition(".")
    if not (dot and suffix.isascii() and suffix.isalnum() and not suffix.isdigit() and len(suffix) <= 8):
        stem = name  # no extension, or something that is not one ("report v1.2"): keep it all
    stem = stem[: max_length - len(extension)].rstrip(" .")
    return f"{stem}{extension}" if stem else default
