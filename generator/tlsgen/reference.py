"""JSON Schema and the Markdown profile reference, both generated from the pydantic models."""

from __future__ import annotations

import json
import typing

from pydantic import BaseModel

from tlsgen import __version__
from tlsgen.catalog import GROUPS, SUITES, Kex
from tlsgen.model import PATTERN_WORDS, Profile
from tlsgen.resolve import INSECURE_WHAT
from tlsgen.words import Described

SCHEMA_ID = "https://tlsgen.invalid/schema/tlsgen-profile.schema.json"


def json_schema() -> str:
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = f"tlsgen device profile (format 1, tlsgen {__version__})"
    # Offer the catalogues to editors for completion (the models validate them with did-you-mean).
    props = schema["$defs"]["Tls"]["properties"]
    props["cipher_suites"]["items"] = {"enum": list(SUITES), "type": "string"}
    props["groups"]["items"] = {"enum": list(GROUPS), "type": "string"}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _flat(metadata) -> list:
    """Metadata items, with those a FieldInfo inside Annotated carries spelled out."""
    out = []
    for m in metadata:
        out.append(m)
        out += _flat(getattr(m, "metadata", None) or [])
    return out


def _bounds(metadata, is_list: bool) -> list[str]:
    """The bounds the validation enforces, as the JSON Schema states them (its words for lists: items)."""
    out = []
    for m in _flat(metadata):
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"),
                          ("min_length", "min items" if is_list else "min length"),
                          ("max_length", "max items" if is_list else "max length")):
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sym} {v}")
        pattern = getattr(m, "pattern", None)
        if pattern is not None:
            out.append(PATTERN_WORDS.get(pattern, f"pattern `{pattern}`"))
        if isinstance(m, Described):
            out.append(m.text)
    return out


def _type_text(annotation, metadata=()) -> str:
    """The type column: the annotation, with every bound pydantic enforces (including those pydantic moved
    from `Annotated[int, Field(ge=...)] = Field(...)` into the field's own metadata)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base, *meta = args
        return _type_text(base, (*meta, *metadata))
    if origin is typing.Literal:
        text = " \\| ".join(f"`{a}`" for a in args)
    elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        text = " or ".join(_type_text(a) for a in args if a is not type(None)) + \
            (" (optional)" if type(None) in args else "")
    elif origin is list:
        text = f"list of {_type_text(args[0])}"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        text = f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    else:
        text = f"`{getattr(annotation, '__name__', str(annotation))}`"
    bounds = _bounds(metadata, origin is list)
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _suite_profile(s) -> bytes:
    """The smallest profile that uses only suite `s` (secp256r1 where a group is needed, RSA certificates for
    the RSA suites, the opt-in static RSA needs)."""
    tls: dict = {"versions": [s.version], "cipher_suites": [s.name]}
    profile: dict = {"profile": 1, "name": "suite", "target": {"cpu": "cortex-m4"}, "tls": tls,
                     "platform": {"entropy": ["nv_seed"]}}
    if s.kex in (Kex.ECDHE_ECDSA, Kex.ECDHE_RSA, Kex.ECDHE_PSK) or s.version == "1.3":
        tls["groups"] = ["secp256r1"]
    if s.kex in (Kex.RSA, Kex.ECDHE_RSA):
        tls["certificate_keys"] = ["rsa"]
    if s.kex == Kex.RSA:
        profile["insecure"] = [{"allow": "no_forward_secrecy", "reason": "the reference's example of the suite"}]
    return json.dumps(profile).encode()  # JSON is YAML


def suite_modules() -> list[str]:
    """Which mbedTLS modules each suite brings in: what the resolver defines for a profile of that suite alone,
    in the crypto sections of the config."""
    from tlsgen.loader import load_profile_bytes
    from tlsgen.resolve import resolve
    from tlsgen.resolve.core import EC, H, PK, PS, SY

    out = ["", "## What each suite brings in", "",
           "The crypto modules `tlsgen` defines for a profile with only that suite (secp256r1 where a group is "
           "needed, RSA certificates for the RSA suites; more groups, keys and signature algorithms add their own "
           "modules, and `tlsgen explain` gives every macro of a real profile with its reason). Shown on the legacy "
           "ECP module: on a bare-metal core where every curve is secp256r1 tlsgen builds the curve work on mbedTLS's "
           "p256-m driver instead (`ECP_C`, `ECDH_C`, `ECDSA_C` and `BIGNUM_C` become `PSA_P256M_DRIVER_ENABLED`, "
           "`USE_PSA_CRYPTO`, `PSA_CRYPTO_CONFIG` and the `PSA_WANT_*` list; the configuration's header says which "
           "and why):", "",
           "| suite | ciphers and modes | hashes | public keys and certificates | curves and PSA |",
           "| --- | --- | --- | --- | --- |"]
    for s in SUITES.values():
        r = resolve(load_profile_bytes(f"{s.name}.yaml", _suite_profile(s)), p256m=False)
        cols = [", ".join(f"`{m.name.removeprefix('MBEDTLS_')}`" for m in sorted(r.macros, key=lambda m: m.name)
                          if m.section in sections) or "-" for sections in ((SY,), (H,), (PK,), (EC, PS))]
        out.append(f"| `{s.name}` | " + " | ".join(cols) + " |")
    return out


def markdown_reference() -> str:
    out = ["# Profile reference (format 1)", "",
           f"Generated by `tlsgen reference` (tlsgen {__version__}) from the pydantic models in",
           "`generator/tlsgen/model.py`; a test fails when this page is stale. Unknown keys are errors.", ""]
    seen: list[type[BaseModel]] = []

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for f in model.model_fields.values():
            for a in [f.annotation, *typing.get_args(f.annotation)]:
                if isinstance(a, type) and issubclass(a, BaseModel):
                    walk(a)
                for b in typing.get_args(a):
                    if isinstance(b, type) and issubclass(b, BaseModel):
                        walk(b)

    walk(Profile)
    for model in seen:
        out += [f"## {model.__name__}", "", (model.__doc__ or "").strip(), "",
                "| field | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, f in model.model_fields.items():
            if f.is_required():
                default = "**required**"
            elif f.default_factory is not None:
                default = f"`{f.default_factory()!r}`" if not isinstance(f.default_factory(), BaseModel) else "see type"
            else:
                default = f"`{f.default!r}`"
            out.append(f"| `{name}` | {_type_text(f.annotation, f.metadata)} | {default} | {f.description or ''} |")
        out.append("")
    out += ["## Cipher suites", "", "| name | IANA | version | key exchange | record protection |",
            "| --- | --- | --- | --- | --- |"]
    for s in SUITES.values():
        out.append(f"| `{s.name}` | 0x{s.iana:04X} | TLS {s.version} | {s.kex.value} | {s.mode} / {s.hash} |")
    out += suite_modules()
    out += ["", "## Groups", "", "| name | IANA | mbedTLS macro |", "| --- | --- | --- |"]
    for g in GROUPS.values():
        out.append(f"| `{g.name}` | 0x{g.iana:04X} | `{g.macro}` |")
    out += ["", "## Insecure opt-ins", "", "Each needs `insecure: [{allow: <option>, reason: <why>}]`; "
            "`tlsgen check --strict` rejects all of them.", "", "| option | what it gives up |", "| --- | --- |"]
    for k, v in INSECURE_WHAT.items():
        out.append(f"| `{k}` | {v} |")
    return "\n".join(out) + "\n"
