#!/usr/bin/env python3
"""Static worst-case stack depth of a Cortex-M image, from GCC's -fstack-usage over its call graph.

    static_bound.py ELF [ELF...] [--map MAP] [--root NAME] [--peak LABEL=BYTES ...] [--json OUT] [--paths]

Per function, the frame: the `.su` line GCC wrote next to the function's object (`-fstack-usage`; static,
dynamic or dynamic,bounded: a `dynamic` frame is reported, never read as 0), found through the linker map
(input section -> object or archive member -> `<object stem>.su`); a function without one (newlib, libgcc,
assembly) gets the largest stack-pointer decrement its disassembly reaches (push/stmdb/vpush/sub sp, a
straight-line scan) and is listed as such.

Edges, from `arm-none-eabi-objdump -d`: `bl`/`blx <addr>` are calls (the caller's frame stays below the
callee's); a branch to another function (`b.w`, `b<cc>`, `cbz`) is a tail call (GCC pops the frame first,
so it adds nothing; for a function without .su data it is counted as a call); `blx rN` is an indirect call,
`bx rN` (not lr) and `mov pc`/`ldr pc` (not a return) an indirect tail call.

Indirect calls, two rules:
  safe        an indirect site may reach every address-taken function: a Thumb function address (bit 0 set)
              in a data word outside code (.rodata, .data, .init_array, ...), in a literal pool word a
              pc-relative ldr reads, built by movw/movt, or by adr. The vector table (.isr_vector) is read
              by the hardware at exception entry, not by code: its handlers are exception entries, not
              indirect targets (this firmware polls: none but Reset_Handler runs).
  typed       (not a safe bound; needs GCC's -fdump-tree-optimized dumps next to the objects) a function's
              indirect sites reach only the address-taken functions whose type is one of the function-pointer
              types that function calls through in its optimized GIMPLE (types compared after resolving
              newlib's integer typedefs, struct/enum keywords, namespaces, references as pointers; C makes a
              call through an incompatible function type undefined, C11 6.3.2.3p8); a virtual call
              (OBJ_TYPE_REF, slot N) reaches slot N of every vtable in the image. A call type no address-taken
              function has gets no target and is listed (callbacks the image never sets: timers, key export,
              f_recv_timeout; check them against the source). Unsound where a function pointer is cast to
              another type. A function with indirect sites but no dump (newlib, asm) keeps the safe rule,
              except newlib's __libc_init_array, which calls the .preinit_array and .init_array entries only.

Cycles: a root that reaches a strongly connected component (recursion) has no finite bound; it is reported
with the component (and whether direct calls alone make it). Two figures then, both resting on the stated
assumption that no function recurses deeper than allowed (default once per path; --recursion SYM=N where the
code shows a depth): "no re-entry", the longest such path (exhaustive inside components, up to a work
budget), and "component sum", an upper estimate of it (a component costs the sum of its frames).

The root defaults to Reset_Handler (the painted stack of boards/common/board.cpp is measured from the top of
the stack, Reset_Handler's frame included), else main.
"""
from __future__ import annotations

import argparse
import bisect
import glob
import json
import os
import re
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

OBJDUMP = "arm-none-eabi-objdump"
READELF = "arm-none-eabi-readelf"
CXXFILT = "arm-none-eabi-c++filt"

# ---- data model -----------------------------------------------------------------------------------------


@dataclass
class Function:
    name: str
    addr: int
    size: int
    frame: int | None = None  # bytes; None: unknown (see frame_note)
    qualifier: str = ""  # static | dynamic | dynamic,bounded | prologue | unknown
    frame_note: str = ""  # where the figure comes from
    obj: str = ""  # object / archive member from the map
    calls: set = field(default_factory=set)  # callee names, caller frame stays
    tails: set = field(default_factory=set)  # callee names, tail calls
    indirect_calls: list = field(default_factory=list)  # addresses of blx rN
    indirect_tails: list = field(default_factory=list)  # addresses of bx rN / mov pc / ldr pc
    unresolved: list = field(default_factory=list)  # branch targets outside every function
    # typed rule (GIMPLE): signatures this function calls through, virtual slots, whether a dump was found
    gimple: bool = False
    call_sigs: set = field(default_factory=set)
    vslots: set = field(default_factory=set)
    sig: tuple | None = None  # own coarse signature

    @property
    def has_su(self) -> bool:
        return self.qualifier in ("static", "dynamic", "dynamic,bounded")


# ---- parsing: .su, objdump, readelf, map, GIMPLE ----------------------------------------------------------


