import datetime as dt
import pytest
from django.utils import timezone
from iea.notifications.domain import dispatch
from iea.notifications.models import Notification
from tests.reviews.factories import AssignmentFactory
from tests.funding.factories import award_factory
from funding.reminders import report_due_moment
from tests.factories import UserFactory
from reviews.models import AssignmentState

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)

def test_show(mailoutbox):
    now = timezone.now()
    a = AssignmentFactory(due_at=now - 3 * DAY - dt.timedelta(hours=2), created_at=now - 30 * DAY, state=AssignmentState.INVITED)
    a.panel.officers.add(UserFactory(email="off@x.org", full_name="Olga"))
    b = AssignmentFactory(due_at=now + 2 * DAY - dt.timedelta(hours=2), created_at=now - 30 * DAY)
    award = award_factory()
    r = award.reports.get(period="year1")
    Notification.objects.all().delete()
    dispatch(now=now)
    dispatch(now=report_due_moment(r) - 7 * DAY + dt.timedelta(hours=1))
    for m in mailoutbox:
        print("=" * 30, m.to, "\nSUBJECT:", m.subject, "\n" + m.body, "\n--- html\n", m.alternatives[0][0])
