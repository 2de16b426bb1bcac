"""Recognise a returned file by its content and refuse hostile ones before any parser runs.

The format is decided from the bytes, never from the extension. A file is a
zip package (xlsx, xlsm, ods, or something else), an OLE2 compound file, or
anything else. An OLE2 file is a legacy xls, or an xlsx encrypted with a
password-to-open, which Office stores in OLE2. Before a spreadsheet parser sees the file:

* the file size, the number of zip members, each member's uncompressed size
  and compression ratio are capped, reading the members through ``zipfile``
  so that a member whose real size exceeds its declared size fails its check;
* XML members with a DOCTYPE or an entity declaration are rejected (billion
  laughs and external entities);
* encrypted packages are recognised (``EncryptionInfo`` in OLE2, an
  ``encryption-data`` element in an ODS manifest).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import olefile

from panorama_xl.errors import PanoramaError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True)
class Limits:
    """Caps applied to every returned file. The defaults fit a questionnaire with room to spare.

    A 500-row questionnaire saved by LibreOffice 7.4 is about 140 KB zipped
    and 1.1 MB (xlsx) or 1.8 MB (ods) unzipped, 8 to 15 times smaller
    compressed. The caps are two orders of magnitude above.
    """

    max_file_bytes: int = 50 * 1024 * 1024
    max_members: int = 2000
    max_member_bytes: int = 200 * 1024 * 1024
    max_total_bytes: int = 400 * 1024 * 1024
    # Ratios above this are refused for members over ratio_floor_bytes.
    max_ratio: float = 500.0
    ratio_floor_bytes: int = 10 * 1024 * 1024
    max_cells: int = 5_000_000
    seconds: float = 60.0


class ReturnedFileError(PanoramaError):
    """A returned file that cannot be read; ``code`` is a file-level problem code."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class Sniffed:
    """Format of a returned file (``xlsx``, ``xlsm``, ``ods`` or ``xls``) and whether it has macros."""

    format: str
    macros: bool = False
    # Decompressed XML members of a zip package, already checked, by name.
    members: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)


