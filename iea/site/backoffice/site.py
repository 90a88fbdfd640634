"""``BackOfficeSite``: the admin site of the platform (``admin.site``, through ``apps.BackOfficeAdminConfig``).

Its index lists the sections of ``sections.SECTIONS`` instead of Django's apps; an app's index page
(``/admin/calls/``, where every breadcrumb leads) goes to the index, at the section of that app's lists.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .sections import FALLBACK, SECTIONS, is_hidden, section_of


class BackOfficeSite(admin.AdminSite):
    site_header = _("IEA · CNRS administration")
    site_title = _("IEA · CNRS administration")
    index_title = _("Directorate's back office")
    enable_nav_sidebar = True

    def get_urls(self):
        """Django's admin URLs, plus the back office's own pages (before them: ``<app_label>/`` would catch
        ``statistics/``)."""
        from .statistics_page import statistics_view  # noqa: PLC0415 -- the site is built before the apps are ready

        return [path("statistics/", self.admin_view(lambda request: statistics_view(request, self)),
                     name="statistics"),
                *super().get_urls()]

    def get_app_list(self, request, app_label=None):
        """The sections, each with the pages and the lists this person may open, in the section's order
        (with ``app_label``, Django's own list of that app's models)."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        by_label = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                by_label[model["model"]._meta.label] = model
        sections = []
        for section in SECTIONS:
            rows = [*self._page_rows(request, section),
                    *[by_label[label] for label in section.models if label in by_label
                      and (request.user.is_superuser or label not in section.superuser_only)]]
            if rows:
                sections.append(self._section_dict(section.key, section.label, rows))
        known = {label for section in SECTIONS for label in (*section.models, *section.hidden)}
        stray = [model for label, model in by_label.items() if label not in known]
        if stray:
            system = next((s for s in sections if s["app_label"] == FALLBACK), None)
            if system is None:
                label = next(s.label for s in SECTIONS if s.key == FALLBACK)
                system = self._section_dict(FALLBACK, label, [])
                sections.append(system)
            system["models"].extend(stray)
        return sections

    def _page_rows(self, request, section) -> list[dict]:
        rows = []
        for page in section.pages:
            app_label, model_name = page.permission_model.split(".")
            if not request.user.has_perm(f"{app_label}.view_{model_name.lower()}"):
                continue
            try:
                url = reverse(page.url_name, current_app=self.name)
            except NoReverseMatch:
                continue
            rows.append({"name": page.label, "object_name": page.url_name.rsplit(":", 1)[-1], "admin_url": url,
                         "add_url": None, "view_only": True, "page": True, "perms": {"view": True}})
        return rows

    def _section_dict(self, key, label, rows) -> dict:
        return {"name": label, "app_label": key, "app_url": f"{reverse('admin:index', current_app=self.name)}"
                f"#section-{key}", "has_module_perms": True, "models": rows, "section": True}

    def index(self, request, extra_context=None):
        """The home: the sections, under the dashboard of a call (``?call=<year>``, else the current one)."""
        from calls.models import Call  # noqa: PLC0415 -- the site is built before the apps are ready

        from .dashboard import call_dashboard, current_call  # noqa: PLC0415

        calls = list(Call.objects.order_by("-year"))
        wanted = request.GET.get("call", "")
        call = next((c for c in calls if str(c.year) == wanted), None) or current_call(calls)
        dashboard = None
        if call and request.user.has_perm("proposals.view_proposal"):
            dashboard = call_dashboard(request, call=call, calls=calls, now=timezone.now())
        return super().index(request, {**(extra_context or {}), "dashboard": dashboard})

    def app_index(self, request, app_label, extra_context=None):
        """An app's page (every breadcrumb names one): the index, at the section of the app's first list."""
        labels = [model._meta.label for model in self._registry if model._meta.app_label == app_label]
        key = next((section_of(label) for label in labels if not is_hidden(label) and section_of(label)), None)
        key = key or next((section_of(label) for label in labels if section_of(label)), FALLBACK)
        return HttpResponseRedirect(f"{reverse('admin:index', current_app=self.name)}#section-{key}")
