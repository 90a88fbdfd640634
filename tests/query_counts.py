"""Pinned query counts, the way pretalx and Zulip write them: a list or a dashboard is measured at two sizes
and the test states the exact number at each (the `queries` fixture of tests/conftest.py).

Equal numbers say the page does not grow with its rows; exact numbers also catch a query added to every row
count *and* to the page, which "does not grow" lets through.
"""

from collections.abc import Callable, Sequence

from django.db import connection
from django.test.utils import CaptureQueriesContext


class QueryCounter:
    """``queries(hit)`` counts what ``hit()`` sends to the database, after one call that warms the process's
    caches (content types, the session) as they are on a running site; ``queries.at_sizes(grow, hit)``
    does it after ``grow(n)`` has added the rows of each size in turn."""

    def __call__(self, hit: Callable[[], object]) -> int:
        _checked(hit())
        with CaptureQueriesContext(connection) as ctx:
            _checked(hit())
        return len(ctx.captured_queries)

    def at_sizes(self, grow: Callable[[int], object], hit: Callable[[], object],
                 sizes: Sequence[int] = (1, 3)) -> tuple[int, ...]:
        counts, made = [], 0
        for size in sizes:
            grow(size - made)
            made = size
            counts.append(self(hit))
        return tuple(counts)


def _checked(result: object) -> None:
    # A page that answered with an error measures nothing: fail here rather than pin the error's count.
    status = getattr(result, "status_code", None)
    assert status is None or status == 200, f"the measured request answered {status}"
    if hasattr(result, "__iter__") and not isinstance(result, (str, bytes, dict)) and status is None:
        list(result)  # a lazy queryset or generator: its queries are part of what is measured
