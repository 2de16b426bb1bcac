"""Drive LibreOffice Calc through UNO: fill cells as a user would, convert, check validity.

This file runs as a script under a Python that has LibreOffice's ``uno``
module (Debian: python3-uno, for /usr/bin/python3), so it imports nothing
from panorama_xl. ``libreoffice.py`` starts it, sends the jobs as JSON on
standard input and reads one JSON result per job on standard output.

A job is ``{"input": path, "outputs": [paths], "cells": [[sheet, "B5", value],
...], "mode": "type" | "paste", "check_validity": password or null,
"password": password to open the outputs, or null}``:

* ``type`` writes each value as typed input: into a cell formatted as text
  it is stored as text, as LibreOffice does for typed input; elsewhere
  ``setFormula`` parses it with the API's en-US conventions (``4`` and
  ``4.5`` become numbers, ``2024-03-15`` a date, ``15/03/2024`` and ``4,5``
  stay text, ``=...`` becomes a formula);
* ``paste`` writes strings as text and numbers as numbers, like a paste of
  values, which no data validation checks in any spreadsheet program.

The UNO API ignores sheet protection, so a write to a locked cell of a
protected sheet is rejected here, as the program would reject it for a
person. Outputs are stored with the filter of their extension.
"""

import json
import os
import subprocess
import sys
import time

import uno  # noqa: F401  (registers the com.sun.star import hook)
from com.sun.star.beans import PropertyValue
from com.sun.star.beans.PropertyState import AMBIGUOUS_VALUE

FILTERS = {
    ".xlsx": "Calc Office Open XML",
    ".ods": "calc8",
    ".xls": "MS Excel 97",
    ".pdf": "calc_pdf_Export",
    ".csv": "Text - txt - csv (StarCalc)",
}


def prop(name, value):
    item = PropertyValue()
    item.Name = name
    item.Value = value
    return item