def parse_su(text: str) -> list[tuple[str, int, str]]:
    """`.su` lines: `file:line:col:name<TAB>bytes<TAB>qualifier` -> [(name, bytes, qualifier)] in file order."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        loc, size, qual = line.rsplit("\t", 2)
        # file:line:col:name -- the file may hold ':' only on Windows; split the three first fields off.
        m = re.match(r"^(.*?):(\d+):(\d+):(.*)$", loc)
        name = m.group(4) if m else loc
        out.append((name, int(size), qual.strip()))
    return out


REGS = {"sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14, "pc": 15}


def reglist_count(text: str) -> tuple[int, int]:
    """`{r4, r5, lr}` / `{d8-d15}` / `{s16-s31}` -> (count, bytes per register)."""
    inner = text[text.find("{") + 1: text.find("}")]
    n, width = 0, 4
    for part in inner.split(","):
        part = part.strip()
        if not part:
            continue
        if part[0] == "d":
            width = 8
        if "-" in part:
            a, b = part.split("-")
            n += int(re.sub(r"\D", "", b)) - int(re.sub(r"\D", "", a)) + 1
        else:
            n += 1
    return n, width


BRANCH = re.compile(r"^b(?:eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?(?:\.n|\.w)?$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")


@dataclass
class Insn:
    addr: int
    mnem: str
    ops: str


def parse_objdump(text: str) -> list[Insn]:
    """`objdump -d --no-show-raw-insn` lines -> instructions (section and symbol headers skipped)."""
    out = []
    for line in text.splitlines():
        m = INSN.match(line)
        if m:
            out.append(Insn(int(m.group(1), 16), m.group(2), m.group(3)))
    return out


def target_of(ops: str) -> int | None:
    m = re.match(r"^([0-9a-f]+)(?:\s|$)", ops.strip())
    return int(m.group(1), 16) if m else None


def analyse_code(fn: Function, insns: list[Insn], starts: dict[int, str], locate, word_at) -> tuple[list[int], int | None, str]:
    """Fill fn's edges from its instructions; return (function addresses it takes, prologue frame, note)."""
    taken: list[int] = []
    depth, peak, dynamic = 0, 0, ""
    movw: dict[str, int] = {}
    end = fn.addr + fn.size
    for ins in insns:
        m, ops = ins.mnem, ins.ops
        base = m.split(".")[0]
        # -- stack pointer (frames of functions without .su data)
        if base in ("push", "stmdb", "stmfd") and (base == "push" or ops.startswith("sp!")):
            n, w = reglist_count(ops)
            depth += n * w
        elif base == "vpush":
            n, w = reglist_count(ops)
            depth += n * w
        elif base in ("pop", "vpop") or (base in ("ldmia", "ldmfd", "ldm") and ops.startswith("sp!")):
            n, w = reglist_count(ops)
            depth -= n * w
        elif base in ("sub", "subw") and re.match(r"^sp,\s*(?:sp,\s*)?#", ops):
            depth += int(re.search(r"#(\d+)", ops).group(1))
        elif base in ("add", "addw") and re.match(r"^sp,\s*(?:sp,\s*)?#", ops):
            depth -= int(re.search(r"#(\d+)", ops).group(1))
        elif base in ("str", "strd") and re.search(r"\[sp,\s*#-(\d+)\]!", ops):
            depth += int(re.search(r"\[sp,\s*#-(\d+)\]!", ops).group(1))
        elif re.match(r"^sp,", ops) and base in ("mov", "sub", "add", "ldr") and "#" not in ops.split(",", 1)[1]:
            dynamic = f"sp set from a register at {ins.addr:#x} ({m} {ops})"
        peak = max(peak, depth)
        # -- calls and branches
        if m in ("bl", "blx") and target_of(ops) is not None:
            t = target_of(ops)
            callee = locate(t)
            if callee is None:
                fn.unresolved.append(t)
            elif callee != fn.name:
                fn.calls.add(callee)
            else:
                fn.calls.add(callee)  # a bl to itself: recursion
        elif m == "blx":
            fn.indirect_calls.append(ins.addr)
        elif base == "bx":
            if ops.strip() != "lr":
                fn.indirect_tails.append(ins.addr)
        elif BRANCH.match(m) or base in ("cbz", "cbnz"):
            t = target_of(ops.split(",")[-1]) if base in ("cbz", "cbnz") else target_of(ops)
            if t is not None and not (fn.addr <= t < end):
                callee = locate(t)
                if callee is None:
                    fn.unresolved.append(t)
                else:
                    fn.tails.add(callee)
        elif base in ("mov", "ldr") and re.match(r"^pc,", ops):
            if not (base == "ldr" and re.match(r"^pc,\s*\[sp\]", ops)):
                fn.indirect_tails.append(ins.addr)
        # -- function addresses the code takes
        lit = re.search(r";?\s*@\s*\(([0-9a-f]+)\s", ops) if base in ("ldr",) and "[pc" in ops else None
        if lit:
            w = word_at(int(lit.group(1), 16))
            if w is not None and w & 1 and (w - 1) in starts:
                taken.append(w - 1)
        adr = re.search(r"\(adr\s+\w+,\s*([0-9a-f]+)", ops) if "adr" in ops or base == "adr" else None
        if base == "adr":
            t = target_of(ops.split(",", 1)[1])
            if t is not None and t in starts and t != fn.addr:
                taken.append(t)
        elif adr:
            t = int(adr.group(1), 16)
            if t in starts:
                taken.append(t)
        if base == "movw":
            r, v = ops.split(",", 1)
            movw[r.strip()] = int(re.search(r"#(\d+)", v).group(1))
        elif base == "movt":
            r, v = ops.split(",", 1)
            r = r.strip()
            if r in movw:
                w = movw.pop(r) | (int(re.search(r"#(\d+)", v).group(1)) << 16)
                if w & 1 and (w - 1) in starts:
                    taken.append(w - 1)
    return taken, (None if dynamic else peak), dynamic


def parse_readelf_symbols(text: str) -> list[tuple[int, int, str, str, str, str]]:
    """`readelf -sW` -> [(value, size, type, bind, ndx, name)]."""
    out = []
    for line in text.splitlines():
        p = line.split()
        if len(p) >= 8 and p[0].endswith(":") and p[0][:-1].isdigit():
            try:
                value = int(p[1], 16)
                size = int(p[2], 0) if not p[2].startswith("0x") else int(p[2], 16)
            except ValueError:
                continue
            out.append((value, size, p[3], p[4], p[6], " ".join(p[7:])))
    return out


MAP_SECTION = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
MAP_NAME = re.compile(r"^ (\S+)$")
MAP_CONT = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def parse_map(text: str) -> list[tuple[int, int, str, str]]:
    """A GNU ld map's input sections -> [(address, size, section name, file)] (non-empty, allocated ones)."""
    out, pending = [], None
    started = False
    for line in text.splitlines():
        if line.startswith("Linker script and memory map"):
            started = True
            continue
        if not started:
            continue
        m = MAP_SECTION.match(line)
        if m:
            name, addr, size, f = m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4)
            pending = None
        else:
            m2 = MAP_NAME.match(line)
            if m2 and not line.startswith(" *") and not m2.group(1).startswith("0x"):
                pending = m2.group(1)
                continue
            m3 = MAP_CONT.match(line)
            if not (m3 and pending):
                pending = None
                continue
            name, addr, size, f = pending, int(m3.group(1), 16), int(m3.group(2), 16), m3.group(3)
            pending = None
        if size and addr and not name.startswith("*") and not name.startswith(".debug"):
            out.append((addr, size, name, f.strip()))
    return out


