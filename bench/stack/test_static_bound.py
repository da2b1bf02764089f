"""static_bound.py's call graph and bound on a hand-made image: .su text, a disassembly snippet, data words.

The expected figures are worked out by hand in the comments from the frames written here.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import static_bound as sb  # noqa: E402

# root: 8 bytes, calls a, then an indirect call (blx r3).
# a: 16, calls b.   b: 24, tail call (b.w) to c: b's frame is gone when c runs.
# c: 64, leaf.      f1 (100) and f2 (40): address-taken (their addresses are data words), leaves.
# g: no .su line; push of 4 registers + sub sp #16 = 32 bytes; not called.
SYMBOLS = {
    "root": (0x100, 0x10), "a": (0x200, 0x8), "b": (0x300, 0x4), "c": (0x400, 0x4),
    "f1": (0x500, 0x4), "f2": (0x600, 0x4), "g": (0x700, 0x8), "d": (0x800, 0x8), "e": (0x900, 0x8),
}
SU = """\
x.c:1:5:root\t8\tstatic
x.c:2:5:a\t16\tstatic
x.c:3:5:b\t24\tstatic
x.c:4:5:c\t64\tstatic
x.c:5:5:f1\t100\tstatic
x.c:6:5:f2\t40\tstatic
x.c:7:5:d\t12\tstatic
x.c:8:5:e\t20\tdynamic
"""
DIS = """\
00000100 <root>:
 100:\tpush\t{r4, lr}
 102:\tbl\t200 <a>
 106:\tldr\tr3, [r4, #0]
 108:\tblx\tr3
 10a:\tpop\t{r4, pc}

00000200 <a>:
 200:\tpush\t{r3, lr}
 202:\tbl\t300 <b>
 206:\tpop\t{r3, pc}

00000300 <b>:
 300:\tb.w\t400 <c>

00000400 <c>:
 400:\tsub\tsp, #64
 402:\tbx\tlr

00000500 <f1>:
 500:\tbx\tlr

00000600 <f2>:
 600:\tbx\tlr

00000700 <g>:
 700:\tpush\t{r4, r5, r6, lr}
 702:\tsub\tsp, #16
 704:\tadd\tsp, #16
 706:\tpop\t{r4, r5, r6, pc}
"""
CYCLE = """\
00000800 <d>:
 800:\tpush\t{r4, lr}
 802:\tbl\t900 <e>
 806:\tpop\t{r4, pc}

00000900 <e>:
 900:\tpush\t{r4, lr}
 902:\tbl\t800 <d>
 906:\tpop\t{r4, pc}
"""
DATA = [0x501, 0x601, 0x1234]  # f1|1, f2|1 (Thumb), a word that is no function


def graph(extra_dis=""):
    return sb.graph_from_text(SYMBOLS, SU, DIS + extra_dis, DATA)


def test_edges_from_the_disassembly():
    g = graph()
    assert g.functions["root"].calls == {"a"}
    assert g.functions["root"].indirect_calls == [0x108]
    assert g.functions["b"].tails == {"c"} and g.functions["b"].calls == set()
    assert g.address_taken == {"f1", "f2"}
    assert g.targets(g.functions["root"], "safe") == {"f1", "f2"}


def test_bound_direct_chain_tail_call_and_indirect_call():
    b = sb.bound(graph(), "root", "safe")
    # a chain: 8 + 16 + max(b's 24, c's 64 after b's tail call) = 88; the indirect call: 8 + f1's 100 = 108.
    assert b.finite and b.bytes == 108
    assert [n for n, _ in b.path] == ["root", "f1"]
    assert b.cycles == [] and b.unknown == []


def test_tail_call_does_not_add_the_callers_frame():
    b = sb.bound(graph(), "a", "safe")
    assert b.bytes == 16 + 64  # not 16 + 24 + 64


def test_frame_without_su_comes_from_the_prologue():
    g = graph()
    assert g.functions["g"].frame == 4 * 4 + 16 and g.functions["g"].qualifier == "prologue"


def test_cycle_is_reported_not_bounded():
    dis = DIS.replace(" 10a:\tpop\t{r4, pc}", " 10a:\tbl\t800 <d>\n 10e:\tpop\t{r4, pc}")
    g = sb.graph_from_text(SYMBOLS, SU, dis + CYCLE, DATA)
    b = sb.bound(g, "root", "safe")
    assert not b.finite and b.bytes is None
    assert b.cycles == [["d", "e"]] and b.direct_cycles == [["d", "e"]]
    # each function once on a path: root 8 + d 12 + e 20 = 40, below the indirect path's 108
    assert b.no_reentry == 108
    assert b.dynamic == ["e"]
    # d may appear twice (a stated recursion depth): 8 + 12 + 20 + 12 = 52, still below 108
    assert sb.bound(g, "root", "safe", limits={"d": 2}).no_reentry == 108
    # from d alone: d 12 + e 20 = 32; allowing d twice: 12 + 20 + 12 = 44 (then e is at its limit)
    assert sb.bound(g, "d", "safe").no_reentry == 32
    assert sb.bound(g, "d", "safe", limits={"d": 2}).no_reentry == 44
    # the component estimate counts every frame of the cycle once: 12 + 20
    assert sb.bound(g, "d", "safe").component_sum == 32


GIMPLE = """\
;; Function root (root, funcdef_no=1, decl_uid=1, cgraph_uid=1, symbol_order=1)

Removing basic block 5
int root (struct ctx * c)
{
  int (*<T1a>) (void *, unsigned char *, size_t) _1;
  int _4;

  <bb 2> [local count: 1073741824]:
  _1 = c_2(D)->f_rng;
  _4 = _1 (c_2(D), 0B, 16);
  return _4;

}

;; Function f1 (f1, funcdef_no=2, decl_uid=2, cgraph_uid=2, symbol_order=2)

int f1 (void * p, const unsigned char * buf, unsigned int len)
{
  <bb 2> [local count: 1073741824]:
  return 0;

}

;; Function f2 (f2, funcdef_no=3, decl_uid=3, cgraph_uid=3, symbol_order=3)

int f2 (void * p_rng, unsigned char * out, size_t len)
{
  <bb 2> [local count: 1073741824]:
  return 0;

}
"""


def test_typed_rule_keeps_the_matching_signature_only():
    g = sb.graph_from_text(SYMBOLS, SU, DIS, DATA, GIMPLE)
    # f1 takes a const buffer: not the type root calls through; f2 is (size_t is unsigned int here)
    assert g.targets(g.functions["root"], "typed") == {"f2"}
    b = sb.bound(g, "root", "typed")
    assert b.finite and b.bytes == 8 + 80  # root 8 + max(the a chain 16 + 64, f2 40)
