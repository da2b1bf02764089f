"""Command line: tlsgen PROFILE -o DIR | generate | check | explain.

Exit status: 0 success; 1 generated files are stale (--check); 2 the profile is invalid
(nothing written); 3 the output could not be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tlsgen import MBEDTLS_VERSION, __version__
from tlsgen.errors import ProfileError
from tlsgen.pipeline import Built, breakdown, build
from tlsgen.render import OUTPUTS, render, write_atomically

EXIT_OK, EXIT_STALE, EXIT_INVALID, EXIT_IO = 0, 1, 2, 3
COMMANDS = ("generate", "check", "explain", "diff", "schema", "reference")


def _summary(res: Built, out_dir: str | None) -> str:
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


def _explain(res: Built) -> str:
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
    out.append(breakdown(res.heap.model))
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
    d = sub.add_parser("diff", help="semantic diff of two profiles (macros, suites, heap, insecure opt-ins)",
                       usage="tlsgen diff OLD.yaml NEW.yaml | tlsgen diff --git REV -- PROFILE.yaml")
    d.add_argument("--git", metavar="REV", help="compare PROFILE as of git revision REV with the work tree")
    d.add_argument("--format", choices=("text", "markdown"), default="text")
    d.add_argument("profiles", nargs="+")
    s = sub.add_parser("schema", help="JSON Schema of the profile format (for editors)")
    s.add_argument("-o", "--output", help="write to a file instead of stdout")
    r = sub.add_parser("reference", help="the Markdown profile reference")
    r.add_argument("-o", "--output", help="write to a file instead of stdout")
    return ap


def _emit(text: str, output: str | None) -> int:
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomically({Path(output).name: text}, Path(output).parent)
    except OSError as e:
        print(f"tlsgen: cannot write {output}: {e}", file=sys.stderr)
        return EXIT_IO
    return EXIT_OK


def _diff(args) -> int:
    from tlsgen.diff import compare, format_text, profile_at_revision

    profiles = [p for p in args.profiles if p != "--"]
    try:
        if args.git:
            if len(profiles) != 1:
                print("tlsgen diff --git REV -- PROFILE.yaml takes one profile", file=sys.stderr)
                return EXIT_INVALID
            old_file, new_file = profile_at_revision(args.git, profiles[0]), profiles[0]
        elif len(profiles) == 2:
            old_file, new_file = profiles
        else:
            print("tlsgen diff takes OLD.yaml NEW.yaml (or --git REV -- PROFILE.yaml)", file=sys.stderr)
            return EXIT_INVALID
    except FileNotFoundError as e:
        print(f"tlsgen: {e}", file=sys.stderr)
        return EXIT_INVALID
    try:
        old, new = build(old_file), build(new_file)
    except ProfileError as e:
        print(str(e), file=sys.stderr)
        return EXIT_INVALID
    sys.stdout.write(format_text(compare(old, new), markdown=args.format == "markdown"))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "generate")
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        return EXIT_INVALID
    if args.command == "diff":
        return _diff(args)
    if args.command in ("schema", "reference"):
        from tlsgen.reference import json_schema, markdown_reference

        return _emit(json_schema() if args.command == "schema" else markdown_reference(), args.output)
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


__all__ = ["main", "build"]