# GIMPLE (-fdump-tree-optimized)


def split_top(s: str, sep: str = ",") -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out]


def param_kind(t: str) -> str:
    t = re.sub(r"<T[0-9a-f]+>", "", t)
    if "..." == t.strip():
        return "..."
    return "p" if ("*" in t or "&" in t) else "s"


def coarse_sig(ret: str, params: list[str]) -> tuple:
    """(returns a value?, kinds of the parameters): 'p' pointer/reference, 's' anything else."""
    if len(params) == 1 and params[0].strip() == "void":
        params = []
    kinds = tuple(param_kind(p) for p in params)
    r = ret.strip()
    for word in ("static", "virtual", "inline", "constexpr", "extern", "__attribute__((noinline))"):
        r = re.sub(rf"\b{re.escape(word)}\b", "", r).strip()
    return (r != "void", kinds)


# typedefs of arm-none-eabi (newlib) that dumps print by name on one side and resolved on the other
TYPEDEFS = {
    "size_t": "unsigned int", "uintptr_t": "unsigned int", "uint8_t": "unsigned char", "int8_t": "signed char",
    "uint16_t": "short unsigned int", "int16_t": "short int", "uint32_t": "long unsigned int", "int32_t": "long int",
    "uint64_t": "long long unsigned int", "int64_t": "long long int", "uintmax_t": "long long unsigned int",
    "intmax_t": "long long int", "ptrdiff_t": "int", "ssize_t": "int", "psa_status_t": "long int",
    "mbedtls_mpi_uint": "long unsigned int", "mbedtls_mpi_sint": "long int",
}


def norm_type(t: str) -> str:
    """One spelling per type: no <T..> ids, struct/union/enum/class keywords or namespace qualifiers, newlib's
    integer typedefs resolved, references as pointers, top-level const/volatile of a parameter dropped."""
    t = re.sub(r"<T[0-9a-f]+>", "", t)
    t = re.sub(r"\b(struct|union|enum|class)\s+", "", t)
    t = re.sub(r"(?:\{anonymous\}|[A-Za-z_]\w*)::", "", t)
    t = t.replace("&", "*")
    for k, v in TYPEDEFS.items():
        t = re.sub(rf"\b{k}\b", v, t)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s*\*\s*", " * ", t).strip()
    t = re.sub(r"(\*)\s*(const|volatile)\s*$", r"\1", t).strip()  # T * const -> T *
    if "*" not in t:
        t = re.sub(r"\b(const|volatile)\s+", "", t)
    return re.sub(r"\s+", " ", t).strip()


def exact_sig(ret: str, params: list[str]) -> tuple:
    if len(params) == 1 and params[0].strip() == "void":
        params = []
    r = ret.strip()
    for word in ("static", "virtual", "inline", "constexpr", "extern"):
        r = re.sub(rf"\b{word}\b", "", r).strip()
    return (norm_type(r), tuple(norm_type(p) for p in params))


def fnptr_exact(t: str) -> tuple | None:
    m = re.match(r"^(.*?)\(\*(?:<T[0-9a-f]+>)?\)\s*\((.*)\)\s*$", t.strip())
    if not m:
        return None
    return exact_sig(m.group(1), split_top(m.group(2)))


def fnptr_sig(t: str) -> tuple | None:
    """`int (*<T637>) (void *, unsigned char *, size_t)` -> coarse signature; None if not a function pointer."""
    m = re.match(r"^(.*?)\(\*(?:<T[0-9a-f]+>)?\)\s*\((.*)\)\s*$", t.strip())
    if not m:
        return None
    return coarse_sig(m.group(1), split_top(m.group(2)))


def strip_param_name(p: str) -> str:
    p = p.strip()
    m = re.match(r"^(.*\S)\s+([A-Za-z_][\w.$]*)$", p)
    if m and m.group(1) not in ("struct", "const", "unsigned", "signed", "long", "short", "enum", "union"):
        return m.group(1)
    return p


@dataclass
class GimpleFunction:
    asm: str
    sig: tuple  # (coarse, exact)
    call_sigs: set  # {(coarse, exact)}
    vslots: set
    fields: set


def parse_gimple(text: str) -> list[GimpleFunction]:
    out = []
    blocks = re.split(r"^;; Function ", text, flags=re.M)[1:]
    for b in blocks:
        head, _, body = b.partition("\n")
        m = re.match(r"^.*?\((\S+?), funcdef_no", head)
        if not m:
            continue
        asm = m.group(1)
        lines = body.splitlines()
        # the signature: the line before the body's opening brace (notes such as "Removing basic block" and
        # attribute lines come before it)
        i = next((k - 1 for k, ln in enumerate(lines) if ln.strip() == "{" and k > 0), 0)
        sig_line = lines[i].strip() if i < len(lines) else ""
        # the parameter list: the last balanced (...) of the line
        depth, j = 0, len(sig_line) - 1
        while j >= 0:
            if sig_line[j] == ")":
                depth += 1
            elif sig_line[j] == "(":
                depth -= 1
                if depth == 0:
                    break
            j -= 1
        params_text = sig_line[j + 1:-1] if j >= 0 else ""
        before = sig_line[:j].rstrip()
        ret = before.rsplit(" ", 1)[0] if " " in before else ""
        raw_params = split_top(params_text)
        types = {}
        for p in raw_params:
            mm = re.match(r"^(.*\S)\s+([A-Za-z_]\w*)$", p)
            if mm:
                types[mm.group(2)] = mm.group(1)
        plain = [strip_param_name(p) for p in raw_params]
        sig = (coarse_sig(ret, plain), exact_sig(ret, plain))
        call_sigs, vslots, fields = set(), set(), set()
        for line in lines[i + 1:]:
            mm = re.match(r"^\s+(.*\S)\s+([A-Za-z_][\w.]*);$", line)
            if mm and "=" not in line and "(" in mm.group(1):
                types[mm.group(2)] = mm.group(1)
        loads = {}
        for line in lines[i + 1:]:
            ld = re.match(r"^\s+(_\d+) = .*->(\w+);$", line)
            if ld:
                loads[ld.group(1)] = ld.group(2)
            if "OBJ_TYPE_REF(" in line:
                for s in re.findall(r"OBJ_TYPE_REF\([^;]*;\([^)]*\)[^)]*?->(\d+)\)", line):
                    vslots.add(int(s))
                continue
            cm = re.match(r"^\s+(?:\S+ = )?(_\d+|[A-Za-z_][\w.]*?_\d+(?:\(D\))?) \(", line)
            if cm:
                callee = cm.group(1)
                var = callee if callee.startswith("_") and callee[1:].isdigit() else re.sub(r"_\d+(\(D\))?$", "", callee)
                t = types.get(var) or types.get(callee)
                s = fnptr_sig(t) if t else None
                if s is not None:
                    call_sigs.add((s, fnptr_exact(t)))
                    if callee in loads:
                        fields.add(loads[callee])
        out.append(GimpleFunction(asm, sig, call_sigs, vslots, fields))
    return out


