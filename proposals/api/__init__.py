"""The PI's proposals in the API (``views``), and what it shows of one (``reading``)."""

from .views import ProposalViewSet


def register(router):
    router.register("proposals", ProposalViewSet, basename="proposal")
