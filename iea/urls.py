from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView
from django.views.i18n import JavaScriptCatalog

from calls.views import home
from proposals.views import dashboard

from . import views
from .accounts import views as accounts_views
from .notifications import dev_views as notifications_dev_views
from .site.backoffice.statistics_page import officer_statistics_view
from .site.figures import call_figures

# A bug under /api/ answers in the API's JSON error format, elsewhere with the HTML page.
handler400 = "iea.api.errors.bad_request"
handler403 = "iea.api.errors.permission_denied"
handler404 = "iea.api.errors.page_not_found"
handler500 = "iea.api.errors.server_error"


urlpatterns = [
    path("", home, name="home"),
    path("dashboard/", dashboard, name="dashboard"),
    path("admin/login/", views.admin_login, name="admin_login"),
    # Passwords change on the site's page (allauth: its rules, its mail, two-factor), not on Django's admin copy.
    path("admin/password_change/", RedirectView.as_view(pattern_name="account_change_password"),
         name="admin_password_change"),
    path("admin/", admin.site.urls),
    path("api/", include("iea.site.api_urls")),
    path("account/", accounts_views.account_page, name="account"),
    path("accounts/calendar/", accounts_views.calendar_page, name="calendar"),
    path("accounts/calendar/reset/", accounts_views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:key>.ics", accounts_views.calendar_feed, name="calendar_feed"),
    path("accounts/api-tokens/", accounts_views.api_tokens_page, name="api_tokens"),
    path("accounts/api-tokens/new/", accounts_views.api_token_create_view, name="api_token_create"),
    path("accounts/api-tokens/<int:pk>/revoke/", accounts_views.api_token_revoke_view, name="api_token_revoke"),
    path("accounts/notifications/", accounts_views.notifications_page, name="notifications"),
    path("accounts/privacy/", include("iea.site.privacy.urls")),
    path("notifications/unsubscribe/<str:token>/", accounts_views.announcements_unsubscribe,
         name="announcements_unsubscribe"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("calls/<int:year>/figures/", call_figures, name="call_figures"),
    path("", include("calls.urls")),
    path("proposals/", include("proposals.urls")),
    path("proposals/", include("reviews.urls.pi")),  # the evaluation summary, beside the proposal's page
    path("proposals/", include("reviews.urls.messages")),  # the conversations of a proposal and its award (#21)
    path("review/", include("reviews.urls.reviewer")),
    path("panels/statistics/", officer_statistics_view, name="officer_statistics"),
    path("panels/", include("reviews.urls.officer")),
    path("awards/", include("funding.urls")),
    # Answers 404 unless DEBUG is on (iea.notifications.dev_views).
    path("dev/mails/", notifications_dev_views.mail_viewer, name="dev_mails"),
    path("styleguide/", TemplateView.as_view(template_name="components/styleguide.html"), name="styleguide"),
]
