"""Uploaded files leave only after the view's permission check: streamed by Django, handed to nginx
(X-Accel-Redirect), or as a short-lived signed URL of private S3-compatible storage."""

from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from django.utils import timezone
from moto import mock_aws

from proposals import domain
from proposals.letters import check_pdf
from tests.factories import ProposalFactory, UserFactory
from tests.pdfs import pdf_bytes, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(pi, call):
    proposal = ProposalFactory(pi=pi, call=call)
    content = pdf_bytes(pages=2)
    stored = domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload(content=content)),
                                  now=timezone.now(), user=pi)
    return stored, content


def _url(letter):
    return f"/proposals/{letter.proposal_id}/letters/{letter.pk}/"


def test_django_streams_the_file_to_whoever_may_read_it(client, pi, letter):
    stored, content = letter
    client.force_login(pi)
    response = client.get(_url(stored))
    assert response.status_code == 200 and b"".join(response.streaming_content) == content
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "private, no-store"


def test_with_nginx_the_app_only_says_which_file_after_its_check(client, pi, letter, settings):
    settings.PRIVATE_FILES_SERVE = "nginx"
    stored, _content = letter
    client.force_login(UserFactory())
    refused = client.get(_url(stored))
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused
    client.force_login(pi)
    response = client.get(_url(stored))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/_private/{stored.file.name}"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.fixture
def s3(settings):
    with mock_aws():
        boto3.client("s3", region_name="eu-west-3").create_bucket(
            Bucket="iea-files", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "iea-files", "region_name": "eu-west-3", "default_acl": "private",
                        "querystring_auth": True, "querystring_expire": 60, "file_overwrite": False,
                        "signature_version": "s3v4"}}}
        yield boto3.client("s3", region_name="eu-west-3")


def test_on_s3_the_file_is_private_and_handed_out_as_a_signed_url(client, pi, call, s3):
    proposal = ProposalFactory(pi=pi, call=call)
    content = pdf_bytes(pages=3)
    stored = domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload(content=content)),
                                  now=timezone.now(), user=pi)
    key = stored.file.name
    assert s3.get_object(Bucket="iea-files", Key=key)["Body"].read() == content
    grants = s3.get_object_acl(Bucket="iea-files", Key=key)["Grants"]
    assert [g["Grantee"].get("URI") for g in grants if g["Grantee"].get("URI")] == []  # no public grant
    assert requests.get(f"https://iea-files.s3.eu-west-3.amazonaws.com/{key}", timeout=5).status_code == 403

    client.force_login(UserFactory())
    assert client.get(_url(stored)).status_code == 404
    client.logout()
    assert "/accounts/login/" in client.get(_url(stored))["Location"]

    client.force_login(pi)
    response = client.get(_url(stored))
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    assert query["response-content-disposition"][0].startswith("attachment;")
    fetched = requests.get(response["Location"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == content
