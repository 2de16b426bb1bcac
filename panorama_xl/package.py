"""Writing .xlsx packages safely: atomic replacement and workbook structure protection."""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path next to ``target`` and move it over ``target`` on success.

    Readers never see a half-written file: the final ``os.replace`` is atomic on
    one file system, and the temporary file is removed if the block raises.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp creates the file readable by its owner only; give it the usual mode.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def legacy_password_hash(password: str) -> str:
    """Return the 16-bit password verifier of ECMA-376 Part 4 (the ``password`` attribute).

    This hash protects against slips only: it is trivially reversible, which is
    why sheet protection here is an ergonomic guard and never a security measure.
    """
    verifier = 0
    for character in reversed(password):
        verifier = ((verifier >> 14) & 0x01) | ((verifier << 1) & 0x7FFF)
        verifier ^= ord(character)
    verifier = ((verifier >> 14) & 0x01) | ((verifier << 1) & 0x7FFF)
    verifier ^= len(password)
    verifier ^= 0xCE4B
    return f"{verifier:04X}"


_WORKBOOK_PR = re.compile(
    rb"<workbookPr\b[^>]*/>|<workbookPr\b[^>]*>.*?</workbookPr>", re.S
)


def add_structure_protection(workbook_xml: bytes, password: str) -> bytes:
    """Insert ``<workbookProtection lockStructure="1">`` after ``<workbookPr>``.

    XlsxWriter has no API for structure protection, which stops respondents from
    unhiding, renaming or deleting sheets in Excel. The element must follow
    ``workbookPr`` in the schema's sequence.
    """
    element = (
        f'<workbookProtection workbookPassword="{legacy_password_hash(password)}" '
        f'lockStructure="1"/>'
    ).encode()
    match = _WORKBOOK_PR.search(workbook_xml)
    if match is None:
        raise ValueError("xl/workbook.xml has no <workbookPr> element")
    return workbook_xml[: match.end()] + element + workbook_xml[match.end() :]


def rewrite_member(path: Path, member: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite one member of a zip package in place, keeping the others byte for byte."""
    with zipfile.ZipFile(path) as source:
        infos = source.infolist()
        contents = {info.filename: source.read(info.filename) for info in infos}
    contents[member] = change(contents[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            target.writestr(
                info, contents[info.filename], compress_type=zipfile.ZIP_DEFLATED
            )
