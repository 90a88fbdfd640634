"""Funding pages: the PI's and the partner's (views/pi.py), the unit manager's (views/unit.py), the review
of reports by officers and staff (views/reports.py)."""

from django.urls import path

from .views import acceptance, amendments, pi, reports, unit

app_name = "funding"
urlpatterns = [
    path("", pi.award_list, name="awards"),
    path("<int:pk>/", pi.award_detail, name="award"),
    path("<int:pk>/letter.pdf", pi.award_letter, name="award_letter"),
    path("<int:pk>/letter/v<int:number>.pdf", pi.award_letter_version, name="award_letter_version"),
    path("<int:pk>/amendments/new/<str:kind>/", amendments.amendment_new, name="amendment_new"),
    path("amendments/<int:amendment_id>/withdraw/", amendments.amendment_withdraw_view, name="amendment_withdraw"),
    path("<int:pk>/accept/", acceptance.award_accept_view, name="award_accept"),
    path("<int:pk>/decline/", acceptance.award_decline_view, name="award_decline"),
    path("<int:pk>/reports/<str:period>/", pi.report_edit, name="report"),
    path("<int:pk>/reports/<str:period>/pdf/", pi.report_pdf, name="report_pdf"),
    path("cosign/<str:token>/", pi.cosign, name="cosign"),
    path("unit/", unit.unit_awards, name="unit_awards"),
    path("unit/<int:pk>/", unit.unit_award, name="unit_award"),
    path("unit/<int:pk>/spending/", unit.spending_add, name="spending_add"),
    path("unit/spending/<int:line_id>/", unit.spending_edit, name="spending_edit"),
    path("unit/spending/<int:line_id>/delete/", unit.spending_delete_view, name="spending_delete"),
    path("unit/amendments/<int:amendment_id>/opinion/", unit.amendment_opinion_view, name="amendment_opinion"),
    path("unit/tranches/<int:tranche_id>/received/", unit.tranche_received, name="tranche_received"),
    path("reports/", reports.pending_reports, name="pending_reports"),
    path("reports/export.xlsx", reports.reports_export, name="reports_export"),
    path("reports/<int:report_id>/", reports.report_review, name="report_review"),
]
