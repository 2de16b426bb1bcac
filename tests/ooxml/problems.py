"""The problem record that every check returns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A reason why Excel would reject or repair a package.

    Attributes:
        part: Zip member name of the part, such as "xl/workbook.xml", or the
            file name of the package for problems with the archive itself.
        line: Line in the part's XML, or 0 when the problem is not tied to a
            line (a missing part, a part without a content type).
        message: What is wrong, with the offending value.
    """

    part: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.part}:{self.line}: {self.message}"
