"""The review in the Django admin. Staff set up reviewer pools and panels here (``panels``) and may look at
every record of the review (``records``, read-only: the domain writes them); the directorate screens the
proposals of a call on pages hung on the decision admin (``screening``).
"""

from . import conversations, panels, profiles, records  # noqa: F401  (registers the model admins)
