#!/usr/bin/env python3
"""Fit the heap model's coefficients (generator/tlsgen/heap_tables.py) from measured sessions.

    bench/heap/fit.py --host build/cal-host [--host ...] [--m4 build/cal-m4 ...] [--write]

Each input is a calibration sweep (tools/sweep/runner.py sweep --calibrate): sampled profiles built with a
1 MiB heap, run against openssl s_server and gnutls-serv, every allocation traced with the handshake state
mbedTLS was in. For each session this replays the trace the way tlsgen::Heap lays blocks out (payload
rounded to the alignment, one header per block) and splits it:

    setup          what the configuration holds when mbedtls_ssl_setup() starts (CA certificates, PSK, PSA)
    session state  what mbedtls_ssl_setup() allocates besides the two record buffers
    per phase      (handshake state) its working set (peak above its start) and what it leaves behind

and fits each by least squares on the features tlsgen.heap defines (config_features, setup_features,
session_features). It prints the residuals of every part and of the whole replayed peak, and with --write
writes the tables. The model is then checked where it matters, end to end, by the sweep.
"""
from __future__ import annotations

import argparse
import collections
import copy
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))

from tlsgen import heap as H  # noqa: E402
from tlsgen.catalog import SUITES  # noqa: E402
from tlsgen.errors import ProfileError  # noqa: E402
from tlsgen.loader import load_profile  # noqa: E402
from tlsgen.resolve import resolve  # noqa: E402

MIN_SESSIONS_PER_KIND = 12

# mbedtls_ssl_states (include/mbedtls/ssl.h), as the trace records them; -1: outside a session.
STATES = {-1: "setup", 0: "hreq", 1: "CH", 2: "SH", 3: "CERT", 4: "SKE", 5: "CR", 6: "SHD", 7: "CC", 8: "CKE",
          9: "CV", 10: "CCS", 11: "CFIN", 12: "SCCS", 13: "SFIN", 14: "FLUSH", 15: "WRAP", 16: "NST", 17: "HVR",
          18: "HRR", 19: "EE", 20: "EOED", 21: "CCV", 22: "CCS_SF", 23: "CCS_2CH", 24: "SCCS_SH", 25: "CCS_CH",
          26: "SCCS_HRR", 27: "OVER", 28: "NST13", 29: "NST13F"}


