"""Django's ``{# … #}`` comment ends on its line: one that spans lines is printed, as text, into the page
(the back office's index once showed its template's note to staff). Longer notes use ``{% comment %}``."""

import re
from pathlib import Path

from django.conf import settings

OPEN_COMMENT = re.compile(r"\{#(?!.*#\})")


def test_no_template_comment_spans_lines():
    root = Path(settings.BASE_DIR)
    templates = [path for path in root.rglob("templates/**/*") if path.suffix in {".html", ".txt", ".svg", ".xml"}
                 and ".venv" not in path.parts and "var" not in path.parts]
    assert len(templates) > 50
    found = [f"{path.relative_to(root)}:{number}" for path in templates
             for number, line in enumerate(path.read_text().splitlines(), 1) if OPEN_COMMENT.search(line)]
    assert found == []
