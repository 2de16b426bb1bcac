"""Broken, foreign, encrypted, oversized and hostile files: a clear error each, and the batch goes on.

Every input is built here, so that the tests run anywhere.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest

from panorama_xl.check import Checker
from panorama_xl.runner import Task, check_many
from panorama_xl.safety import Limits

from .conftest import YEAR
from .returns import clean_answers

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


@pytest.fixture(scope="module")
def checker(small_survey) -> Checker:
    return Checker(small_survey, YEAR)


@pytest.fixture(scope="module")
def good_return(small_survey, tmp_path_factory) -> Path:
    from panorama_xl.template import QuestionnaireWriter

    return QuestionnaireWriter(small_survey, YEAR).write(
        tmp_path_factory.mktemp("good") / "good.xlsx", answers=clean_answers()
    )


def rebuild_zip(source: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(source) as package:
        contents = {
            info.filename: package.read(info.filename) for info in package.infolist()
        }
    change(contents)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in contents.items():
            package.writestr(name, data)
    return target


def ods(target: Path, content: str, manifest_extra: str = "") -> Path:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>'
        f'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{manifest_extra}</manifest:file-entry>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(target, "w") as package:
        package.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        package.writestr(
            "META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED
        )
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return target


def ods_content(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    )


def codes(report) -> list[str]:
    return [problem.code for problem in report.problems]


def test_encrypted_xlsx(checker, good_return, tmp_path):
    target = tmp_path / "chiffre.xlsx"
    with good_return.open("rb") as source, target.open("wb") as output:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("secret", output)
    report = checker.check(target)
    assert codes(report) == ["file-encrypted"]
    assert report.status == "unreadable"
    assert (
        report.problems[0].suggestion
        == "Enregistrez-le de nouveau sans mot de passe et renvoyez-le."
    )


def test_encrypted_ods(checker, tmp_path):
    extra = '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AAAA"/>'
    report = checker.check(ods(tmp_path / "chiffre.ods", "garbled", extra))
    assert codes(report) == ["file-encrypted"]


def test_entity_declarations_rejected(checker, good_return, tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )

    def inject(contents):
        xml = contents["xl/sharedStrings.xml"].decode()
        contents["xl/sharedStrings.xml"] = (
            (bomb + xml[xml.index("?>") + 2 :])
            .replace("<t>Domaine", "<t>&lol2;Domaine")
            .encode()
        )

    report = checker.check(rebuild_zip(good_return, tmp_path / "bombe.xlsx", inject))
    assert codes(report) == ["file-unsafe"]
    assert "DOCTYPE" in report.problems[0].message


def test_entity_declaration_in_utf16(checker, good_return, tmp_path):
    def inject(contents):
        xml = (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'
        )
        contents["docProps/app.xml"] = xml.encode("utf-16")

    report = checker.check(rebuild_zip(good_return, tmp_path / "utf16.xlsx", inject))
    assert codes(report) == ["file-unsafe"]


def test_compression_bomb(small_survey, good_return, tmp_path):
    limits = Limits(
        max_member_bytes=4 * 1024 * 1024, ratio_floor_bytes=1024 * 1024, max_ratio=100
    )
    checker = Checker(small_survey, YEAR, limits)

    def inflate(contents):
        contents["xl/media/zeros.bin"] = bytes(3 * 1024 * 1024)

    report = checker.check(rebuild_zip(good_return, tmp_path / "zeros.xlsx", inflate))
    assert codes(report) == ["file-unsafe"]
    assert "taux de compression" in report.problems[0].message

    def oversize(contents):
        contents["xl/media/zeros.bin"] = bytes(5 * 1024 * 1024)

    report = checker.check(rebuild_zip(good_return, tmp_path / "big.xlsx", oversize))
    assert codes(report) == ["file-too-large"]


def test_member_larger_than_declared(checker, good_return, tmp_path):
    target = rebuild_zip(good_return, tmp_path / "menteur.xlsx", lambda contents: None)
    data = bytearray(target.read_bytes())
    # Shrink the uncompressed size declared for styles.xml in the central directory.
    with zipfile.ZipFile(target) as package:
        info = package.getinfo("xl/styles.xml")
    position = data.rfind(b"xl/styles.xml")
    header = position - 46
    assert data[header : header + 4] == b"PK\x01\x02"
    data[header + 24 : header + 28] = (info.file_size // 2).to_bytes(4, "little")
    target.write_bytes(bytes(data))
    report = checker.check(target)
    assert report.status == "unreadable"
    assert codes(report)[0] in ("file-corrupt", "file-unsafe")


def test_ods_repeat_attack(checker, tmp_path):
    body = (
        '<table:table table:name="Feuille1">'
        '<table:table-row table:number-rows-repeated="1000000000">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/>'
        "</table:table-row></table:table>"
    )
    started = time.perf_counter()
    report = checker.check(ods(tmp_path / "repete.ods", ods_content(body)))
    assert time.perf_counter() - started < 5
    assert codes(report) == ["file-too-large"]


def test_ods_empty_repeats_are_cheap(checker, tmp_path):
    body = (
        '<table:table table:name="Feuille1"><table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>'
    )
    started = time.perf_counter()
    report = checker.check(ods(tmp_path / "vide.ods", ods_content(body)))
    assert time.perf_counter() - started < 5
    assert codes(report) == ["template-unknown"]


@pytest.mark.parametrize(
    ("name", "content", "code", "detail"),
    [
        ("vide.xlsx", b"", "file-empty", ""),
        ("rapport.xlsx", b"%PDF-1.7\n%...", "file-not-spreadsheet", "document PDF"),
        (
            "export.xlsx",
            "Domaine;Application\nSocial;RSA\n".encode(),
            "file-not-spreadsheet",
            "fichier texte (CSV ?)",
        ),
        (
            "page.xls",
            b"<html><body>Erreur 404</body></html>",
            "file-not-spreadsheet",
            "page HTML",
        ),
        (
            "aleatoire.ods",
            os.urandom(4096).replace(b"PK", b"pk").replace(b"\xd0\xcf", b"xx"),
            "file-not-spreadsheet",
            "",
        ),
    ],
)
def test_not_spreadsheets(checker, tmp_path, name, content, code, detail):
    path = tmp_path / name
    path.write_bytes(content)
    report = checker.check(path)
    assert codes(report) == [code]
    assert detail in report.problems[0].message


def test_word_document_in_zip(checker, tmp_path):
    path = tmp_path / "note.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<document/>")
    report = checker.check(path)
    assert codes(report) == ["file-not-spreadsheet"]
    assert "document Word" in report.problems[0].message


def test_truncated_zip(checker, good_return, tmp_path):
    path = tmp_path / "tronque.xlsx"
    path.write_bytes(good_return.read_bytes()[: good_return.stat().st_size // 2])
    report = checker.check(path)
    assert codes(report) == ["file-corrupt"]


def test_macros_reported_not_kept(checker, good_return, tmp_path):
    def add_macros(contents):
        contents["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 not really a macro project"

    path = rebuild_zip(good_return, tmp_path / "retour.xlsm", add_macros)
    report = checker.check(path)
    assert codes(report) == ["file-macros"]
    assert report.accepted
    assert report.format == "xlsm"
    assert report.row_count() == 5


def test_too_many_cells(small_survey, good_return, tmp_path):
    report = Checker(small_survey, YEAR, Limits(max_cells=50)).check(good_return)
    assert codes(report) == ["file-too-large"]


def test_hanging_file_times_out_and_batch_goes_on(small_survey, good_return, tmp_path):
    fifo = tmp_path / "bloque.xlsx"
    os.mkfifo(fifo)
    tasks = [Task(fifo), Task(good_return)]
    started = time.perf_counter()
    reports = {
        Path(report.path).name: report
        for report in check_many(
            tasks, small_survey, YEAR, workers=1, limits=Limits(seconds=2)
        )
    }
    assert time.perf_counter() - started < 30
    assert codes(reports["bloque.xlsx"]) == ["file-timeout"]
    assert (
        reports["bloque.xlsx"].problems[0].message
        == "La lecture du fichier a dépassé le délai de 2 s."
    )
    assert reports["good.xlsx"].accepted


def test_batch_of_hostile_files_never_modifies_inputs(
    small_survey, good_return, tmp_path
):
    folder = tmp_path / "retours"
    folder.mkdir()
    (folder / "vide.xlsx").write_bytes(b"")
    (folder / "texte.xlsx").write_text("pas un classeur", encoding="utf-8")
    with (
        good_return.open("rb") as source,
        (folder / "chiffre.xlsx").open("wb") as output,
    ):
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("secret", output)
    (folder / "bon.xlsx").write_bytes(good_return.read_bytes())
    ods(
        folder / "repete.ods",
        ods_content(
            '<table:table table:name="A"><table:table-row table:number-rows-repeated="999999999"><table:table-cell table:number-columns-repeated="999999" office:value-type="float" office:value="1"/></table:table-row></table:table>'
        ),
    )
    before = {
        path.name: (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in folder.iterdir()
    }
    reports = list(
        check_many(
            [Task(path) for path in sorted(folder.iterdir())],
            small_survey,
            YEAR,
            workers=2,
        )
    )
    after = {
        path.name: (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in folder.iterdir()
    }
    assert after == before
    statuses = {Path(report.path).name: report.status for report in reports}
    assert statuses == {
        "vide.xlsx": "unreadable",
        "texte.xlsx": "unreadable",
        "chiffre.xlsx": "unreadable",
        "bon.xlsx": "valid",
        "repete.ods": "unreadable",
    }
    for report in reports:
        if report.status == "unreadable":
            assert report.problems[0].message
            assert report.problems[0].suggestion
