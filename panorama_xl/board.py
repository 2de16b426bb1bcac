"""The campaign board: who has answered, in the console and as a workbook."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from panorama_xl.check import STATUS_LABELS
from panorama_xl.collect import BOARD_LABELS, STATUS_MISSING, Campaign
from panorama_xl.package import atomic_path
from panorama_xl.survey import Survey

_FILLS = {
    "valid": "#C6EFCE",
    "warnings": "#E2EFDA",
    "errors": "#FFC7CE",
    "unreadable": "#F4B084",
    STATUS_MISSING: "#EDEDED",
}
STORAGE_LABELS = {
    "stored": "enregistré",
    "replaced": "remplace le précédent",
    "unchanged": "déjà enregistré",
    "kept-newer": "non retenu (un fichier plus récent est enregistré)",
    "": "",
}


def render_board_text(campaign: Campaign) -> str:
    """Return the board as a console table, every expected body on its line, then the totals."""
    lines = [f"Campagne {campaign.year} : tableau de bord"]
    header = ("Code", "Collectivité", "Statut", "Lignes", "Err.", "Avert.", "Fichier")
    rows = [header] + [
        (
            body.code,
            body.label,
            BOARD_LABELS[body.status],
            str(body.rows) if body.file else "",
            str(body.errors) if body.file else "",
            str(body.warnings) if body.file else "",
            body.file,
        )
        for body in campaign.bodies
    ]
    widths = [
        min(max(len(row[index]) for row in rows), limit)
        for index, limit in enumerate((6, 44, 26, 6, 5, 6, 40))
    ]
    for row in rows:
        cells = [
            _clip(text, width).ljust(width)
            if index < 3 or index == 6
            else _clip(text, width).rjust(width)
            for index, (text, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    totals = ", ".join(
        f"{label} : {campaign.count(status)}" for status, label in BOARD_LABELS.items()
    )
    lines.append(f"{len(campaign.bodies)} collectivités attendues — {totals}.")
    unattributed = campaign.unattributed
    if unattributed:
        lines.append(
            f"{len(unattributed)} fichier(s) non rattaché(s) à une collectivité :"
        )
        for summary in unattributed:
            lines.append(
                f"  {summary.path} : {STATUS_LABELS[summary.status]} — {summary.first_problem}"
            )
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def write_board(campaign: Campaign, survey: Survey, path: Path) -> Path:
    """Write the board workbook atomically: one sheet of expected bodies, one of files."""
    with atomic_path(path) as temporary:
        book = xlsxwriter.Workbook(
            str(temporary),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        formats = _Formats(book)
        _bodies_sheet(book, formats, campaign, survey)
        _files_sheet(book, formats, campaign)
        book.close()
    return path


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook):
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.title = book.add_format(
            base | {"bold": True, "font_size": 14, "font_color": "#1F4E78"}
        )
        self.header = book.add_format(
            base
            | {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E78",
                "text_wrap": True,
                "border": 1,
            }
        )
        self.text = book.add_format(base)
        self.wrap = book.add_format(base | {"text_wrap": True})
        self.number = book.add_format(base | {"num_format": "0"})
        self.percent = book.add_format(base | {"num_format": "0%", "bold": True})
        self.status = {
            status: book.add_format(base | {"bg_color": colour})
            for status, colour in _FILLS.items()
        }
        self.bold = book.add_format(base | {"bold": True})


def _bodies_sheet(
    book: xlsxwriter.Workbook, formats: _Formats, campaign: Campaign, survey: Survey
) -> None:
    sheet = book.add_worksheet("Tableau de bord")
    sheet.write_string(
        0,
        0,
        f"{survey.definition.title} {campaign.year} : réponses reçues",
        formats.title,
    )
    first = 4 + len(BOARD_LABELS)
    last = first + len(campaign.bodies)
    status_range = f"$D${first + 1}:$D${last}"
    # The summary sits in columns B and C, which are wide enough for the labels.
    sheet.write_string(2, 1, "Statut", formats.header)
    sheet.write_string(2, 2, "Collectivités", formats.header)
    for offset, (status, label) in enumerate(BOARD_LABELS.items()):
        row = 3 + offset
        sheet.write_string(row, 1, label, formats.status[status])
        sheet.write_formula(
            row,
            2,
            f'=COUNTIF({status_range},"{label}")',
            formats.number,
            campaign.count(status),
        )
    headers = [
        "Code",
        "Collectivité",
        "Région",
        "Statut",
        "Lignes",
        "Erreurs",
        "Avertissements",
        "Fichier retenu",
        "Reçu le (UTC)",
        "Autres fichiers",
        "Remarque",
    ]
    widths = [7, 44, 26, 24, 8, 8, 12, 36, 20, 36, 60]
    for column, (text, width) in enumerate(zip(headers, widths)):
        sheet.write_string(first - 1, column, text, formats.header)
        sheet.set_column(column, column, width)
    for offset, body in enumerate(campaign.bodies):
        row = first + offset
        sheet.write_string(row, 0, body.code, formats.text)
        sheet.write_string(row, 1, body.label, formats.text)
        sheet.write_string(row, 2, body.region, formats.text)
        sheet.write_string(
            row, 3, BOARD_LABELS[body.status], formats.status[body.status]
        )
        if body.file:
            sheet.write_number(row, 4, body.rows, formats.number)
            sheet.write_number(row, 5, body.errors, formats.number)
            sheet.write_number(row, 6, body.warnings, formats.number)
            sheet.write_string(row, 7, body.file, formats.text)
            sheet.write_string(
                row, 8, body.received.replace("T", " ")[:16], formats.text
            )
        sheet.write_string(row, 9, ", ".join(body.others), formats.wrap)
        sheet.write_string(row, 10, body.note, formats.wrap)
    sheet.autofilter(first - 1, 0, max(last - 1, first), len(headers) - 1)
    sheet.freeze_panes(first, 2)


def _files_sheet(
    book: xlsxwriter.Workbook, formats: _Formats, campaign: Campaign
) -> None:
    sheet = book.add_worksheet("Fichiers")
    headers = [
        "Fichier",
        "Statut",
        "Collectivité",
        "Rattachement",
        "Lignes",
        "Erreurs",
        "Avertissements",
        "Reçu le (UTC)",
        "Historique",
        "Premier problème",
        "Copie annotée",
    ]
    widths = [48, 24, 10, 16, 8, 8, 12, 18, 30, 70, 48]
    for column, (text, width) in enumerate(zip(headers, widths)):
        sheet.write_string(0, column, text, formats.header)
        sheet.set_column(column, column, width)
    for row, summary in enumerate(campaign.files, start=1):
        sheet.write_string(row, 0, summary.path, formats.text)
        sheet.write_string(
            row, 1, STATUS_LABELS[summary.status], formats.status[summary.status]
        )
        sheet.write_string(row, 2, summary.respondent or "", formats.text)
        attribution = (
            ""
            if summary.respondent is None
            else (
                "nom du dossier ou du fichier"
                if summary.attributed_by_name
                else "contenu"
            )
        )
        sheet.write_string(row, 3, attribution, formats.text)
        sheet.write_number(row, 4, summary.rows, formats.number)
        sheet.write_number(row, 5, summary.errors, formats.number)
        sheet.write_number(row, 6, summary.warnings, formats.number)
        sheet.write_string(
            row, 7, summary.received.replace("T", " ")[:16], formats.text
        )
        sheet.write_string(
            row, 8, STORAGE_LABELS.get(summary.storage, summary.storage), formats.text
        )
        sheet.write_string(row, 9, summary.first_problem, formats.wrap)
        sheet.write_string(row, 10, summary.annotated, formats.text)
    sheet.autofilter(0, 0, max(len(campaign.files), 1), len(headers) - 1)
    sheet.freeze_panes(1, 1)
