#!/usr/bin/env bash
# Regenerate the pictures of the user guides (docs/images/*.png) from the output
# of `panorama demo`.
#
# Usage:
#   .venv/bin/panorama demo --year 2027     # once; it replaces build/demo
#   scripts/render_pictures.sh [DEMO_DIR] [IMAGES_DIR]
#
#   DEMO_DIR    output folder of `panorama demo` (default: build/demo)
#   IMAGES_DIR  folder the PNG files are written to (default: docs/images)
#
# The pictures show named files of the demo campaign of 2027 with the default
# seed (2027), for example retours/courriels/panorama-2027-CTM.xlsx. The table
# PICTURES below lists them. The script stops with an error naming the first
# file that is missing, for instance after a demo of another year.
#
# Requirements (Debian packages): libreoffice-calc-nogui (soffice), python3-uno
# (the uno module for /usr/bin/python3), poppler-utils (pdftoppm, pdfinfo) and
# fonts-crosextra-carlito. Carlito has the metrics of Calibri, the font of the
# workbooks. Without it LibreOffice falls back to a wider font, so texts overflow
# their cells.
#
# How one picture is made: LibreOffice runs headless, with a private profile in a
# temporary folder, and opens a copy of the workbook. It hides every other sheet,
# sets the print area to one cell range at 100 % scale on a page just large
# enough, and exports the PDF. pdftoppm renders the page, and the PNG is cropped
# to what was printed.
# LibreOffice 7.4 keeps the single-line height of rows with wrapped text when it
# opens these xlsx files, so the script sets the optimal height of the printed
# rows first. The workbooks themselves are never saved.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO_DIR=$(realpath -m "${1:-$ROOT/build/demo}")
IMAGES_DIR=$(realpath -m "${2:-$ROOT/docs/images}")
UNO_PYTHON=/usr/bin/python3

fail() {
    echo "render_pictures.sh: $*" >&2
    exit 1
}

command -v soffice >/dev/null || fail "soffice not found: install the Debian package libreoffice-calc-nogui."
command -v pdftoppm >/dev/null || fail "pdftoppm not found: install the Debian package poppler-utils."
"$UNO_PYTHON" -c "import uno" 2>/dev/null ||
    fail "$UNO_PYTHON cannot import uno: install the Debian package python3-uno."
[[ -d "$DEMO_DIR" ]] ||
    fail "demo folder not found: $DEMO_DIR. Run: .venv/bin/panorama demo --year 2027"
if ! fc-match Calibri | grep -q Carlito; then
    echo "render_pictures.sh: warning: Carlito is not installed (Debian package" \
        "fonts-crosextra-carlito); texts will be wider than in Excel." >&2
fi

