"""Command line: tlsgen PROFILE -o DIR | generate | check | explain | diff | schema | reference.

Exit status (every command):
  0  success
  1  generated files are stale (`generate --check` only; nothing else ever exits 1)
  2  a profile is invalid, or the command line is (nothing written)
  3  the output could not be written
  4  internal error: a bug in tlsgen, not in the profile (please report it with the profile)
  130  interrupted (Ctrl-C)
`check` with several profiles exits with the worst status of them (the highest number).

Insecure opt-ins are printed on every run that reads a profile: in the summary, or with --quiet and
--check, one `tlsgen: ...: INSECURE ...` line each on stderr.
"""

from __future__ import annotations

import argparse
import codecs
import re
import sys
from pathlib import Path

from tlsgen import MBEDTLS_VERSION, __version__
from tlsgen.errors import ProfileError
from tlsgen.flash import flash_plan
from tlsgen.pipeline import Built, breakdown, build
from tlsgen.render import OUTPUTS, render, write_atomically
from tlsgen.ram import ram_plan, reference_app_ram

EXIT_OK, EXIT_STALE, EXIT_INVALID, EXIT_IO, EXIT_INTERNAL = 0, 1, 2, 3, 4

# Text for a terminal that cannot show it (an ASCII-only locale): tlsgen's own punctuation in ASCII,
# anything else (a profile's description, a reason) as a backslash escape. Never an error.
_ASCII_FOR = {"\u2014": "-", "\u2013": "-", "\u2192": "->", "\u2190": "<-", "\u2265": ">=", "\u2264": "<=",
              "\u2026": "...", "\u00d7": "x", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


def _terminal_fallback(err: UnicodeError):
    if not isinstance(err, UnicodeEncodeError):
        raise err
    text = err.object[err.start:err.end]
    return "".join(_ASCII_FOR.get(ch, ch.encode("ascii", "backslashreplace").decode("ascii")) for ch in text), \
        err.end


codecs.register_error("tlsgen-terminal", _terminal_fallback)


def _tolerant_streams() -> None:
    """stdout and stderr that cannot fail on a character their encoding lacks (LC_ALL=C, no UTF-8 mode)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "\u2014\u00e9".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            try:
                stream.reconfigure(errors="tlsgen-terminal")
            except (AttributeError, ValueError):  # not a TextIOWrapper: leave it as it is
                pass
COMMANDS = ("generate", "check", "explain", "diff", "schema", "reference")


def _summary(res: Built, out_dir: str | None) -> str:
    r, heap = res.resolution, res.heap
    p = r.loaded.profile
    lines = [f"tlsgen {__version__} (mbedTLS {MBEDTLS_VERSION}): {p.name} — {r.cpu.name}, "
             f"TLS {' + '.join(r.versions)} {p.tls.role}"]
    lines.append(f"  suites:  {', '.join(s.name for s in r.suites)}")
    if r.groups:
        lines.append(f"  groups:  {', '.join(g.name for g in r.groups)}")
    if r.ecc_note:
        lines.append(f"  ecc:     {r.ecc_note.removeprefix('elliptic curves: ')}")
    heap_src = "model" if heap.mode == "auto" else f"fixed by platform.heap; model {heap.model.total}"
    parts = " + ".join(f"{x.name} {x.bytes}" for x in heap.model.lines)
    lines.append(f"  heap:    {heap.bytes} bytes ({heap_src}) = {parts} + margin {heap.model.margin}")
    if r.cpu.bare_metal:
        plan = ram_plan(r, heap.bytes)
        stack = (f"stack {plan.stack} (target.stack_bytes; the sessions need {plan.need.bytes})" if plan.stack_given
                 else f"stack {plan.stack} (the sessions' need, a measured bound: {plan.need.why})")
        left = (f"; the part has {plan.ram_bytes}, {plan.left} left for the application's static data "
                f"(kRamLeftBytes; tlsgen's smallest reference application needs {reference_app_ram(r)})"
                if plan.ram_bytes is not None else "; the application's static data comes on top")
        lines.append(f"  ram:     {plan.total} bytes = heap {heap.bytes} + {stack} + mbedTLS and runtime static "
                     f"data {plan.tlsgen_static}{left} (tlsgen_check_ram() checks the linked image)")
    fp = flash_plan(r)
    if fp is not None:
        left = (f"; the part has {fp.flash_bytes}, {fp.left} left for the application's code"
                if fp.flash_bytes is not None else "; the application's code comes on top")
        lines.append(f"  flash:   about {fp.estimate} bytes of mbedTLS and the tlsgen runtime (estimate; measured "
                     f"images of this kind {fp.low}-{fp.high}){left} (tlsgen_check_ram() checks the linked image)")
    lines.append(f"  macros:  {len(r.macros)}")
    for c in r.insecure:
        lines.append(f"  {_insecure_line(c)}")
    for w in r.warnings:
        lines.append(f"  warning: {w}")
    if out_dir:
        lines.append(f"  wrote:   {', '.join(str(Path(out_dir) / n) for n in OUTPUTS)}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _insecure_line(c) -> str:
    return f"INSECURE {c.option}: {c.what} (reason: {_one_line(c.reason)})"


def _print_insecure(res: Built) -> None:
    """The opt-ins on stderr, one line each: for runs that print no summary (--quiet, --check)."""
    for c in res.resolution.insecure:
        print(f"tlsgen: {res.resolution.loaded.file}: {_insecure_line(c)}", file=sys.stderr)


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


def _output(text: str) -> str:
    """-o/--output: a name, never empty (an empty one used to mean the default directory, silently)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name: give the output path, or leave -o out for the default")
    return text


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tlsgen",
        description="Generate an mbedTLS 3.6 config, a computed heap size and C++ glue from a device profile.",
        epilog="Commands: generate (default), check, explain, diff, schema, reference. `tlsgen PROFILE -o DIR` is "
               "`tlsgen generate ...`. Exit status: 0 ok, 1 stale (generate --check), 2 invalid profile, "
               "3 cannot write, 4 internal error.")
    ap.add_argument("--version", action="version", version=f"tlsgen {__version__} (mbedTLS {MBEDTLS_VERSION})")
    sub = ap.add_subparsers(dest="command")
    g = sub.add_parser("generate", help="validate, resolve, size and write the generated files")
    g.add_argument("profile")
    g.add_argument("-o", "--output", type=_output, help="output directory (created; other files in it are kept); "
                   "default: generated/<profile file stem> in the current directory")
    g.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files in -o are stale")
    g.add_argument("-q", "--quiet", action="store_true", help="print no summary on success (insecure opt-ins "
                   "are still printed, to stderr)")
    g.add_argument("--strict", action="store_true", help="reject insecure opt-ins (release builds)")
    c = sub.add_parser("check", help="validate and resolve only (one or more profiles)")
    c.add_argument("profiles", nargs="+", metavar="profile")
    c.add_argument("--strict", action="store_true", help="reject insecure opt-ins (release builds)")
    e = sub.add_parser("explain", help="every macro with its reason, and the heap breakdown")
    e.add_argument("profile")
    d = sub.add_parser("diff", help="semantic diff of two profiles (macros, suites, heap, insecure opt-ins)",
                       usage="tlsgen diff OLD.yaml NEW.yaml | tlsgen diff --git REV -- PROFILE.yaml")
    d.add_argument("--git", metavar="REV", help="compare PROFILE as of git revision REV with the work tree")
    d.add_argument("--format", choices=("text", "markdown"), default="text")
    d.add_argument("profiles", nargs="+")
    s = sub.add_parser("schema", help="JSON Schema of the profile format (for editors)")
    s.add_argument("-o", "--output", type=_output, help="write to a file instead of stdout")
    r = sub.add_parser("reference", help="the Markdown profile reference")
    r.add_argument("-o", "--output", type=_output, help="write to a file instead of stdout")
    return ap


