"""What a web worker loads when it starts: every URL's view, the admin and the settings, but none of the
libraries that only an export, a PDF or the assignment solver needs (openpyxl with numpy and Pillow,
WeasyPrint, OR-tools: about 100 MB together, in each of the workers). Each is imported where it is used
(``iea.spreadsheets.new_workbook``, ``iea.pdf.render_pdf``, ``reviews.domain.auto_assign``).

In a fresh interpreter: the test process itself has imported everything already."""

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings

LOADED_ON_DEMAND = ("openpyxl", "numpy", "weasyprint", "PIL", "ortools", "networkx", "sklearn")

PROBE = f"""
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "iea.settings"
from django.core.wsgi import get_wsgi_application
get_wsgi_application()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, and through admin.autodiscover every admin
from django.contrib import admin
admin.site.get_urls()
print(json.dumps(sorted(name for name in {LOADED_ON_DEMAND!r} if name in sys.modules)))
"""


def test_a_web_worker_starts_without_the_libraries_of_exports_pdfs_and_the_solver():
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "startup-probe", "DEBUG": "0", "ALLOWED_HOSTS": "localhost"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=Path(settings.BASE_DIR), env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
