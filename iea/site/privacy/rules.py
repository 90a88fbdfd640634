"""Who may do what with personal data. A person reaches only their own data (the views read
``request.user``, never an id); directorate staff with the right to change erasure requests process them."""

import rules

from iea.roles import is_directorate


@rules.predicate
def may_change_erasure_requests(user) -> bool:
    # Django's own model permission (the admin's): a member of staff may be given the admin without it.
    return user.has_perm("privacy.change_erasurerequest")


can_process_erasure = is_directorate & may_change_erasure_requests