def _emit(text: str, output: str | None) -> int:
    if output is None:
        # The schema and the reference are UTF-8 files whatever the terminal: `> file` gives what -o gives.
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(text)
        else:
            buffer.write(text.encode("utf-8"))
            buffer.flush()
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
    old_data = None
    try:
        if args.git:
            if len(profiles) != 1:
                print("tlsgen diff --git REV -- PROFILE.yaml takes one profile", file=sys.stderr)
                return EXIT_INVALID
            (old_file, old_data), new_file = profile_at_revision(args.git, profiles[0]), profiles[0]
        elif len(profiles) == 2:
            old_file, new_file = profiles
        else:
            print("tlsgen diff takes OLD.yaml NEW.yaml (or --git REV -- PROFILE.yaml)", file=sys.stderr)
            return EXIT_INVALID
    except FileNotFoundError as e:
        print(f"tlsgen: {e}", file=sys.stderr)
        return EXIT_INVALID
    try:
        old, new = build(old_file, data=old_data), build(new_file)
    except ProfileError as e:
        print(str(e), file=sys.stderr)
        return EXIT_INVALID
    sys.stdout.write(format_text(compare(old, new), markdown=args.format == "markdown"))
    return EXIT_OK


def _build(profile: str, strict: bool) -> Built | None:
    try:
        return build(profile, strict=strict)
    except ProfileError as e:
        print(str(e), file=sys.stderr)
        n = len(e.problems)
        print(f"tlsgen: {n} error{'s' if n != 1 else ''} in {profile}; nothing written", file=sys.stderr)
        return None