def phases(trace: Path, align: int, header: int) -> list[tuple[str, int, int, int]]:
    """(phase, arena at its start, its peak, at its end) in order, as tlsgen::Heap lays blocks out."""
    rnd = lambda n: -(-max(n, 8) // align) * align  # noqa: E731
    live: dict[str, int] = {}
    cur = 0
    out: list[tuple[str, int, int, int]] = []
    prev, start, peak = None, 0, 0
    with open(trace) as f:
        for row in csv.DictReader(f):
            st = STATES.get(int(row["state"]), row["state"])
            if st != prev:
                if prev is not None:
                    out.append((prev, start, peak, cur))
                prev, start, peak = st, cur, cur
            size = int(row["size"])
            if row["op"] == "a":
                live[row["id"]] = size
                cur += rnd(size) + header
            else:
                cur -= rnd(live.pop(row["id"])) + header
            peak = max(peak, cur)
    out.append((prev, start, peak, cur))
    # A phase that runs again later (TLS 1.3 after a HelloRetryRequest: ClientHello, ServerHello) is a phase
    # of its own: CH2, SH2.
    seen: collections.Counter = collections.Counter()
    named = []
    for ph, a, b, c in out:
        seen[ph] += 1
        named.append((ph if seen[ph] == 1 or ph == "setup" else f"{ph}{seen[ph]}", a, b, c))
    return named


def key(label: str | None) -> H.Key | None:
    if label is None:
        return None
    return H.Key("rsa", label[3:]) if label.startswith("rsa") else H.Key("ecdsa", label)


def load(dirs: list[Path], align: int, header: int, with_client: bool = False) -> list[dict]:
    """Every successful traced session of the calibration sweeps, with its resolution and shape."""
    out = []
    for d in dirs:
        cal = json.loads((d / "cal.json").read_text())
        for p in cal["profiles"]:
            try:
                r = resolve(load_profile(str(d / "calibration-profiles" / f"{p['name']}.yaml")))
            except ProfileError:
                continue  # refused by today's rules
            t = r.loaded.profile.tls
            if t.client_certificate is not None and not with_client:
                continue  # the device's certificate is fitted on top of these tables (bench/heap/fit_client.py)
            for s in p["sessions"]:
                if not s["ok"] or not s.get("trace") or not Path(s["trace"]).exists():
                    continue
                sp, ch = s["spec"], s["spec"]["chain"]
                verify = r.uses_certificates and r.verify != "none"
                ca_certs = (1 + sp["extra_cas"]) if verify and ch else 0
                shape = H.Shape(SUITES[s["suite"]], sp["group"], key(ch and ch["leaf"]) if ch and
                                SUITES[s["suite"]].kex.uses_certificates or (ch and sp["version"] == "1.3") else None,
                                key(ch and ch["ca"]), ch["certs"] if ch else 0, ch.get("der", 0) if ch else 0,
                                ca_certs, (ch.get("root_der", 0) * ca_certs) if ch else 0, verify,
                                ch["scheme"] if ch else None)
                if shape.leaf is None:
                    shape = H.Shape(shape.suite, shape.group, None, shape.ca, 0, 0, shape.ca_certs, shape.ca_bytes,
                                    shape.verify, shape.scheme)
                if ch and shape.leaf is not None and lean(shape, ch):
                    continue  # a certificate below the smallest the rules now accept (an older sweep's)
                if t.transport == "datagram":
                    continue  # DTLS: the TLS tables plus the datagram terms (tlsgen.heap), not fitted here
                seq = phases(Path(s["trace"]), align, header)
                if any(ph == "hreq2" for ph, *_ in seq):
                    continue  # a full handshake and a resumed one in one trace (tlsgen.heap models resumption apart)
                out.append({"profile": p["name"], "label": s["label"], "r": r, "shape": shape, "seq": seq,
                            "peak": s["peak"], "t": t, "dir": d.name})
    return out


def lean(shape: H.Shape, ch: dict) -> bool:
    """Whether the chain has a certificate smaller than the smallest one today's rules accept (the sweep's PKI
    strips a certificate down when the declared sizes allow no more; such chains are refused now)."""
    from tlsgen.catalog import min_cert_der_bytes

    pss = bool(shape.scheme and "_pss_" in shape.scheme)
    sizes = ch.get("certs_der") or []
    if not sizes:
        return False
    need = [min_cert_der_bytes(shape.leaf.kind, shape.leaf.bytes, shape.ca.kind, shape.ca.bytes, pss)] + \
        [min_cert_der_bytes(shape.ca.kind, shape.ca.bytes, shape.ca.kind, shape.ca.bytes, pss, "intermediate")] * \
        (len(sizes) - 1)
    root = min_cert_der_bytes(shape.ca.kind, shape.ca.bytes, shape.ca.kind, shape.ca.bytes, pss, "root")
    return any(got < want - 16 for got, want in zip(sizes, need)) or \
        (shape.verify and ch.get("root_der", root) < root - 16)


PRIOR_WEIGHT = 3.0  # how many sessions' worth of evidence the prior's coefficients count for (ridge; --prior-weight)
#: --free: the only coefficients an update may move, per phase ("1.3/CV" -> a regular expression over feature names:
#: the features of the work a change does in that phase); every other coefficient keeps the prior's. None: all move.
FREE: dict[str, re.Pattern] | None = None
NOTHING = re.compile(r"(?!)")
PINNED_WEIGHT = 1e14  # the ridge weight of a coefficient --free does not name: it stays the prior's (per-byte features too)


def lstsq(rows: list[dict[str, float]], y: list[float],
          prior: dict[str, float] | None = None, where: str = "") -> tuple[dict[str, float], np.ndarray]:
    """Least squares; with a prior (the 64-bit fit's coefficients of the same part), ridge toward it: a
    feature few 32-bit sessions exercise keeps close to what the 64-bit sessions measured instead of
    absorbing their noise, and one many sessions exercise follows them."""
    names = sorted({k for r in rows for k in r} | set(prior or {}))
    X = np.array([[r.get(k, 0.0) for k in names] for r in rows])
    yv = np.array(y, dtype=float)
    if prior is None:
        coef, *_ = np.linalg.lstsq(X, yv, rcond=None)
    else:
        c0 = np.array([prior.get(k, 0.0) for k in names])
        free = None if FREE is None else FREE.get(where, NOTHING)  # `where`: "1.3/CV"
        w = [PRIOR_WEIGHT if free is None or free.search(k) else PINNED_WEIGHT for k in names]
        A = np.vstack([X, np.diag(np.sqrt(w))])
        b = np.concatenate([yv - X @ c0, np.zeros(len(names))])
        d, *_ = np.linalg.lstsq(A, b, rcond=None)
        coef = c0 + d
    res = yv - X @ coef
    return {k: round(float(c), 1) for k, c in zip(names, coef) if abs(c) >= 0.05}, res


def fit(sessions: list[dict], prior: dict | None = None) -> tuple[dict, list[str]]:
    """Fits the tables; `prior` (the 64-bit tables, when fitting 32-bit) is what each part is pulled toward."""
    report = []
    pri = prior or {}

    def prior_of(version: str, ph: str, kind: str, part: str) -> dict | None:
        if prior is None:
            return None
        return pri.get("phase", {}).get(version, {}).get(ph, {}).get(kind, {}).get(part)

    # Session state: one row per profile.
    seen: dict[str, tuple] = {}
    for s in sessions:
        seq = s["seq"]
        setup_end = next(e for (ph, _, _, e) in seq if ph == "setup")
        hreq_end = next(e for (ph, _, _, e) in seq if ph == "hreq")
        rin, rout = H.records(s["r"])
        s["setup"] = setup_end
        s["state"] = hreq_end - setup_end - rin - rout
        seen.setdefault(s["profile"], (s["r"], s["state"]))
    # The session state comes from the structures' sizes (bench/heap/structs.py); here it is only checked.
    res = np.array([v - H.state_bytes(r) for r, v in seen.values()])
    report.append(f"session state (structs.py's fit): {len(seen)} profiles, measured - model "
                  f"{res.min():.0f}..{res.max():.0f}")
    setup, res = lstsq([H.setup_features(s["r"], s["shape"]) for s in sessions], [s["setup"] for s in sessions],
                       pri.get("setup") if prior else None)
    report.append(f"setup: {len(sessions)} sessions, residual {res.min():.0f}..{res.max():.0f}")
    setup_peak, res = lstsq([H.setup_features(s["r"], s["shape"]) for s in sessions],
                            [next(pk for (ph, _, pk, _) in s["seq"] if ph == "setup") for s in sessions],
                            pri.get("setup_peak") if prior else None)
    report.append(f"setup working: residual {res.min():.0f}..{res.max():.0f}")

    tables: dict = {"setup": setup, "setup_peak": setup_peak, "phases": {}, "phase": {}}
    for version in ("1.2", "1.3"):
        vs = [s for s in sessions if s["shape"].suite.version == version]
        if not vs:
            continue
        # The order mbedTLS's client runs the phases in; only those some session allocated in.
        present = {ph for s in vs for ph, *_ in s["seq"]}
        unknown = present - set(H.PHASE_ORDER[version]) - {"setup", "hreq"}
        if unknown:
            raise SystemExit(f"TLS {version}: phases {sorted(unknown)} are not in tlsgen.heap.PHASE_ORDER")
        order = [ph for ph in H.PHASE_ORDER[version] if ph in present]
        tables["phases"][version] = order
        tables["phase"][version] = {}
        for ph in order:
            # Fitted on the sessions the phase allocates in; it applies to the kinds of session (key exchange,
            # HelloRetryRequest or not) it was seen in.
            by_kind: dict[str, list] = collections.defaultdict(list)
            seen_kinds = {H.table_kind(version, ph, H.phase_kind(s["r"], s["shape"])) for s in vs
                          if any(name == ph for name, *_ in s["seq"])}
            for s in vs:
                kind = H.table_kind(version, ph, H.phase_kind(s["r"], s["shape"]))
                if kind not in seen_kinds:
                    continue
                row = (H.session_features(s["r"], s["shape"]), 0, 0)  # a session that does not allocate here
                for i, (name, start, peak, end) in enumerate(s["seq"]):
                    if name == ph:
                        # What the last phase before the teardown leaves behind is the teardown's business:
                        # None keeps it out of the persist fit.
                        last = i + 1 >= len(s["seq"]) or s["seq"][i + 1][0] == "setup"
                        row = (row[0], peak - start, None if last else end - start)
                        break
                by_kind[kind].append(row)
            # One fit per kind of session where there are enough of them (a phase does different work for
            # a PSK and an ECDHE-ECDSA session, or after a HelloRetryRequest); the rest share a pooled fit.
            # Kinds on the p256-m driver (tlsgen.heap.P256M_KIND) pool only with each other: their curve work
            # allocates nothing like the legacy ECP's.
            pools: dict[bool, tuple] = {}
            for fam in {k.endswith(H.P256M_KIND) for k in by_kind}:
                everything = [x for k, rows in by_kind.items() if k.endswith(H.P256M_KIND) == fam for x in rows]
                kept = [x for x in everything if x[2] is not None]
                pools[fam] = (lstsq([x[0] for x in everything], [x[1] for x in everything])[0],
                              lstsq([x[0] for x in kept], [x[2] for x in kept])[0] if kept else {})
            entry: dict = {}
            worst = [0.0, 0.0, 0.0, 0.0]
            for kind, rows in sorted(by_kind.items()):
                pooled_w, pooled_p = pools[kind.endswith(H.P256M_KIND)]
                prow = [x for x in rows if x[2] is not None]
                pw, pp = prior_of(version, ph, kind, "working"), prior_of(version, ph, kind, "persist")
                if len(rows) >= MIN_SESSIONS_PER_KIND or (pw is not None and rows):
                    cw, rw = lstsq([x[0] for x in rows], [x[1] for x in rows], pw, f"{version}/{ph}")
                else:
                    cw = pooled_w
                    rw = np.array([x[1] - H.dot(cw, x[0]) for x in rows])
                if len(prow) >= MIN_SESSIONS_PER_KIND or (pp is not None and prow):
                    cp, rp = lstsq([x[0] for x in prow], [x[2] for x in prow], pp, f"{version}/{ph}")
                else:
                    cp = pooled_p
                    rp = np.array([x[2] - H.dot(cp, x[0]) for x in prow] or [0.0])
                entry[kind] = {"working": cw, "persist": cp}
                worst = [min(worst[0], rw.min()), max(worst[1], rw.max()), min(worst[2], rp.min()),
                         max(worst[3], rp.max())]
            tables["phase"][version][ph] = entry
            rw0, rw1, rp0, rp1 = worst
            report.append(f"TLS {version} {ph:6s}: working residual {rw0:6.0f}..{rw1:5.0f}, persist "
                          f"{rp0:6.0f}..{rp1:5.0f}  ({', '.join(f'{k} {len(v)}' for k, v in sorted(by_kind.items()))})")
    return tables, report


def check(sessions: list[dict], tables: dict, word: int) -> list[str]:
    """The whole: the model's replayed peak against each session's replayed peak and its real high water."""
    from tlsgen import heap_tables

    saved = heap_tables.TABLES.get(word)
    heap_tables.TABLES[word] = tables
    out = []
    try:
        errs = []
        for s in sessions:
            p = H.predict(s["r"], s["shape"])
            rin, rout = H.records(s["r"])
            model = p.total + rin + rout
            replay = max(pk for _, _, pk, _ in s["seq"])
            errs.append((model / replay, model / s["peak"], s["profile"], s["label"]))
        errs.sort()
        ratios = np.array([e[1] for e in errs])
        out.append(f"model / real peak over {len(errs)} sessions: min {ratios.min():.3f} median "
                   f"{np.median(ratios):.3f} max {ratios.max():.3f}")
        for e in errs[:6] + errs[-6:]:
            out.append(f"   {e[1]:.3f} (replay {e[0]:.3f}) {e[2]} {e[3][:100]}")
    finally:
        if saved is None:
            heap_tables.TABLES.pop(word, None)
        else:
            heap_tables.TABLES[word] = saved
    return out


DOC_BEGIN = "<!-- fit.py --doc begins: generated, do not edit -->"
DOC_END = "<!-- fit.py --doc ends -->"
PHASE_DOC = ("CH", "SH", "SH2", "CERT", "SKE", "CKE", "CV", "SFIN")


def doc(tables: dict[int, dict], reports: dict[int, list[str]], sources: dict[int, list[str]]) -> str:
    """docs/heap-sizing.md's generated section: per target, the sweeps behind the tables, the residuals of
    this run's fit, and the size of each part of the tables (the coefficients: generator/tlsgen/heap_tables.py)."""
    out = [DOC_BEGIN, ""]
    for word, t in sorted(tables.items()):
        if "phase" not in t:
            continue
        target = "x86-64" if word == 8 else "Cortex-M (32-bit)"
        out += [f"### {target}", "", f"Fitted from {', '.join(sources.get(word, ['an earlier fit']))}."]
        if reports.get(word):
            out += ["Residuals of each part (measured minus model, bytes) and of the whole peak (before the margin):",
                    ""] + [f"    {line}" for line in reports[word]]
        else:
            out += ["Not refitted in the run that wrote this page: its residuals are in that fit's output."]
        n_phase = sum(len(e["working"]) + len(e["persist"]) for v in t["phase"].values() for ph in v.values()
                      for e in ph.values())
        out += ["", f"{len(t['setup'])} configuration factors, {n_phase} phase coefficients over "
                f"{sum(len(v) for v in t['phase'].values())} (version, phase) pairs, "
                f"{len(t.get('structs', {}))} structure sizes. The configuration's bytes per factor, then the "
                "working set of the phases that set most peaks, per factor and kind of session:", "",
                "| factor | bytes |", "| --- | ---: |"]
        out += [f"| `{k}` | {v:.0f} |" for k, v in sorted(t["setup"].items())]
        for version in ("1.2", "1.3"):
            for ph in PHASE_DOC:
                entry = t["phase"].get(version, {}).get(ph)
                if not entry:
                    continue
                out += ["", f"TLS {version} phase `{ph}`, working set (bytes):", "",
                        "| factor | " + " | ".join(sorted(entry)) + " |", "| --- |" + " ---: |" * len(entry)]
                for k in sorted({k for e in entry.values() for k in e["working"]}):
                    out.append(f"| `{k}` | " + " | ".join(f"{entry[kind]['working'].get(k, 0):.0f}"
                                                          for kind in sorted(entry)) + " |")
        out.append("")
    out.append(DOC_END)
    return "\n".join(out)


def write(tables: dict[int, dict], sources: dict[int, list[str]]) -> None:
    path = ROOT / "generator" / "tlsgen" / "heap_tables.py"
    lines = ['"""The heap model\'s coefficients, per target word size. Written by bench/heap/fit.py from',
             'measured sessions (do not edit: re-run the fit); tlsgen.heap explains what each table is."""', "",
             "# fmt: off", "TABLES: dict = {"]
    for word, t in sorted(tables.items()):
        lines.append(f"    # {'x86-64' if word == 8 else 'Cortex-M (32-bit)'}: fitted from {', '.join(sources[word])}")
        lines.append(f"    {word}: {json.dumps(t, sort_keys=True, indent=None)},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def merge_p256m(args) -> int:
    """--merge-p256m: the p256-m kinds' phase entries and the setup's p256-m terms, fitted on the p256-m sessions of
    the given sweeps, added to the current tables (the legacy kinds' entries and every other setup term unchanged)."""
    from tlsgen import heap_tables

    tables = {w: json.loads(json.dumps(t)) for w, t in heap_tables.TABLES.items()}
    earlier = {w: src for src, w in re.findall(r"^    # (?:x86-64|Cortex-M \(32-bit\)): fitted from (.*)\n    (\d+):",
                              Path(heap_tables.__file__).read_text(), re.M)}
    sources = {w: [earlier.get(str(w), "an earlier fit")] for w in tables}
    for word, dirs, align, header in ((8, args.host, 16, 16), (4, args.m4, 8, 8)):
        if not dirs:
            continue
        sessions = [s for s in load([Path(d) for d in dirs], align, header) if s["r"].p256m]
        known = {ph for v in H.PHASE_ORDER.values() for ph in v} | {"setup", "hreq"}
        odd = [s for s in sessions if any(ph not in known for ph, *_ in s["seq"])]
        if odd:  # a resumed pair's later tickets (NST132, OVER3): the ticket line of the model covers them
            print(f"left out {len(odd)} sessions with phases the tables do not have: "
                  f"{sorted({ph for s in odd for ph, *_ in s['seq'] if ph not in known})}")
            sessions = [s for s in sessions if s not in odd]
        cur = tables[word]
        # Setup: what the current coefficients (without p256-m terms) leave unexplained, on the p256-m terms only.
        for part in ("setup", "setup_peak"):
            for k in ("p256m", "ca_p256m"):
                cur[part].pop(k, None)
        for part, y_of in (("setup", lambda s: next(e for (ph, _, _, e) in s["seq"] if ph == "setup")),
                           ("setup_peak", lambda s: next(pk for (ph, _, pk, _) in s["seq"] if ph == "setup"))):
            rows = [{k: v for k, v in H.setup_features(s["r"], s["shape"]).items() if k in ("p256m", "ca_p256m")}
                    for s in sessions]
            y = [y_of(s) - H.dot(cur[part], H.setup_features(s["r"], s["shape"])) for s in sessions]
            delta, res = lstsq(rows, y)
            for k in ("p256m", "ca_p256m"):
                cur[part][k] = delta.get(k, 0.0)
            print(f"{part}: p256-m terms {delta}, residual {res.min():.0f}..{res.max():.0f}")
        t, report = fit(sessions)
        for entries in cur["phase"].values():  # an earlier merge's entries go: these sessions replace them
            for entry in entries.values():
                for kind in [k for k in entry if k.endswith(H.P256M_KIND)]:
                    del entry[kind]
        print(f"==== word size {word}: {len(sessions)} p256-m sessions")
        print("\n".join(r for r in report if not r.startswith("setup")))
        for version, order in t["phases"].items():
            had = cur["phases"].get(version, [])
            cur["phases"][version] = [ph for ph in H.PHASE_ORDER[version] if ph in had or ph in order]
            for ph, entry in t["phase"][version].items():
                for kind, coef in entry.items():
                    if kind.endswith(H.P256M_KIND):
                        cur["phase"].setdefault(version, {}).setdefault(ph, {})[kind] = coef
        print("\n".join(check(sessions, cur, word)))
        sources[word] = [f"{sources[word][0]}; p256-m kinds from {', '.join(Path(d).name for d in dirs)} "
                         f"({len({s['profile'] for s in sessions})} profiles)"]
    if args.write:
        write(tables, sources)
    return 0


def keep_pinned(prior: dict, fitted: dict) -> dict:
    """--free: the prior's tables with only the phase entries the update refitted replaced (the entries exist in
    the prior; their pinned coefficients came back as they were), and everything else -- setup, the phases' order,
    entries of kinds these sweeps did not run -- kept."""
    out = copy.deepcopy(prior)
    for version, phases in fitted.get("phase", {}).items():
        for ph, kinds in phases.items():
            for kind, entry in kinds.items():
                if kind in out.get("phase", {}).get(version, {}).get(ph, {}):
                    out["phase"][version][ph][kind] = entry
    return out


def main() -> int:
    global PRIOR_WEIGHT, FREE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", action="append", default=[], help="a host calibration sweep's build directory")
    ap.add_argument("--m4", action="append", default=[], help="a Cortex-M4 calibration sweep's build directory")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--no-prior", action="store_true", help="fit 32-bit without pulling toward the 64-bit fit")
    ap.add_argument("--update", action="store_true",
                    help="pull each word size toward its current tables (32-bit: instead of the 64-bit fit): add new "
                         "sweeps to an earlier fit whose sweeps are not at hand; the sources keep the earlier ones")
    ap.add_argument("--doc", action="store_true", help="rewrite docs/heap-sizing.md's generated section")
    ap.add_argument("--prior-weight", type=float, default=3.0,
                    help="sessions' worth of evidence the prior counts for (default 3)")
    ap.add_argument("--free", metavar="VERSION/PHASE=REGEX", action="append", default=[],
                    help="with --update: in that phase, move only the features the expression names (the work a "
                         "change to the build does there, e.g. 1.2/CKE=group_secp256r1_speed); every other "
                         "coefficient, and every table entry the sweeps do not reach, stays as it is (repeatable)")
    ap.add_argument("--merge-p256m", action="store_true",
                    help="fit only the sessions on the p256-m driver (tlsgen.heap.P256M_KIND) and add their kinds' "
                         "phase entries, and their setup terms, to the current tables: every other entry stays")
    args = ap.parse_args()
    PRIOR_WEIGHT = args.prior_weight
    if args.free:
        if not args.update:
            ap.error("--free updates the current tables: it needs --update")
        FREE = {}
        for spec in args.free:
            where, _, expr = spec.partition("=")
            if not expr or "/" not in where:
                ap.error(f"--free {spec}: VERSION/PHASE=REGEX")
            FREE[where] = re.compile(expr)
    if args.merge_p256m:
        return merge_p256m(args)
    from tlsgen import heap_tables

    tables = dict(heap_tables.TABLES)
    earlier = {w: src for src, w in re.findall(r"^    # (?:x86-64|Cortex-M \(32-bit\)): fitted from (.*)\n    (\d+):",
                              Path(heap_tables.__file__).read_text(), re.M)}
    sources = {}
    reports: dict[int, list[str]] = {}
    for word, dirs, align, header in ((8, args.host, 16, 16), (4, args.m4, 8, 8)):
        if not dirs:
            continue
        sessions = load([Path(d) for d in dirs], align, header)
        # 32-bit: ridge toward the 64-bit fit (PRIOR_WEIGHT), which has many more sessions behind it.
        prior = (tables.get(word) if args.update else None if word == 8 or args.no_prior else tables.get(8))
        t, report = fit(sessions, prior=prior)
        if FREE is not None:
            t = keep_pinned(prior or {}, t)
        t["structs"] = tables.get(word, {}).get("structs", {})
        if "client" in tables.get(word, {}):
            t["client"] = tables[word]["client"]  # bench/heap/fit_client.py's, fitted on top of these
        print(f"==== word size {word}: {len(sessions)} sessions")
        print("\n".join(report))
        checked = check(sessions, t, word)
        print("\n".join(checked))
        reports[word] = report + checked[:1]
        tables[word] = t
        sources[word] = [f"{Path(d).name} ({len({s['profile'] for s in sessions if s['dir'] == Path(d).name})} "
                         "profiles)" for d in dirs]
        if args.update and str(word) in earlier:
            how = "ridge toward that fit" + (", moving only what --free names" if FREE is not None else "")
            sources[word] = [f"{earlier[str(word)]}, then ({how}) {', '.join(sources[word])}"]
    for word in tables:
        sources.setdefault(word, [earlier.get(str(word), "an earlier fit")])
    if args.write:
        write(tables, sources)
    if args.doc:
        path = ROOT / "docs" / "heap-sizing.md"
        text = path.read_text()
        head, _, rest = text.partition(DOC_BEGIN)
        _, _, tail = rest.partition(DOC_END)
        path.write_text(head + doc(tables, reports, sources) + tail)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
