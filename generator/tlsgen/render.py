"""Rendering: a resolution and a heap model -> the text of the generated files.

All decisions are made before this point; the templates only lay out data they are handed.
Output is deterministic: no timestamps, sorted collections, StrictUndefined, a fixed newline.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import jinja2

from tlsgen import MBEDTLS_VERSION, RUNTIME_ABI, __version__
from tlsgen.heap import HeapModel
from tlsgen.model import Dtls
from tlsgen.ram import ram_plan
from tlsgen.resolve import NEVER_DEFINED, Resolution
from tlsgen.resolve.client import client_key
from tlsgen.resolve.resumption import saved_session_max_bytes, uses_tickets
from tlsgen.stack import stack_need

OUTPUTS = ("mbedtls_config.h", "tlsgen_profile.hpp", "tlsgen_glue.cpp")


def templates_dir() -> Path:
    """templates/ at the repository root (editable install or in-tree run), or TLSGEN_TEMPLATES."""
    env = os.environ.get("TLSGEN_TEMPLATES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent / "templates", here / "templates"):
        if (candidate / "mbedtls_config.h.jinja").is_file():
            return candidate
    raise FileNotFoundError("tlsgen templates not found (set TLSGEN_TEMPLATES)")


def _comment_safe(text: str) -> str:
    """Text that stays inside a // or /* */ comment: no line breaks or control characters, no '*/'."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", text).replace("*/", "* /")