def _check(args) -> int:
    worst = EXIT_OK
    for profile in args.profiles:
        res = _build(profile, args.strict)
        if res is None:
            worst = max(worst, EXIT_INVALID)
        else:
            print(_summary(res, None))
    return worst


def _generate(args) -> int:
    res = _build(args.profile, args.strict)
    if res is None:
        return EXIT_INVALID
    files = render(res.resolution, res.heap)
    out = Path(args.output) if args.output is not None else Path("generated") / Path(args.profile).stem
    if args.check:
        _print_insecure(res)
        stale = []
        for n, text in files.items():
            try:
                if not (out / n).exists():
                    stale.append((n, "is missing"))
                elif not (out / n).is_file():
                    stale.append((n, "is not a file"))
                elif (out / n).read_bytes() != text.encode("utf-8"):
                    stale.append((n, "is stale"))
            except OSError as e:
                print(f"tlsgen: cannot read {out / n}: {e.strerror or e}", file=sys.stderr)
                return EXIT_IO
        for n, what in stale:
            print(f"tlsgen: {out / n} {what}: run `tlsgen {args.profile} -o {out}`", file=sys.stderr)
        return EXIT_STALE if stale else EXIT_OK
    try:
        write_atomically(files, out)
    except OSError as e:
        print(f"tlsgen: cannot write {out}: {e}", file=sys.stderr)
        return EXIT_IO
    if args.quiet:
        _print_insecure(res)
    else:
        print(_summary(res, str(out)))
    return EXIT_OK


def _run(argv: list[str]) -> int:
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
    if args.command == "check":
        return _check(args)
    if args.command == "explain":
        res = _build(args.profile, False)
        if res is None:
            return EXIT_INVALID
        print(_explain(res))
        return EXIT_OK
    return _generate(args)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    _tolerant_streams()
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("tlsgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_IO
    except Exception as e:  # noqa: BLE001 -- a bug must not look like "stale" (1) or "invalid" (2)
        import traceback

        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"tlsgen: internal error: {type(e).__name__}: {str(e)[:500]}\n"
              f"  at {Path(where.filename).name}:{where.lineno} in {where.name}\n"
              f"  This is a bug in tlsgen {__version__}, not in your profile: please report it with the profile "
              "and this message. Set TLSGEN_TRACEBACK=1 for the full traceback.", file=sys.stderr)
        if _env_flag("TLSGEN_TRACEBACK"):
            traceback.print_exc()
        return EXIT_INTERNAL


def _env_flag(name: str) -> bool:
    import os

    return os.environ.get(name, "") not in ("", "0")


__all__ = ["main", "build"]
