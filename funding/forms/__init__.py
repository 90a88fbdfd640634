"""Funding's forms, one module per page family, as the views are split: the PI's and the partner's
(``pi``), the unit manager's (``unit``), the review of reports (``reports``)."""
