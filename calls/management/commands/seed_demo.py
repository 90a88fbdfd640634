"""``manage.py seed_demo``: a realistic demo that a newcomer can sign in to at once.

It ensures the CNRS reference data, about thirty real-looking units, last year's decided call and this
demo's open call (its window always contains today), one user per role with a verified address, and
a few proposals made through the domain functions, so their audit entries and receipts exist.

Running it again changes nothing: every object is looked up before it is made, and it prints the
logins again. The one exception is the open call's deadline: once it has passed, the call is extended
(through ``call_extend``, with a logged reason) so the demo accepts submissions whatever the date.
"""

import datetime as dt
import io
import os
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from calls.domain import (
    PARIS,
    call_accepts_submissions,
    call_deadline,
    call_extend,
    call_open,
    call_publish,
    criteria_seed,
    default_window,
)
from calls.models import Call, CallState, Delegation, Institute, InstitutePriority, Unit
from calls.reference_data import reference_data_ensure
from iea.audit.domain import audit_record
from proposals.domain import (
    content_hash,
    invitation_create,
    letter_attach,
    proposal_create,
    proposal_save_draft,
    proposal_snapshot,
    proposal_submit,
    proposal_withdraw,
    team_member_add,
)
from proposals.letters import check_pdf
from proposals.models import (
    BudgetCategory,
    BudgetLine,
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
    TeamMember,
    TeamSide,
)
from reviews.models import Reviewer

PASSWORD = "demo-password-2027"  # noqa: S105 - a demo login, printed on purpose
# Reviewers, officers and staff must use two-factor authentication: the demo gives them this TOTP
# secret, so `manage.py demo_totp` (or any authenticator app) makes their codes.
DEMO_TOTP_SECRET = "IEADEMOIEADEMOIEADEMOIEADEMOTOTP"  # noqa: S105 - demo only, printed on purpose
TOTP_ROLES = ("reviewer", "officer", "staff")
PAST_YEAR = 2026
OPEN_YEAR = 2027

