"""What a profile field allows, in words, read from its pydantic annotation.

One source for the loader's messages ("got '8192'; allowed: 'auto' or a whole number from 1 to
1073741824") and for the reference's type column, so neither shows a raw regular expression or a
pydantic type name, and both state the same bounds the validation enforces.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class Noun:
    """Annotated metadata naming what a text field holds, in the plural ("cipher suite names")."""

    plural: str


@dataclass(frozen=True)
class Described:
    """Annotated metadata: a rule pydantic cannot state (a validator's), in words, for messages and docs."""

    text: str


@dataclass(frozen=True)
class Constraints:
    base: object  # the annotation without Annotated and without a None branch
    optional: bool = False
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    noun: str | None = None
    described: tuple = ()


def _is_union(annotation) -> bool:
    return typing.get_origin(annotation) in (typing.Union, getattr(types, "UnionType", typing.Union))


def constraints(annotation, metadata=()) -> Constraints:
    """Peel Annotated layers (and `X | None`), collecting the bounds pydantic enforces."""
    found: dict = {"described": []}
    optional = False
    items = list(metadata)
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *more = typing.get_args(annotation)
            items += more
        elif _is_union(annotation) and type(None) in typing.get_args(annotation):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = True
            if len(rest) != 1:
                annotation = typing.Union[tuple(rest)]  # noqa: UP007 -- a runtime-built union
                break
            annotation = rest[0]
        else:
            break
    while items:
        m = items.pop(0)
        items[:0] = list(getattr(m, "metadata", []) or [])  # a FieldInfo inside Annotated carries its own
        for attr in ("ge", "le", "min_length", "max_length", "pattern"):
            v = getattr(m, attr, None)
            if v is not None:
                found[attr] = v
        if getattr(m, "gt", None) is not None:
            found["ge"] = m.gt + 1  # integers only in a profile
        if getattr(m, "lt", None) is not None:
            found["le"] = m.lt - 1
        if isinstance(m, Noun):
            found["noun"] = m.plural
        if isinstance(m, Described):
            found["described"].append(m.text)
    found["described"] = tuple(found["described"])
    return Constraints(base=annotation, optional=optional, **found)


def _quoted(value) -> str:
    return repr(value)


def _choices(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _range(lo: int | None, hi: int | None, unit: str) -> str:
    if lo is not None and hi is not None:
        return f"from {lo} to {hi}{unit}"
    if lo is not None:
        return f"of at least {lo}{unit}"
    if hi is not None:
        return f"of at most {hi}{unit}"
    return ""


def allowed(annotation, metadata=(), pattern_words: dict | None = None) -> str:
    """What a value of `annotation` may be, as a phrase: "'auto' or a whole number from 1 to 1073741824"."""
    c = constraints(annotation, metadata)
    base = c.base
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        text = _choices([_quoted(a) for a in typing.get_args(base)])
    elif _is_union(base):
        text = " or ".join(allowed(a, pattern_words=pattern_words) for a in typing.get_args(base))
    elif base is bool:
        text = "true or false"
    elif base is int:
        text = " ".join(x for x in ("a whole number", _range(c.ge, c.le, "")) if x)
    elif base is str:
        if c.pattern and pattern_words and c.pattern in pattern_words:
            text = pattern_words[c.pattern]
        elif c.noun:
            text = c.noun[:-1] if c.noun.endswith("s") else c.noun
            text = f"a {text}"
        else:
            text = " ".join(x for x in ("text", _range(c.min_length, c.max_length, " characters")) if x)
    elif origin is list:
        (item,) = typing.get_args(base)
        ic = constraints(item)
        if typing.get_origin(ic.base) is typing.Literal:
            text = "a list of these: " + ", ".join(_quoted(a) for a in typing.get_args(ic.base))
        elif ic.noun:
            text = f"a list of {ic.noun}"
        elif isinstance(ic.base, type) and issubclass(ic.base, BaseModel):
            text = f"a list of mappings with the fields {', '.join(ic.base.model_fields)}"
        else:
            text = f"a list of {allowed(item, pattern_words=pattern_words)}"
        if c.min_length:
            text += f" (at least {c.min_length})"
    elif isinstance(base, type) and issubclass(base, BaseModel):
        text = f"a mapping with the fields {', '.join(base.model_fields)}"
    else:
        text = getattr(base, "__name__", str(base))
    if c.described:
        text += " (" + "; ".join(c.described) + ")"
    return text


def _spelling(name: str) -> str:
    """A name with case, '_' versus '-' and IANA's TLS 1.3 spelling set aside: TLS_AES_128_GCM_SHA256,
    tls1-3-aes-128-gcm-sha256 and TLS1-3-AES-128-GCM-SHA256 are the same here."""
    return name.casefold().replace("_", "-").replace("tls1-3-", "tls-")


def did_you_mean(value: str, known) -> str | None:
    """The known name `value` most likely meant: the same one in another spelling, else a close one."""
    by_spelling: dict = {}
    for k in known:
        by_spelling.setdefault(_spelling(str(k)), k)
    if _spelling(value) in by_spelling:
        return by_spelling[_spelling(value)]
    close = difflib.get_close_matches(_spelling(value), list(by_spelling), n=1, cutoff=0.6)
    return by_spelling[close[0]] if close else None


def text_choices(annotation) -> list[str]:
    """The text values a Literal field (or a union holding Literals) accepts."""
    base = constraints(annotation).base
    if typing.get_origin(base) is typing.Literal:
        return [a for a in typing.get_args(base) if isinstance(a, str)]
    if _is_union(base):
        return [v for a in typing.get_args(base) for v in text_choices(a)]
    return []
