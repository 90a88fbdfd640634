"""The demo's fixed data (units, users, call texts, priorities) and small helpers, for ``seed_demo``."""

import io
import zlib
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.utils import translation
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from iea.accounts.models import split_full_name

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
    ("UMR", "5553", "LECA", "Laboratoire d'écologie alpine", "Grenoble", "DR11", "INEE", []),
    ("UMR", "7263", "IMBE", "Institut méditerranéen de biodiversité et d'écologie marine et continentale", "Marseille", "DR12", "INEE", []),
    ("UMR", "8079", "ESE", "Écologie, systématique et évolution", "Orsay", "DR04", "INEE", []),
    ("UMR", "7372", "CEBC", "Centre d'études biologiques de Chizé", "Villiers-en-Bois", "DR08", "INEE", []),
    ("UMR", "5023", "LEHNA", "Laboratoire d'écologie des hydrosystèmes naturels et anthropisés", "Villeurbanne", "DR07", "INEE", []),
    ("UMR", "7204", "CESCO", "Centre d'écologie et des sciences de la conservation", "Paris", "DR02", "INEE", []),
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
    ("pi", "pi@demo.iea.localhost", "Camille Martin", "fr", False, "PI — IEA 2026 proposal in review, none in 2027"),
    ("pi2", "pi2@demo.iea.localhost", "Sarah Thompson", "en", False, "PI — submitted proposal (IEA 2027), award (IEA 2025)"),
    ("pi3", "pi3@demo.iea.localhost", "Thomas Bernard", "fr", False,
     "PI — withdrawn proposal (IEA 2027), call announcements"),
    ("pi4", "pi4@demo.iea.localhost", "Inès Garcia", "fr", False, "PI — draft in progress (IEA 2027)"),
    ("coapplicant", "coapplicant@demo.iea.localhost", "Lucas Petit", "fr", False,
     "Co-applicant — edits pi4@'s draft SLOWCHILE (IEA 2027)"),
    ("reviewer", "reviewer@demo.iea.localhost", "Hélène Rousseau", "fr", False, "Reviewer (INEE), 3 assignments"),
    ("officer", "officer@demo.iea.localhost", "Marc Lefèvre", "fr", False, "Institute officer (INEE panel)"),
    ("staff", "staff@demo.iea.localhost", "Nadia Benali", "fr", True, "Directorate staff (admin)"),
    ("manager", "manager@demo.iea.localhost", "Julien Moreau", "fr", False, "Unit manager (UMR 5175 CEFE)"),
]

# Subscribed to call announcements: when the demo runs, the dispatcher's first tick announces the open call.
ANNOUNCEMENT_SUBSCRIBERS = ["pi3"]

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


# The form of pi2's submitted proposal in IEA 2027.
POLLIDRY_FORM = {
    "title": "Pollinator networks under recurrent drought: a Cerrado–Mediterranean comparison",
    "acronym": "POLLIDRY",
    "abstract": (
        "Droughts are becoming longer in both the Brazilian Cerrado and the Mediterranean basin. "
        "We will compare how plant–pollinator networks reorganise during dry years in the two "
        "biomes, using the same field protocol at paired sites, and build a shared database of "
        "interactions. The action prepares a joint research programme and a co-supervised thesis."
    ),
    "keywords": "pollination, drought, ecological networks, Cerrado, Mediterranean",
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
}

# Printed after the logins when IEA {year} is in review.
WHAT_TO_TRY = [
    "What to try (IEA {year} is in review):",
    "  reviewer@  My reviews: accept the invitation (LAGUNES), score the accepted proposal (SNOWALP),",
    "             or declare a conflict",
    "  officer@   Panels → IEA {year} — INEE: the table and its export, Assign automatically,",
    "             recommend (THERMOFISH: the reviewers disagree), rank",
    "  staff@     Administration → Peer review → Screening and decisions by call → IEA {year} →",
    "             Decisions: decide, then send the mails (pi@ gets ANTADAPT's)",
    "  Two-factor code for each of them: make totp",
]

def state_in_english(obj) -> str:
    """An object's state as the console shows it: the command speaks English throughout, whatever
    LANGUAGE_CODE is (the labels are translated, and French by default)."""
    with translation.override("en"):
        return str(obj.get_state_display())


def euros(amount: Decimal | int, *, cents: bool = False) -> str:
    """An amount in English: €12,000 (€1,234.50 with ``cents``)."""
    return f"€{amount:,.2f}" if cents else f"€{amount:,.0f}"


def letter_pdf(lines: list[str]) -> bytes:
    """A one-page PDF letter with real text (Helvetica, so no font file is needed)."""
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


