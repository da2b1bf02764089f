"""Load a profile: YAML with positions -> plain data + a path->location map -> pydantic model.

PyYAML's composer gives nodes with marks; we build the data ourselves so that every key, value and
list item keeps its line and column, duplicate keys are caught (PyYAML silently keeps the last), and
pydantic's error locations map back to the file.

A profile is a small, reviewed file, so the loader refuses what no profile needs and what would let
a hostile or broken file exhaust the generator: files above MAX_PROFILE_BYTES, nesting deeper than
MAX_DEPTH, more than MAX_NODES values, and YAML anchors/aliases (which can be recursive or expand
exponentially). Every refusal is a ProfileError with a file:line:col, never a traceback or a hang.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import yaml
from pydantic import BaseModel, ValidationError

from tlsgen.errors import Location, Path, Problem, ProfileError
from tlsgen.model import PATTERN_PROBLEMS, PATTERN_WORDS, Profile
from tlsgen.words import allowed, constraints, did_you_mean, text_choices

#: Largest profile file read. The shipped profiles are 1-2 KB; a device profile has no use for more.
MAX_PROFILE_BYTES = 64 * 1024
#: Deepest nesting of mappings and lists. A valid profile goes 3 deep (insecure -> item -> field).
MAX_DEPTH = 16
#: Most scalars, mappings and lists in one file. A shipped profile has about 60.
MAX_NODES = 10_000


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


@dataclass(frozen=True)
class SchemaIssue:
    """A field the schema refused, for the salvage of the rest (tlsgen.salvage)."""

    path: Path
    kind: str  # "invalid" (a value that failed), "missing" (required, not written) or "unknown-key"
    annotation: object = None  # the field's annotation (None for an unknown key)
    metadata: tuple = ()
    meant: Path | None = None  # unknown key: the field it was probably meant as (did you mean)


@dataclass
class SchemaError(ProfileError):
    """The schema's problems, and what pipeline.build needs to judge the parts that did validate."""

    file: str = ""
    sha256: str = ""
    data: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    issues: list[SchemaIssue] = field(default_factory=list)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.positions: dict = {}
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def scalar(self, node: yaml.Node, path: Path):
        """The Python value of a scalar node; a value YAML cannot construct is a located problem."""
        try:
            return self._scalars.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as e:
            what = " ".join(x for x in (e.context, e.problem) if x)
        except Exception as e:  # noqa: BLE001 -- PyYAML's constructors raise anything on explicit tags
            # e.g. a date 2020-99-99, `!!int abc`, `!!bool maybe` (KeyError), `!!timestamp x`
            # (AttributeError), or an integer of more digits than Python converts (ValueError)
            detail = f": {e}" if isinstance(e, (ValueError, OverflowError)) else ""
            if "integer string conversion" in detail:
                detail = f": a number of {len(node.value)} characters is too long for any field"
            what = f"cannot read {node.value[:40]!r}{'...' if len(node.value) > 40 else ''} as " \
                   f"{node.tag.rsplit(':', 1)[-1]}{detail}"
        raise ProfileError([Problem(self.loc(node), path, f"YAML: {what}")])

    def build(self, node: yaml.Node, path: Path):
        self.positions[path] = self.loc(node)
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append(Problem(self.loc(key_node), path, "YAML merge keys ('<<') are not "
                                                 "supported in profiles: write the fields out"))
                    continue
                key = self.scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, str):
                    kind = {bool: "a boolean", int: "a number", float: "a number", type(None): "null",
                            datetime.date: "a date", datetime.datetime: "a date and time"}.get(
                        type(key), "a value that is not text")
                    shown = f" ({key_node.value[:40]!r} reads as {kind}; quote it if it is meant as a name)" \
                        if isinstance(key_node, yaml.ScalarNode) else " (a list or mapping is used as a key)"
                    self.problems.append(Problem(self.loc(key_node), path, f"keys must be plain names{shown}"))
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
        return self.scalar(node, path)


class _Refused(Exception):
    """The composer met something a profile may not contain (see _ProfileLoader)."""

    def __init__(self, mark, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _ProfileLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors/aliases and bounds nesting depth and node count.

    Checked while composing, event by event, so a refused file costs no more than reading up to the
    offending event: `[` x 5000 stops at depth MAX_DEPTH, an alias bomb at its first anchor.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._tlsgen_depth = 0
        self._tlsgen_nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark,
                           "YAML anchors and aliases ('&name', '*name') are not supported in profiles: a device "
                           "profile has no need for them (they only repeat values); write the values out")
        self._tlsgen_nodes += 1
        if self._tlsgen_nodes > MAX_NODES:
            raise _Refused(event.start_mark, f"the profile has more than {MAX_NODES} values; a device profile "
                           "has fewer than a hundred")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if self._tlsgen_depth >= MAX_DEPTH:
                raise _Refused(event.start_mark, f"mappings and lists are nested deeper than {MAX_DEPTH} levels; "
                               "a device profile needs 3")
            self._tlsgen_depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._tlsgen_depth -= 1
        return super().compose_node(parent, index)


