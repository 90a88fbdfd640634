"""What the access matrices share (``tests/reviews/test_access_matrix.py``, the review's; and
``tests/proposals/test_conversation_access_matrix.py``, #21's): the table's words, how a response reads in them,
and the one check of a cell — the outcome the rules say, a refused POST that changes nothing, an allowed POST
that changes what it names, and no file for a refused download."""

from urllib.parse import urlsplit

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
MFA_SETUP = "/accounts/2fa/totp/activate/"

#   ok     = the view answers this user: 200, or a 302 to a page that is not a sign-in/2FA page
#   login  = 302 to /accounts/login/ (directly, or through the admin's /admin/login/)
#   denied = 404, 403 or 410 (the admin's /admin/login/ answers 403 to a signed-in non-staff user)
#   mfa    = 302 to /accounts/2fa/totp/activate/
OK, LOGIN_, DENIED, MFA = "ok", "login", "denied", "mfa"


def send(client, method, path, data):
    return client.post(path, data) if method == "POST" else client.get(path)


def outcome(client, response) -> str:
    """The table's word for a response (an unknown one is returned as is, so the failure says what it was)."""
    status = response.status_code
    if status in (403, 404, 410):  # 410: the reviewer's own closed assignment, explained, nothing shown
        return DENIED
    if status == 200:
        return OK
    if status == 302:
        location = response["Location"]
        path = urlsplit(location).path
        if path == ADMIN_LOGIN:
            # The admin sends everyone who is not active staff here; it answers anonymous users with
            # allauth's sign-in and signed-in non-staff with 403.
            return outcome(client, client.get(location))
        if path == LOGIN:
            return LOGIN_
        if path == MFA_SETUP:
            return MFA
        return OK
    return f"status {status}"


def describe(role, key, method, path, response, got, expected):
    location = f" → {response['Location']}" if response.status_code == 302 else ""
    return (f"ACCESS MATRIX: {role} on {key} ({method} {path}): got {got!r} "
            f"(HTTP {response.status_code}{location}), the rules say {expected!r}")


def check_cell(*, client, role, key, expected, method, path, data, state, effect: str | None):
    """Send one cell's request and check it against the table: ``state()`` reads what a POST could change;
    ``effect`` names what an allowed POST must change (None: nothing to check). Returns the response."""
    before = state() if method == "POST" else None
    response = send(client, method, path, data)
    got = outcome(client, response)
    assert got == expected, describe(role, key, method, path, response, got, expected)
    if before is not None and got != OK:
        assert state() == before, f"{role} was refused {method} {path} but the database changed"
    if before is not None and got == OK and effect is not None:
        assert state()[effect] != before[effect], f"{role}'s {method} {path} changed no {effect}"
    if got != OK:
        assert "Content-Disposition" not in response, f"{role} was refused {path} yet got a file"
    return response
