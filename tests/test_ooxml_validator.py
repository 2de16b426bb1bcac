"""Tests for the Office Open XML checker in tests/ooxml.

Each broken workbook is a copy of a valid one with one part edited inside the
zip archive, so that a failure can only come from that edit.
"""

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from lxml import etree
from openpyxl.comments import Comment
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from .ooxml import validate_xlsx
from .ooxml.compat import apply_markup_compatibility
from .ooxml.xsd import load_schema

SHEET = "xl/worksheets/sheet1.xml"
WORKBOOK = "xl/workbook.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET_RELS = "xl/worksheets/_rels/sheet1.xml.rels"

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def write_feature_workbook(path: Path) -> Path:
    """Write an XlsxWriter workbook with the features the project relies on."""
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Survey")

    sheet.write_row(0, 0, ["Application", "Users", " padded answer "])
    sheet.write_column(1, 1, [3, 5, 8])

    sheet.data_validation("C2:C10", {"validate": "list", "source": ["yes", "no"]})
    sheet.data_validation(
        "B2:B10",
        {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 100},
    )

    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"values": "=Survey!$B$2:$B$4"})
    sheet.insert_chart("E2", chart)

    sheet.write_comment("A1", "Name of the application")
    workbook.set_custom_property("Campaign", "2027")
    workbook.set_custom_property("Revision", 3)
    workbook.define_name("Answers", "=Survey!$C$2:$C$10")
    sheet.protect("secret")

    workbook.close()
    return path


def copy_package(
    source: Path,
    target: Path,
    edits: dict[str, Callable[[str], str | None]] | None = None,
    extra_parts: dict[str, bytes] | None = None,
) -> Path:
    """Copy a zip archive, passing the text of the named parts through edits.

    An edit that returns None drops the part from the copy.
    """
    edits = edits or {}

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)

            edit = edits.get(info.filename)
            if edit is not None:
                text = edit(data.decode("utf-8"))
                if text is None:
                    continue
                data = text.encode("utf-8")

            new.writestr(info, data)

        for name, data in (extra_parts or {}).items():
            new.writestr(name, data)

    return target


def replace_once(old: str, new: str) -> Callable[[str], str]:
    """Return an edit that replaces old by new, failing unless old occurs once."""
    return replace_each((old, new))


def replace_each(*replacements: tuple[str, str]) -> Callable[[str], str]:
    """Return an edit that applies each (old, new) replacement in turn.

    Each old text must occur exactly once, so that a change in the output of
    XlsxWriter fails the test instead of silently skipping the edit.
    """

    def edit(text: str) -> str:
        for old, new in replacements:
            assert text.count(old) == 1, f"expected one {old!r} in the part"
            text = text.replace(old, new)
        return text

    return edit


def read_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


@pytest.fixture
def feature_workbook(tmp_path: Path) -> Path:
    return write_feature_workbook(tmp_path / "features.xlsx")


# Valid workbooks


def test_xlsxwriter_feature_workbook_passes(feature_workbook: Path):
    with zipfile.ZipFile(feature_workbook) as archive:
        names = set(archive.namelist())
    sheet_xml = read_part(feature_workbook, SHEET)

    assert "xl/charts/chart1.xml" in names
    assert "xl/comments1.xml" in names
    assert "docProps/custom.xml" in names
    assert "<sheetProtection " in sheet_xml
    assert "<dataValidations " in sheet_xml
    assert validate_xlsx(feature_workbook) == []


