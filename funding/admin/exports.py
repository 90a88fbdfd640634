"""The decisions page's *Export to Excel*: the decisions of the whole call (of one institute with
``?institute=<pk>``), for those who may read the page."""

from django.shortcuts import get_object_or_404
from django.utils import timezone

from calls.models import Call
from iea.admin_mixins import require_view_permission
from iea.http import private_download
from iea.spreadsheets import XLSX_CONTENT_TYPE, workbook

from ..exports import decision_sheets


def decisions_export(request, model_admin, call_id: int):
    require_view_permission(request, model_admin)
    call = get_object_or_404(Call, pk=call_id)
    institute = request.GET.get("institute", "")
    sheets = decision_sheets(call=call, institute_id=int(institute) if institute.isdigit() else None)
    filename = f"decisions-{call.year}-{timezone.localdate():%Y-%m-%d}.xlsx"
    return private_download(workbook(sheets), filename=filename, content_type=XLSX_CONTENT_TYPE)