def start_office(profile, pipe, timeout):
    process = subprocess.Popen(
        [
            os.environ.get("SOFFICE", "soffice"),
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
    deadline = time.time() + timeout
    while True:
        try:
            context = resolver.resolve(
                "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe
            )
            return process, context
        except Exception:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise RuntimeError(
                    "soffice did not start within %s s (profile %s)"
                    % (timeout, profile)
                ) from None
            time.sleep(0.25)


def split_address(address):
    letters = "".join(ch for ch in address if ch.isalpha()).upper()
    digits = "".join(ch for ch in address if ch.isdigit())
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return column - 1, int(digits) - 1


def is_text_format(document, key, cache):
    if key not in cache:
        cache[key] = document.NumberFormats.getByKey(key).FormatString == "@"
    return cache[key]


def write_cell(document, sheet, column, row, value, mode, text_formats):
    """Write one value; return False if the cell is locked on a protected sheet."""
    cell = sheet.getCellByPosition(column, row)
    if sheet.isProtected() and cell.CellProtection.IsLocked:
        return False
    if value is None:
        cell.setString("")
    elif mode == "paste":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.setValue(value)
        else:
            cell.setString(str(value))
    elif is_text_format(document, cell.NumberFormat, text_formats):
        cell.setString(str(value))
    else:
        cell.setFormula(str(value))
    return True


def runs(rows):
    """Split sorted row numbers into runs of consecutive rows."""
    current = []
    for row in rows:
        if current and row != current[-1] + 1:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def write_run(document, sheet, column, rows, values, mode, text_formats):
    """Write consecutive cells of one column in one call; return False when that is not possible.

    Each UNO call costs about a millisecond over the pipe, so a 300-row column
    is written as one range when the whole range has one protection and one
    number format; otherwise the caller falls back to cell by cell.
    """
    block = sheet.getCellRangeByPosition(column, rows[0], column, rows[-1])
    for name in ("CellProtection", "NumberFormat"):
        if block.getPropertyState(name) == AMBIGUOUS_VALUE:
            return False
    if sheet.isProtected() and block.CellProtection.IsLocked:
        return None
    if mode == "paste":
        data = [
            [
                value
                if isinstance(value, (int, float)) and not isinstance(value, bool)
                else str(value)
            ]
            for value in values
        ]
        block.setDataArray(tuple(tuple(row) for row in data))
    elif is_text_format(document, block.NumberFormat, text_formats):
        block.setDataArray(tuple((str(value),) for value in values))
    else:
        block.setFormulaArray(tuple((str(value),) for value in values))
    return True


def write_cells(document, cells, mode):
    refused, unreachable = [], []
    text_formats = {}
    sheets = document.Sheets
    by_sheet = {}
    for sheet_name, address, value in cells:
        by_sheet.setdefault(sheet_name, []).append((address, value))
    for sheet_name, items in by_sheet.items():
        if (
            not sheets.hasByName(sheet_name)
            or not sheets.getByName(sheet_name).IsVisible
        ):
            unreachable.extend([sheet_name, address] for address, _ in items)
            continue
        sheet = sheets.getByName(sheet_name)
        columns = {}
        for address, value in items:
            column, row = split_address(address)
            columns.setdefault(column, {})[row] = (address, value)
        for column, by_row in columns.items():
            written = set()
            filled = sorted(
                row for row, (_, value) in by_row.items() if value is not None
            )
            for run in runs(filled):
                if len(run) < 4:
                    continue
                outcome = write_run(
                    document,
                    sheet,
                    column,
                    run,
                    [by_row[row][1] for row in run],
                    mode,
                    text_formats,
                )
                if outcome is None:
                    refused.extend([sheet_name, by_row[row][0]] for row in run)
                    written.update(run)
                elif outcome:
                    written.update(run)
            for row, (address, value) in sorted(by_row.items()):
                if row in written:
                    continue
                if not write_cell(
                    document, sheet, column, row, value, mode, text_formats
                ):
                    refused.append([sheet_name, address])
    return refused, unreachable


def invalid_cells(context, document, password):
    """Return the cells that Tools > Detective > Mark Invalid Data circles."""
    manager = context.ServiceManager
    dispatcher = manager.createInstanceWithContext(
        "com.sun.star.frame.DispatchHelper", context
    )
    controller = document.getCurrentController()
    frame = controller.getFrame()
    found = []
    for sheet in document.Sheets:
        if not sheet.IsVisible:
            continue
        if sheet.isProtected():
            sheet.unprotect(password or "")
        controller.setActiveSheet(sheet)
        dispatcher.executeDispatch(frame, ".uno:ShowInvalid", "", 0, ())
        page = sheet.getDrawPage()
        for index in range(page.getCount()):
            shape = page.getByIndex(index)
            if (
                shape.ShapeType.endswith("EllipseShape")
                and getattr(shape, "Anchor", None) is not None
            ):
                anchor = shape.Anchor
                found.append(
                    [
                        sheet.Name,
                        anchor.AbsoluteName.split(".")[-1].replace("$", ""),
                        anchor.getString(),
                    ]
                )
    return found


def run_job(context, desktop, job):
    url = uno.systemPathToFileUrl(os.path.abspath(job["input"]))
    document = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
    if document is None:
        return {"error": "LibreOffice could not open %s" % job["input"]}
    try:
        refused, unreachable = write_cells(
            document, job.get("cells", []), job.get("mode", "type")
        )
        if job.get("recalculate"):
            document.calculateAll()
        saved = []
        for output in job.get("outputs", []):
            extension = os.path.splitext(output)[1].lower()
            target = uno.systemPathToFileUrl(os.path.abspath(output))
            properties = [prop("FilterName", FILTERS[extension])]
            if job.get("password"):
                properties.append(prop("Password", job["password"]))
            document.storeToURL(target, tuple(properties))
            saved.append(output)
        result = {"refused": refused, "unreachable": unreachable, "saved": saved}
        if job.get("check_validity") is not None:
            result["invalid"] = invalid_cells(context, document, job["check_validity"])
        return result
    finally:
        document.close(True)


def main():
    request = json.load(sys.stdin)
    pipe = "panorama%d" % os.getpid()
    process, context = start_office(
        request["profile"], pipe, request.get("start_timeout", 60)
    )
    try:
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        for job in request["jobs"]:
            try:
                result = run_job(context, desktop, job)
            except Exception as error:  # one failed job must not stop the batch
                result = {"error": "%s: %s" % (type(error).__name__, error)}
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
