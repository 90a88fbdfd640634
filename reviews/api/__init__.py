"""The review in the API: the reviewer's assignments and reviews (``reviewer``), the officer's panels
(``panels``)."""

from .panels import PanelViewSet
from .reviewer import AssignmentViewSet, ReviewViewSet


def register(router):
    router.register("assignments", AssignmentViewSet, basename="assignment")
    router.register("reviews", ReviewViewSet, basename="review")
    router.register("panels", PanelViewSet, basename="panel")
