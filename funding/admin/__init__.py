"""The directorate manages awards, tranches and reports here, and decides (the decision pages, hung on
reviews' decision admin). Every change goes through ``funding.domain``: deciding and announcing,
releasing, withholding or changing a tranche, suspending or resuming an award, reviewing a report. This
package only collects the input (a reason, a comment, new tranche amounts) and reports what the domain
said; the other records are read-only.
"""

from . import amendments, awards, decisions, reports  # noqa: F401  (registers the model admins)
