import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from iea.accounts.domain import api_token_create


def client_for(user=None, *, scopes: str = "read write", language: str = "en") -> APIClient:
    """An API client as a script would be: a personal token in the Authorization header (none: anonymous)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        _token, secret = api_token_create(user=user, name="test", scopes=scopes, days=30,
                                          now=timezone.now() - dt.timedelta(minutes=1))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api_client():
    """``api_client(user, scopes="read write")``: see ``client_for``."""
    return client_for
