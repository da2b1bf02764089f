"""Command line: tlsgen PROFILE -o DIR | generate | check | explain.

Exit status: 0 success; 1 generated files are stale (--check); 2 the profile is invalid
(nothing written); 3 the output could not be written.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from tlsgen import MBEDTLS_VERSION, __version__
from tlsgen.errors import Location, Problem, ProfileError
from tlsgen.heap import HeapModel, size_heap
from tlsgen.loader import load_profile
from tlsgen.render import OUTPUTS, Heap, heap_for, render, write_atomically
from tlsgen.resolve import Resolution, resolve

EXIT_OK, EXIT_STALE, EXIT_INVALID, EXIT_IO = 0, 1, 2, 3
COMMANDS = ("generate", "check", "explain")


@dataclass(frozen=True)
class Result:
    resolution: Resolution
    heap: Heap


def build(profile_file: str, strict: bool = False) -> Result:
    """validate -> resolve -> size heap; raise ProfileError for anything a person must fix."""
    loaded = load_profile(profile_file)
    r = resolve(loaded)
    model = size_heap(r)
    heap = heap_for(r, model)
    problems = []
    p = loaded.profile
    if heap.mode == "fixed" and heap.bytes < model.total:
        problems.append(Problem(loaded.where(("platform", "heap")), ("platform", "heap"),
                                f"{heap.bytes} bytes is below the model's {model.total} bytes for this profile:\n"
                                + _breakdown(model, indent="    ")))
    if p.target.ram_bytes is not None and heap.bytes > p.target.ram_bytes:
        problems.append(Problem(loaded.where(("target", "ram_bytes")), ("target", "ram_bytes"),
                                f"the heap alone ({heap.bytes} bytes) exceeds the part's RAM "
                                f"({p.target.ram_bytes} bytes)"))
    if strict:
        for i, c in enumerate(r.insecure):
            problems.append(Problem(loaded.where(("insecure", i)), ("insecure", i),
                                    f"--strict rejects insecure opt-in '{c.option}': {c.what}"))
    if problems:
        raise ProfileError(problems)
    return Result(r, heap)


def _breakdown(model: HeapModel, indent: str = "  ") -> str:
    rows = [f"{indent}{x.bytes:>7}  {x.name}: {x.derivation}" for x in model.lines]
    rows.append(f"{indent}{model.margin:>7}  margin {model.margin_percent}% of {model.subtotal}")
    rows.append(f"{indent}{model.total:>7}  total (aligned)")
    return "\n".join(rows)


def _summary(res: Result, out_dir: str | None) -> str:
    r, heap = res.resolution, res.heap
    p = r.loaded.profile
    lines = [f"tlsgen {__version__} (mbedTLS {MBEDTLS_VERSION}): {p.name} — {r.cpu.name}, "
             f"TLS {' + '.join(r.versions)} {p.tls.role}"]
    lines.append(f"  suites:  {', '.join(s.name for s in r.suites)}")
    if r.groups:
        lines.append(f"  groups:  {', '.join(g.name for g in r.groups)}")
    heap_src = "model" if heap.mode == "auto" else f"fixed by platform.heap; model {heap.model.total}"
    parts = " + ".join(f"{x.name} {x.bytes}" for x in heap.model.lines)
    lines.append(f"  heap:    {heap.bytes} bytes ({heap_src}) = {parts} + margin {heap.model.margin}")
    lines.append(f"  macros:  {len(r.macros)}")
    for c in r.insecure:
        lines.append(f"  INSECURE {c.option}: {c.what} (reason: {c.reason})")
    for w in r.warnings:
        lines.append(f"  warning: {w}")
    if out_dir:
        lines.append(f"  wrote:   {', '.join(str(Path(out_dir) / n) for n in OUTPUTS)}")
    return "\n".join(lines)


def _explain(res: Result) -> str:
    r = res.resolution
    out = [_summary(res, None), ""]
    for title, macros in r.by_section():
        out.append(f"{title}:")
        for m in macros:
            value = f" {m.value}" if m.value is not None else ""
            if m.name == "MBEDTLS_SSL_CIPHERSUITES":
                value = " (" + str(len(r.suites)) + " suites)"
            out.append(f"  {m.name}{value}")
            out.append(f"      because {m.reason_text}")
    out.append("")
    out.append("Heap breakdown:")
    out.append(_breakdown(res.heap.model))
    if res.heap.mode == "fixed":
        out.append(f"  {res.heap.bytes:>7}  platform.heap (fixed)")
    return "\n".join(out)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tlsgen",
        description="Generate an mbedTLS 3.6 config, a computed heap size and C++ glue from a device profile.",
        epilog="Commands: generate (default), check, explain. `tlsgen PROFILE -o DIR` is `tlsgen generate ...`.")
    ap.add_argument("--version", action="version", version=f"tlsgen {__version__} (mbedTLS {MBEDTLS_VERSION})")
    sub = ap.add_subparsers(dest="command")
    g = sub.add_parser("generate", help="validate, resolve, size and write the generated files")
    g.add_argument("profile")
    g.add_argument("-o", "--output", help="output directory (created; other files in it are kept); "
                   "default: generated/<profile file stem> in the current directory")
    g.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files in -o are stale")
    g.add_argument("--quiet", action="store_true", help="print nothing on success")
    g.add_argument("--strict", action="store_true", help="reject insecure opt-ins (release builds)")
    c = sub.add_parser("check", help="validate and resolve only")
    c.add_argument("profile")
    c.add_argument("--strict", action="store_true", help="reject insecure opt-ins (release builds)")
    e = sub.add_parser("explain", help="every macro with its reason, and the heap breakdown")
    e.add_argument("profile")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "generate")
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        return EXIT_INVALID
    try:
        res = build(args.profile, strict=getattr(args, "strict", False))
    except ProfileError as e:
        print(str(e), file=sys.stderr)
        n = len(e.problems)
        print(f"tlsgen: {n} error{'s' if n != 1 else ''} in {args.profile}; nothing written", file=sys.stderr)
        return EXIT_INVALID
    if args.command == "check":
        print(_summary(res, None))
        return EXIT_OK
    if args.command == "explain":
        print(_explain(res))
        return EXIT_OK
    files = render(res.resolution, res.heap)
    out = Path(args.output) if args.output else Path("generated") / Path(args.profile).stem
    if args.check:
        stale = [n for n, text in files.items()
                 if not (out / n).is_file() or (out / n).read_text(encoding="utf-8") != text]
        for n in stale:
            print(f"tlsgen: {out / n} is stale: run `tlsgen {args.profile} -o {out}`", file=sys.stderr)
        return EXIT_STALE if stale else EXIT_OK
    try:
        write_atomically(files, out)
    except OSError as e:
        print(f"tlsgen: cannot write {out}: {e}", file=sys.stderr)
        return EXIT_IO
    if not args.quiet:
        print(_summary(res, str(out)))
    return EXIT_OK


__all__ = ["main", "build", "Location"]
