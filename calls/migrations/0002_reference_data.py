"""The 10 CNRS institutes and the 17 regional delegations (domain.md, fact).

A migration must not import app code, so the lists are copied here from ``iea/site/demo/reference_data.py``;
a test checks that both copies are equal. Running it again updates the names to these values.
"""

from django.db import migrations

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


def load_reference_data(apps, schema_editor):
    Institute = apps.get_model("calls", "Institute")
    Delegation = apps.get_model("calls", "Delegation")
    for code, legal_name, usage_name in INSTITUTES:
        Institute.objects.update_or_create(code=code, defaults={"legal_name": legal_name, "usage_name": usage_name})
    for code, name in DELEGATIONS:
        Delegation.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):

    dependencies = [
        ("calls", "0001_initial"),
    ]

    operations = [
        # Reversing keeps the rows: units and proposals point to them.
        migrations.RunPython(load_reference_data, migrations.RunPython.noop),
    ]
