"""What the tests of the exports share: a downloaded workbook read back as rows of dicts, and who may download.

``ROLES`` is the access matrix of every export: the anonymous visitor and the people without a staff account
(a PI, a reviewer, an institute officer) are sent to the admin's sign-in; a staff member without the model's
view permission is refused; staff download.
"""

import io

from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import StaffFactory, UserFactory, activate_totp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def opened(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    return load_workbook(io.BytesIO(response.content))


def sheet_rows(response, title: str | None = None) -> list[dict]:
    """The rows of the sheet ``title`` (the first sheet by default) as dicts keyed by the headers."""
    book = opened(response)
    sheet = book[title] if title else book.worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def cells(response, title: str | None = None) -> list[dict]:
    """The cells (value, number format, data type) of the sheet, keyed by the headers."""
    book = opened(response)
    sheet = book[title] if title else book.worksheets[0]
    header, *rows = list(sheet.iter_rows())
    names = [cell.value for cell in header]
    return [dict(zip(names, row, strict=True)) for row in rows]


def headers(response, title: str | None = None) -> list[str]:
    book = opened(response)
    sheet = book[title] if title else book.worksheets[0]
    return [cell.value for cell in next(sheet.iter_rows(max_row=1))]


def people(*, officer_of=None, reviewer_in=None) -> dict:
    """One person per role; the officer and the reviewer with two-factor authentication, as they must."""
    from reviews.models import Reviewer
    from tests.factories import InstituteFactory
    from tests.reviews.factories import PanelFactory

    officer = UserFactory()
    activate_totp(officer)
    (officer_of or PanelFactory()).officers.add(officer)
    reviewer = UserFactory()
    activate_totp(reviewer)
    Reviewer.objects.create(user=reviewer, institute=reviewer_in or InstituteFactory())
    return {
        "anonymous": None, "pi": UserFactory(), "reviewer": reviewer, "officer": officer,
        "staff_without_permission": StaffFactory(is_superuser=False), "staff": StaffFactory(),
    }


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def statuses(client, url: str, who: dict) -> dict:
    """``who``'s answer to ``url``: the status, or "sign-in" for a redirect to the admin's sign-in."""
    found = {}
    for role, user in who.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        if response.status_code == 302 and response["Location"].startswith(reverse("admin:login")):
            found[role] = "sign-in"
        else:
            found[role] = response.status_code
            if response.status_code != 200:
                assert "Content-Disposition" not in response
    client.logout()
    return found


EXPECTED = {"anonymous": "sign-in", "pi": "sign-in", "reviewer": "sign-in", "officer": "sign-in",
            "staff_without_permission": 403, "staff": 200}
LONG = ("Étude " * 834)[:5000]  # 5,000 characters (a cell holds 32,767)