# (type, number, acronym, name, city, delegation code, main institute, secondary institutes)
UNITS = [
    ("UMR", "5558", "LBBE", "Laboratoire de biométrie et biologie évolutive", "Villeurbanne", "DR07", "INEE", ["INSB", "INS2I"]),
    ("UMR", "5175", "CEFE", "Centre d'écologie fonctionnelle et évolutive", "Montpellier", "DR13", "INEE", []),
    ("UMR", "5174", "EDB", "Évolution et diversité biologique", "Toulouse", "DR14", "INEE", []),
    ("UMR", "6553", "ECOBIO", "Écosystèmes, biodiversité, évolution", "Rennes", "DR17", "INEE", []),
    ("UMR", "7104", "IGBMC", "Institut de génétique et de biologie moléculaire et cellulaire", "Illkirch", "DR10", "INSB", []),
    ("UMR", "5535", "IGMM", "Institut de génétique moléculaire de Montpellier", "Montpellier", "DR13", "INSB", []),
    ("UMR", "8197", "IBENS", "Institut de biologie de l'École normale supérieure", "Paris", "DR02", "INSB", []),
    ("UMR", "9019", "GIC", "Intégrité du génome et cancers", "Villejuif", "DR01", "INSB", []),
    ("UMR", "5182", "LCH", "Laboratoire de chimie de l'ENS de Lyon", "Lyon", "DR07", "INC", []),
    ("UMR", "5253", "ICGM", "Institut Charles Gerhardt Montpellier", "Montpellier", "DR13", "INC", ["INSIS"]),
    ("UMR", "8232", "IPCM", "Institut parisien de chimie moléculaire", "Paris", "DR02", "INC", []),
    ("UMR", "8552", "LKB", "Laboratoire Kastler Brossel", "Paris", "DR02", "INP", []),
    ("UPR", "2940", "NEEL", "Institut Néel", "Grenoble", "DR11", "INP", []),
    ("UMR", "8502", "LPS", "Laboratoire de physique des solides", "Orsay", "DR04", "INP", []),
    ("UMR", "5798", "LOMA", "Laboratoire ondes et matière d'Aquitaine", "Talence", "DR15", "INP", []),
    ("UMR", "9012", "IJCLab", "Laboratoire de physique des 2 infinis Irène Joliot-Curie", "Orsay", "DR04", "IN2P3", []),
    ("UMR", "5821", "LPSC", "Laboratoire de physique subatomique et de cosmologie", "Grenoble", "DR11", "IN2P3", []),
    ("UMR", "7178", "IPHC", "Institut pluridisciplinaire Hubert Curien", "Strasbourg", "DR10", "IN2P3", ["INC", "INEE"]),
    ("UMR", "6457", "SUBATECH", "Laboratoire de physique subatomique et des technologies associées", "Nantes", "DR17", "IN2P3", []),
    ("UMR", "8097", "CMH", "Centre Maurice Halbwachs", "Paris", "DR02", "INSHS", []),
    ("UMR", "5600", "EVS", "Environnement ville société", "Lyon", "DR07", "INSHS", ["INEE"]),
    ("UMR", "7310", "IREMAM", "Institut de recherches et d'études sur les mondes arabes et musulmans", "Aix-en-Provence", "DR12", "INSHS", []),
    ("UMR", "5190", "LARHRA", "Laboratoire de recherche historique Rhône-Alpes", "Lyon", "DR07", "INSHS", []),
    ("UPR", "8001", "LAAS", "Laboratoire d'analyse et d'architecture des systèmes", "Toulouse", "DR14", "INSIS", ["INS2I"]),
    ("UMR", "7340", "M2P2", "Laboratoire de mécanique, modélisation et procédés propres", "Marseille", "DR12", "INSIS", []),
    ("UMR", "5509", "LMFA", "Laboratoire de mécanique des fluides et d'acoustique", "Écully", "DR07", "INSIS", []),
    ("UMR", "5208", "ICJ", "Institut Camille Jordan", "Villeurbanne", "DR07", "INSMI", []),
    ("UMR", "7586", "IMJ-PRG", "Institut de mathématiques de Jussieu–Paris Rive Gauche", "Paris", "DR02", "INSMI", []),
    ("UMR", "5219", "IMT", "Institut de mathématiques de Toulouse", "Toulouse", "DR14", "INSMI", []),
    ("UMR", "8050", "LAMA", "Laboratoire d'analyse et de mathématiques appliquées", "Créteil", "DR02", "INSMI", []),
    ("UMR", "5205", "LIRIS", "Laboratoire d'informatique en image et systèmes d'information", "Villeurbanne", "DR07", "INS2I", []),
    ("UMR", "7503", "LORIA", "Laboratoire lorrain de recherche en informatique et ses applications", "Nancy", "DR06", "INS2I", []),
    ("UMR", "9189", "CRIStAL", "Centre de recherche en informatique, signal et automatique de Lille", "Villeneuve-d'Ascq", "DR18", "INS2I", ["INSIS"]),
    ("UMR", "6072", "GREYC", "Groupe de recherche en informatique, image et instrumentation de Caen", "Caen", "DR19", "INS2I", []),
    ("UMR", "7271", "I3S", "Laboratoire d'informatique, signaux et systèmes de Sophia Antipolis", "Sophia Antipolis", "DR20", "INS2I", []),
    ("UMR", "7154", "IPGP", "Institut de physique du globe de Paris", "Paris", "DR02", "INSU", []),
    ("UMR", "5275", "ISTerre", "Institut des sciences de la Terre", "Grenoble", "DR11", "INSU", []),
    ("UMR", "7327", "ISTO", "Institut des sciences de la Terre d'Orléans", "Orléans", "DR08", "INSU", []),
    ("UMR", "8109", "LESIA", "Laboratoire d'études spatiales et d'instrumentation en astrophysique", "Meudon", "DR05", "INSU", []),
    ("UMR", "7293", "Lagrange", "Laboratoire Joseph-Louis Lagrange", "Nice", "DR20", "INSU", []),
]

# (key, e-mail, full name, language, staff, role shown in the table)
USERS = [
    ("pi", "pi@demo.iea.localhost", "Camille Martin", "fr", False, "PI — no proposal yet in IEA 2027"),
    ("pi2", "pi2@demo.iea.localhost", "Sarah Thompson", "en", False, "PI — submitted proposal"),
    ("pi3", "pi3@demo.iea.localhost", "Thomas Bernard", "fr", False, "PI — withdrawn proposal"),
    ("pi4", "pi4@demo.iea.localhost", "Inès Garcia", "fr", False, "PI — draft in progress"),
    ("reviewer", "reviewer@demo.iea.localhost", "Hélène Rousseau", "fr", False, "Reviewer (INEE)"),
    ("officer", "officer@demo.iea.localhost", "Marc Lefèvre", "fr", False, "Institute officer (INEE)"),
    ("staff", "staff@demo.iea.localhost", "Nadia Benali", "fr", True, "Directorate staff (admin)"),
    ("manager", "manager@demo.iea.localhost", "Julien Moreau", "fr", False, "Unit manager (UMR 5175 CEFE)"),
]

