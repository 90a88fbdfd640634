"""The directorate manages awards, tranches and reports here. Every change goes through ``funding.domain``:
releasing, withholding or changing a tranche, suspending or resuming an award, reviewing a report. This
module only collects the input (a reason, a comment, new tranche amounts) and reports what the domain
said; the other records are read-only.
"""

from . import awards, reports  # noqa: F401  (registers the model admins)