mkdir -p "$IMAGES_DIR"
WORK=$(mktemp -d -t panorama-pictures-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The system Python must not see the packages of the project's virtual environment.
env -u PYTHONPATH -u PYTHONHOME \
    DEMO_DIR="$DEMO_DIR" IMAGES_DIR="$IMAGES_DIR" WORK="$WORK" \
    "$UNO_PYTHON" - <<'PYTHON'
import os
import shutil
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

DEMO_DIR = os.environ["DEMO_DIR"]
IMAGES_DIR = os.environ["IMAGES_DIR"]
WORK = os.environ["WORK"]

# One entry per picture. "workbook" is relative to DEMO_DIR and "cells" is the
# printed range. "fit" is the range whose rows get their optimal height, and
# "hidden" a range whose rows are hidden to print an extract. "grid" prints the
# grid with row and column headers, so that cell references such as K5 can be
# followed. "dpi" is the resolution of the PNG.
PICTURES = [
    dict(name="questionnaire-accueil.png",
         workbook="questionnaires/panorama-2027-D26.xlsx",
         sheet="Accueil", cells="A1:B32", fit="A1:B32", hidden=None, grid=False, dpi=80),
    dict(name="questionnaire-identite.png",
         workbook="questionnaires/panorama-2027-D26.xlsx",
         sheet="Identité", cells="A1:C9", fit="A1:C9", hidden=None, grid=True, dpi=80),
    dict(name="retour-applications-1.png",
         workbook="retours/courriels/panorama-2027-CTM.xlsx",
         sheet="Applications", cells="A1:G11", fit="A1:G11", hidden=None, grid=True, dpi=80),
    dict(name="retour-applications-2.png",
         workbook="retours/courriels/panorama-2027-CTM.xlsx",
         sheet="Applications", cells="H1:O11", fit="H1:O11", hidden=None, grid=True, dpi=80),
    dict(name="copie-annotee-anomalies.png",
         workbook="collecte/a-corriger/panorama-2027-D57-a-corriger.xlsx",
         sheet="Anomalies", cells="A1:H7", fit="A1:H7", hidden=None, grid=False, dpi=75),
    dict(name="copie-annotee-applications.png",
         workbook="collecte/a-corriger/panorama-2027-D64-a-corriger.xlsx",
         sheet="Applications", cells="H1:O10", fit="H1:O10", hidden=None, grid=True, dpi=80),
    # The extract shows bodies D33 to D51 (rows 42 to 60), which have every status,
    # so the rows of D01 to D32 (10 to 41) are hidden.
    dict(name="tableau-de-bord.png",
         workbook="collecte/tableau-de-bord-2027.xlsx",
         sheet="Tableau de bord", cells="A1:K60", fit="A1:K60", hidden="A10:A41", grid=False, dpi=70),
    dict(name="consolide-synthese.png",
         workbook="panorama-2027-consolide.xlsx",
         sheet="Synthèse", cells="A1:C25", fit="A1:C25", hidden=None, grid=False, dpi=80),
    # Row 2 keeps its height: its wrapped note in the narrow column A would make
    # it as tall as the table.
    dict(name="consolide-domaines.png",
         workbook="panorama-2027-consolide.xlsx",
         sheet="Domaines", cells="A1:F36", fit="A4:F14", hidden=None, grid=False, dpi=70),
]

# Profile settings: no first-run dialog, and French number and date formats.
PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>fr-FR</value></prop></item>
</oor:items>
"""

MARGIN = 300  # page margins, in 1/100 mm
HEADERS_ALLOWANCE = 1500  # room for printed row and column headers, in 1/100 mm
WHITE_LEVEL = 245  # grey level above which a pixel counts as white when cropping
PADDING = 6  # pixels kept around the printed area


def prop(name, value):
    item = PropertyValue()
    item.Name = name
    item.Value = value
    return item


def start_office():
    """Start a headless soffice on a private profile and return the process and its desktop."""
    pipe = "panorama-pictures-%d" % os.getpid()
    profile = os.path.join(WORK, "profile")
    os.makedirs(os.path.join(profile, "user"))
    with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w") as handle:
        handle.write(PROFILE_SETTINGS)

    process = subprocess.Popen(
        [
            "soffice",
            "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            "--accept=pipe,name=%s;urp;" % pipe,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.time() + 90
    while True:
        try:
            context = resolver.resolve(
                "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe
            )
            break
        except Exception:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                sys.exit("render_pictures.sh: soffice did not start within 90 s")
            time.sleep(0.25)

    desktop = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.Desktop", context
    )
    return process, desktop


def export_range(desktop, workbook, sheet_name, cell_range, fit, hidden, grid, pdf):
    """Print one cell range of one sheet to ``pdf``, at 100 % on a page that fits it.

    LibreOffice opens a copy of the workbook: a document opened read-only
    ignores the changes made here, and one opened for editing gets a lock file
    beside it.
    """
    copy = os.path.join(WORK, "workbook" + os.path.splitext(workbook)[1])
    shutil.copyfile(workbook, copy)
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(copy), "_blank", 0, (prop("Hidden", True),)
    )
    try:
        sheets = document.Sheets
        if not sheets.hasByName(sheet_name):
            sys.exit("render_pictures.sh: no sheet %r in %s" % (sheet_name, workbook))
        sheet = sheets.getByName(sheet_name)
        sheet.IsVisible = True
        document.CurrentController.setActiveSheet(sheet)
        for index in range(sheets.Count):
            other = sheets.getByIndex(index)
            if other.Name != sheet_name:
                other.IsVisible = False

        area = sheet.getCellRangeByName(cell_range)
        sheet.getCellRangeByName(fit).Rows.OptimalHeight = True
        if hidden:
            sheet.getCellRangeByName(hidden).Rows.IsVisible = False
        sheet.setPrintAreas((area.getRangeAddress(),))
        sheet.setPrintTitleRows(False)
        sheet.setPrintTitleColumns(False)

        style = document.StyleFamilies.getByName("PageStyles").getByName(sheet.PageStyle)
        style.HeaderIsOn = False
        style.FooterIsOn = False
        style.PrintGrid = grid
        style.PrintHeaders = grid
        style.PrintAnnotations = False
        style.CenterHorizontally = False
        style.CenterVertically = False
        style.ScaleToPagesX = 0
        style.ScaleToPagesY = 0
        style.PageScale = 100
        for side in ("LeftMargin", "RightMargin", "TopMargin", "BottomMargin"):
            setattr(style, side, MARGIN)
        size = area.Size
        extra = 2 * MARGIN + (HEADERS_ALLOWANCE if grid else 0)
        width, height = size.Width + extra, size.Height + extra
        style.IsLandscape = width > height
        style.Width = width
        style.Height = height

        document.storeToURL(
            uno.systemPathToFileUrl(pdf), (prop("FilterName", "calc_pdf_Export"),)
        )
    finally:
        document.close(True)


def read_pgm(path):
    """Return (width, height, pixels) of a binary 8-bit PGM file written by pdftoppm."""
    with open(path, "rb") as handle:
        data = handle.read()
    fields = []
    position = 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    if fields[0] != b"P5" or fields[3] != b"255":
        sys.exit("render_pictures.sh: unexpected image format in %s" % path)
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[position + 1:position + 1 + width * height]


def content_box(width, height, pixels):
    """Return (x, y, w, h) of the non-white pixels, with PADDING around them."""
    ink = bytes(255 if level >= WHITE_LEVEL else 0 for level in range(256))
    left, right, top, bottom = width, -1, height, -1
    for row in range(height):
        line = pixels[row * width:(row + 1) * width].translate(ink)
        first = line.find(b"\x00")
        if first < 0:
            continue
        last = line.rfind(b"\x00")
        left, right = min(left, first), max(right, last)
        top = min(top, row)
        bottom = row
    if right < 0:
        sys.exit("render_pictures.sh: the printed page is empty")
    x, y = max(left - PADDING, 0), max(top - PADDING, 0)
    return x, y, min(right + PADDING, width - 1) - x + 1, min(bottom + PADDING, height - 1) - y + 1


def render_png(pdf, dpi, target):
    """Render the first page of ``pdf`` and crop it to its content into ``target``."""
    pages = subprocess.run(
        ["pdfinfo", pdf], capture_output=True, text=True, check=True
    ).stdout
    count = [line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")]
    if count != ["1"]:
        sys.exit("render_pictures.sh: %s has %s pages, expected 1" % (pdf, count))
    grey = os.path.join(WORK, "page")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", pdf, grey], check=True
    )
    x, y, w, h = content_box(*read_pgm(grey + ".pgm"))
    stem = target[: -len(".png")]
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile",
         "-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h), pdf, stem],
        check=True,
    )
    return w, h


def main():
    missing = [
        os.path.join(DEMO_DIR, picture["workbook"])
        for picture in PICTURES
        if not os.path.isfile(os.path.join(DEMO_DIR, picture["workbook"]))
    ]
    if missing:
        sys.exit(
            "render_pictures.sh: file not found: %s. The pictures come from"
            " `.venv/bin/panorama demo --year 2027` with the default seed." % missing[0]
        )
    process, desktop = start_office()
    try:
        for picture in PICTURES:
            pdf = os.path.join(WORK, picture["name"].replace(".png", ".pdf"))
            export_range(
                desktop,
                os.path.join(DEMO_DIR, picture["workbook"]),
                picture["sheet"],
                picture["cells"],
                picture["fit"],
                picture["hidden"],
                picture["grid"],
                pdf,
            )
            target = os.path.join(IMAGES_DIR, picture["name"])
            width, height = render_png(pdf, picture["dpi"], target)
            print("%s: %d x %d px, %d bytes" % (target, width, height, os.path.getsize(target)))
    finally:
        try:
            desktop.terminate()
        except Exception as error:
            print(
                "render_pictures.sh: closing LibreOffice failed: %s: %s"
                % (type(error).__name__, error),
                file=sys.stderr,
            )
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


main()
PYTHON