def demo_user_ensure(email: str, full_name: str, language: str, *, staff: bool = False, totp: bool = False):
    """A demo user who can sign in at once: the demo password, a verified primary address and, for those
    who must use two-factor authentication, the demo TOTP secret; a first and a last name, as sign-up asks
    (``full_name`` is "First Last": every demo name's first word is the first name). An existing user is kept;
    only what signing in needs, and a name if it has none, is added. Returns ``(user, created)``."""
    User = get_user_model()
    first_name, last_name = split_full_name(full_name)
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(
            email, PASSWORD, first_name=first_name, last_name=last_name, language=language, is_staff=staff,
            is_superuser=staff,
        )
    elif not (user.first_name and user.last_name) and user.is_active:
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
    address, _created = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    if not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    if totp and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
    return user, created


# --- IEA 2026, in review ---------------------------------------------------------------------------------

# PIs of the other IEA 2026 proposals: (key, full name, language)
RESEARCHERS = [
    ("researcher1", "Élise Fontaine", "fr"), ("researcher2", "Antoine Girard", "fr"),
    ("researcher3", "Laura Bianchi", "en"), ("researcher4", "Mathieu Roux", "fr"),
    ("researcher5", "Chloé Dubois", "fr"), ("researcher6", "Youssef El Amrani", "fr"),
    ("researcher7", "Pauline Mercier", "fr"), ("researcher8", "Nathan Leroy", "fr"),
]

# The INEE pool besides reviewer@: (key, full name, language, unit code, institution, keywords, sections, external).
# reviewer3 works in EDB, the unit of THERMOFISH's PI (a detected conflict); reviewer5 works at the
# institution of GLACIRIV's partner (detected when the officer assigns automatically).
REVIEWERS = [
    ("reviewer2", "Olivier Chevalier", "fr", "UMR 5600", "EVS, Université Lumière Lyon 2",
     "socio-ecosystems, coastal ecology, landscape ecology, small-scale fisheries", "31, 39", False),
    ("reviewer3", "Claire Vasseur", "fr", "UMR 5174", "EDB, Université de Toulouse",
     "population genomics, adaptation, evolutionary biology, phylogeography", "29", False),
    ("reviewer4", "Sophie Marchand", "fr", "UMR 7204", "CESCO, Muséum national d'Histoire naturelle",
     "conservation biology, biodiversity monitoring, climate change, seabirds", "30", False),
    ("reviewer5", "Catalina Rojas", "en", "", "Pontificia Universidad Católica de Chile",
     "drylands, plant ecology, climate change, freshwater ecology", "", True),
]