def exact_matches(call: tuple, target: tuple) -> bool:
    cr, cp = call
    tr, tp = target
    if "..." in cp or "..." in tp:
        n = cp.index("...") if "..." in cp else len(cp)
        m = tp.index("...") if "..." in tp else len(tp)
        return cr == tr and cp[:n] == tp[:m]
    return cr == tr and cp == tp


def sig_matches(call: tuple, target: tuple) -> bool:
    """A call through `call` may reach a function of signature `target` (coarse; variadic calls match more)."""
    cr, ck = call
    tr, tk = target
    if "..." in ck or "..." in tk:
        n = ck.index("...") if "..." in ck else len(ck)
        m = tk.index("...") if "..." in tk else len(tk)
        return all(a == b for a, b in zip(ck[:n], tk[:m]))
    if cr and not tr:
        return False  # the caller uses a value a void function does not return
    return ck == tk


# ---- the ELF ------------------------------------------------------------------------------------------


class Image:
    def __init__(self, elf: Path):
        self.path = elf
        data = elf.read_bytes()
        self.data = data
        if data[:4] != b"\x7fELF" or data[4] != 1:
            raise SystemExit(f"{elf}: not a 32-bit ELF")
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
        secs = []
        for i in range(shnum):
            name, typ, flags, addr, off, size = struct.unpack_from("<IIIIII", data, shoff + i * shentsize)
            secs.append([name, typ, flags, addr, off, size])
        stroff = secs[shstrndx][4]
        self.sections = []
        for name, typ, flags, addr, off, size in secs:
            end = data.index(b"\0", stroff + name)
            self.sections.append((data[stroff + name:end].decode(), typ, flags, addr, off, size))

    def alloc_sections(self):
        for name, typ, flags, addr, off, size in self.sections:
            if flags & 2 and typ == 1:  # SHF_ALLOC, PROGBITS
                yield name, addr, off, size

    def word_at(self, addr: int) -> int | None:
        for name, a, off, size in self.alloc_sections():
            if a <= addr <= a + size - 4:
                return struct.unpack_from("<I", self.data, off + addr - a)[0]
        return None


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


# ---- the graph and the bound ----------------------------------------------------------------------------


@dataclass
class Graph:
    functions: dict[str, Function]
    address_taken: set[str]
    exception_entries: set[str]
    init_array: set[str]
    vtables: dict[str, list[str]]  # vtable symbol -> slot functions (slot 0 first)
    fallbacks: set = field(default_factory=set)  # (function, call type) the typed rule matched coarsely

    def targets(self, fn: Function, rule: str) -> set[str]:
        if not (fn.indirect_calls or fn.indirect_tails):
            return set()
        if rule == "safe":
            return set(self.address_taken)
        if fn.name == "__libc_init_array" and not fn.gimple:
            return set(self.init_array)
        if not fn.gimple:
            return set(self.address_taken)
        out = set()
        unknown = {t for t in self.address_taken if self.functions[t].sig is None}
        out |= unknown  # no dump: unknown signature, may be anything
        known = [t for t in self.address_taken if self.functions[t].sig is not None]
        for coarse, exact in fn.call_sigs:
            hit = {t for t in known if exact is not None and exact_matches(exact, self.functions[t].sig[1])}
            if not hit:  # no address-taken function of that type: a callback the image never sets (or a
                self.fallbacks.add((fn.name, exact))  # typedef spelled two ways): listed in the report
            out |= hit
        for slot in fn.vslots:
            for slots in self.vtables.values():
                if slot < len(slots) and slots[slot]:
                    out.add(slots[slot])
        return out

    def edges(self, rule: str) -> dict[str, list[tuple[str, bool]]]:
        """name -> [(callee, frame stays)]."""
        out = {}
        for name, fn in self.functions.items():
            e = [(c, True) for c in fn.calls]
            keep_on_tail = not fn.has_su  # asm: no proof the frame is gone before the branch
            e += [(c, keep_on_tail) for c in fn.tails]
            ind = self.targets(fn, rule)
            if fn.indirect_calls:
                e += [(c, True) for c in ind]
            if fn.indirect_tails:
                e += [(c, keep_on_tail) for c in ind]
            out[name] = e
        return out


