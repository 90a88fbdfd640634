"""A session ends after SESSION_IDLE_SECONDS without a request, on the pages and in the API."""

import pytest

from iea import sessions

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, start: float = 1_800_000_000):
        self.now = start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sessions.time, "time", clock)
    return clock


def test_an_idle_session_is_signed_out_an_active_one_is_not(client, pi, settings, clock):
    settings.SESSION_IDLE_SECONDS = 3600
    client.force_login(pi)
    assert client.get("/dashboard/").status_code == 200
    for _ in range(3):  # active: the idle clock starts again at each request
        clock.now += 3000
        assert client.get("/dashboard/").status_code == 200
    clock.now += 3601
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/?next=/dashboard/" in response["Location"]
    assert "_auth_user_id" not in client.session
    assert client.get("/dashboard/").status_code == 302


def test_the_api_refuses_once_the_browser_session_went_idle(client, pi, settings, clock):
    settings.SESSION_IDLE_SECONDS = 60
    client.force_login(pi)
    assert client.get("/api/v1/proposals/").status_code == 200
    clock.now += 120
    response = client.get("/api/v1/proposals/")
    assert response.status_code in (401, 403) and response.json()["error"]["status"] == response.status_code
