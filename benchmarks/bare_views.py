"""The surge's baseline: the same database writes as the PI's journey, by plain Django views without the
app's rules — no permission predicate, no form, no CSRF, no PDF check, no lock, no checklist, no audit
entry, no outbox, no templates. Served by the same gunicorn as the app, in the same run (surge.py).

Per journey, like the app: read the draft, save the fields and the budget lines, store the letter file
and its row, freeze a version row and mark the proposal submitted, read the result.
"""

import hashlib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.models import Unit
from proposals.models import BudgetLine, Proposal, ProposalState, ProposalVersion, SupportLetter

TEXT_FIELDS = ["title", "acronym", "abstract", "keywords", "partner_name", "partner_email", "partner_institution",
               "partner_country", "activities", "ethics_statement"]


def edit(request, pk):
    proposal = Proposal.objects.get(pk=pk)
    return HttpResponse(f"<p>{proposal.reference} {proposal.lock_version}</p>")


@csrf_exempt
@require_POST
def save(request, pk):
    fields = {name: request.POST.get(name, "") for name in TEXT_FIELDS}
    unit_type, _, number = request.POST.get("unit_code", "").partition(" ")
    unit_id = Unit.objects.filter(unit_type=unit_type, number=number).values_list("pk", flat=True).first()
    with transaction.atomic():
        Proposal.objects.filter(pk=pk).update(**fields, unit_id=unit_id, updated_at=timezone.now(),
                                              lock_version=F("lock_version") + 1)
        for line in BudgetLine.objects.filter(proposal_id=pk):
            amount = Decimal(request.POST.get(f"budget_{line.year}_{line.category}") or 0)
            if amount != line.amount:
                BudgetLine.objects.filter(pk=line.pk).update(amount=amount)
    return HttpResponse("saved")


@csrf_exempt
@require_POST
def letter(request, pk):
    upload = request.FILES["file"]
    content = upload.read()
    letter = SupportLetter(proposal_id=pk, original_name=upload.name, size=len(content),
                           sha256=hashlib.sha256(content).hexdigest(), pages=1, uploaded_at=timezone.now(),
                           uploaded_by=request.user, cofunding=bool(request.POST.get("cofunding")),
                           cofunding_amount=request.POST.get("cofunding_amount") or None,
                           cofunding_currency=request.POST.get("cofunding_currency", ""))
    letter.file.save(upload.name, ContentFile(content), save=False)
    letter.save()
    return HttpResponse("uploaded")


@csrf_exempt
@require_POST
def submit(request, pk):
    now = timezone.now()
    with transaction.atomic():
        proposal = Proposal.objects.get(pk=pk)
        letter = SupportLetter.objects.filter(proposal_id=pk).order_by("-pk").first()
        number = ProposalVersion.objects.filter(proposal_id=pk).count() + 1
        content = {name: str(getattr(proposal, name)) for name in TEXT_FIELDS}
        ProposalVersion.objects.create(proposal=proposal, number=number, submitted_at=now, submitted_by=request.user,
                                       content=content, content_sha256=hashlib.sha256(repr(content).encode()).hexdigest(),
                                       letter=letter)
        Proposal.objects.filter(pk=pk).update(state=ProposalState.SUBMITTED, submitted_at=now)
    return HttpResponseRedirect(f"/bench/bare/{pk}/")


def detail(request, pk):
    version = ProposalVersion.objects.filter(proposal_id=pk).order_by("-number").values_list("number", flat=True).first()
    return JsonResponse({"version": version})
