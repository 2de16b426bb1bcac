"""Build returned questionnaires for the tests: clean answers, planted mistakes, cell lists.

A return is described once, as values by sheet key and field key, and
written either by the project's own writer (a file Excel would produce from
the dropdowns) or typed into LibreOffice cell by cell.
"""

from __future__ import annotations

import copy
import datetime as dt

from panorama_xl.answers import Answers
from panorama_xl.layout import Layout

SOCIAL = "Solidarités, santé et action sociale"
SUPPORT = "Fonctions support et SI transverses"
CULTURE = "Culture, vie sociale, jeunesse, sports et loisirs"

IDENTITY = {
    "respondent": "26 – Drôme",
    "contact_name": "Camille Martin",
    "contact_role": "DSI",
    "contact_email": "camille.martin@ladrome.fr",
    "filled_on": dt.date(2027, 3, 15),
}
CHOICES = {
    "office_suite": "Microsoft 365",
    "collaboration_platform": "Jalios",
    "public_cloud": "Aucun",
    "sovereign_cloud": "Non",
}
# Complete, valid rows; tests copy one and change a cell to plant a mistake.
ROWS = [
    {
        "domain": SUPPORT,
        "subdomain": "Finances, budget, comptabilité M57, dette, PES / CFU",
        "application": "Gestion financière",
        "vendor": "Inetum Software",
        "product": "Astre GF",
        "consultant": "Aucun (pas d'AMO)",
        "hosting": "Sur site (salle du Département)",
        "satisfaction": 4,
        "renewal": "Dans 1 à 3 ans",
        "in_service_since": 2004,
        "comments": "Passage M57 en 2024",
    },
    {
        "domain": SOCIAL,
        "subdomain": "RSA et insertion",
        "application": "Logiciel RSA",
        "product": "IODAS",
        "vendor": "Autre (préciser)",
        "vendor_other": "Éditeur régional",
        "consultant": "AMO interne",
        "hosting": "Hébergé chez un prestataire (instance dédiée)",
        "satisfaction": 3,
        "renewal": "Procédure en cours",
    },
    {
        "domain": CULTURE,
        "subdomain": "Archives départementales",
        "application": "Archives en ligne",
        "vendor": "Naoned",
        "product": "Mnesys",
        "hosting": "SaaS (service en ligne de l'éditeur)",
        "satisfaction": 5,
    },
    {
        "domain": SUPPORT,
        "subdomain": "SIG, données géographiques, open data",
        "application": "SIG départemental",
        "vendor": "Esri France",
        "product": "ArcGIS",
        "hosting": "Sur site (salle du Département)",
        "satisfaction": 4,
        "in_service_since": 2010,
    },
    {
        "domain": SUPPORT,
        "application": "Messagerie",
        "vendor": "Microsoft",
        "product": "Microsoft 365",
        "hosting": "Cloud public (AWS, Azure, GCP...)",
        "satisfaction": 2,
        "renewal": "Dans moins d'un an",
    },
]


def clean_answers(rows: int = len(ROWS)) -> Answers:
    """Return a complete, valid return with ``rows`` application rows."""
    table = {index: copy.deepcopy(ROWS[index % len(ROWS)]) for index in range(rows)}
    for index, row in table.items():
        if index >= len(ROWS):
            row["application"] = f"{row['application']} {index}"
    return Answers(
        forms={"identity": dict(IDENTITY), "choices": dict(CHOICES)},
        tables={"applications": table},
    )


def cells_for(layout: Layout, answers: Answers) -> list[tuple[str, str, object]]:
    """Return (sheet name, A1 cell, typed text) for every value, as a person would type it."""
    cells: list[tuple[str, str, object]] = []
    for form in layout.forms:
        for key, value in answers.forms.get(form.key, {}).items():
            cells.append((form.name, form.cell(key), typed(value)))
    for table in layout.tables:
        for index, row in sorted(answers.tables.get(table.key, {}).items()):
            for key, value in row.items():
                cells.append((table.name, table.cell(key, index), typed(value)))
    return cells


def typed(value: object) -> object:
    """Return what a person types for ``value``: dates in ISO form, numbers as text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value
