"""Staff run a call from the back office's home by following its links, never typing an address: from `/admin/`
every page of the call's work is reachable in a few clicks — screening, the panels, the decisions, the awards,
the reports, the statistics — and no link in the back office leads to an error.

Walks the demo (`seed_demo`: a call open, one in review, one decided with awards) as its staff member, as a
browser would: GET only, every `href` of each page, breadth first."""

import io
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from calls.models import Call, CallState
from reviews.models import Panel

pytestmark = pytest.mark.django_db

# Links that are not pages of the work: signing out, the language, files, the site's own pages, the library
# pages of Django's admin (history, deletion, password), and the filters' variants of a list (one is enough).
SKIP = re.compile(r"^/admin/(logout|password_change|jsi18n|r)/|/(history|delete)/$|\.(xlsx|pdf|zip|ics|csv)$")
WITHIN = ("/admin/", "/panels/")
MAX_PAGES = 400


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href and not href.startswith(("#", "mailto:", "javascript:")):
            self.hrefs.append(href)


def _shape(url: str) -> str:
    """A list with other filters or another page, another object's page: the same page to walk."""
    return re.sub(r"\d+", "N", urlsplit(url).path)


def walk(client, start: str = "/admin/"):
    """Breadth first from ``start``: {url: (status, depth, the page it was found on)}."""
    seen, shapes = {start: (None, 0, "")}, {_shape(start)}
    queue = deque([start])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        depth, parent = seen[url][1], seen[url][2]
        seen[url] = (response.status_code, depth, parent)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            target = urljoin(url, href)
            path = urlsplit(target)
            if path.netloc not in ("", "testserver") or not path.path.startswith(WITHIN) or SKIP.search(path.path):
                continue
            target = path.path + (f"?{path.query}" if path.query else "")
            if target in seen or _shape(target) in shapes:
                continue
            shapes.add(_shape(target))
            seen[target] = (None, depth + 1, url)
            queue.append(target)
    return seen


@pytest.fixture
def demo(client):
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    client.force_login(get_user_model().objects.get(email__startswith="staff@"))
    return client


def test_every_page_of_a_call_is_a_few_clicks_from_the_home_and_no_link_is_broken(demo):
    pages = walk(demo)
    assert len(pages) < MAX_PAGES, "the walk stopped before the end: raise MAX_PAGES"
    broken = {url: (status, parent) for url, (status, _depth, parent) in pages.items()
              if status not in (200, 302)}
    assert broken == {}

    in_review = Call.objects.get(state=CallState.IN_REVIEW)
    decided = Call.objects.get(state=CallState.DECIDED)
    panel = Panel.objects.filter(call=in_review).first()
    wanted = {
        "screening": reverse("admin:reviews_screening", args=[in_review.pk]),
        "decisions": reverse("admin:reviews_decisions", args=[decided.pk]),
        "panel table": reverse("panel:table", args=[panel.pk]),
        "panel assignments": reverse("panel:assignments", args=[panel.pk]),
        "statistics": reverse("admin:statistics"),
        "awards": reverse("admin:funding_award_changelist"),
        "reports": reverse("admin:funding_report_changelist"),
        "calls": reverse("admin:calls_call_changelist"),
    }
    # The screening page of a call: of this call or another, one page of each kind is walked.
    reached = {name: min((depth for url, (status, depth, _p) in pages.items()
                          if status == 200 and _shape(url) == _shape(path)), default=None)
               for name, path in wanted.items()}
    assert {name: depth for name, depth in reached.items() if depth is None or depth > 3} == {}, reached