SUMMARY_FR = """Les International Emerging Actions (IEA) sont des projets « PI-to-PI » d'une durée de 2 ans dont la finalité est l'exploration de nouveaux champs de recherche et de nouveaux partenariats à l'international : missions de courte durée, organisation de réunions de travail, premiers travaux de recherche en commun autour d'un projet scientifique partagé.

L'appel {year} est ouvert à toutes les disciplines. Il s'adresse aux personnels exerçant une activité de recherche dans une unité du CNRS et à leurs partenaires à l'étranger."""

SUMMARY_EN = """International Emerging Actions (IEA) are two-year "PI-to-PI" projects that explore new research topics and new international partnerships through short missions, working meetings and first joint research around a shared scientific project.

The {year} call is open to all disciplines. It is addressed to staff doing research in a CNRS unit and to their partners abroad."""

RULES_FR = """Dépôt. Le porteur ou la porteuse, membre d'une unité du CNRS, dépose le dossier sur cette plateforme avant la date de clôture (heure de Paris). Le dossier peut être modifié et déposé à nouveau jusqu'à cette date ; seule la dernière version compte. Chaque porteur ne peut avoir qu'une proposition active dans l'appel.

Lettre de soutien. Une lettre de soutien du partenaire étranger, au format PDF, est attendue lors du dépôt ; elle atteste d'un éventuel cofinancement pour la mise en œuvre du projet.

Priorités. Pour accompagner la politique scientifique du CNRS, les instituts peuvent afficher des priorités thématiques ou géographiques, applicables aux unités qui leur sont rattachées.

Évaluation. Les propositions sont évaluées par les pairs au sein des instituts scientifiques du CNRS selon six critères : qualité scientifique du projet, intérêt de la collaboration à l'international, qualité scientifique et complémentarité des équipes, participation de jeunes chercheurs, éthique et justification financière. Aucun prérequis en termes d'échanges préalables ou de publications antérieures n'est demandé.

Financement. Les actions retenues reçoivent entre 10 000 et 14 000 euros au total sur les 2 ans, pour la mobilité entre les laboratoires, les réunions de travail et les missions de terrain. Gérés par le laboratoire CNRS du porteur, les crédits sont alloués par tranches annuelles au regard du projet initial, des bilans scientifiques et des rapports financiers annuels établis par le porteur et ses partenaires.

Pays. Le partenaire travaille dans un pays autre que la France. Les nouvelles collaborations avec la Russie ne sont pas acceptées."""

RULES_EN = """Filing. The PI, a member of a CNRS unit, files the proposal on this platform before the closing time (Paris time). It may be changed and submitted again until then; only the last version counts. Each PI may hold one active proposal in the call.

Support letter. A letter of support from the foreign partner, as a PDF, is expected at filing; it states any co-funding of the project.

Priorities. In support of CNRS's scientific policy, institutes may publish thematic or geographic priorities that apply to their units.

Evaluation. Proposals are peer-reviewed inside the CNRS scientific institutes against six criteria: scientific quality of the project, value of the international collaboration, scientific quality and complementarity of the teams, participation of early-career researchers, ethics, and financial justification. No prior exchanges or joint publications are required.

Funding. Selected actions receive between €10,000 and €14,000 in total over the 2 years, for mobility between the laboratories, working meetings and field missions. Managed by the PI's CNRS laboratory, the funds are allocated in annual tranches in view of the initial project and of the annual scientific reviews and financial reports written by the PI and the partners.

Countries. The partner works in a country other than France. New collaborations with Russia are not accepted."""

