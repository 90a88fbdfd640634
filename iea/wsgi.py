import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
application = get_wsgi_application()

# Everything loaded so far (modules, apps, settings, the URLconf) lives as long as the worker: moved out
# of the garbage collector's reach, the collections that large pages trigger no longer walk it all again.
# On the panel table of a 1,000-proposal panel this took the p95 server time from ~250 to ~160 ms
# (docs/benchmarks.md).
get_resolver().url_patterns  # noqa: B018 (imports every view module now rather than on the first request)
gc.freeze()
