"""The personal-data rules (GDPR): export, erasure of an account, retention and anonymisation of proposals.

Views, admin actions and the ``privacy_purge`` command call these functions; none re-implements a rule.
One module per concept; this package exposes them all, so callers write ``iea.site.privacy.domain.X``.
"""

from .anonymise import AnonymiseResult, PrivacyError, proposal_anonymise, proposals_anonymise, scrub_snapshot
from .erasure import (
    ERASED_NAME,
    account_anonymise,
    erasure_blockers,
    erasure_process,
    erasure_refuse,
    erasure_request,
)
from .export import personal_data, personal_data_export
from .retention import (
    Blocker,
    past_retention,
    retained_until,
    retention_blocker,
    with_retention_data,
    years_after,
)

__all__ = [
    "ERASED_NAME", "AnonymiseResult", "Blocker", "PrivacyError", "account_anonymise", "erasure_blockers",
    "erasure_process", "erasure_refuse", "erasure_request", "past_retention", "personal_data",
    "personal_data_export", "proposal_anonymise", "proposals_anonymise", "retained_until", "retention_blocker",
    "scrub_snapshot", "with_retention_data", "years_after",
]