# year → [(institute, themes FR, themes EN, priority countries)]
PRIORITIES = {
    PAST_YEAR: [
        ("INEE", "Biodiversité et changement climatique ; socio-écosystèmes littoraux.",
         "Biodiversity and climate change; coastal socio-ecosystems.", ["BR", "CL", "ZA"]),
        ("INSB", "Biologie des systèmes ; microbiomes.", "Systems biology; microbiomes.", ["JP", "CA"]),
    ],
    OPEN_YEAR: [
        ("INEE", "Biodiversité et changement climatique ; écologie des milieux arides ; régions polaires.",
         "Biodiversity and climate change; ecology of drylands; polar regions.", ["BR", "CL", "NO", "ZA"]),
        ("INSHS", "Migrations et mobilités ; patrimoines en danger.",
         "Migration and mobility; endangered heritage.", ["MA", "SN", "LB", "IN"]),
        ("INS2I", "Intelligence artificielle de confiance ; calcul frugal.",
         "Trustworthy artificial intelligence; frugal computing.", ["JP", "CA", "KR"]),
        ("INSU", "Risques naturels ; interactions océan-climat.",
         "Natural hazards; ocean–climate interactions.", ["CL", "JP", "ID", "NZ"]),
    ],
}


def letter_pdf(lines: list[str]) -> bytes:
    """A one-page PDF letter with real text (Helvetica, so no font file is needed)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    text = "BT /F1 11 Tf 16 TL 72 770 Td " + " T* ".join(f"({line}) Tj" for line in escaped) + " ET"
    stream = StreamObject()
    stream.set_data(text.encode("cp1252", errors="replace"))
    page.replace_contents(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def demo_closing_time(now: dt.datetime) -> dt.datetime:
    """14 days from now at 13:00 Paris time."""
    day = now.astimezone(PARIS).date() + dt.timedelta(days=14)
    return dt.datetime(day.year, day.month, day.day, 13, 0, tzinfo=PARIS)


def demo_opening_time(now: dt.datetime) -> dt.datetime:
    """20 days before now, at midnight Paris time."""
    day = now.astimezone(PARIS).date() - dt.timedelta(days=20)
    return dt.datetime(day.year, day.month, day.day, 0, 0, tzinfo=PARIS)


class Command(BaseCommand):
    help = "Build a demo (units, calls, one user per role, proposals) idempotently and print the logins."

    def handle(self, *args, **options):
        now = timezone.now()
        data_saved = False
        try:
            with transaction.atomic():
                self.build(now=now)
                data_saved = True
        except Exception as exc:
            # Mail is queued on commit: a missing template or renderer must not hide that the demo exists.
            if not data_saved:
                raise
            self.stderr.write(self.style.WARNING(
                f"The demo data is saved, but a notification could not be sent: {type(exc).__name__}: {exc}"
            ))
        self.print_logins()

    # --- building ----------------------------------------------------------------------------------------

    def build(self, *, now: dt.datetime) -> None:
        institutes, delegations = reference_data_ensure()
        self.say(f"Reference data: {institutes} institute(s) and {delegations} delegation(s) created.")
        self.units = self.ensure_units()
        self.users = self.ensure_users()
        self.ensure_roles()
        past = self.ensure_past_call()
        current = self.ensure_open_call(now=now)
        self.ensure_past_proposal(past)
        self.ensure_open_call_proposals(current, now=now)

    def say(self, message: str) -> None:
        self.stdout.write(message)

    def ensure_units(self) -> dict[str, Unit]:
        institutes = {i.code: i for i in Institute.objects.all()}
        delegations = {d.code: d for d in Delegation.objects.all()}
        units, created_count = {}, 0
        for unit_type, number, acronym, name, city, delegation, main, secondary in UNITS:
            unit, created = Unit.objects.get_or_create(
                unit_type=unit_type, number=number,
                defaults={"acronym": acronym, "name": name, "city": city, "delegation": delegations[delegation],
                          "main_institute": institutes[main]},
            )
            if created:
                unit.secondary_institutes.set([institutes[code] for code in secondary])
                created_count += 1
            units[acronym] = unit
        self.say(f"Units: {created_count} created, {len(UNITS) - created_count} already present.")
        return units

    def ensure_users(self) -> dict:
        from allauth.account.models import EmailAddress
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        User = get_user_model()
        users, created_count = {}, 0
        for key, email, full_name, language, staff, _role in USERS:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(
                    email, PASSWORD, full_name=full_name, language=language, is_staff=staff, is_superuser=staff,
                )
                created_count += 1
            address, _created = EmailAddress.objects.get_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
            if not (address.verified and address.primary):
                address.verified = address.primary = True
                address.save(update_fields=["verified", "primary"])
            users[key] = user
            if key in TOTP_ROLES and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(user, DEMO_TOTP_SECRET)
        self.say(f"Users: {created_count} created, {len(USERS) - created_count} already present.")
        return users

    def ensure_roles(self) -> None:
        inee = Institute.objects.get(code="INEE")
        Reviewer.objects.get_or_create(
            user=self.users["reviewer"], institute=inee,
            defaults={"institution": "ECOBIO, Université de Rennes", "sections": "29, 30",
                      "keywords": "community ecology, pollination, drylands, plant–animal interactions"},
        )
        inee.officers.add(self.users["officer"])
        self.units["CEFE"].managers.add(self.users["manager"])

    def ensure_past_call(self) -> Call:
        opens_at, closes_at = default_window(PAST_YEAR)
        call, created = Call.objects.get_or_create(
            year=PAST_YEAR,
            defaults={
                "title_fr": f"IEA {PAST_YEAR}", "title_en": f"IEA {PAST_YEAR}",
                "summary_fr": SUMMARY_FR.format(year=PAST_YEAR), "summary_en": SUMMARY_EN.format(year=PAST_YEAR),
                "rules_fr": RULES_FR, "rules_en": RULES_EN,
                "state": CallState.DECIDED, "opens_at": opens_at, "closes_at": closes_at,
                "budget_min": Decimal(10000), "budget_max": Decimal(14000), "total_envelope": Decimal(1200000),
                "duration_months": 24, "max_active_proposals_per_pi": 1, "excluded_countries": ["RU"],
            },
        )
        self.ensure_criteria_and_priorities(call)
        self.say(f"Call {call}: {'created' if created else 'already present'} ({call.get_state_display()}).")
        return call

    def ensure_open_call(self, *, now: dt.datetime) -> Call:
        staff = self.users["staff"]
        call = Call.objects.filter(year=OPEN_YEAR).first()
        if call is None:
            opens_at = demo_opening_time(now)
            call = Call.objects.create(
                year=OPEN_YEAR, title_fr=f"IEA {OPEN_YEAR}", title_en=f"IEA {OPEN_YEAR}",
                summary_fr=SUMMARY_FR.format(year=OPEN_YEAR), summary_en=SUMMARY_EN.format(year=OPEN_YEAR),
                rules_fr=RULES_FR, rules_en=RULES_EN,
                state=CallState.DRAFT, opens_at=opens_at, closes_at=demo_closing_time(now), grace_minutes=0,
                budget_min=Decimal(10000), budget_max=Decimal(14000), total_envelope=Decimal(1200000),
                duration_months=24, max_active_proposals_per_pi=1, excluded_countries=["RU"],
            )
            # Through the domain, so the call's history shows who published and opened it, and when.
            call_publish(call_id=call.pk, user=staff, now=opens_at - dt.timedelta(days=7))
            call = call_open(call_id=call.pk, user=staff, now=opens_at)
            self.say(f"Call {call}: created, open until {timezone.localtime(call.closes_at):%Y-%m-%d %H:%M %Z}.")
        elif call.state in (CallState.OPEN, CallState.CLOSED) and call_deadline(call) <= now:
            call = call_extend(
                call_id=call.pk, user=staff, now=now, new_closes_at=demo_closing_time(now),
                reason="Demo: the deadline passed, so seed_demo moved it 14 days ahead.",
            )
            self.say(f"Call {call}: deadline passed, extended to {timezone.localtime(call.closes_at):%Y-%m-%d %H:%M %Z}.")
        else:
            self.say(f"Call {call}: already present ({call.get_state_display()}).")
        self.ensure_criteria_and_priorities(call)
        if not call_accepts_submissions(call, now=now):
            self.stderr.write(self.style.WARNING(
                f"Call {call} does not accept submissions now (state: {call.get_state_display()}); "
                "the demo proposals in it are left as they are."
            ))
        return call

    def ensure_criteria_and_priorities(self, call: Call) -> None:
        if not call.criteria.exists():
            criteria_seed(call)
        for code, themes_fr, themes_en, countries in PRIORITIES[call.year]:
            InstitutePriority.objects.get_or_create(
                call=call, institute=Institute.objects.get(code=code),
                defaults={"themes_fr": themes_fr, "themes_en": themes_en, "priority_countries": countries},
            )

    # --- proposals ---------------------------------------------------------------------------------------

    def ensure_past_proposal(self, call: Call) -> None:
        """Last year's proposal of pi@, rejected. The domain refuses a closed call, so these rows are
        written directly, with the version and audit entries the domain would have left."""
        pi = self.users["pi"]
        if Proposal.objects.filter(call=call, pi=pi).exists():
            return
        created_at = dt.datetime(PAST_YEAR, 7, 8, 10, 12, tzinfo=PARIS)
        uploaded_at = dt.datetime(PAST_YEAR, 9, 15, 17, 40, tzinfo=PARIS)
        submitted_at = dt.datetime(PAST_YEAR, 9, 22, 11, 47, tzinfo=PARIS)
        proposal = Proposal.objects.create(
            call=call, pi=pi, reference=f"IEA{PAST_YEAR % 100:02d}-D3M0C1", state=ProposalState.REJECTED,
            title="Genomic signatures of rapid adaptation in invasive ants",
            acronym="ANTADAPT",
            abstract=("Invasive ant populations spread across climates within a few decades. We will compare "
                      "genomes of native Argentinian and introduced European populations to find the "
                      "signatures of rapid adaptation, and prepare a joint sampling campaign."),
            keywords="invasive species, population genomics, ants, adaptation",
            unit=self.units["LBBE"],
            partner_name="María José López", partner_email="mj.lopez@uba.example.ar",
            partner_institution="Universidad de Buenos Aires", partner_country="AR",
            activities="Year 1: sampling mission in Argentina; year 2: analysis workshop in Lyon.",
            ethics_statement="Insects only; sampling permits requested from the provincial authorities.",
            created_at=created_at, updated_at=submitted_at, submitted_at=submitted_at,
        )
        TeamMember.objects.bulk_create([
            TeamMember(proposal=proposal, side=TeamSide.CNRS, name=pi.full_name, email=pi.email,
                       position="Chargée de recherche", institution="UMR 5558 LBBE"),
            TeamMember(proposal=proposal, side=TeamSide.CNRS, name="Hugo Lambert", position="PhD student",
                       institution="UMR 5558 LBBE", early_career=True),
            TeamMember(proposal=proposal, side=TeamSide.PARTNER, name="María José López", email="mj.lopez@uba.example.ar",
                       position="Profesora adjunta", institution="Universidad de Buenos Aires"),
        ])
        amounts = {(1, BudgetCategory.MOBILITY): 4500, (1, BudgetCategory.FIELD): 2000,
                   (2, BudgetCategory.MOBILITY): 3000, (2, BudgetCategory.MEETINGS): 2500}
        BudgetLine.objects.bulk_create(
            BudgetLine(proposal=proposal, year=year, category=category, amount=Decimal(amounts.get((year, category), 0)))
            for year in (1, 2) for category in BudgetCategory.values
        )
        content = letter_pdf(["Universidad de Buenos Aires", "", "Letter of support — ANTADAPT", "",
                              "I support the proposal of Dr Camille Martin (UMR 5558 LBBE).",
                              "No co-funding is committed.", "", "María José López"])
        pdf = check_pdf(SimpleUploadedFile("support-letter-ANTADAPT.pdf", content, content_type="application/pdf"))
        letter = SupportLetter(
            proposal=proposal, original_name=pdf.display_name, size=pdf.size, sha256=pdf.sha256, pages=pdf.pages,
            uploaded_at=uploaded_at, uploaded_by=pi,
        )
        letter.file.save("letter.pdf", ContentFile(pdf.content), save=False)
        letter.save()
        snapshot = proposal_snapshot(proposal, letter)
        ProposalVersion.objects.create(
            proposal=proposal, number=1, submitted_at=submitted_at, submitted_by=pi, content=snapshot,
            content_sha256=content_hash(snapshot), letter=letter,
        )
        audit_record(actor=pi, target=proposal, action="proposal.create", now=created_at, to_state=ProposalState.DRAFT)
        audit_record(actor=pi, target=proposal, action="proposal.submit", now=submitted_at,
                     from_state=ProposalState.DRAFT, to_state=ProposalState.SUBMITTED,
                     data={"version": 1, "content_sha256": content_hash(snapshot), "letter_sha256": letter.sha256})
        self.say(f"Proposal {proposal.reference} ({call}, {pi.email}): created, rejected.")

    def ensure_open_call_proposals(self, call: Call, *, now: dt.datetime) -> None:
        if not call_accepts_submissions(call, now=now):
            return
        builders = [("pi2", self.build_submitted), ("pi3", self.build_withdrawn), ("pi4", self.build_draft)]
        for key, build in builders:
            user = self.users[key]
            existing = Proposal.objects.filter(call=call, pi=user).first()
            if existing is not None:
                continue
            proposal = build(call=call, pi=user, now=now)
            proposal.refresh_from_db()
            self.say(f"Proposal {proposal.reference} ({call}, {user.email}): created, {proposal.get_state_display().lower()}.")

    def _fill(self, proposal: Proposal, *, pi, now: dt.datetime, data: dict, budget: dict, team: list[dict]) -> None:
        result = proposal_save_draft(
            proposal_id=proposal.pk, user=pi, data=data,
            budget={key: Decimal(amount) for key, amount in budget.items()},
            lock_version=proposal.lock_version, now=now,
        )
        if not result.saved:
            raise CommandError(f"Proposal {proposal.reference} was changed while the demo was being built.")
        for member in team:
            team_member_add(proposal_id=proposal.pk, user=pi, now=now, **member)

    def _attach_letter(self, proposal: Proposal, *, pi, now: dt.datetime, name: str, lines: list[str], **cofunding) -> None:
        upload = SimpleUploadedFile(name, letter_pdf(lines), content_type="application/pdf")
        letter_attach(proposal_id=proposal.pk, pdf=check_pdf(upload), now=now, user=pi, **cofunding)

    def build_submitted(self, *, call: Call, pi, now: dt.datetime) -> Proposal:
        proposal = proposal_create(call_id=call.pk, pi=pi, now=now)
        self._fill(
            proposal, pi=pi, now=now,
            data={
                "title": "Pollinator networks under recurrent drought: a Cerrado–Mediterranean comparison",
                "acronym": "POLLIDRY",
                "abstract": (
                    "Droughts are becoming longer in both the Brazilian Cerrado and the Mediterranean basin. "
                    "We will compare how plant–pollinator networks reorganise during dry years in the two "
                    "biomes, using the same field protocol at paired sites, and build a shared database of "
                    "interactions. The action prepares a joint research programme and a co-supervised thesis."
                ),
                "keywords": "pollination, drought, ecological networks, Cerrado, Mediterranean",
                "unit": self.units["CEFE"],
                "partner_name": "Ana Beatriz Souza",
                "partner_email": "ana.souza@unb.example.br",
                "partner_institution": "Universidade de Brasília",
                "partner_country": "BR",
                "activities": (
                    "Year 1: two-week field mission of the CNRS team in the Cerrado (Brasília, Chapada dos "
                    "Veadeiros) in March; one-week working meeting in Montpellier in June.\n"
                    "Year 2: field mission of the Brazilian team in the Cévennes and the Crau in May; "
                    "final workshop in Brasília with both PhD students."
                ),
                "ethics_statement": (
                    "Field work is done under Brazilian SISBIO and French prefectoral permits; no protected "
                    "species is collected. The interaction data will be shared under an open licence."
                ),
            },
            budget={(1, "mobility"): 4000, (1, "meetings"): 1500, (1, "field"): 500,
                    (2, "mobility"): 3500, (2, "meetings"): 1500, (2, "field"): 1000},
            team=[
                {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": "Research scientist (CR)",
                 "institution": "UMR 5175 CEFE"},
                {"side": TeamSide.CNRS, "name": "Lucas Petit", "position": "PhD student",
                 "institution": "UMR 5175 CEFE", "early_career": True},
                {"side": TeamSide.PARTNER, "name": "Ana Beatriz Souza", "email": "ana.souza@unb.example.br",
                 "position": "Associate professor", "institution": "Universidade de Brasília"},
                {"side": TeamSide.PARTNER, "name": "Rafael Lima", "position": "Post-doctoral researcher",
                 "institution": "Universidade de Brasília", "early_career": True},
            ],
        )
        self._attach_letter(
            proposal, pi=pi, now=now, name="Carta de apoio - POLLIDRY.pdf",
            lines=["Universidade de Brasília — Departamento de Ecologia", "", "Letter of support — POLLIDRY", "",
                   "I am pleased to support the International Emerging Action proposed by",
                   "Dr Sarah Thompson (UMR 5175 CEFE, Montpellier).",
                   "Our department will co-fund the field missions in Brazil with BRL 20,000.", "",
                   "Prof. Ana Beatriz Souza"],
            cofunding=True, cofunding_amount=Decimal(20000), cofunding_currency="BRL",
        )
        proposal_submit(proposal_id=proposal.pk, user=pi, now=now)
        return proposal

    def build_withdrawn(self, *, call: Call, pi, now: dt.datetime) -> Proposal:
        proposal = proposal_create(call_id=call.pk, pi=pi, now=now)
        self._fill(
            proposal, pi=pi, now=now,
            data={
                "title": "Soft robotic grippers for fragile agricultural produce",
                "acronym": "SOFTGRIP",
                "abstract": ("We will combine soft pneumatic actuators designed at LAAS with tactile sensing "
                             "developed in Sendai to harvest fragile fruit without damage."),
                "keywords": "soft robotics, tactile sensing, agriculture",
                "unit": self.units["LAAS"],
                "partner_name": "Kenji Watanabe",
                "partner_email": "k.watanabe@tohoku.example.jp",
                "partner_institution": "Tohoku University",
                "partner_country": "JP",
                "activities": "Two research stays of one month per year; a joint workshop in Toulouse in year 2.",
                "ethics_statement": "No human or animal subjects; no dual-use concern.",
            },
            budget={(1, "mobility"): 4500, (1, "meetings"): 1000, (2, "mobility"): 4500, (2, "meetings"): 1000},
            team=[
                {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": "Directeur de recherche",
                 "institution": "UPR 8001 LAAS"},
                {"side": TeamSide.PARTNER, "name": "Kenji Watanabe", "email": "k.watanabe@tohoku.example.jp",
                 "position": "Professor", "institution": "Tohoku University"},
            ],
        )
        self._attach_letter(
            proposal, pi=pi, now=now, name="letter_watanabe.pdf",
            lines=["Tohoku University — Graduate School of Engineering", "", "Letter of support — SOFTGRIP", "",
                   "I support the proposal of Dr Thomas Bernard (UPR 8001 LAAS).", "No co-funding.", "",
                   "Prof. Kenji Watanabe"],
        )
        proposal_submit(proposal_id=proposal.pk, user=pi, now=now)
        proposal_withdraw(
            proposal_id=proposal.pk, user=pi, now=now,
            reason="The partner's laboratory is moving next year; we will apply to the next call.",
        )
        return proposal

    def build_draft(self, *, call: Call, pi, now: dt.datetime) -> Proposal:
        proposal = proposal_create(call_id=call.pk, pi=pi, now=now)
        self._fill(
            proposal, pi=pi, now=now,
            data={
                "title": "Slow-slip events and seismic swarms along the Chilean subduction",
                "acronym": "SLOWCHILE",
                "abstract": ("Slow-slip events may precede large subduction earthquakes. We will combine GNSS "
                             "and seismological records from northern Chile to"),
                "unit": self.units["IPGP"],
                "partner_name": "Diego Fuentes",
                "partner_email": "dfuentes@uchile.example.cl",
                "partner_institution": "Universidad de Chile",
                "partner_country": "CL",
            },
            budget={(1, "mobility"): 3000, (1, "field"): 2500},
            team=[
                {"side": TeamSide.CNRS, "name": pi.full_name, "email": pi.email, "position": "Physicienne adjointe",
                 "institution": "UMR 7154 IPGP"},
            ],
        )
        invitation_create(proposal_id=proposal.pk, user=pi, email="dfuentes@uchile.example.cl", language="en", now=now)
        return proposal

    # --- output ------------------------------------------------------------------------------------------

    def print_logins(self) -> None:
        base = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}/"
        width_role = max(len(row[5]) for row in USERS)
        width_email = max(len(row[1]) for row in USERS)
        lines = [
            "",
            "=" * (width_role + width_email + len(PASSWORD) + 6),
            f"IEA demo ready: {base}",
            f"Administration (staff): {base}admin/",
            "",
            f"{'role':<{width_role}}   {'e-mail':<{width_email}}   password",
            f"{'-' * width_role}   {'-' * width_email}   {'-' * len(PASSWORD)}",
            *(f"{role:<{width_role}}   {email:<{width_email}}   {PASSWORD}" for _key, email, _n, _l, _s, role in USERS),
            "",
            "Reviewer, officer and staff sign in with a two-factor code: get the current one with",
            "  make totp        (or add the secret " + DEMO_TOTP_SECRET + " to an authenticator app)",
            "=" * (width_role + width_email + len(PASSWORD) + 6),
            "",
        ]
        self.stdout.write("\n".join(lines))
