"""Errors a person can act on: file:line:col, the field path, what was wrong, what is allowed."""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple  # of str keys and int indices, e.g. ("tls", "cipher_suites", 1)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(profile)"


@dataclass(frozen=True)
class Location:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    location: Location
    path: Path
    message: str

    def __str__(self) -> str:
        where = format_path(self.path)
        return f"{self.location}: error: {where}: {self.message}" if self.path else \
            f"{self.location}: error: {self.message}"


@dataclass
class ProfileError(Exception):
    """One or more problems with a profile; the CLI prints them all and exits 2."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