def c_string(text: str) -> str:
    """A C/C++ string literal for any text: printable ASCII as is, the rest as 3-digit octal escapes
    of its UTF-8 bytes (an octal escape never swallows a following digit, unlike \\x)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in ('"', "\\", "?"):  # '?' too: no trigraphs
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _comment_lines(text: str, width: int = 96) -> list[str]:
    text = text.replace("*/", "* /")
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [""]


@dataclass(frozen=True)
class Heap:
    bytes: int
    mode: str  # "auto" or "fixed"
    model: HeapModel


def heap_for(r: Resolution, model: HeapModel) -> Heap:
    fixed = r.loaded.profile.platform.heap
    return Heap(model.total, "auto", model) if fixed == "auto" else Heap(int(fixed), "fixed", model)


def context(r: Resolution, heap: Heap) -> dict:
    p = r.loaded.profile
    stack = stack_need(r) if r.cpu.bare_metal else None
    fingerprint = "0x" + r.loaded.sha256[:8] + "u"
    sections = []
    for title, macros in r.by_section():
        items = []
        for m in macros:
            value_lines: list[str] = []
            if m.value is not None and m.name == "MBEDTLS_SSL_CIPHERSUITES":
                value_lines = m.value.split(", ")
            items.append({"name": m.name, "value": m.value, "value_lines": value_lines,
                          "comment": _comment_lines(m.reason_text)})
        sections.append({"title": title, "macros": items})
    features = [
        f"TLS {' and '.join(r.versions)} {p.tls.role}"
        + (" over datagrams (DTLS)" if p.tls.transport == "datagram" else ""),
        "cipher suites: " + ", ".join(s.name for s in r.suites),
    ]
    if r.groups:
        features.append("groups: " + ", ".join(g.name for g in r.groups))
    if r.ecc_note:
        features.append(r.ecc_note)
    if r.uses_certificates:
        features.append(f"peer certificates: {', '.join(r.certificate_keys)}, verify {p.tls.verify}")
        features.append("signed with: " + ", ".join(a.name for a in r.signature_algorithms))
    cc = p.tls.client_certificate
    own = client_key(cc.key) if cc else ("", 0)
    res = p.tls.resumption
    dtls = (p.tls.dtls or Dtls()) if r.datagram else None
    if cc:
        features.append(f"client certificate: {cc.key} key, chain of {cc.chain_certs} ({cc.chain_bytes} DER bytes)")
    features += [
        f"records: in {r.in_content_len} / out {r.out_content_len} bytes of payload",
        f"heap: {heap.bytes} bytes ({heap.mode}; see tlsgen_profile.hpp)",
        f"entropy: {', '.join(r.entropy)}; time: {p.platform.time}; optimize: {p.optimize}",
        f"target: {r.cpu.name}" + (f" (bare metal, {r.cpu.arch})" if r.cpu.bare_metal else ""),
    ]
    insecure = [{"option": c.option, "lines": _comment_lines(f"{c.option}: {c.what}. Reason given: {c.reason}",
                                                              92)} for c in r.insecure]
    lines = [{"name": x.name, "bytes": x.bytes, "derivation": x.derivation} for x in heap.model.lines]
    suites = [{"iana": f"0x{s.iana:04X}", "name": s.name} for s in r.suites]
    groups = [{"iana": f"0x{g.iana:04X}", "name": g.name} for g in r.groups]
    sig_algs = [{"iana": f"0x{a.iana:04X}", "name": a.name} for a in r.signature_algorithms]
    entropy = set(r.entropy)
    return {
        "generator": __version__,
        "mbedtls_version": MBEDTLS_VERSION,
        "abi": RUNTIME_ABI,
        "profile_file": _comment_safe(Path(r.loaded.file).name),
        "sha256": r.loaded.sha256,
        "fingerprint": fingerprint,
        "name": p.name,
        "description": _comment_safe(p.description or p.name),
        "features": features,
        "cpu_notes": [_comment_lines(n, 92) for n in r.cpu.notes],
        "insecure": insecure,
        "warnings": [_comment_lines(w, 92) for w in r.warnings],
        "never_defined": sorted(NEVER_DEFINED.items()),
        "sections": sections,
        "macro_count": len(r.macros),
        "heap": {"bytes": heap.bytes, "mode": heap.mode, "model_total": heap.model.total,
                 "mode_text": "the model's figure" if heap.mode == "auto" else "fixed by platform.heap",
                 "lines": lines, "margin": heap.model.margin, "margin_percent": heap.model.margin_percent,
                 "margin_why": heap.model.margin_why,
                 "subtotal": heap.model.subtotal, "alignment": r.cpu.alignment},
        "in_content_len": r.in_content_len,
        "max_fragment_length": p.tls.max_fragment_length or 0,
        "out_content_len": r.out_content_len,
        "tls12": "true" if "1.2" in r.versions else "false",
        "tls13": "true" if "1.3" in r.versions else "false",
        "uses_psa": "true" if r.uses_psa else "false",
        "uses_psk": "true" if r.uses_psk else "false",
        "uses_certificates": "true" if r.uses_certificates else "false",
        "verify_mode": {"none": 0, "optional": 1, "required": 2}[p.tls.verify] if r.uses_certificates else 2,
        "verify": p.tls.verify if r.uses_certificates else "n/a (no certificates)",
        "suites": suites,
        "alpn": [c_string(a) for a in p.tls.alpn],
        "groups": groups,
        "signature_algorithms": sig_algs,
        "board_time": r.defined("MBEDTLS_PLATFORM_TIME_ALT"),
        "peer_chain_max_bytes": p.tls.peer_chain_max_bytes,
        "peer_chain_max_certs": p.tls.peer_chain_max_certs,
        "client_certificate": "true" if cc else "false",
        "client_key": cc.key if cc else "none",
        "client_key_rsa": "true" if own[0] == "rsa" else "false",
        "client_key_bits": (own[1] if own[0] == "rsa" else own[1] * 8) if cc else 0,
        "client_chain_bytes": cc.chain_bytes if cc else 0,
        "client_chain_certs": cc.chain_certs if cc else 0,
        "resume_session_id": "true" if "session_id" in res.tls12 and "1.2" in r.versions else "false",
        "resume_ticket12": "true" if "ticket" in res.tls12 and "1.2" in r.versions else "false",
        "resume_psk_ephemeral": "true" if "psk_ephemeral" in res.tls13 and "1.3" in r.versions else "false",
        "resume_psk_ke": "true" if "psk_ke" in res.tls13 and "1.3" in r.versions else "false",
        "ticket_max_bytes": res.ticket_max_bytes if uses_tickets(p.tls) else 0,
        "saved_session_max_bytes": saved_session_max_bytes(r),
        "ca_chain_bytes": p.tls.ca_chain_bytes if r.uses_certificates and r.verify != "none" else 0,
        "ca_chain_certs": p.tls.ca_chain_certs if r.uses_certificates and r.verify != "none" else 0,
        "pem": "true" if r.uses_certificates and p.tls.pem else "false",
        "datagram": "true" if r.datagram else "false",
        "dtls_mtu": dtls.mtu if dtls else 0,
        "dtls_timeout_min": dtls.handshake_timeout_min_ms if dtls else 0,
        "dtls_timeout_max": dtls.handshake_timeout_max_ms if dtls else 0,
        "dtls_buffering": r.dtls_buffering,
        "debug_level": p.platform.debug.level,
        "nv_seed": "nv_seed" in entropy,
        "nv_seed_bytes": r.nv_seed_bytes,
        "test_static": "test_static" in entropy,
        "entropy": ", ".join(r.entropy),
        "time": p.platform.time,
        "cpu": r.cpu.name,
        "ram_bytes": p.target.ram_bytes or 0,
        "ram_left": _ram_left(r, heap),
        "flash_bytes": p.target.flash_bytes or 0,
        "stack_bytes": p.target.stack_bytes or 0,
        "stack_need": stack.bytes if stack else 0,
        "stack_need_why": stack.why if stack else "a host target's stack is the operating system's",
        "format_hooks": r.defined("MBEDTLS_PLATFORM_SNPRINTF_ALT"),
        "printf_hook": r.defined("MBEDTLS_PLATFORM_PRINTF_ALT"),
    }


def _ram_left(r: Resolution, heap: Heap) -> int:
    """kRamLeftBytes: what target.ram_bytes leaves for the application (0 when it is not given, or on a host)."""
    if not r.cpu.bare_metal or r.loaded.profile.target.ram_bytes is None:
        return 0
    plan = ram_plan(r, heap.bytes)
    return max(0, plan.ram_bytes - plan.total)


def environment() -> jinja2.Environment:
    return _environment(str(templates_dir()))


@functools.lru_cache(maxsize=4)
def _environment(directory: str) -> jinja2.Environment:
    # Cached per templates directory: compiling the templates is most of a render's cost.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(r: Resolution, heap: Heap) -> dict[str, str]:
    env = environment()
    ctx = context(r, heap)
    return {name: env.get_template(name + ".jinja").render(ctx) for name in OUTPUTS}


def write_atomically(files: dict[str, str], out_dir: Path) -> None:
    """Write every file or none: render into a temporary directory beside out_dir, then move in.

    An existing out_dir keeps any other files; each generated file is replaced by os.replace (atomic on
    POSIX), after all of them were written successfully; a file whose content is unchanged is left as it
    is (timestamp included).
    """
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tlsgen-", dir=parent))
    try:
        for name, text in files.items():
            with open(tmp / name, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        if not out_dir.exists():
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700
            os.replace(tmp, out_dir)
            return
        for name in files:
            # A file whose bytes did not change keeps its timestamp: a build that re-ran the generator
            # (ninja restat) then recompiles nothing that depends on it.
            target = out_dir / name
            if target.is_file() and target.read_bytes() == (tmp / name).read_bytes():
                continue
            os.replace(tmp / name, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