def _read(file: str) -> bytes:
    """The file's bytes, at most MAX_PROFILE_BYTES + 1 of them (enough to tell it is too large)."""
    try:
        with open(FsPath(file), "rb") as f:
            return f.read(MAX_PROFILE_BYTES + 1)
    except OSError as e:
        raise ProfileError([Problem(Location(file, 1, 1), (), f"cannot read profile: {e.strerror or e}")]) from None


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character `index` in `text` (a UTF-8 BOM takes no column)."""
    line = text.count("\n", 0, index) + 1
    start = text.rfind("\n", 0, index) + 1
    col = index - start + 1 - (1 if start == 0 and text.startswith("\ufeff") and index > 0 else 0)
    return line, col


def _compose_all(text: str) -> list[tuple[object, object]]:
    """Every document of the stream: (where it starts -- its '---' if it has one --, its root node)."""
    loader = _ProfileLoader(text)
    try:
        docs = []
        while loader.check_node():
            start = loader.peek_event().start_mark  # the DocumentStartEvent
            docs.append((start, loader.get_node()))
        return docs
    finally:
        loader.dispose()


def parse_yaml(file: str, text: bytes) -> tuple[object, dict]:
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError([Problem(Location(file, 1, 1), (), f"the file is larger than the {MAX_PROFILE_BYTES}-byte "
                                    "limit for a profile (a device profile is a few KB): is it the right file?")])
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        line = text.count(b"\n", 0, e.start) + 1
        col = e.start - (text.rfind(b"\n", 0, e.start) + 1) + 1
        raise ProfileError([Problem(Location(file, line, col), (),
                                    f"not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    try:
        docs = _compose_all(decoded)
    except _Refused as e:
        raise ProfileError([Problem(Location(file, e.mark.line + 1, e.mark.column + 1), (), e.message)]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise ProfileError([Problem(Location(file, line, col), (), f"YAML syntax: {what}")]) from None
    except yaml.reader.ReaderError as e:
        line, col = _position(decoded, e.position)
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise ProfileError([Problem(Location(file, line, col), (), f"character {char} is not allowed in YAML "
                                    "text (control characters and non-characters)")]) from None
    except yaml.YAMLError as e:
        raise ProfileError([Problem(Location(file, 1, 1), (), f"YAML: {e}")]) from None
    if not docs or docs[0][1] is None:
        raise ProfileError([Problem(Location(file, 1, 1), (), "expected exactly one YAML document, found 0")])
    if len(docs) > 1:
        mark = docs[1][0]
        raise ProfileError([Problem(Location(file, mark.line + 1, mark.column + 1), (),
                                    f"expected exactly one YAML document, found {len(docs)}: a second document "
                                    "starts here (a profile is one document: remove this '---' and what follows, "
                                    "or put each profile in its own file)")])
    builder = _Builder(file)
    data = builder.build(docs[0][1], ())
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
    """A value as the profile wrote it: YAML's true/false/null, Python's repr for the rest."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an integer of {value.bit_length()} bits"  # repr() of a huge int can itself fail
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_union(annotation) -> bool:
    return typing.get_origin(annotation) in (typing.Union, getattr(types, "UnionType", typing.Union))


def _walk(loc: tuple) -> tuple[Path, object, tuple, bool]:
    """pydantic's error location without the parts pydantic itself adds, and the field it names.

    At a union of two or more types (platform.heap: 'auto' | int) pydantic appends the name of the
    branch that failed ("literal['auto']", "constrained-int", ...). Those parts are found by walking
    the model alongside the location, never by their spelling: a user's key may be called "int".
    Returns the path, the annotation and metadata of the field at its end (None when the path leaves
    the model: an unknown key), and whether a union branch was dropped.
    """
    out: list = []
    annotation, metadata = Profile, ()
    field_annotation, field_metadata = Profile, ()
    through_union = False
    for part in loc:
        base = constraints(annotation, metadata).base if annotation is not None else None
        if base is not None and _is_union(base):
            through_union = True
            annotation, metadata = None, ()  # `part` names a branch; what lies below it is not a profile field
            continue
        out.append(part)
        if isinstance(base, type) and issubclass(base, BaseModel) and isinstance(part, str):
            field = base.model_fields.get(part)
            annotation, metadata = (field.annotation, tuple(field.metadata)) if field is not None else (None, ())
        elif typing.get_origin(base) is list and isinstance(part, int):
            annotation, metadata = typing.get_args(base)[0], ()
        else:
            annotation, metadata = None, ()
        field_annotation, field_metadata = annotation, metadata
    return tuple(out), field_annotation, field_metadata, through_union


