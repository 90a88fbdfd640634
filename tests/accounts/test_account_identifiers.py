"""The person's researcher identifiers (ORCID iD, idHAL) on their account page: optional, checked, audited."""

import html

import pytest
from django.utils import timezone

from iea.accounts.domain import profile_update
from iea.audit.models import AuditEntry
from iea.errors import DomainError

pytestmark = pytest.mark.django_db
URL = "/account/"


def test_a_person_records_their_identifiers(client, pi):
    client.force_login(pi)
    response = client.post(URL, {"first_name": "Paula", "last_name": "Investigator", "language": "en",
                                 "orcid": "https://orcid.org/0000-0002-1825-0097", "hal_id": "Paula-Investigator"})
    assert response.status_code == 302
    pi.refresh_from_db()
    assert (pi.orcid, pi.hal_id) == ("0000-0002-1825-0097", "paula-investigator")
    [entry] = AuditEntry.objects.filter(action="account.profile_update")
    assert entry.data == {"changed": ["orcid", "hal_id"]}
    page = client.get(URL).content.decode()
    assert 'value="0000-0002-1825-0097"' in page


def test_a_wrong_orcid_is_refused_in_the_persons_language(client, pi):
    client.force_login(pi)
    response = client.post(URL, {"first_name": "Paula", "last_name": "Investigator", "language": "en",
                                 "orcid": "0000-0002-1825-0098"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert "son dernier caractère ne correspond pas" in html.unescape(response.content.decode())
    pi.refresh_from_db()
    assert pi.orcid == ""


def test_the_domain_checks_the_identifiers(pi):
    with pytest.raises(DomainError) as refused:
        profile_update(user=pi, actor=pi, first_name="Paula", last_name="Investigator", language="en",
                       orcid="1234", now=timezone.now())
    assert refused.value.code == "orcid_format"
    # Not given: left as they are.
    assert profile_update(user=pi, actor=pi, first_name="Paula", last_name="Investigator", language="en",
                          now=timezone.now()) == []
