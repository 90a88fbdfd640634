"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions, register_actors, register_names

from .models import ErasureRequest

register_actions({
    "privacy.export": _("Personal data exported"),
    "privacy.erasure_request": _("Erasure requested"),
    "privacy.erasure_done": _("Personal data erased"),
    "privacy.erasure_refuse": _("Erasure refused"),
    "privacy.erasure_refuse_retention": _("Erasure refused: retention period"),
    "privacy.anonymise": _("Proposal anonymised"),
})

# The retention policy applied by ``manage.py privacy_purge`` (iea.site.privacy.domain.anonymise).
register_actors({"privacy_purge": _("automatic purge (retention periods)")})

# What the name of an erasure request reads (iea/audit/actions.py: register_names).
register_names(ErasureRequest, "user")
