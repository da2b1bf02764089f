"""The pipeline every command shares: validate -> resolve -> size the heap (render is separate)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tlsgen.errors import Problem, ProfileError
from tlsgen.flash import flash_plan
from tlsgen.heap import HeapModel, size_heap
from tlsgen.loader import LoadedProfile, SchemaError, load_profile, load_profile_bytes
from tlsgen.render import Heap, heap_for
from tlsgen.resolve import Resolution, resolve
from tlsgen.ram import ram_plan, reference_app_ram


@dataclass(frozen=True)
class Built:
    resolution: Resolution
    heap: Heap


def build(profile_file: str, strict: bool = False, data: bytes | None = None, p256m: bool = True) -> Built:
    """validate -> resolve -> size heap; raise ProfileError for anything a person must fix.

    `data`: the profile's bytes when they do not come from the file (a git revision, a fuzzer);
    `profile_file` then only names them in messages. A profile the schema refuses is still judged on
    the parts that did validate (tlsgen.salvage), so every independent problem is reported at once.
    """
    try:
        loaded = load_profile(profile_file) if data is None else load_profile_bytes(profile_file, data)
    except SchemaError as e:
        from tlsgen.salvage import cross_field_problems

        extra = cross_field_problems(e, lambda candidate: _judge(candidate, strict, p256m)[1])
        raise ProfileError(sorted(e.problems + extra, key=lambda q: (q.location.line, q.location.col))) from None
    built, problems = _judge(loaded, strict, p256m)
    if problems:
        raise ProfileError(problems)
    return built


#: What the p256-m driver can fail on that the legacy ECP may not: it trades heap for stack and PSA's static data
#: (tlsgen.stack, tlsgen.ram), so a part with little RAM or a stated stack can fit only the legacy ECP.
RAM_FIELDS = {("target", "ram_bytes"), ("target", "stack_bytes"), ("platform", "heap")}


def _judge(loaded: LoadedProfile, strict: bool, p256m: bool = True) -> tuple[Built | None, list[Problem]]:
    """The cross-field judgement of a valid model: resolve, size the heap, check it; (result, problems).

    tlsgen picks mbedTLS's p256-m driver where every curve is P-256 (tlsgen.resolve.ecc): smaller and faster, with
    less heap but more stack and PSA's static data. Where that does not fit the part's RAM or its stated stack and
    the legacy ECP does, the legacy ECP it is, and the configuration says why."""
    try:
        r = resolve(loaded, p256m=p256m)
    except ProfileError as e:
        return None, e.problems
    built, problems = _check(loaded, strict, r)
    if r.p256m and problems and all(q.path[:2] in RAM_FIELDS for q in problems):
        legacy = resolve(loaded, p256m=False)
        built2, problems2 = _check(loaded, strict, legacy)
        if not problems2 or all(q.path[:2] in RAM_FIELDS for q in problems2):
            # The legacy ECP fits, or needs less of what does not fit: its problems are the ones to fix.
            why = problems[0].message.split(":")[0]
            note = (f"elliptic curves: mbedTLS's ECP module (not the p256-m driver, whose stack and PSA static data "
                    f"do not fit here: {problems[0].path[-1]}: {why})")
            return Built(replace(legacy, ecc_note=note), built2.heap), problems2
    return built, problems


def _check(loaded: LoadedProfile, strict: bool, r: Resolution) -> tuple[Built, list[Problem]]:
    model = size_heap(r)
    heap = heap_for(r, model)
    problems = []
    p = loaded.profile
    if heap.mode == "fixed" and heap.bytes < model.total:
        problems.append(Problem(loaded.where(("platform", "heap")), ("platform", "heap"),
                                f"{heap.bytes} bytes is below the model's {model.total} bytes for this profile:\n"
                                + breakdown(model, indent="    ")))
    plan = ram_plan(r, heap.bytes)
    stack = plan.need
    if p.target.ram_bytes is not None and heap.bytes > p.target.ram_bytes:
        problems.append(Problem(loaded.where(("target", "ram_bytes")), ("target", "ram_bytes"),
                                f"the heap alone ({heap.bytes} bytes) exceeds the part's RAM "
                                f"({p.target.ram_bytes} bytes)"))
    elif p.target.ram_bytes is not None and r.cpu.bare_metal and plan.total > p.target.ram_bytes:
        what = (f"the stack (target.stack_bytes, {plan.stack})" if plan.stack_given else
                f"the stack its sessions need ({plan.stack} bytes: {stack.why})")
        problems.append(Problem(loaded.where(("target", "ram_bytes")), ("target", "ram_bytes"),
                                f"the heap ({heap.bytes} bytes), {what} and the static data of mbedTLS and the "
                                f"tlsgen runtime ({plan.tlsgen_static} bytes, measured) need {plan.total} bytes, "
                                f"{plan.total - p.target.ram_bytes} more than the part's RAM ({p.target.ram_bytes} "
                                "bytes), before the application's own static data; smaller records "
                                "(tls.in_content_len, out_content_len) or fewer suites lower the heap"))
    elif p.target.ram_bytes is not None and r.cpu.bare_metal and plan.left < (app := reference_app_ram(r)):
        problems.append(Problem(loaded.where(("target", "ram_bytes")), ("target", "ram_bytes"),
                                f"{p.target.ram_bytes} bytes of RAM leave {plan.left} for the application once the "
                                f"heap ({heap.bytes}), the stack ({plan.stack}{', target.stack_bytes' if plan.stack_given else ''}) "
                                f"and the static data of mbedTLS and the tlsgen runtime ({plan.tlsgen_static}) are "
                                f"counted, and tlsgen's smallest reference application (SslTcpStack over the ESP8266 AT "
                                f"driver, its buffers at their smallest, the provisioned CA file in RAM) needs {app}; "
                                "a smaller target.stack_bytes (or none: the sessions' need), smaller records "
                                "(tls.in_content_len, out_content_len), a smaller CA chain, or a larger part"))
    if r.cpu.bare_metal and p.target.stack_bytes is not None and p.target.stack_bytes < stack.bytes:
        problems.append(Problem(loaded.where(("target", "stack_bytes")), ("target", "stack_bytes"),
                                f"{p.target.stack_bytes} bytes is below the {stack.bytes} bytes of stack this "
                                f"profile's sessions need: {stack.why}; measured on tlsgen's reference firmware "
                                "(docs/heap-sizing.md, 'The stack'), your application's own frames come on top"))
    fp = flash_plan(r)
    if fp is not None and fp.flash_bytes is not None and fp.high + fp.app_min > fp.flash_bytes:
        problems.append(Problem(loaded.where(("target", "flash_bytes")), ("target", "flash_bytes"),
                                f"{fp.flash_bytes} bytes of flash cannot hold this profile's TLS and an application: "
                                f"mbedTLS and the tlsgen runtime take about {fp.estimate} bytes (tlsgen.flash, fitted "
                                f"on measured images; up to {fp.high} for this kind), and tlsgen's smallest reference "
                                f"application (SslTcpStack over the ESP8266 AT driver, startup, newlib) adds "
                                f"{fp.app_min}; fewer versions, suites or groups, no debug or error strings, "
                                "optimize: size, or a larger part"))
    if strict:
        for i, c in enumerate(r.insecure):
            problems.append(Problem(loaded.where(("insecure", i)), ("insecure", i),
                                    f"--strict rejects insecure opt-in '{c.option}': {c.what}"))
    return Built(r, heap), problems


def breakdown(model: HeapModel, indent: str = "  ") -> str:
    rows = [f"{indent}{x.bytes:>7}  {x.name}: {x.derivation}" for x in model.lines]
    rows.append(f"{indent}{model.margin:>7}  margin {model.margin_why}")
    rows.append(f"{indent}{model.total:>7}  total (aligned)")
    return "\n".join(rows)
