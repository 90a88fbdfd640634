"""Redis down in production (#13): it is both the cache (allauth's sign-in rate limits, the API's
throttles) and Celery's broker. A PI still signs in, reads the API and submits, each answer quick; the
rate limits are off while Redis is away and back with it; the mail of the submission waits in the outbox.

Real HTTP requests through Django's test client, with the cache ``iea.cache.cache_settings`` makes of a
redis:// ``CACHE_URL`` (what docker-compose sets) and the Celery app on a redis:// broker, not eager.
"""

import logging
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from iea.cache import cache_settings
from iea.notifications.models import Notification, NotificationState
from proposals.domain import letter_attach
from proposals.letters import check_pdf
from proposals.models import ProposalState
from tests.factories import PASSWORD, CallFactory, ProposalFactory, UserFactory
from tests.pdfs import pdf_upload
from tests.redis_servers import app_on, free_port

# on_commit must run as in production: the outbox queues the submission's mail after the commit.
pytestmark = pytest.mark.django_db(transaction=True)

BOUND = 2.0  # seconds: the slowest answer allowed while Redis is down
LIMITED = "Too many failed sign-in attempts"


@pytest.fixture
def redis_at(settings):
    """``redis_at(url)``: the cache and the broker are the Redis at ``url``, as in docker-compose."""

    def point(url: str):
        settings.CACHES = {"default": cache_settings(url.rsplit("/", 1)[0] + "/1")}
        return app_on(url.rsplit("/", 1)[0] + "/0")

    return point


def timed(request):
    start = time.monotonic()
    response = request()
    return response, time.monotonic() - start


def _sign_in(client, email, password=PASSWORD):
    return timed(lambda: client.post(reverse("account_login"), {"login": email, "password": password}))


def test_with_redis_down_a_pi_signs_in_reads_the_api_and_submits(client, redis_at, caplog):
    pi = UserFactory(email="pi@outage.example.org")
    proposal = ProposalFactory(call=CallFactory(), pi=pi, complete=True)
    letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    caplog.set_level(logging.WARNING)

    with redis_at(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there: every connection is refused
        # A server that has run before: the first use of the cache imports redis-py (a second, untimed).
        client.get(reverse("account_login"))
        cache.get("warm-up")
        signed_in, sign_in_time = _sign_in(client, pi.email)
        api, api_time = timed(lambda: client.get("/api/v1/proposals/"))
        submitted, submit_time = timed(lambda: client.post(reverse("proposals:submit", args=[proposal.pk])))
        again, again_time = timed(lambda: client.get("/api/v1/proposals/"))

    assert (signed_in.status_code, signed_in["Location"]) == (302, reverse("dashboard"))
    assert api.status_code == 200 and [p["reference"] for p in api.json()["results"]] == [proposal.reference]
    assert submitted.status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SUBMITTED
    assert again.status_code == 200
    assert max(sign_in_time, api_time, submit_time, again_time) < BOUND, (sign_in_time, api_time, submit_time)
    # The receipt is recorded and waits for the dispatcher (the broker refused it).
    receipts = Notification.objects.filter(email=pi.email)
    assert receipts.exists() and set(receipts.values_list("state", flat=True)) == {NotificationState.PENDING}
    # One warning for the cache, one for the broker: not one per cache call or per message.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("cache: Redis is unreachable" in w for w in warnings) == 1, warnings
    assert sum("could not queue" in w for w in warnings) == 1, warnings


@pytest.mark.redis
def test_the_sign_in_rate_limit_is_off_while_redis_is_down_and_back_with_it(client, redis_at, private_redis):
    UserFactory(email="target@outage.example.org")

    def five_failures_then_the_right_password():
        for attempt in range(5):
            response, elapsed = _sign_in(client, "target@outage.example.org", f"wrong-{attempt}")
            assert response.status_code == 200 and elapsed < BOUND, (response.status_code, elapsed)
            assert LIMITED not in response.content.decode()
        return _sign_in(client, "target@outage.example.org")

    with redis_at(private_redis.url):
        refused, _elapsed = five_failures_then_the_right_password()
        assert refused.status_code == 200 and LIMITED in refused.content.decode()

        private_redis.kill()  # and everything it held with it
        for _round in range(2):  # more than the limit: not counted
            signed_in, elapsed = five_failures_then_the_right_password()
            assert (signed_in.status_code, elapsed < BOUND) == (302, True), (signed_in.status_code, elapsed)
            client.post(reverse("account_logout"))

        private_redis.start()  # on the same port, empty
        refused, _elapsed = five_failures_then_the_right_password()
        assert refused.status_code == 200 and LIMITED in refused.content.decode()