def sniff(path: Path, limits: Limits | None = None) -> Sniffed:
    """Identify a returned file and check it against ``limits``.

    Raises:
        ReturnedFileError: with the code of the file-level problem (empty,
            too large, encrypted, unsafe, corrupt or not a spreadsheet).
    """
    limits = limits or Limits()
    size = path.stat().st_size
    if size == 0:
        raise ReturnedFileError("file-empty")
    if size > limits.max_file_bytes:
        raise ReturnedFileError(
            "file-too-large",
            f"{_megabytes(size)} pour {_megabytes(limits.max_file_bytes)} au plus",
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(path, limits)
    if head == OLE_MAGIC:
        return _sniff_ole(path)
    raise ReturnedFileError("file-not-spreadsheet", _describe_unknown(path))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


def _describe_unknown(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(1024)
    if head.startswith(b"%PDF"):
        return "document PDF"
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "page HTML"
    if head.lstrip().startswith(b"<?xml"):
        return "fichier XML"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "format inconnu"
    return "fichier texte (CSV ?)"


def _sniff_ole(path: Path) -> Sniffed:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir()}
    except (OSError, ValueError) as error:
        raise ReturnedFileError(
            "file-corrupt", f"conteneur OLE illisible : {error}"
        ) from error
    if "encryptioninfo" in streams or "encryptedpackage" in streams:
        raise ReturnedFileError("file-encrypted")
    if "workbook" in streams or "book" in streams:
        return Sniffed("xls")
    if "worddocument" in streams:
        raise ReturnedFileError("file-not-spreadsheet", "document Word 97-2003")
    raise ReturnedFileError("file-not-spreadsheet", "conteneur OLE sans classeur")


def _sniff_zip(path: Path, limits: Limits) -> Sniffed:
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ReturnedFileError(
            "file-corrupt", f"archive zip illisible : {error}"
        ) from error
    with package:
        infos = package.infolist()
        if len(infos) > limits.max_members:
            raise ReturnedFileError(
                "file-unsafe", f"{len(infos)} éléments dans l'archive"
            )
        names = {info.filename for info in infos}
        total = 0
        for info in infos:
            total += info.file_size
            _check_member_size(info, limits)
        if total > limits.max_total_bytes:
            raise ReturnedFileError(
                "file-too-large", f"{_megabytes(total)} une fois décompressé"
            )
        members: dict[str, bytes] = {}
        for info in infos:
            if (
                info.filename.endswith((".xml", ".rels", ".vml"))
                or info.filename == "[Content_Types].xml"
            ):
                _scan_xml_member(package, info, limits, members)
        if "mimetype" in names or "META-INF/manifest.xml" in names:
            sniffed = _sniff_ods(package, names)
            return Sniffed(sniffed.format, sniffed.macros, members)
        if "xl/workbook.xml" in names:
            macros = "xl/vbaProject.bin" in names or any(
                name.startswith("xl/macrosheets/") for name in names
            )
            return Sniffed("xlsm" if macros else "xlsx", macros, members)
        if (
            any(name.lower().endswith("workbook.xml") for name in names)
            and "[Content_Types].xml" in names
        ):
            # A non-standard part name: let the reader find it through the relationships.
            return Sniffed("xlsx", False, members)
        if "word/document.xml" in names:
            raise ReturnedFileError("file-not-spreadsheet", "document Word")
        if "ppt/presentation.xml" in names:
            raise ReturnedFileError("file-not-spreadsheet", "présentation PowerPoint")
        raise ReturnedFileError("file-not-spreadsheet", "archive zip sans classeur")


def _check_member_size(info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size > limits.max_member_bytes:
        raise ReturnedFileError(
            "file-too-large",
            f"{info.filename} : {_megabytes(info.file_size)} une fois décompressé",
        )
    if info.file_size > limits.ratio_floor_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise ReturnedFileError(
                "file-unsafe",
                f"{info.filename} : taux de compression de {ratio:.0f} pour 1",
            )


_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


def _scan_xml_member(
    package: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: Limits,
    kept: dict[str, bytes],
) -> None:
    """Read one XML member in chunks, checking its real size and looking for declarations.

    The member's bytes are added to ``kept`` so that the reader does not
    decompress it a second time.
    """
    read = 0
    tail = b""
    encoding: str | None = None
    chunks: list[bytes] = []
    try:
        with package.open(info) as stream:
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                read += len(chunk)
                if read > limits.max_member_bytes:
                    raise ReturnedFileError(
                        "file-too-large",
                        f"{info.filename} dépasse {_megabytes(limits.max_member_bytes)}",
                    )
                if encoding is None:
                    encoding = _xml_encoding(chunk)
                chunks.append(chunk)
                # UTF-8 declarations are plain ASCII bytes; only UTF-16 needs decoding.
                text = tail + chunk
                if encoding != "utf-8":
                    text = text.decode(encoding, errors="replace").encode("utf-8")
                for declaration in _DECLARATIONS:
                    if declaration in text:
                        raise ReturnedFileError(
                            "file-unsafe",
                            f"déclaration {declaration[2:].decode()} dans {info.filename}",
                        )
                tail = chunk[-32:]
    except zipfile.BadZipFile as error:
        raise ReturnedFileError("file-corrupt", f"{info.filename} : {error}") from error
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as error:
        raise ReturnedFileError("file-corrupt", f"{info.filename} : {error}") from error
    kept[info.filename] = b"".join(chunks)


def _xml_encoding(head: bytes) -> str:
    """Guess the encoding of an XML member from its first bytes (UTF-16 or UTF-8)."""
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return "utf-16-le"
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return "utf-16-be"
    return "utf-8"


def _sniff_ods(package: zipfile.ZipFile, names: set[str]) -> Sniffed:
    mimetype = package.read("mimetype").strip() if "mimetype" in names else b""
    if "META-INF/manifest.xml" in names:
        manifest = package.read("META-INF/manifest.xml")
        if b"encryption-data" in manifest:
            raise ReturnedFileError("file-encrypted")
    if mimetype and mimetype != ODS_MIMETYPE:
        kind = mimetype.decode("ascii", errors="replace")
        raise ReturnedFileError(
            "file-not-spreadsheet", f"document OpenDocument de type {kind}"
        )
    if "content.xml" not in names:
        raise ReturnedFileError("file-corrupt", "content.xml absent")
    macros = any(name.startswith(("Basic/", "Scripts/")) for name in names)
    return Sniffed("ods", macros)
