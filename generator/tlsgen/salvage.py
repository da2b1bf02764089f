"""The cross-field problems of a profile the schema refused: every independent problem in one run.

The cross-field rules (tlsgen.resolve, the heap checks) need a valid model, and a profile with a
schema error has none. So the fields the schema refused are set aside: each one is given, in turn,
every value of a small domain that stands for what it could be once fixed (the choices of a Literal,
the bounds of an integer, true and false, each catalogue name, null when optional, a placeholder for
free text), the rest of the profile stays as written, and the rules run on each such model. A problem
is reported only when every variant reports it, word for word, and it does not concern a refused field
itself: a problem that depends on a refused field -- it appears for one value and not for another, or
its message carries the value -- is a follow-on, not an independent problem, and is left out.

A misspelt key stands for the field it was probably meant as (did you mean), so `grops:` in place of
`groups:` does not also report "tls.groups is empty": that field is varied from absent to each of its
values like a refused one.

Nothing is salvaged when a refused value is a whole section (`tls: 5`) or a list of mappings, when the
domains would need more than MAX_RUNS resolutions, or when the model built from them does not
validate: then only the schema's problems are reported, as before.
"""

from __future__ import annotations

import copy
import typing

from pydantic import BaseModel, ValidationError

from tlsgen.catalog import GROUPS, SIG_ALGS, SUITES
from tlsgen.errors import Path, Problem, ProfileError
from tlsgen.loader import LoadedProfile, SchemaError, SchemaIssue, _model_at
from tlsgen.model import GroupName, Profile, SigAlgName, SuiteName
from tlsgen.words import _is_union, constraints

#: Most resolutions one salvage may run (each takes about a millisecond).
MAX_RUNS = 200

_ABSENT = object()  # a domain value: the key is not written at all
_PLACEHOLDER = "placeholder"  # free text: valid for every pattern of the model (name, description, reason, ALPN)
_CATALOGUES = ((SuiteName, SUITES), (GroupName, GROUPS), (SigAlgName, SIG_ALGS))


class _Unknown(Exception):
    """A field whose values cannot be enumerated: salvage nothing."""


def _domain(annotation, metadata=()) -> list:
    """Values that stand for what a field of `annotation` could be."""
    for named, catalogue in _CATALOGUES:
        if annotation == named:
            return list(catalogue)
    c = constraints(annotation, metadata)
    base = c.base
    origin = typing.get_origin(base)
    out: list
    if origin is typing.Literal:
        out = list(typing.get_args(base))
    elif _is_union(base):
        out = [v for branch in typing.get_args(base) for v in _domain(branch)]
    elif base is bool:
        out = [True, False]
    elif base is int:
        if c.ge is None or c.le is None:
            raise _Unknown(annotation)
        out = [c.ge, c.le]
    elif base is str:
        out = [_PLACEHOLDER]
    elif origin is list:
        (item,) = typing.get_args(base)
        item_base = constraints(item).base
        if isinstance(item_base, type) and issubclass(item_base, BaseModel):
            raise _Unknown(annotation)
        out = [[v] for v in _domain(item)] + ([] if c.min_length else [[]])
    else:  # a section (BaseModel) or anything else: too much to vary
        raise _Unknown(annotation)
    return ([None] if c.optional else []) + out


def _set(data: dict, path: Path, value) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    if value is _ABSENT:
        if isinstance(node, dict):
            node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def _has(data: dict, path: Path) -> bool:
    node: object = data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False
    return True


def _overlaps(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return tuple(a[:n]) == tuple(b[:n])


def _varied(issues: list[SchemaIssue], data: dict) -> list[tuple[Path, list]]:
    """(path, domain) of each field set aside; the first value of a domain is its baseline."""
    out = []
    for issue in issues:
        if issue.kind == "unknown-key":
            meant = issue.meant
            owner = _model_at(Profile, meant[:-1]) if meant else None
            field = owner.model_fields.get(meant[-1]) if owner else None
            if field is None or field.is_required() or _has(data, meant):
                continue  # a required field left out is a "missing" issue of its own
            try:
                values = _domain(field.annotation, tuple(field.metadata))
            except _Unknown:
                values = []  # a section meant (`debg:` for debug): left at its default
            out.append((meant, [_ABSENT, *values]))
        elif issue.annotation is None:
            raise _Unknown(issue.path)
        else:
            out.append((issue.path, _domain(issue.annotation, issue.metadata)))
    return out


def cross_field_problems(error: SchemaError, problems_of) -> list[Problem]:
    """The problems `problems_of(LoadedProfile) -> list[Problem]` reports whatever the refused fields become.

    `problems_of` is the cross-field judgement of a valid model (pipeline: resolve, then the heap
    checks). Returns [] when nothing can be salvaged.
    """
    base = copy.deepcopy(error.data)
    for issue in error.issues:
        if issue.kind == "unknown-key":
            _set(base, issue.path, _ABSENT)
    try:
        varied = _varied(error.issues, base)
    except _Unknown:
        return []
    if not varied or 1 + sum(len(d) - 1 for _, d in varied) > MAX_RUNS or any(not d for _, d in varied):
        return []
    for path, domain in varied:
        if len(path) > 1 and not _has(base, path[:-1]):
            return []  # its parent is not there to hold it
        _set(base, path, domain[0])
    runs = [base]
    for path, domain in varied:
        for value in domain[1:]:
            data = copy.deepcopy(base)
            _set(data, path, value)
            runs.append(data)
    common: dict | None = None
    for data in runs:
        try:
            profile = Profile.model_validate(data)
        except ValidationError:
            return []
        loaded = LoadedProfile(profile, error.file, error.sha256, error.positions, data)
        try:
            found = {(p.path, p.message): p for p in problems_of(loaded)}
        except ProfileError:
            return []
        common = found if common is None else {k: v for k, v in common.items() if k in found}
        if not common:
            return []
    set_aside = [i.path for i in error.issues] + [p for p, _ in varied]
    return [p for p in common.values() if not any(_overlaps(p.path, q) for q in set_aside)]
