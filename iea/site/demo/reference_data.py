"""CNRS reference data: the 10 institutes and the 17 regional delegations (domain.md, fact).

The data migration ``calls/migrations/0002_reference_data.py`` loads them into every database; the demo
seed ensures them again (only it calls ``reference_data_ensure``). The migration carries its own copy of
these lists, because a migration must not import app code; ``tests/demo/test_seed_demo.py`` checks that
the two copies stay equal.
"""

from calls.models import Delegation, Institute

# (code, legal name, usage name since 2024)
INSTITUTES = [
    ("INC", "Institut de chimie", "CNRS Chimie"),
    ("INEE", "Institut écologie et environnement", "CNRS Écologie & Environnement"),
    ("INP", "Institut de physique", "CNRS Physique"),
    ("IN2P3", "Institut national de physique nucléaire et de physique des particules", "CNRS Nucléaire & Particules"),
    ("INSB", "Institut des sciences biologiques", "CNRS Biologie"),
    ("INSHS", "Institut des sciences humaines et sociales", "CNRS Sciences humaines & sociales"),
    ("INSIS", "Institut des sciences de l'ingénierie et des systèmes", "CNRS Ingénierie"),
    ("INSMI", "Institut national des sciences mathématiques et de leurs interactions", "CNRS Mathématiques"),
    ("INS2I", "Institut des sciences de l'information et de leurs interactions", "CNRS Sciences informatiques"),
    ("INSU", "Institut national des sciences de l'Univers", "CNRS Terre & Univers"),
]

# (code, name): CNRS's own "DR" numbers, which have gaps (DR03, DR09 and DR16 no longer exist).
DELEGATIONS = [
    ("DR01", "Île-de-France Villejuif"),
    ("DR02", "Paris-Centre"),
    ("DR04", "Île-de-France Gif-sur-Yvette"),
    ("DR05", "Île-de-France Meudon"),
    ("DR06", "Centre-Est"),
    ("DR07", "Rhône Auvergne"),
    ("DR08", "Centre Limousin Poitou-Charentes"),
    ("DR10", "Alsace"),
    ("DR11", "Alpes"),
    ("DR12", "Provence et Corse"),
    ("DR13", "Occitanie Est"),
    ("DR14", "Occitanie Ouest"),
    ("DR15", "Aquitaine"),
    ("DR17", "Bretagne et Pays de la Loire"),
    ("DR18", "Hauts-de-France"),
    ("DR19", "Normandie"),
    ("DR20", "Côte d'Azur"),
]


def reference_data_ensure() -> tuple[int, int]:
    """Create the institutes and delegations that are missing; leave existing rows (staff may edit names).

    Returns how many institutes and delegations were created.
    """
    institutes = 0
    for code, legal_name, usage_name in INSTITUTES:
        _obj, created = Institute.objects.get_or_create(
            code=code, defaults={"legal_name": legal_name, "usage_name": usage_name}
        )
        institutes += created
    delegations = 0
    for code, name in DELEGATIONS:
        _obj, created = Delegation.objects.get_or_create(code=code, defaults={"name": name})
        delegations += created
    return institutes, delegations
