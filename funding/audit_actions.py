"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions, register_names

from .models import Award, Report, Tranche

register_actions({
    "proposal.decide": _("Decision taken"),
    "proposal.decision_mail": _("Decision letter sent"),
    "proposal.decision_clear": _("Decision cleared"),
    "proposal.promote": _("Reserve promoted to selected"),
    "proposal.funded": _("Proposal funded"),
    "award.create": _("Award created"),
    "award.close": _("Award closed"),
    "award.accept": _("Award accepted by the PI"),
    "award.decline": _("Award declined by the PI"),
    "award.cancel": _("Award cancelled"),
    "award.state": _("Award suspended or resumed"),
    "amendment.request": _("Amendment asked by the PI"),
    "amendment.withdraw": _("Amendment withdrawn by the PI"),
    "amendment.opinion": _("Unit's opinion on an amendment given"),
    "amendment.approve": _("Amendment approved"),
    "amendment.refuse": _("Amendment refused"),
    "tranche.update": _("Tranche edited"),
    "tranche.release": _("Tranche released"),
    "tranche.withhold": _("Tranche withheld"),
    "tranche.receipt": _("Tranche receipt confirmed"),
    "spending.record": _("Spending recorded"),
    "spending.update": _("Spending line corrected"),
    "spending.delete": _("Spending line deleted"),
    "report.save": _("Report saved"),
    "report.submit": _("Report submitted"),
    "report.cosign": _("Report co-signed"),
    "report.cosign_decline": _("Co-signature of the report declined by the partner"),
    "report.approve": _("Report approved"),
    "report.changes": _("Changes asked on the report"),
})

# What the names of the objects this app records read (iea/audit/actions.py: register_names).
register_names(Award, "proposal")
register_names(Tranche, "award__proposal")
register_names(Report, "award__proposal")