# One row per proposal: the PI's key, unit acronym, PI's position, the moments (month, day, hour, minute)
# the draft was started, the letter uploaded and the proposal submitted, the partner (name, e-mail,
# institution, country, position), other team members (side, name, position, early career), the budget
# per category (year 1, year 2), the letter's co-funding (amount, currency) and the form's fields.
PROPOSALS_2026 = [
    {
        "pi": "pi", "unit": "LBBE", "position": "Chargée de recherche", "moments": ((7, 8, 10, 12), (9, 15, 17, 40), (9, 22, 11, 47)),
        "partner": ("María José López", "mj.lopez@uba.example.ar", "Universidad de Buenos Aires", "AR", "Profesora adjunta"),
        "team": [("cnrs", "Hugo Lambert", "PhD student", True)],
        "budget": {"mobility": (4500, 3000), "meetings": (0, 2500), "field": (2000, 0)}, "cofunding": None,
        "title": "Genomic signatures of rapid adaptation in invasive ants", "acronym": "ANTADAPT",
        "abstract": "Invasive ant populations spread across climates within a few decades. We will compare genomes of native Argentinian and introduced European populations to find the signatures of rapid adaptation, and prepare a joint sampling campaign.",
        "keywords": "invasive species, population genomics, ants, adaptation",
        "activities": "Year 1: sampling mission in Argentina; year 2: analysis workshop in Lyon.",
        "ethics_statement": "Insects only; sampling permits requested from the provincial authorities.",
    },
    {
        "pi": "researcher1", "unit": "CEFE", "position": "Chargée de recherche", "moments": ((6, 18, 9, 30), (9, 10, 15, 2), (9, 29, 16, 5)),
        "partner": ("Juliana Carvalho", "j.carvalho@unesp.example.br", "Universidade Estadual Paulista", "BR", "Professora associada"),
        "team": [("cnrs", "Maxime Perrin", "PhD student", True), ("partner", "Bruno Oliveira", "Post-doctoral researcher", True)],
        "budget": {"mobility": (4500, 4500), "meetings": (1000, 1500), "field": (1500, 1000)}, "cofunding": (15000, "BRL"),
        "title": "Frugivore networks and the regeneration of the Brazilian Atlantic Forest", "acronym": "FRUGINET",
        "abstract": "Large fruit-eating birds and mammals disperse most tree seeds of the Atlantic Forest, and they vanish first from forest fragments. We will map plant–frugivore networks along a fragmentation gradient near Rio Claro, compare them with Mediterranean networks studied in Montpellier, and test which losses of interactions slow forest regeneration.",
        "keywords": "plant–animal interactions, seed dispersal, community ecology, Atlantic Forest",
        "activities": "Year 1: field mission of the CNRS team in São Paulo state (camera traps, seed rain); working meeting in Montpellier.\nYear 2: stay of the Brazilian post-doc in Montpellier to analyse the networks; joint workshop in Rio Claro.",
        "ethics_statement": "Observation only; camera traps under SISBIO permit. Data shared under an open licence.",
    },
    {
        "pi": "researcher2", "unit": "EDB", "position": "Chargé de recherche", "moments": ((8, 28, 11, 0), (9, 24, 10, 15), (9, 30, 11, 20)),
        "partner": ("Marie-Ève Tremblay", "me.tremblay@ulaval.example.ca", "Université Laval", "CA", "Professeure agrégée"),
        "team": [("cnrs", "Inès Barbier", "Post-doctoral researcher", True)],
        "budget": {"mobility": (4000, 3500), "meetings": (1000, 1000), "field": (1000, 1000)}, "cofunding": (8000, "CAD"),
        "title": "Thermal adaptation of lake fish in Quebec and the Pyrenees", "acronym": "THERMOFISH",
        "abstract": "Mountain and boreal lakes warm faster than the air above them. We will measure the thermal tolerance of brook charr and brown trout populations from lakes of contrasting warming histories, and look for its genetic basis, to ask whether adaptation can keep pace.",
        "keywords": "evolutionary biology, adaptation, freshwater ecology, thermal tolerance",
        "activities": "Year 1: sampling in Pyrenean lakes with the Canadian team; year 2: experiments at Laval's aquatic station and a joint workshop in Toulouse.",
        "ethics_statement": "Fish experiments approved by the Laval animal care committee; French sampling under prefectoral authorisation.",
    },
    {
        "pi": "researcher3", "unit": "LECA", "position": "Chargée de recherche", "moments": ((7, 21, 14, 0), (9, 18, 9, 10), (9, 29, 22, 40)),
        "partner": ("Ingrid Haugen", "ingrid.haugen@ntnu.example.no", "Norwegian University of Science and Technology", "NO", "Associate professor"),
        "team": [("cnrs", "Paul Lemoine", "PhD student", True)],
        "budget": {"mobility": (4200, 4000), "meetings": (800, 1200), "field": (1500, 1500)}, "cofunding": None,
        "title": "Snowmelt timing and alpine plant communities: the Alps and the Scandes compared", "acronym": "SNOWALP",
        "abstract": "Snow melts earlier every decade in the Alps and in Scandinavia. Using snow-removal plots in both ranges, we will follow how early melt reshuffles alpine plant communities and their flowering, and build a shared protocol for long-term monitoring.",
        "keywords": "alpine ecology, plant ecology, snow cover, community ecology",
        "activities": "Each summer, a two-week joint field campaign (Lautaret pass, Dovrefjell); a data workshop in Trondheim in year 2.",
        "ethics_statement": "No protected species sampled; authorisations from the Écrins national park and Norwegian landowners.",
    },
    {
        "pi": "researcher4", "unit": "IMBE", "position": "Directeur de recherche", "moments": ((9, 1, 10, 0), (9, 26, 16, 45), (9, 30, 10, 55)),
        "partner": ("Fatima Zahra El Idrissi", "fz.elidrissi@ump.example.ma", "Université Mohammed Premier", "MA", "Professeure"),
        "team": [("partner", "Omar Tazi", "PhD student", True)],
        "budget": {"mobility": (3500, 3300), "meetings": (1000, 1500), "field": (800, 700)}, "cofunding": None,
        "title": "Coastal lagoons as socio-ecosystems: Nador and the Étang de Berre", "acronym": "LAGUNES",
        "abstract": "The Nador lagoon and the Étang de Berre share a history of industrial pressure, restoration and small-scale fishing. We will compare their biodiversity trajectories with the fishers' own knowledge, to help both lagoons' managers.",
        "keywords": "coastal socio-ecosystems, lagoons, small-scale fisheries, biodiversity",
        "activities": "Year 1: surveys and interviews in Nador; year 2: in Berre; a final meeting with both lagoons' managers in Marseille.",
        "ethics_statement": "Interviews with informed consent; personal data handled under the GDPR and Moroccan law 09-08.",
    },
    {
        "pi": "researcher5", "unit": "ESE", "position": "Maîtresse de conférences", "moments": ((6, 30, 9, 0), (9, 12, 11, 30), (9, 25, 9, 30)),
        "partner": ("Thandiwe Mokoena", "t.mokoena@uct.example.za", "University of Cape Town", "ZA", "Senior lecturer"),
        "team": [("cnrs", "Léa Fabre", "PhD student", True), ("partner", "Sipho Ndlovu", "MSc student", True)],
        "budget": {"mobility": (4300, 4300), "meetings": (1000, 1000), "field": (1000, 1000)}, "cofunding": (40000, "ZAR"),
        "title": "Drought resilience of fynbos and Mediterranean shrublands", "acronym": "FYNMED",
        "abstract": "Fynbos and garrigue are both fire- and drought-prone shrublands under a Mediterranean climate. We will compare how their dominant shrubs recover after extreme droughts, combining field surveys with common-garden experiments in Cape Town and Orsay.",
        "keywords": "climate change, drylands, plant ecology, fynbos",
        "activities": "Year 1: field survey in the Western Cape; year 2: common-garden experiments in Orsay and a joint workshop.",
        "ethics_statement": "Seeds collected under a CapeNature permit; no export of living plants.",
    },
    {
        "pi": "researcher6", "unit": "CEBC", "position": "Chargé de recherche", "moments": ((8, 4, 8, 45), (9, 20, 10, 0), (9, 28, 14, 15)),
        "partner": ("Aroha Williams", "a.williams@otago.example.nz", "University of Otago", "NZ", "Lecturer"),
        "team": [],
        "budget": {"mobility": (5000, 4400), "meetings": (0, 1500), "field": (1500, 0)}, "cofunding": None,
        "title": "Seabird foraging under marine heatwaves in the Southern Ocean", "acronym": "SEAHEAT",
        "abstract": "Marine heatwaves are becoming frequent around New Zealand and the French subantarctic islands. We will fit GPS loggers on albatrosses and petrels to compare their foraging trips in heatwave and normal years.",
        "keywords": "seabirds, biologging, marine heatwaves, conservation biology",
        "activities": "Year 1: mission to Otago for logger deployment; year 2: analysis meeting in Chizé.",
        "ethics_statement": "Logger deployment on protected species: permits to be requested.",
    },
    {
        "pi": "researcher7", "unit": "LEHNA", "position": "Chargée de recherche", "moments": ((7, 2, 16, 20), (9, 17, 13, 5), (9, 30, 12, 41)),
        "partner": ("Tomás Herrera", "therrera@uc.example.cl", "Pontificia Universidad Católica de Chile", "CL", "Profesor asociado"),
        "team": [("cnrs", "Romain Caron", "Engineer", False), ("partner", "Valentina Soto", "PhD student", True)],
        "budget": {"mobility": (4000, 3500), "meetings": (500, 1000), "field": (1500, 500)}, "cofunding": (3000000, "CLP"),
        "title": "Glacier retreat and river invertebrates in Chilean Patagonia", "acronym": "GLACIRIV",
        "abstract": "As glaciers retreat, glacier-fed rivers lose their specialist invertebrates. We will sample rivers along glacier-cover gradients in Patagonia and in the French Alps with the same protocol, and use environmental DNA to compare how fast their communities change.",
        "keywords": "freshwater ecology, glacier-fed rivers, climate change, invertebrates",
        "activities": "Year 1: field mission in Aysén (February); year 2: eDNA analyses in Lyon and a joint workshop in Santiago.",
        "ethics_statement": "Invertebrate sampling under Chilean SAG permits; eDNA data deposited in public archives.",
    },
    {
        "pi": "researcher8", "unit": "ECOBIO", "position": "Chargé de recherche", "moments": ((9, 5, 10, 30), (9, 27, 11, 0), (9, 29, 18, 2)),
        "partner": ("Yuki Nakamura", "y.nakamura@kyoto-u.example.jp", "Kyoto University", "JP", "Associate professor"),
        "team": [],
        "budget": {"mobility": (4500, 4500), "meetings": (1500, 1500)}, "cofunding": None,
        "title": "Soil fauna of Japanese satoyama landscapes", "acronym": "SATOSOIL",
        "abstract": "Satoyama, the traditional mosaic of rice fields, coppices and villages, may host a soil fauna as rich as old forests. We will compare earthworm and springtail communities of satoyama and Breton bocage landscapes.",
        "keywords": "soil ecology, agroecology, landscapes, earthworms",
        "activities": "One mission per year in each direction; a workshop in Rennes in year 2.",
        "ethics_statement": "Soil invertebrates only; no export of living organisms.",
        # Not from the partner: the reason the directorate found it ineligible.
        "letter": ["ECOBIO — UMR 6553, Rennes", "", "Letter of support — SATOSOIL", "",
                   "As deputy director of ECOBIO, I support the proposal of Dr Nathan Leroy.", "",
                   "Dr Anne Le Goff, deputy director"],
    },
]
INELIGIBLE_REASON = (
    "The support letter is signed by the deputy director of your own unit, not by the foreign partner. "
    "The call asks for a letter from the partner's institution, stating any co-funding."
)