def _accepts_int(annotation) -> bool:
    base = constraints(annotation).base
    if _is_union(base):
        return any(_accepts_int(a) for a in typing.get_args(base))
    return base is int


# pydantic error types that say "not of the right type": answered with what the field allows.
_TYPE_ERRORS = ("literal_error", "int_type", "int_parsing", "int_from_float", "bool_type", "bool_parsing",
                "string_type", "list_type", "model_type", "model_attributes_type", "dict_type", "float_type",
                "is_instance_of")


def _allowed_message(inp: object, annotation, metadata: tuple) -> str:
    hint = ""
    if isinstance(inp, str) and _accepts_int(annotation) and inp.strip().lstrip("+-").isdigit():
        hint = " (text: write the number without quotes)"
    example = ""
    if typing.get_origin(constraints(annotation, metadata).base) is list and isinstance(inp, (str, int, float)) \
            and not isinstance(inp, bool) and re.fullmatch(r"[\w./+-]{1,40}", str(inp)):
        example = f", e.g. [{inp}]"
    close = did_you_mean(inp, text_choices(annotation)) if isinstance(inp, str) else None
    meant = f"; did you mean '{close}'?" if close else ""
    return f"got {_describe(inp)}{hint}; allowed: {allowed(annotation, metadata, PATTERN_WORDS)}{example}{meant}"


#: Fields an earlier tlsgen accepted, and what replaced them (a profile that still has one is refused with this).
REPLACED_KEYS = {
    ("tls", "session_tickets"): "replaced by tls.resumption (tls12: [session_id, ticket], tls13: [psk_ephemeral]; "
    "a bare session_tickets: true left TLS 1.3 tickets unused)",
}


def _pydantic_problem(err: dict, file: str, positions: dict) -> Problem:
    path, annotation, metadata, through_union = _walk(tuple(err["loc"]))
    kind = err["type"]
    ctx = err.get("ctx", {})
    inp = err.get("input")
    if kind == "extra_forbidden" and path and tuple(path) in REPLACED_KEYS:
        loc = positions.get(path + ("<key>",)) or locate(positions, file, path)
        return Problem(loc, path, f"'{path[-1]}' is no longer a profile field: {REPLACED_KEYS[tuple(path)]}")
    if kind == "extra_forbidden" and path:
        owner = _model_at(Profile, path[:-1])
        known = list(owner.model_fields) if owner else []
        key = str(path[-1])
        close = did_you_mean(key, known)
        hint = f"; did you mean '{close}'?" if close else ""
        loc = positions.get(path + ("<key>",)) or locate(positions, file, path)
        return Problem(loc, path, f"unknown key '{key}'{hint} (allowed: {', '.join(known)})")
    if kind == "missing":
        return Problem(locate(positions, file, path), path, "required field is missing")
    if annotation is not None and (through_union or kind in _TYPE_ERRORS):
        msg = _allowed_message(inp, annotation, metadata)
    elif kind == "value_error":
        msg = str(ctx.get("error", err["msg"]))
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        msg = f"got {_describe(inp)}; {err['msg'].lower()}"
    elif kind in ("too_short", "too_long"):
        msg = f"{err['msg']}"
    elif kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        words = PATTERN_WORDS.get(pattern, "text of the documented form")
        problem = PATTERN_PROBLEMS.get(pattern, lambda _v: None)(inp) if isinstance(inp, str) else None
        msg = f"{problem or f'got {_describe(inp)}'}; allowed: {words}"
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
    sha256 = hashlib.sha256(text).hexdigest()
    try:
        profile = Profile.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        problems = _dedupe([_pydantic_problem(err, file, positions) for err in errors])
        issues = list({i.path: i for i in (_issue(err, data) for err in errors)}.values())
        raise SchemaError(problems, file, sha256, data, positions, issues) from None
    return LoadedProfile(profile, file, sha256, positions, data)


def _issue(err: dict, data: dict) -> SchemaIssue:
    path, annotation, metadata, _ = _walk(tuple(err["loc"]))
    if err["type"] == "extra_forbidden":
        owner = _model_at(Profile, path[:-1])
        meant = did_you_mean(str(path[-1]), list(owner.model_fields)) if owner and path else None
        return SchemaIssue(path, "unknown-key", meant=path[:-1] + (meant,) if meant else None)
    return SchemaIssue(path, "missing" if err["type"] == "missing" else "invalid", annotation, metadata)


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
