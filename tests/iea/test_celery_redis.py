"""Mail leaves through a Celery task: here a real worker consumes it from the real Redis broker."""

import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from iea.celery import app
from proposals import domain
from proposals.letters import check_pdf
from tests.pdfs import pdf_upload

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but {url} does not answer: {error}")
        pytest.skip(f"needs Redis at {url}")
    keys = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    previous = {key: app.conf[key] for key in keys}
    # A queue of its own: parallel test processes and earlier runs cannot feed this worker stale tasks.
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False, broker_connection_retry_on_startup=True,
                    task_default_queue=f"iea-test-{uuid.uuid4().hex}")
    # Producers are pooled per broker: drop any pool made for the previous (in-memory) broker.
    app._pool = None
    app.amqp._producer_pool = None
    yield url
    app.conf.update(previous)
    app._pool = None
    app.amqp._producer_pool = None


def test_receipt_mail_is_sent_by_a_worker_over_redis(redis_broker, draft, pi, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    now = timezone.now()
    domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # The submission commits, then queues the receipt on Redis; the worker sends it.
        domain.proposal_submit(proposal_id=draft.pk, user=pi, now=now)
        deadline = time.monotonic() + 30
        while not [m for m in mail.outbox if m.to == [pi.email]] and time.monotonic() < deadline:
            time.sleep(0.05)
    receipts = [m for m in mail.outbox if m.to == [pi.email]]
    assert [m.attachments[0][0] for m in receipts] == [f"receipt-{draft.reference}-v1.pdf"]