def reachable(edges, root):
    seen, todo = {root}, [root]
    while todo:
        n = todo.pop()
        for c, _ in edges.get(n, ()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def sccs(edges, nodes):
    """Tarjan (iterative) -> list of components (lists), each with its nodes."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter([c for c, _ in edges.get(start, ()) if c in nodes]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter([c for c, _ in edges.get(w, ()) if c in nodes])))
                    advanced = True
                    break
                elif w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


@dataclass
class Bound:
    finite: bool
    bytes: int | None  # the bound when the graph reachable from the root has no cycle, else None
    no_reentry: int | None  # longest path on which no function appears more often than allowed (None: over budget)
    component_sum: int  # upper estimate of no_reentry: every component entered costs the sum of its frames
    path: list[tuple[str, int]]  # deepest path (the no re-entry one when there are cycles): (function, bytes)
    cycles: list[list[str]]  # components with a cycle reachable from the root
    direct_cycles: list[list[str]]  # cycles made of direct calls alone
    nodes: int
    unknown: list[str]  # reachable functions whose frame is unknown (counted as 0 and listed)
    dynamic: list[str]
    budget_exceeded: bool = False


def bound(graph: Graph, root: str, rule: str, budget: int = 2_000_000, limits: dict[str, int] | None = None) -> Bound:
    """Worst-case depth from `root`. limits: function -> how often it may appear on one path (default 1) in
    the no re-entry figure; the finite bound itself exists only when no cycle is reachable."""
    limits = limits or {}
    edges = graph.edges(rule)
    nodes = reachable(edges, root)
    comps = sccs(edges, nodes)
    cyclic: dict[str, bool] = {}
    comp_id: dict[str, int] = {}
    nontrivial = []
    for i, c in enumerate(comps):
        cyc = len(c) > 1 or any(x == c[0] for x, _ in edges.get(c[0], ()))
        for n in c:
            cyclic[n] = cyc
            comp_id[n] = i
        if cyc:
            nontrivial.append(sorted(c))
    direct = {n: [(c, True) for c in graph.functions[n].calls] + [(c, False) for c in graph.functions[n].tails]
              for n in nodes}
    dcomps = [sorted(c) for c in sccs(direct, nodes)
              if len(c) > 1 or any(x == c[0] for x, _ in direct.get(c[0], ()))]

    def frame(n):
        f = graph.functions[n].frame
        return f if f is not None else 0

    # component sum (Tarjan emits components in reverse topological order: callees first)
    comp_value: dict[int, int] = {}
    for i, c in enumerate(comps):
        members = set(c)
        inside = sum(frame(n) * limits.get(n, 1) for n in c) if cyclic[c[0]] else frame(c[0])
        out = 0
        for n in c:
            for t, stays in edges.get(n, ()):
                if t not in members:
                    out = max(out, comp_value[comp_id[t]] + (0 if stays or cyclic[c[0]] else -frame(n)))
        comp_value[i] = inside + max(out, 0)

    memo: dict[str, tuple[int, list]] = {}
    work = [0]
    exceeded = [False]
    sys.setrecursionlimit(max(20000, 8 * len(nodes) + 1000))
    count: dict[str, int] = {}

    def dfs(n):
        if not cyclic[n] and n in memo:
            return memo[n]
        work[0] += 1
        if work[0] > budget:
            exceeded[0] = True
            return (frame(n), [(n, frame(n))])
        best = (frame(n), [(n, frame(n))])
        count[n] = count.get(n, 0) + 1
        for c, stays in edges.get(n, ()):
            if count.get(c, 0) >= limits.get(c, 1):
                continue
            d, p = dfs(c)
            total = d + (frame(n) if stays else 0)
            if total > best[0]:
                best = (total, [(n, frame(n) if stays else 0)] + p)
        count[n] -= 1
        if not cyclic[n]:
            memo[n] = best
        return best

    depth, path = dfs(root)
    unknown = sorted(n for n in nodes if graph.functions[n].frame is None)
    dynamic = sorted(n for n in nodes if graph.functions[n].qualifier.startswith("dynamic"))
    finite = not nontrivial
    return Bound(finite, depth if finite else None, None if exceeded[0] else depth, comp_value[comp_id[root]], path,
                 nontrivial, dcomps, len(nodes), unknown, dynamic, exceeded[0])


# ---- building the graph from an image ------------------------------------------------------------------


def demangle(names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    out = subprocess.run([CXXFILT], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
    return dict(zip(names, out)) if len(out) == len(names) else {n: n for n in names}


def object_for(member: str, build: Path) -> Path | None:
    """Map file name -> object path: `dir/libX.a(m.obj)` -> build/dir/CMakeFiles/X.dir/**/m.obj; `x.obj` as is."""
    m = re.match(r"^(.*)\((.*)\)$", member)
    if m:
        archive, obj = m.group(1), m.group(2)
        a = Path(archive)
        if not a.is_absolute():
            a = build / a
        lib = a.name[3:-2] if a.name.startswith("lib") and a.name.endswith(".a") else a.stem
        hits = glob.glob(str(a.parent / "CMakeFiles" / f"{lib}.dir" / "**" / obj), recursive=True)
        return Path(hits[0]) if len(hits) == 1 else (Path(hits[0]) if hits else None)
    p = Path(member)
    if not p.is_absolute():
        p = build / p
    return p if p.exists() else None


def object_frames(obj: Path) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Frames of an object's functions by symbol name: its .su lines zipped with its functions in section order
    (-ffunction-sections: one section per function, .su written in the same order), checked by name."""
    su = obj.with_suffix(".su")
    if not su.exists():
        return {}, []
    lines = parse_su(su.read_text())
    syms = parse_readelf_symbols(run([READELF, "-sW", str(obj)]))
    by_sec: dict[int, list[str]] = {}
    for value, size, typ, bind, ndx, name in syms:
        if typ == "FUNC" and ndx.isdigit():
            by_sec.setdefault(int(ndx), []).append(name)
    groups = [by_sec[k] for k in sorted(by_sec)]
    problems = []
    out = {}
    dem = demangle([n for g in groups for n in g])
    if len(groups) == len(lines):
        for (suname, size, qual), names in zip(lines, groups):
            ident = re.sub(r"\(.*$", "", suname).split("::")[-1].split(" ")[-1].lstrip("*&~")
            ident = ident.split(".")[0]
            ok = any(ident in dem.get(n, n) or ident in n for n in names) or "lambda" in suname
            if not ok:
                problems.append(f"{su.name}: '{suname}' beside {names}")
            for n in names:
                out[n] = (size, qual)
    else:
        problems.append(f"{su.name}: {len(lines)} .su lines for {len(groups)} function sections; matched by name")
        for suname, size, qual in lines:
            for g in groups:
                for n in g:
                    if n == suname or n.split(".")[0] == suname.split(".")[0]:
                        out[n] = (size, qual)
    return out, problems


def build_graph(elf: Path, map_path: Path, build: Path, use_gimple: bool = True) -> tuple[Graph, dict]:
    img = Image(elf)
    syms = parse_readelf_symbols(run([READELF, "-sW", str(elf)]))
    funcs: dict[str, Function] = {}
    by_addr: dict[int, str] = {}
    objects_syms = []
    for value, size, typ, bind, ndx, name in syms:
        if typ == "FUNC" and ndx.isdigit():
            addr = value & ~1
            key = name
            if key in funcs and funcs[key].addr != addr:
                key = f"{name}@{addr:x}"  # two local functions of one name
            if addr in by_addr:
                continue  # an alias (C1/C2 constructors): one function
            funcs[key] = Function(key, addr, size)
            by_addr[addr] = key
        elif typ == "OBJECT" and name.startswith("_ZTV"):
            objects_syms.append((value, size, name))
    starts = sorted(by_addr)
    ends = [funcs[by_addr[a]].addr + max(funcs[by_addr[a]].size, 2) for a in starts]

    def locate(addr):
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and addr < ends[i]:
            return by_addr[starts[i]]
        return None

    # frames: map -> object -> .su
    sections = parse_map(map_path.read_text()) if map_path and map_path.exists() else []
    sec_starts = sorted((a, s, f) for a, s, n, f in sections if n.startswith(".text") or n in (".init", ".fini"))
    sec_keys = [x[0] for x in sec_starts]
    cache: dict[str, tuple[dict, list]] = {}
    problems: list[str] = []
    gimple: dict[str, GimpleFunction] = {}
    gimple_files = 0
    for fn in funcs.values():
        i = bisect.bisect_right(sec_keys, fn.addr) - 1
        if i < 0 or not (sec_starts[i][0] <= fn.addr < sec_starts[i][0] + sec_starts[i][1]):
            continue
        member = sec_starts[i][2]
        fn.obj = member
        if member not in cache:
            obj = object_for(member, build)
            cache[member] = object_frames(obj) if obj else ({}, [])
            problems += cache[member][1]
            if obj and use_gimple:
                stem = str(obj)[: -len(obj.suffix)] if obj.suffix else str(obj)
                for dump in glob.glob(glob.escape(stem) + ".*.optimized"):
                    gimple_files += 1
                    for g in parse_gimple(Path(dump).read_text(errors="replace")):
                        gimple[g.asm] = g
        frames = cache[member][0]
        base = fn.name.split("@")[0]
        if base in frames:
            fn.frame, fn.qualifier = frames[base]
            fn.frame_note = ".su"
            if fn.qualifier.startswith("dynamic"):
                fn.frame_note = ".su (dynamic" + (", bounded)" if "bounded" in fn.qualifier else ": the figure is not a bound)")
    # code
    dis = parse_objdump(run([OBJDUMP, "-d", "--no-show-raw-insn", str(elf)]))
    per_fn: dict[str, list[Insn]] = {}
    for ins in dis:
        n = locate(ins.addr)
        if n is not None:
            per_fn.setdefault(n, []).append(ins)
    taken_by_code: set[int] = set()
    literal_words: set[int] = set()
    for name, fn in funcs.items():
        insns = per_fn.get(name, [])
        for ins in insns:
            lit = re.search(r"@\s*\(([0-9a-f]+)\s", ins.ops) if "[pc" in ins.ops else None
            if lit:
                literal_words.add(int(lit.group(1), 16))
        taken, peak, dyn = analyse_code(fn, insns, by_addr, locate, img.word_at)
        taken_by_code.update(taken)
        if fn.frame is None:
            if dyn:
                fn.qualifier, fn.frame_note = "unknown", dyn
            else:
                fn.frame, fn.qualifier = peak, "prologue"
                fn.frame_note = "no .su: largest sp decrement in its disassembly"
    # address-taken: data words outside code, and the code's own
    code_ranges = [(fn.addr, fn.addr + fn.size) for fn in funcs.values()]
    code_ranges.sort()
    cstarts = [a for a, _ in code_ranges]

    def in_code(a):
        i = bisect.bisect_right(cstarts, a) - 1
        return i >= 0 and a < code_ranges[i][1]

    address_taken, exception_entries, init_array = set(), set(), set()
    for name, addr, off, size in img.alloc_sections():
        if name in (".ARM.exidx", ".ARM.extab"):
            continue
        for o in range(0, size - size % 4, 4):
            a = addr + o
            w = struct.unpack_from("<I", img.data, off + o)[0]
            if not (w & 1) or (w - 1) not in by_addr:
                continue
            target = by_addr[w - 1]
            if name == ".isr_vector":
                exception_entries.add(target)
            elif name in (".init_array", ".preinit_array"):
                init_array.add(target)
                address_taken.add(target)
            elif not in_code(a) or a in literal_words:
                address_taken.add(target)
    address_taken.update(by_addr[a] for a in taken_by_code)
    # vtables
    vtables = {}
    for value, size, name in objects_syms:
        slots = []
        for o in range(8, size, 4):
            w = img.word_at(value + o)
            slots.append(by_addr.get(w - 1) if w and w & 1 else None)
        vtables[name] = slots
    # GIMPLE signatures
    for fn in funcs.values():
        g = gimple.get(fn.name.split("@")[0])
        if g is not None:
            fn.gimple, fn.sig, fn.call_sigs, fn.vslots = True, g.sig, g.call_sigs, g.vslots
    info = {"problems": problems, "gimple_files": gimple_files, "objects": len(cache)}
    return Graph(funcs, address_taken, exception_entries, init_array, vtables), info


def graph_from_text(symbols: dict[str, tuple[int, int]], su_text: str, objdump_text: str,
                    data_words: list[int] = (), gimple_text: str = "") -> Graph:
    """The same graph from text alone (no ELF, map or objects): symbols name -> (address, size), one .su text
    whose names are the symbols', the disassembly, the words of the image's data (function addresses with the
    Thumb bit are address-taken), optionally a GIMPLE dump. For tests and for images built elsewhere."""
    funcs = {n: Function(n, a, sz) for n, (a, sz) in symbols.items()}
    by_addr = {f.addr: n for n, f in funcs.items()}
    for name, size, qual in parse_su(su_text):
        if name in funcs:
            funcs[name].frame, funcs[name].qualifier, funcs[name].frame_note = size, qual, ".su"
    starts = sorted(by_addr)

    def locate(addr):
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and addr < funcs[by_addr[starts[i]]].addr + max(funcs[by_addr[starts[i]]].size, 2):
            return by_addr[starts[i]]
        return None

    per_fn: dict[str, list[Insn]] = {}
    for ins in parse_objdump(objdump_text):
        n = locate(ins.addr)
        if n is not None:
            per_fn.setdefault(n, []).append(ins)
    taken = set()
    for n, fn in funcs.items():
        t, peak, dyn = analyse_code(fn, per_fn.get(n, []), by_addr, locate, lambda a: None)
        taken.update(by_addr[x] for x in t)
        if fn.frame is None:
            if dyn:
                fn.qualifier, fn.frame_note = "unknown", dyn
            else:
                fn.frame, fn.qualifier, fn.frame_note = peak, "prologue", "no .su"
    for w in data_words:
        if w & 1 and (w - 1) in by_addr:
            taken.add(by_addr[w - 1])
    for g in parse_gimple(gimple_text) if gimple_text else []:
        if g.asm in funcs:
            f = funcs[g.asm]
            f.gimple, f.sig, f.call_sigs, f.vslots = True, g.sig, g.call_sigs, g.vslots
    return Graph(funcs, taken, set(), set(), {})


# ---- report -------------------------------------------------------------------------------------------


def label_of(elf: Path) -> str:
    stem = elf.name
    for prefix in ("qemu_esp8266_resume_", "qemu_esp8266_", "footprint_"):
        if stem.startswith(prefix):
            stem = stem[len(prefix):]
            break
    return stem.replace("_", "-")


def short(name: str, dem: dict[str, str]) -> str:
    d = dem.get(name.split("@")[0], name)
    if d.endswith(")") or d.endswith(") const"):
        depth, j = 0, len(d) - 1
        while j >= 0 and d[j] != ")":
            j -= 1
        while j >= 0:
            depth += {")": 1, "(": -1}.get(d[j], 0)
            if depth == 0:
                break
            j -= 1
        if j > 0:
            d = d[:j]
    return d or name


def analyse(elf: Path, map_path: Path | None, build: Path, root: str | None, use_gimple: bool = True,
            limits: dict[str, int] | None = None) -> dict:
    graph, info = build_graph(elf, map_path, build, use_gimple)
    fns = graph.functions
    if root is None:
        root = "Reset_Handler" if "Reset_Handler" in fns else "main"
    if root not in fns:
        raise SystemExit(f"{elf}: no function {root}")
    dem = demangle(list(fns))
    safe = bound(graph, root, "safe", limits=limits)
    typed = bound(graph, root, "typed", limits=limits) if any(f.gimple for f in fns.values()) else None
    reach = reachable(graph.edges("safe"), root)
    sites = sum(len(fns[n].indirect_calls) + len(fns[n].indirect_tails) for n in reach)
    sites_fns = [n for n in reach if fns[n].indirect_calls or fns[n].indirect_tails]
    typed_targets = {}
    if typed is not None:
        treach = reachable(graph.edges("typed"), root)
        for n in treach:
            if fns[n].indirect_calls or fns[n].indirect_tails:
                typed_targets[n] = len(graph.targets(fns[n], "typed"))
    no_su = sorted((n for n in reach if not fns[n].has_su), key=lambda n: -(fns[n].frame or 0))

    def bdict(b: Bound | None):
        if b is None:
            return None
        return {
            "finite": b.finite, "bound": b.bytes, "no_reentry_bound": b.no_reentry,
            "component_sum": b.component_sum,
            "budget_exceeded": b.budget_exceeded, "functions": b.nodes,
            "path": [{"function": short(n, dem), "symbol": n, "frame": f} for n, f in b.path],
            "cycles": [[short(n, dem) for n in c] for c in b.cycles],
            "direct_cycles": [[short(n, dem) for n in c] for c in b.direct_cycles],
            "unknown_frames": [short(n, dem) for n in b.unknown],
            "dynamic_frames": [short(n, dem) for n in b.dynamic],
        }

    return {
        "elf": str(elf), "label": label_of(elf), "root": root,
        "address_taken": len(graph.address_taken),
        "exception_entries": sorted(short(n, dem) for n in graph.exception_entries),
        "indirect_sites": sites, "functions_with_indirect_sites": len(sites_fns),
        "typed_targets": {short(n, dem): t for n, t in sorted(typed_targets.items())},
        "no_su": [{"function": short(n, dem), "frame": fns[n].frame, "how": fns[n].frame_note, "object": fns[n].obj}
                  for n in no_su],
        "functions_without_dump_with_indirect_sites": sorted(short(n, dem) for n in sites_fns if not fns[n].gimple),
        "safe": bdict(safe), "typed": bdict(typed), "notes": info,
        "typed_coarse_fallbacks": sorted(f"{short(n, dem)}: {e}" for n, e in graph.fallbacks),
    }


def fmt_bound(b: dict | None) -> str:
    if b is None:
        return "-"
    if b["finite"]:
        return f"{b['bound']:,}"
    n = f"{b['no_reentry_bound']:,}" if b["no_reentry_bound"] is not None else "over budget"
    return (f"not finite ({len(b['cycles'])} cycle(s)); no re-entry: {n}, component sum {b['component_sum']:,}")


def top_frames(b: dict, k: int = 5) -> str:
    p = sorted(b["path"], key=lambda x: -x["frame"])[:k]
    return ", ".join(f"{x['function']} {x['frame']}" for x in p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("elf", nargs="+", type=Path)
    ap.add_argument("--map", type=Path, help="linker map (default: <build>/<elf name>.map, or <elf>.map)")
    ap.add_argument("--build", type=Path, help="the directory the link ran in (default: the map's directory)")
    ap.add_argument("--root", help="root function symbol (default: Reset_Handler, else main)")
    ap.add_argument("--peak", action="append", default=[], metavar="LABEL=BYTES", help="measured stack peak")
    ap.add_argument("--peaks-from", type=Path, help="directory of run_qemu.py --json results (<label>.json)")
    ap.add_argument("--no-gimple", action="store_true", help="the safe rule only")
    ap.add_argument("--recursion", action="append", default=[], metavar="SYMBOL=N",
                    help="no re-entry figures: SYMBOL may appear N times on one path (state why where you cite it)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--paths", action="store_true", help="print each deepest path in full")
    args = ap.parse_args(argv)
    peaks = {}
    for p in args.peak:
        k, v = p.split("=")
        peaks[k] = int(v)
    limits = {k: int(v) for k, v in (x.split("=") for x in args.recursion)}
    results = []
    for elf in args.elf:
        m = args.map
        if m is None:
            cands = [elf.with_name(elf.name + ".map"), elf.with_suffix(".map")]
            d = elf.resolve().parent
            while d != d.parent:
                cands.append(d / (elf.name + ".map"))
                d = d.parent
            m = next((c for c in cands if c.exists()), None)
        if m is None:
            raise SystemExit(f"{elf}: no linker map found; give --map")
        build = args.build or m.resolve().parent
        r = analyse(elf, m, build, args.root, not args.no_gimple, limits)
        label = r["label"]
        if label not in peaks and args.peaks_from and (args.peaks_from / f"{label}.json").exists():
            peaks[label] = json.loads((args.peaks_from / f"{label}.json").read_text()).get("stack_peak")
        r["measured_peak"] = peaks.get(label)
        results.append(r)

    print("| profile | static bound (safe rule) | typed rule (not safe) | measured peak | bound/peak | deepest path (top frames) "
          "| indirect sites / targets | unknown frames |")
    print("| --- | --- | --- | ---: | ---: | --- | --- | --- |")
    for r in results:
        s, t = r["safe"], r["typed"]
        best = t if t is not None else s
        fig = best["bound"] if best["finite"] else best["no_reentry_bound"]
        peak = r["measured_peak"]
        ratio = f"{fig / peak:.2f}" if fig and peak else "-"
        tt = r["typed_targets"]
        typed_t = f"; typed: {min(tt.values())}-{max(tt.values())}" if tt else ""
        unknown = len(s["unknown_frames"])
        print(f"| {r['label']} | {fmt_bound(s)} | {fmt_bound(t)} | {peak if peak else '-'} | {ratio} "
              f"| {top_frames(best)} | {r['indirect_sites']} sites / {r['address_taken']} address-taken{typed_t} "
              f"| {unknown} unknown, {len(r['no_su'])} without .su |")
    for r in results:
        print(f"\n## {r['label']} (root {r['root']})")
        for rule in ("safe", "typed"):
            b = r[rule]
            if b is None:
                continue
            print(f"- {rule}: {fmt_bound(b)} over {b['functions']} functions")
            if b["cycles"]:
                for c in b["cycles"][:5]:
                    print(f"  - cycle of {len(c)}: {', '.join(c[:8])}{' ...' if len(c) > 8 else ''}")
                for c in b["direct_cycles"]:
                    print(f"  - cycle of direct calls alone: {', '.join(c)}")
            if b["dynamic_frames"]:
                print(f"  - dynamic frames: {', '.join(b['dynamic_frames'])}")
            if b["unknown_frames"]:
                print(f"  - unknown frames (counted as 0): {', '.join(b['unknown_frames'])}")
            path = b["path"] if args.paths else b["path"][:3] + ([{"function": "...", "frame": ""}] if len(b["path"]) > 6 else []) + b["path"][-3:] if len(b["path"]) > 6 else b["path"]
            print("  - deepest path: " + " > ".join(f"{x['function']} ({x['frame']})" for x in path))
        print(f"- indirect sites reachable: {r['indirect_sites']} in {r['functions_with_indirect_sites']} functions; "
              f"address-taken functions (safe targets of each): {r['address_taken']}")
        if r["typed_targets"]:
            print("- typed targets per function: " + ", ".join(f"{k} {v}" for k, v in r["typed_targets"].items()))
        if r["typed_coarse_fallbacks"]:
            print("- typed rule, call types no address-taken function with a dump has (only dump-less functions such as memset "
                  "remain their targets; check each against the source): "
                  + "; ".join(r["typed_coarse_fallbacks"]))
        if r["functions_without_dump_with_indirect_sites"]:
            print("- indirect sites without a GIMPLE dump (safe rule kept): "
                  + ", ".join(r["functions_without_dump_with_indirect_sites"]))
        print("- frames without .su (assumed from the disassembly): "
              + ", ".join(f"{x['function']} {x['frame'] if x['frame'] is not None else 'unknown'}" for x in r["no_su"]))
        print(f"- exception entries (vector table, not indirect targets): {', '.join(r['exception_entries'])}")
        if r["notes"]["problems"]:
            print(f"- .su matching notes: {len(r['notes']['problems'])}: " + "; ".join(r["notes"]["problems"][:5]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
