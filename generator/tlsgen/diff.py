"""Semantic diff of two profiles for code review: macros, suites, heap, insecure opt-ins."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tlsgen.pipeline import Built


@dataclass
class ProfileDiff:
    old_name: str
    new_name: str
    added: list = field(default_factory=list)  # (name, value, reason)
    removed: list = field(default_factory=list)  # (name, value, reason)
    changed: list = field(default_factory=list)  # (name, old value, new value, reason)
    suites_added: list = field(default_factory=list)
    suites_removed: list = field(default_factory=list)
    suites_reordered: bool = False
    groups: tuple = ((), ())
    versions: tuple = ((), ())
    heap: tuple = (0, 0)
    heap_lines: list = field(default_factory=list)  # (name, old, new)
    insecure_added: list = field(default_factory=list)  # (option, reason)
    insecure_removed: list = field(default_factory=list)
    insecure_changed: list = field(default_factory=list)  # (option, old reason, new reason)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.suites_added or self.suites_removed
                    or self.suites_reordered or self.heap[0] != self.heap[1] or self.insecure_added
                    or self.insecure_removed or self.insecure_changed or self.groups[0] != self.groups[1]
                    or self.versions[0] != self.versions[1])


def compare(old: Built, new: Built) -> ProfileDiff:
    o, n = old.resolution, new.resolution
    om = {m.name: m for m in o.macros}
    nm = {m.name: m for m in n.macros}
    d = ProfileDiff(o.loaded.profile.name, n.loaded.profile.name)
    for name in sorted(nm.keys() - om.keys()):
        d.added.append((name, nm[name].value, nm[name].reason_text))
    for name in sorted(om.keys() - nm.keys()):
        d.removed.append((name, om[name].value, om[name].reason_text))
    for name in sorted(om.keys() & nm.keys()):
        if om[name].value != nm[name].value:
            d.changed.append((name, om[name].value, nm[name].value, nm[name].reason_text))
    os_, ns = [s.name for s in o.suites], [s.name for s in n.suites]
    d.suites_added = [s for s in ns if s not in os_]
    d.suites_removed = [s for s in os_ if s not in ns]
    common_old = [s for s in os_ if s in ns]
    common_new = [s for s in ns if s in os_]
    d.suites_reordered = common_old != common_new
    d.groups = (tuple(g.name for g in o.groups), tuple(g.name for g in n.groups))
    d.versions = (tuple(o.versions), tuple(n.versions))
    d.heap = (old.heap.bytes, new.heap.bytes)
    ol = {x.name: x.bytes for x in old.heap.model.lines}
    nl = {x.name: x.bytes for x in new.heap.model.lines}
    for name in list(dict.fromkeys([*ol, *nl])):
        if ol.get(name, 0) != nl.get(name, 0):
            d.heap_lines.append((name, ol.get(name, 0), nl.get(name, 0)))
    oi = {c.option: c.reason for c in o.insecure}
    ni = {c.option: c.reason for c in n.insecure}
    d.insecure_added = [(k, v) for k, v in ni.items() if k not in oi]
    d.insecure_removed = [(k, v) for k, v in oi.items() if k not in ni]
    # A new reason is a new review decision: reviewers must see it even when nothing else changed.
    d.insecure_changed = [(k, oi[k], v) for k, v in ni.items() if k in oi and oi[k] != v]
    return d


def _value(v) -> str:
    return "" if v is None else f" {v}"


def format_text(d: ProfileDiff, markdown: bool = False) -> str:
    h = (lambda t: f"### {t}") if markdown else (lambda t: f"{t}:")
    li = "- " if markdown else "  "
    code = (lambda t: f"`{t}`") if markdown else (lambda t: t)
    out = [f"## tlsgen diff: {d.old_name} → {d.new_name}" if markdown else
           f"tlsgen diff: {d.old_name} -> {d.new_name}"]
    if d.empty:
        out.append("no semantic change")
        return "\n".join(out) + "\n"
    if d.insecure_added or d.insecure_removed or d.insecure_changed:
        out.append(h("Insecure opt-ins"))
        out += [f"{li}**added** {code(k)}: {r}" if markdown else f"{li}+ {k}: {r}" for k, r in d.insecure_added]
        out += [f"{li}removed {code(k)}" if markdown else f"{li}- {k}" for k, _ in d.insecure_removed]
        out += [f"{li}**reason changed** {code(k)}: {a} → {b}" if markdown else
                f"{li}~ {k}: reason changed: {a} -> {b}" for k, a, b in d.insecure_changed]
    o, n = d.heap
    if o != n:
        pct = (n - o) * 100.0 / o if o else 0.0
        out.append(h("Heap"))
        out.append(f"{li}{o} → {n} bytes ({n - o:+d}, {pct:+.1f}%)" if markdown else
                   f"{li}{o} -> {n} bytes ({n - o:+d}, {pct:+.1f}%)")
        for name, a, b in d.heap_lines:
            out.append(f"{li}{name}: {a} → {b} ({b - a:+d})" if markdown else f"{li}  {name}: {a} -> {b} ({b - a:+d})")
    if d.versions[0] != d.versions[1] or d.suites_added or d.suites_removed or d.suites_reordered \
            or d.groups[0] != d.groups[1]:
        out.append(h("Protocol"))
        if d.versions[0] != d.versions[1]:
            out.append(f"{li}versions: {', '.join(d.versions[0])} -> {', '.join(d.versions[1])}")
        out += [f"{li}+ suite {code(s)}" for s in d.suites_added]
        out += [f"{li}- suite {code(s)}" for s in d.suites_removed]
        if d.suites_reordered:
            out.append(f"{li}suite preference order changed")
        if d.groups[0] != d.groups[1]:
            out.append(f"{li}groups: {', '.join(d.groups[0]) or '(none)'} -> {', '.join(d.groups[1]) or '(none)'}")
    if d.added or d.removed or d.changed:
        out.append(h(f"Macros (+{len(d.added)} -{len(d.removed)} ~{len(d.changed)})"))
        out += [f"{li}+ {code(name + _value(v))} — {why}" if markdown else f"{li}+ {name}{_value(v)}  ({why})"
                for name, v, why in d.added]
        out += [f"{li}- {code(name + _value(v))} — was: {why}" if markdown else f"{li}- {name}{_value(v)}  (was: {why})"
                for name, v, why in d.removed]
        out += [f"{li}~ {code(name)}: {a} → {b} — {why}" if markdown else f"{li}~ {name}: {a} -> {b}  ({why})"
                for name, a, b, why in d.changed]
    return "\n".join(out) + "\n"


def profile_at_revision(rev: str, path: str) -> tuple[str, bytes]:
    """The profile as it was at git revision `rev`: (a name for messages, "REV:path", and its bytes).

    Read from `git show` into memory: nothing is written, so nothing is left behind.
    """
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                         cwd=Path(path).resolve().parent)
    if top.returncode != 0:
        raise FileNotFoundError(f"{path} is not in a git work tree")
    rel = Path(os.path.relpath(Path(path).resolve(), top.stdout.strip())).as_posix()
    shown = subprocess.run(["git", "show", f"{rev}:{rel}"], capture_output=True, cwd=top.stdout.strip())
    if shown.returncode != 0:
        raise FileNotFoundError(f"git show {rev}:{rel}: {shown.stderr.decode(errors='replace').strip()}")
    return f"{rev}:{rel}", shown.stdout