def test_openpyxl_workbook_passes(tmp_path: Path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Survey"
    sheet["A1"] = "Application"
    sheet["A1"].comment = Comment("Name of the application", "panorama")
    validation = DataValidation(type="list", formula1='"yes,no"')
    validation.add("B2:B10")
    sheet.add_data_validation(validation)
    sheet.protection.sheet = True
    workbook.defined_names["Answers"] = DefinedName("Answers", attr_text="Survey!$B$2")
    path = tmp_path / "openpyxl.xlsx"
    workbook.save(path)

    assert validate_xlsx(path) == []


def test_xml_space_on_text_passes(feature_workbook: Path):
    shared_strings = read_part(feature_workbook, SHARED_STRINGS)

    assert '<t xml:space="preserve"> padded answer </t>' in shared_strings
    assert validate_xlsx(feature_workbook) == []


def test_excel_extensions_pass(feature_workbook: Path, tmp_path: Path):
    # Extensions in the two forms that Excel uses: attributes of a namespace
    # listed in mc:Ignorable, and an mc:AlternateContent whose mc:Choice
    # contains content that the ECMA schema rejects (an x14 element) and whose
    # mc:Fallback is valid.
    alternate_content = (
        '<mc:AlternateContent><mc:Choice Requires="x14"><x14:sparklineGroups/>'
        '</mc:Choice><mc:Fallback><cols><col min="1" max="1" width="20"/>'
        "</cols></mc:Fallback></mc:AlternateContent>"
    )
    edits = {
        SHEET: replace_each(
            (
                "<worksheet ",
                f'<worksheet xmlns:mc="{MC}" xmlns:x14ac="{X14AC}" '
                f'xmlns:x14="{X14}" mc:Ignorable="x14ac" ',
            ),
            ('<row r="2" spans="1:3">', '<row r="2" spans="1:3" x14ac:dyDescent="1">'),
            (
                '<sheetFormatPr defaultRowHeight="15"/>',
                '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/>'
                + alternate_content,
            ),
        )
    }
    path = copy_package(feature_workbook, tmp_path / "extensions.xlsx", edits)
    sheet_xml = read_part(path, SHEET)

    assert 'x14ac:dyDescent="0.25"' in sheet_xml
    assert "<mc:Fallback><cols>" in sheet_xml
    assert validate_xlsx(path) == []


def test_emptied_extension_passes(feature_workbook: Path, tmp_path: Path):
    # Excel 2013 and later write this extension, with x15 declared ignorable.
    # Dropping the ignorable element would leave an <ext> that the schema
    # rejects for having no child.
    x15 = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"
    edits = {
        WORKBOOK: replace_each(
            (
                "<workbook ",
                f'<workbook xmlns:mc="{MC}" xmlns:x15="{x15}" mc:Ignorable="x15" ',
            ),
            (
                "</workbook>",
                '<extLst><ext uri="{140A7094-0E35-4892-8432-C4D2E57EDEB5}">'
                '<x15:workbookPr chartTrackingRefBase="1"/></ext></extLst>'
                "</workbook>",
            ),
        )
    }
    path = copy_package(feature_workbook, tmp_path / "x15.xlsx", edits)

    assert "<x15:workbookPr " in read_part(path, WORKBOOK)
    assert validate_xlsx(path) == []


def test_data_validation_at_limit_passes(tmp_path: Path):
    # 51 items and 50 commas make 255 characters, the most that XlsxWriter
    # accepts; the stored formula adds two quotes.
    items = [f"{number:04d}" for number in range(50)] + ["00050"]
    path = tmp_path / "limit.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.data_validation("A1", {"validate": "list", "source": items})
    workbook.close()

    formula = re.search("<formula1>(.*?)</formula1>", read_part(path, SHEET)).group(1)

    assert len(formula) == 257
    assert validate_xlsx(path) == []


# Schema errors


def test_element_out_of_order_fails(feature_workbook: Path, tmp_path: Path):
    # The schema puts <sheetProtection> before <dataValidations>.
    sheet_xml = read_part(feature_workbook, SHEET)
    protection = re.search("<sheetProtection [^>]*/>", sheet_xml).group(0)
    edits = {
        SHEET: replace_each(
            (protection, ""),
            ("</dataValidations>", "</dataValidations>" + protection),
        )
    }
    path = copy_package(feature_workbook, tmp_path / "order.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET + ":")
    assert "Element 'x:sheetProtection'" in problems[0]
    assert "not expected" in problems[0]


def test_unknown_attribute_fails(feature_workbook: Path, tmp_path: Path):
    # Without mc:Ignorable, a consumer of ECMA-376 alone must reject the
    # attribute, although Excel 2010 and later understand x14ac.
    edits = {
        SHEET: replace_once(
            '<row r="2" spans="1:3">',
            f'<row r="2" spans="1:3" xmlns:x14ac="{X14AC}" x14ac:dyDescent="0.25">',
        )
    }
    path = copy_package(feature_workbook, tmp_path / "attribute.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET + ":")
    assert "attribute 'x14ac:dyDescent'" in problems[0]
    assert "not allowed" in problems[0]


def test_invalid_fallback_fails(feature_workbook: Path, tmp_path: Path):
    alternate_content = (
        f'<mc:AlternateContent xmlns:mc="{MC}" xmlns:x14="{X14}">'
        '<mc:Choice Requires="x14"><cols/></mc:Choice>'
        "<mc:Fallback><bogus/></mc:Fallback></mc:AlternateContent>"
    )
    edits = {
        SHEET: replace_once(
            '<sheetFormatPr defaultRowHeight="15"/>',
            '<sheetFormatPr defaultRowHeight="15"/>' + alternate_content,
        )
    }
    path = copy_package(feature_workbook, tmp_path / "fallback.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET + ":")
    assert "x:bogus" in problems[0]


def test_wrong_root_element_fails(feature_workbook: Path, tmp_path: Path):
    styles = read_part(feature_workbook, "xl/styles.xml")
    edits = {SHARED_STRINGS: lambda text: styles}
    path = copy_package(feature_workbook, tmp_path / "root.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHARED_STRINGS + ":")
    assert "root element is x:styleSheet" in problems[0]
    assert "requires x:sst" in problems[0]


def test_invalid_xml_space_value_fails(feature_workbook: Path, tmp_path: Path):
    edits = {SHARED_STRINGS: replace_once('xml:space="preserve"', 'xml:space="keep"')}
    path = copy_package(feature_workbook, tmp_path / "space.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHARED_STRINGS + ":")
    assert "xml:space='keep'" in problems[0]


def test_malformed_xml_fails(feature_workbook: Path, tmp_path: Path):
    edits = {SHARED_STRINGS: replace_once("</sst>", "</sst")}
    path = copy_package(feature_workbook, tmp_path / "malformed.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHARED_STRINGS + ":")
    assert "cannot be parsed" in problems[0]


def test_dtd_declaration_fails(feature_workbook: Path, tmp_path: Path):
    edits = {
        SHARED_STRINGS: replace_once(
            "<sst ", '<!DOCTYPE sst [<!ENTITY greeting "hello">]><sst '
        )
    }
    path = copy_package(feature_workbook, tmp_path / "dtd.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHARED_STRINGS + ":")
    assert "DTD declaration" in problems[0]


# Package structure


def test_missing_relationship_target_fails(feature_workbook: Path, tmp_path: Path):
    path = copy_package(
        feature_workbook, tmp_path / "target.xlsx", {"xl/comments1.xml": lambda _: None}
    )
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET_RELS + ":")
    assert "'xl/comments1.xml'" in problems[0]
    assert "not in the package" in problems[0]


def test_undefined_relationship_id_fails(feature_workbook: Path, tmp_path: Path):
    edits = {SHEET: replace_once('<drawing r:id="rId1"/>', '<drawing r:id="rId9"/>')}
    path = copy_package(feature_workbook, tmp_path / "rid.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET + ":")
    assert "r:id='rId9'" in problems[0]
    assert SHEET_RELS in problems[0]


def test_missing_content_types_fails(feature_workbook: Path, tmp_path: Path):
    path = copy_package(
        feature_workbook,
        tmp_path / "types.xlsx",
        {"[Content_Types].xml": lambda _: None},
    )
    problems = validate_xlsx(path)

    assert problems == ["[Content_Types].xml:0: part is missing from the package"]


def test_part_without_content_type_fails(feature_workbook: Path, tmp_path: Path):
    path = copy_package(
        feature_workbook, tmp_path / "extra.xlsx", extra_parts={"xl/extra.bin": b"\0"}
    )
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith("xl/extra.bin:0: part has no content type")


def test_root_relationship_to_styles_fails(feature_workbook: Path, tmp_path: Path):
    edits = {
        "_rels/.rels": replace_once(
            'Target="xl/workbook.xml"', 'Target="xl/styles.xml"'
        )
    }
    path = copy_package(feature_workbook, tmp_path / "root-rel.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith("_rels/.rels:")
    assert "not a workbook content type" in problems[0]


def test_non_zip_file_fails(tmp_path: Path):
    path = tmp_path / "encrypted.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504))

    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith("encrypted.xlsx:0: not a zip archive")


# Excel rules outside the schema


def test_long_data_validation_formula_fails(feature_workbook: Path, tmp_path: Path):
    formula = "+".join(["A1"] * 99 + ["A10"])
    assert len(formula) == 300

    edits = {
        SHEET: replace_once("<formula1>0</formula1>", f"<formula1>{formula}</formula1>")
    }
    path = copy_package(feature_workbook, tmp_path / "formula.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET + ":")
    assert "data validation B2:B10 formula1 is 300 characters long" in problems[0]


def test_long_extension_validation_formula_fails(
    feature_workbook: Path, tmp_path: Path
):
    # Excel 2010 and later write list validations that refer to other sheets
    # in an x14 extension, outside the reach of the ECMA schema.
    formula = "+".join(["A1"] * 99 + ["A10"])
    extension = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"'
        f' xmlns:x14="{X14}"><x14:dataValidations count="1"'
        ' xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<x14:dataValidation type="custom"><x14:formula1>'
        f"<xm:f>{formula}</xm:f></x14:formula1><xm:sqref>D2:D9</xm:sqref>"
        "</x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>"
    )
    edits = {SHEET: replace_once("</worksheet>", extension)}
    path = copy_package(feature_workbook, tmp_path / "x14.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(SHEET + ":")
    assert "data validation D2:D9 formula1 is 300 characters long" in problems[0]


def test_list_validation_over_limit_fails(feature_workbook: Path, tmp_path: Path):
    items = ",".join(f"{number:04d}" for number in range(50)) + ",000050"
    assert len(items) == 256

    edits = {SHEET: replace_once('"yes,no"', f'"{items}"')}
    path = copy_package(feature_workbook, tmp_path / "list.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert "data validation C2:C10 formula1 is 256 characters long" in problems[0]


def test_long_sheet_name_fails(feature_workbook: Path, tmp_path: Path):
    name = "Inventaire des applications 2027"
    assert len(name) == 32

    edits = {WORKBOOK: replace_once('name="Survey"', f'name="{name}"')}
    path = copy_package(feature_workbook, tmp_path / "name.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(WORKBOOK + ":")
    assert f"sheet name {name!r} is 32 characters long" in problems[0]


def test_sheet_name_at_limit_passes(feature_workbook: Path, tmp_path: Path):
    name = "Inventaire des applications 202"
    assert len(name) == 31

    edits = {WORKBOOK: replace_once('name="Survey"', f'name="{name}"')}
    path = copy_package(feature_workbook, tmp_path / "name.xlsx", edits)

    assert validate_xlsx(path) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "is 0 characters long"),
        ("2027/2028", "contains '/'"),
        ("[Draft]", "contains '[]'"),
        ("Why?", "contains '?'"),
        ("'Quoted'", "starts or ends with an apostrophe"),
    ],
)
def test_invalid_sheet_name_fails(
    feature_workbook: Path, tmp_path: Path, name: str, expected: str
):
    edits = {WORKBOOK: replace_once('name="Survey"', f'name="{name}"')}
    path = copy_package(feature_workbook, tmp_path / "name.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(WORKBOOK + ":")
    assert expected in problems[0]


def test_duplicate_sheet_name_fails(tmp_path: Path):
    source = tmp_path / "two-sheets.xlsx"
    workbook = xlsxwriter.Workbook(source)
    workbook.add_worksheet("Data")
    workbook.add_worksheet("Other")
    workbook.close()

    edits = {WORKBOOK: replace_once('name="Other"', 'name="DATA"')}
    path = copy_package(source, tmp_path / "duplicate.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert "duplicate sheet name 'DATA'" in problems[0]


def test_duplicate_defined_name_fails(feature_workbook: Path, tmp_path: Path):
    definition = re.search(
        '<definedName name="Answers">[^<]*</definedName>',
        read_part(feature_workbook, WORKBOOK),
    ).group(0)
    duplicate = definition.replace('"Answers"', '"ANSWERS"')
    edits = {WORKBOOK: replace_once(definition, definition + duplicate)}
    path = copy_package(feature_workbook, tmp_path / "names.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert "duplicate defined name 'ANSWERS' in workbook scope" in problems[0]


def test_same_name_in_sheet_scope_passes(feature_workbook: Path, tmp_path: Path):
    definition = re.search(
        '<definedName name="Answers">[^<]*</definedName>',
        read_part(feature_workbook, WORKBOOK),
    ).group(0)
    local = definition.replace('name="Answers"', 'name="Answers" localSheetId="0"')
    edits = {WORKBOOK: replace_once(definition, local + definition)}
    path = copy_package(feature_workbook, tmp_path / "scopes.xlsx", edits)

    assert validate_xlsx(path) == []


def test_local_sheet_id_out_of_range_fails(feature_workbook: Path, tmp_path: Path):
    edits = {
        WORKBOOK: replace_once(
            '<definedName name="Answers">',
            '<definedName name="Answers" localSheetId="1">',
        )
    }
    path = copy_package(feature_workbook, tmp_path / "scope.xlsx", edits)
    problems = validate_xlsx(path)

    assert len(problems) == 1
    assert problems[0].startswith(WORKBOOK + ":")
    assert "localSheetId 1" in problems[0]
    assert "the workbook has 1 sheet" in problems[0]


# Markup compatibility processing on its own


def compat_root(body: str) -> etree._Element:
    return etree.fromstring(
        f'<root xmlns="urn:ecma" xmlns:mc="{MC}" xmlns:ext="urn:extension"'
        f' mc:Ignorable="ext" mc:ProcessContent="ext:wrapper">{body}</root>'
    )


def test_ignorable_content_removed():
    root = compat_root('<a ext:flag="1">one<ext:note/>two</a>')

    problems = apply_markup_compatibility(root)
    element = root[0]

    assert problems == []
    assert root.attrib == {}
    assert element.attrib == {}
    assert len(element) == 0
    assert element.text == "onetwo"


def test_process_content_keeps_children():
    root = compat_root("<ext:wrapper>lead<a/>tail</ext:wrapper>")

    apply_markup_compatibility(root)

    assert [child.tag for child in root] == ["{urn:ecma}a"]
    assert root.text == "lead"
    assert root[0].tail == "tail"


def test_understood_choice_selected():
    root = etree.fromstring(
        f'<root xmlns="urn:ecma" xmlns:mc="{MC}" xmlns:x="{SML}">'
        '<mc:AlternateContent><mc:Choice Requires="x"><chosen/></mc:Choice>'
        "<mc:Fallback><fallback/></mc:Fallback></mc:AlternateContent></root>"
    )

    problems = apply_markup_compatibility(root)

    assert problems == []
    assert [child.tag for child in root] == ["{urn:ecma}chosen"]


def test_must_understand_unknown_fails():
    root = etree.fromstring(
        f'<root xmlns:mc="{MC}" xmlns:ext="urn:extension" mc:MustUnderstand="ext"/>'
    )

    problems = apply_markup_compatibility(root)

    assert len(problems) == 1
    assert "urn:extension" in problems[0][1]


def test_compiled_schema_is_cached():
    assert load_schema("transitional/sml.xsd") is load_schema("transitional/sml.xsd")
