"""Excel rules that the ECMA-376 schemas do not express.

Excel applies these rules when a user names a sheet, defines a name or enters
a data validation. A workbook that breaks them passes the schema, but Excel
may offer to repair it.
"""

from lxml import etree

from . import namespaces as ns
from .problems import Problem

MAX_SHEET_NAME_LENGTH = 31
FORBIDDEN_SHEET_NAME_CHARACTERS = "[]:*?/\\"
MAX_DATA_VALIDATION_FORMULA_LENGTH = 255

_SHEET = ns.clark(ns.SML, "sheet")
_DEFINED_NAME = ns.clark(ns.SML, "definedName")

# Data validations appear in two forms: <dataValidation> of SpreadsheetML,
# and <x14:dataValidation> in an extLst, which Excel 2010 and later write for
# list sources on other sheets. Both carry formula1 and formula2 elements.
_DATA_VALIDATION_FORMULAS = etree.XPath(
    "//x:dataValidation/x:formula1 | //x:dataValidation/x:formula2"
    " | //x14:dataValidation/x14:formula1 | //x14:dataValidation/x14:formula2",
    namespaces={"x": ns.SML, "x14": ns.EXCEL_2010_MAIN},
)
_X14_SQREF = ns.clark(ns.EXCEL_FORMULA, "sqref")


def utf16_length(text: str) -> int:
    """Return the length of text in UTF-16 code units.

    Excel's length limits count UTF-16 code units, so a character outside
    the Basic Multilingual Plane (an emoji) counts as two. XlsxWriter 3.3
    counts sheet names and list validations the same way.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def check_workbook(part: str, root: etree._Element) -> list[Problem]:
    """Check the sheet names and defined names of a workbook part.

    Args:
        part: Zip member name of the workbook part.
        root: The parsed <workbook> element.

    Returns:
        One problem per broken rule.
    """
    sheets = list(root.iter(_SHEET))

    problems = check_sheet_names(part, sheets)
    problems += check_defined_names(part, root, sheets)

    return problems


def check_sheet_names(part: str, sheets: list[etree._Element]) -> list[Problem]:
    """Check each <sheet name> against Excel's sheet name rules.

    A name has 1 to 31 characters, none of []:*?/\\, does not start or end
    with an apostrophe, and differs from the other names in more than case.
    """
    problems = []
    seen: set[str] = set()

    for sheet in sheets:
        name = sheet.get("name", "")
        line = sheet.sourceline or 0

        for message in _sheet_name_errors(name):
            problems.append(Problem(part, line, message))

        folded = name.casefold()
        if folded in seen:
            message = (
                f"duplicate sheet name {name!r}: Excel compares sheet names "
                "without regard to case"
            )
            problems.append(Problem(part, line, message))
        seen.add(folded)

    return problems


def _sheet_name_errors(name: str) -> list[str]:
    errors = []

    length = utf16_length(name)
    if not 1 <= length <= MAX_SHEET_NAME_LENGTH:
        errors.append(
            f"sheet name {name!r} is {length} characters long, but Excel "
            f"allows 1 to {MAX_SHEET_NAME_LENGTH}"
        )

    forbidden = sorted(set(name) & set(FORBIDDEN_SHEET_NAME_CHARACTERS))
    if forbidden:
        errors.append(
            f"sheet name {name!r} contains {''.join(forbidden)!r}; Excel does not "
            f"allow any of {FORBIDDEN_SHEET_NAME_CHARACTERS} in sheet names"
        )

    if name.startswith("'") or name.endswith("'"):
        errors.append(
            f"sheet name {name!r} starts or ends with an apostrophe, which Excel "
            "does not allow"
        )

    return errors


def check_defined_names(
    part: str, root: etree._Element, sheets: list[etree._Element]
) -> list[Problem]:
    """Check that defined names are unique per scope and scopes exist.

    A defined name without localSheetId has workbook scope. localSheetId is
    the 0-based position of a <sheet> in <sheets>. Excel compares names
    without regard to case.
    """
    problems = []
    seen: set[tuple[str | None, str]] = set()

    for defined_name in root.iter(_DEFINED_NAME):
        name = defined_name.get("name", "")
        scope = defined_name.get("localSheetId")
        line = defined_name.sourceline or 0

        scope_error = _scope_error(name, scope, sheets)
        if scope_error:
            problems.append(Problem(part, line, scope_error))

        key = (scope, name.casefold())
        if key in seen:
            message = f"duplicate defined name {name!r} in {_describe_scope(scope)}"
            problems.append(Problem(part, line, message))
        seen.add(key)

    return problems


def _scope_error(
    name: str, scope: str | None, sheets: list[etree._Element]
) -> str | None:
    if scope is None:
        return None

    # A non-numeric localSheetId is left to the schema (xsd:unsignedInt).
    if not scope.isdigit() or int(scope) < len(sheets):
        return None

    return (
        f"defined name {name!r} has localSheetId {scope}, but the workbook has "
        f"{len(sheets)} sheet(s) and localSheetId counts from 0"
    )


def _describe_scope(scope: str | None) -> str:
    if scope is None:
        return "workbook scope"

    return f"the scope of sheet localSheetId={scope}"


def check_data_validations(part: str, root: etree._Element) -> list[Problem]:
    """Check the formula length of each data validation in a worksheet part.

    Excel rejects a formula1 or formula2 longer than 255 characters. For a
    literal list such as "yes,no" the enclosing double quotes are not
    counted, which matches the limit that XlsxWriter 3.3 applies to list
    items and their separators.

    Args:
        part: Zip member name of the worksheet part.
        root: The parsed <worksheet> element.

    Returns:
        One problem per formula that is too long.
    """
    problems = []

    for formula in _DATA_VALIDATION_FORMULAS(root):
        length = _formula_length(formula)
        if length <= MAX_DATA_VALIDATION_FORMULA_LENGTH:
            continue

        message = (
            f"data validation {_sqref(formula.getparent())} "
            f"{etree.QName(formula).localname} is {length} characters long, but "
            f"Excel allows at most {MAX_DATA_VALIDATION_FORMULA_LENGTH}; put long "
            "lists in cells and refer to the range"
        )
        problems.append(Problem(part, formula.sourceline or 0, message))

    return problems


def _formula_length(formula: etree._Element) -> int:
    text = "".join(formula.itertext())

    is_list = formula.getparent().get("type") == "list"
    if is_list and len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1]

    return utf16_length(text)


def _sqref(validation: etree._Element) -> str:
    sqref = validation.get("sqref")
    if sqref is None:
        sqref = validation.findtext(_X14_SQREF, default="?")

    return sqref