# What the pool's reviewers published (#20), as the HAL exports they upload to their profile: per reviewer key,
# (title, year, journal, co-authors, keywords, abstract). Co-authors are not people of the demo's proposals, so no
# co-author conflict is found; the texts are what the affinities are computed from.
PUBLICATIONS = {
    "reviewer": [
        ("Snow cover duration and alpine plant phenology in the French Alps", 2024, "Arctic, Antarctic, and Alpine Research",
         ["Bernard, Lucie", "Petit, Marc"], "snow cover; alpine ecology; phenology",
         "Twenty years of snow cover duration measured on 40 alpine sites explain the timing of flowering and the "
         "decline of snowbed plant communities."),
        ("Dynamique des glaciers rocheux et écologie des torrents alpins", 2022, "Revue de géographie alpine",
         ["Garnier, Paul"], "glaciers; torrents; hydrologie alpine",
         "Les glaciers rocheux alimentent les torrents alpins en eau froide ; leur fonte modifie les communautés "
         "d'invertébrés aquatiques."),
    ],
    "reviewer2": [
        ("Small-scale fisheries and coastal lagoons: a socio-ecosystem approach", 2023, "Ocean & Coastal Management",
         ["Moreau, Anne", "Silva, Pedro"], "small-scale fisheries; coastal lagoons; socio-ecosystems",
         "Fishers' knowledge and landings data show how coastal lagoons sustain small-scale fisheries in the "
         "Mediterranean and the South Atlantic."),
        ("Paysages littoraux et pêche artisanale en Méditerranée", 2021, "Norois",
         ["Roux, Camille"], "paysage; littoral; pêche artisanale",
         "Une lecture paysagère des lagunes littorales et de la pêche artisanale, entre conservation et usages."),
    ],
    "reviewer3": [
        ("Population genomics of thermal adaptation in freshwater fish", 2024, "Molecular Ecology",
         ["Nguyen, Thi", "Fischer, Jonas"], "population genomics; thermal adaptation; freshwater fish",
         "Genome scans of fish populations along a thermal gradient reveal the genes of adaptation to warm water."),
    ],
    "reviewer4": [
        ("Seabird colonies as sentinels of climate change in the Southern Ocean", 2022, "Global Change Biology",
         ["Leroy, Julien", "Smith, Hannah"], "seabirds; climate change; biodiversity monitoring",
         "Long-term monitoring of seabird colonies links breeding failure to sea surface temperature anomalies."),
    ],
    "reviewer5": [
        ("Plant ecology of Andean drylands under climate change", 2023, "Journal of Arid Environments",
         ["Muñoz, Diego"], "drylands; plant ecology; climate change",
         "Shrub cover and rainfall over fifteen years in the Andean drylands, and what climate change will change."),
    ],
}


def hal_bibtex(author: str, publications) -> bytes:
    """The HAL export (BibTeX, as *Mes dépôts → Exporter* writes it) of these publications by ``author`` ("Family,
    Given") and their co-authors."""
    entries = []
    for title, year, journal, coauthors, keywords, abstract in publications:
        hal_id = f"hal-0{zlib.crc32(title.encode()) % 10**7:07d}"
        entries.append(
            f"@article{{{hal_id},\n"
            f"  TITLE = {{{{{title}}}}},\n"
            f"  AUTHOR = {{{' and '.join([author, *coauthors])}}},\n"
            f"  URL = {{https://hal.science/{hal_id}}},\n"
            f"  JOURNAL = {{{{{journal}}}}},\n"
            f"  YEAR = {{{year}}},\n"
            f"  KEYWORDS = {{{keywords}}},\n"
            f"  HAL_ID = {{{hal_id}}},\n"
            f"  ABSTRACT = {{{abstract}}},\n"
            f"}}\n"
        )
    return "\n".join(entries).encode()
