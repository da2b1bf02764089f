"""Load a profile: YAML with positions -> plain data + a path->location map -> pydantic model.

PyYAML's composer gives nodes with marks; we build the data ourselves so that every key, value and
list item keeps its line and column, duplicate keys are caught (PyYAML silently keeps the last), and
pydantic's error locations map back to the file.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path as FsPath

import yaml
from pydantic import BaseModel, ValidationError

from tlsgen.errors import Location, Path, Problem, ProfileError
from tlsgen.model import Profile


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    file: str  # as given on the command line, used in messages
    sha256: str  # of the file's bytes
    positions: dict  # Path -> Location (value positions; keys under (path, "<key>"))
    raw: dict  # the data as written (to tell defaults from explicit values)

    def where(self, path: Path) -> Location:
        return locate(self.positions, self.file, path)


def locate(positions: dict, file: str, path: Path) -> Location:
    """The location of `path`, or of its nearest written ancestor (for missing fields)."""
    p = tuple(path)
    if p in positions:
        return positions[p]
    while p:  # missing: point at the key of the nearest ancestor that is written ("tls:")
        p = p[:-1]
        if p + ("<key>",) in positions:
            return positions[p + ("<key>",)]
        if p in positions:
            return positions[p]
    return positions.get((), Location(file, 1, 1))


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.positions: dict = {}
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path):
        self.positions[path] = self.loc(node)
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append(Problem(self.loc(key_node), path, "YAML merge keys ('<<') are not "
                                                 "supported in profiles: write the fields out"))
                    continue
                key = self._scalars.construct_object(key_node, deep=True) \
                    if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, (str, int)):
                    self.problems.append(Problem(self.loc(key_node), path, "keys must be plain names"))
                    continue
                if key in out:
                    first = self.positions[path + (key, "<key>")]
                    self.problems.append(Problem(self.loc(key_node), path + (key,),
                                                 f"duplicate key '{key}' (first defined at line {first.line})"))
                    continue
                self.positions[path + (key, "<key>")] = self.loc(key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalars.construct_object(node, deep=True)


def _read(file: str) -> bytes:
    try:
        return FsPath(file).read_bytes()
    except OSError as e:
        raise ProfileError([Problem(Location(file, 1, 1), (), f"cannot read profile: {e.strerror}")]) from None


def parse_yaml(file: str, text: bytes) -> tuple[object, dict]:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProfileError([Problem(Location(file, 1, 1), (), f"not UTF-8 text ({e.reason} at byte {e.start})")])
    try:
        docs = list(yaml.compose_all(decoded, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise ProfileError([Problem(Location(file, line, col), (), f"YAML syntax: {what}")]) from None
    except yaml.YAMLError as e:
        raise ProfileError([Problem(Location(file, 1, 1), (), f"YAML: {e}")]) from None
    if len(docs) != 1 or docs[0] is None:
        raise ProfileError([Problem(Location(file, 1, 1), (),
                                    f"expected exactly one YAML document, found {len([d for d in docs if d])}")])
    builder = _Builder(file)
    try:
        data = builder.build(docs[0], ())
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        raise ProfileError([Problem(loc, (), f"YAML: {e.problem}")]) from None
    if builder.problems:
        raise ProfileError(builder.problems)
    return data, builder.positions


def _model_at(model: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at `path` (for did-you-mean on unknown keys)."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None or isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        nested = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            current = ann
        elif nested:
            current = nested[0]
        else:
            current = None
    return current


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_branch_tag(part: object) -> bool:
    """pydantic names union branches and validators in error locations; they are not profile fields."""
    return isinstance(part, str) and (part.startswith(("function-", "literal[", "constrained-"))
                                      or part in ("int", "str", "bool", "list"))


def _pydantic_problem(err: dict, file: str, positions: dict) -> Problem:
    path: Path = tuple(p for p in err["loc"] if not _is_branch_tag(p))
    kind = err["type"]
    ctx = err.get("ctx", {})
    inp = err.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(Profile, path[:-1])
        known = list(owner.model_fields) if owner else []
        key = str(path[-1])
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        loc = positions.get(path + ("<key>",)) or locate(positions, file, path)
        return Problem(loc, path, f"unknown key '{key}'{hint} (allowed: {', '.join(known)})")
    if kind == "missing":
        return Problem(locate(positions, file, path), path, "required field is missing")
    if kind == "literal_error":
        msg = f"got {_describe(inp)}; allowed: {ctx.get('expected', '')}"
    elif kind == "value_error":
        msg = str(ctx.get("error", err["msg"]))
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        msg = f"got {_describe(inp)}; {err['msg'].lower()}"
    elif kind in ("too_short", "too_long"):
        msg = f"{err['msg']}"
    elif kind == "string_pattern_mismatch":
        msg = f"got {_describe(inp)}; must match {ctx.get('pattern')}"
    else:
        msg = f"got {_describe(inp)}; {err['msg']}"
    return Problem(locate(positions, file, path), path, msg)


def load_profile(file: str) -> LoadedProfile:
    """Read, parse and validate `file`; raise ProfileError with every problem found."""
    return load_profile_bytes(file, _read(file))


def load_profile_bytes(file: str, text: bytes) -> LoadedProfile:
    """Parse and validate profile bytes; `file` names them in messages."""
    data, positions = parse_yaml(file, text)
    if not isinstance(data, dict):
        raise ProfileError([Problem(locate(positions, file, ()), (), "a profile is a mapping of fields "
                                    "(profile, name, target, tls, platform, ...)")])
    try:
        profile = Profile.model_validate(data)
    except ValidationError as e:
        problems = _dedupe([_pydantic_problem(err, file, positions) for err in e.errors()])
        raise ProfileError(problems) from None
    return LoadedProfile(profile, file, hashlib.sha256(text).hexdigest(), positions, data)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """A union (heap: auto | int) reports one error per branch: keep the most specific per path."""
    by_path: dict = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p)
    out = []
    for path, group in by_path.items():
        if len(group) == 1:
            out.append(group[0])
        else:
            out.append(Problem(group[0].location, path, " or ".join(dict.fromkeys(g.message for g in group))))
    return sorted(out, key=lambda p: (p.location.line, p.location.col))
