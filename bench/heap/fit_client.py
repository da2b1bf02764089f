#!/usr/bin/env python3
"""Fit the heap model's figures for the device's own certificate (tls.client_certificate, mutual TLS).

    bench/heap/fit_client.py --host build/cal-host-mtls [--m4 build/cal-m-mtls ...] [--write]

Each input is a calibration sweep (tools/sweep/runner.py sweep --calibrate --client-share 1) whose profiles
have a client certificate, run against servers that require one. The figures sit on top of the tables
bench/heap/fit.py fits from profiles without one, which stay as they are (tlsgen.heap: "the device's own
certificate"). From each session's replayed trace (fit.py's phases(): blocks as tlsgen::Heap lays them out):

    setup       what the configuration holds when mbedtls_ssl_setup() starts, minus what the tables already
                predict for it (CA certificates, PSK, PSA): the chain and the key
    setup_peak  the configuration's transient peak minus that same prediction: loading the chain and the key
    sign        the phase that signs CertificateVerify (TLS 1.2 CV, TLS 1.3 CCV), per protocol version: "working",
                its peak above the phase's start minus what the tables say the phase's own work leaves there
                (TLS 1.2's key derivation); "persist", what it leaves beyond that

each fitted by least squares on tlsgen.heap's client_setup_features / client_sign_features. It prints the
residuals and the whole model against every session's real peak; --write stores the figures in
generator/tlsgen/heap_tables.py (TABLES[word]["client"]). The sweep then checks them end to end.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import fit as F

H = F.H


def fit_client(sessions: list[dict], tables: dict, prior: dict | None = None) -> tuple[dict, list[str]]:
    """`prior`: the 64-bit figures, which a 32-bit fit is pulled toward (fit.py's ridge): a key, size or optimize
    few 32-bit sessions exercised keeps the 64-bit figure (the signature's working set is the same on both: the
    64-bit and 32-bit fits agree within 1-2 % where both have sessions) instead of none."""
    report: list[str] = []
    setup_rows, setup_y, peak_y = [], [], []
    sign_rows: dict[str, list] = {"1.2": [], "1.3": []}
    sign_y: dict[str, list] = {"1.2": [], "1.3": []}
    left_y: dict[str, list] = {"1.2": [], "1.3": []}
    for s in sessions:
        r, sh, seq = s["r"], s["shape"], s["seq"]
        before = max(0.0, H.dot(tables["setup"], H.setup_features(r, sh)))
        setup_end = next(e for (ph, _, _, e) in seq if ph == "setup")
        setup_peak = next(pk for (ph, _, pk, _) in seq if ph == "setup")
        setup_rows.append(H.client_setup_features(r))
        setup_y.append(setup_end - before)
        peak_y.append(setup_peak - before)
        if H.signs(r, sh):
            v = sh.suite.version
            entry = next(((a, pk, e) for (ph, a, pk, e) in seq if ph == H.SIGN_PHASE[v]), None)
            if entry is None:
                report.append(f"   no {H.SIGN_PHASE[v]} phase in {s['profile']} {s['label'][:80]}: not signed?")
                continue
            coef = tables["phase"][v].get(H.SIGN_PHASE[v], {}).get(
                H.table_kind(v, H.SIGN_PHASE[v], H.phase_kind(r, sh)))
            own_left = max(0.0, H.dot(coef["persist"], H.session_features(r, sh))) if coef else 0.0
            sign_rows[v].append(H.client_sign_features(r, sh))
            sign_y[v].append(entry[1] - entry[0] - own_left)
            left_y[v].append(entry[2] - entry[0] - own_left)
    out: dict = {}
    pri = prior or {}
    out["setup"], res = F.lstsq(setup_rows, setup_y, pri.get("setup"))
    report.append(f"client setup: {len(setup_y)} sessions, measured {min(setup_y):.0f}..{max(setup_y):.0f}, "
                  f"residual {res.min():.0f}..{res.max():.0f}")
    out["setup_peak"], res = F.lstsq(setup_rows, peak_y, pri.get("setup_peak"))
    report.append(f"client setup peak: residual {res.min():.0f}..{res.max():.0f}")
    out["sign"] = {}
    for v in ("1.2", "1.3"):
        if not sign_y[v]:
            raise SystemExit(f"no TLS {v} session signed CertificateVerify: the sweep needs some (more profiles)")
        psign = pri.get("sign", {}).get(v, {})
        working, res = F.lstsq(sign_rows[v], sign_y[v], psign.get("working"))
        report.append(f"sign TLS {v}: {len(sign_y[v])} sessions, measured {min(sign_y[v]):.0f}..{max(sign_y[v]):.0f}, "
                      f"residual {res.min():.0f}..{res.max():.0f}")
        persist, res = F.lstsq(sign_rows[v], left_y[v], psign.get("persist"))
        report.append(f"   what it leaves: measured {min(left_y[v]):.0f}..{max(left_y[v]):.0f}, residual "
                      f"{res.min():.0f}..{res.max():.0f}")
        out["sign"][v] = {"working": working, "persist": persist}
    return out, report


def fit_kept_chain(sessions: list[dict], tables: dict) -> tuple[dict, list[str]]:
    """tlsgen.heap's kept-chain terms: what a TLS 1.2 Certificate phase leaves beyond its table entry's persist in
    sessions that keep the chain (static RSA beside TLS 1.3)."""
    rows, y = [], []
    for s in sessions:
        r, sh = s["r"], s["shape"]
        if not H.kept_chain_applies(r, sh, tables):
            continue
        entry = next(((a, e) for (ph, a, _, e) in s["seq"] if ph == "CERT"), None)
        if entry is None:
            continue
        coef = tables["phase"]["1.2"]["CERT"][H.table_kind("1.2", "CERT", H.phase_kind(r, sh))]
        rows.append(H.kept_chain_features(r, sh))
        y.append(entry[1] - entry[0] - H.dot(coef["persist"], H.session_features(r, sh)))
    if not y:
        raise SystemExit("no session keeps a TLS 1.2 chain beside TLS 1.3 under static RSA")
    coef, res = F.lstsq(rows, y)
    return {"persist": coef}, [f"kept chain: {len(y)} sessions, beyond the table {min(y):.0f}..{max(y):.0f}, residual "
                               f"{res.min():.0f}..{res.max():.0f}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", action="append", default=[], help="a host calibration sweep's build directory")
    ap.add_argument("--m4", action="append", default=[], help="a Cortex-M calibration sweep's build directory")
    ap.add_argument("--kept-chain", action="append", default=[], metavar="WORD:DIR",
                    help="a calibration sweep of profiles with static RSA beside TLS 1.3 (8:DIR host, 4:DIR Cortex-M)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    from tlsgen import heap_tables

    tables = dict(heap_tables.TABLES)
    text = (F.ROOT / "generator" / "tlsgen" / "heap_tables.py").read_text()
    import re

    sources = {int(w): [src] for src, w in re.findall(
        r"^    # (?:x86-64|Cortex-M \(32-bit\)): fitted from (.*)\n    (\d+):", text, re.M)}
    for word, align, header in ((8, 16, 16), (4, 8, 8)):
        dirs = [d.split(":", 1)[1] for d in args.kept_chain if d.split(":", 1)[0] == str(word)]
        if not dirs:
            continue
        t = dict(tables[word])
        t["kept_chain"], report = fit_kept_chain(F.load([Path(d) for d in dirs], align, header, with_client=True), t)
        print(f"==== word size {word}\n" + "\n".join(report))
        tables[word] = t
        base = re.sub(r"; kept chain: [^;]*", "", sources.get(word, ["an earlier fit"])[0])
        sources[word] = [f"{base}; kept chain: {', '.join(Path(d).name for d in dirs)}"]
    for word, dirs, align, header in ((8, args.host, 16, 16), (4, args.m4, 8, 8)):
        if not dirs:
            continue
        sessions = [s for s in F.load([Path(d) for d in dirs], align, header, with_client=True)
                    if s["t"].client_certificate is not None]
        if not sessions:
            raise SystemExit(f"no session with a client certificate in {', '.join(dirs)}")
        t = dict(tables[word])
        client, report = fit_client(sessions, t, tables[8].get("client") if word == 4 else None)
        t["client"] = client
        print(f"==== word size {word}: {len(sessions)} sessions of {len({s['profile'] for s in sessions})} profiles")
        print("\n".join(report))
        print("\n".join(F.check(sessions, t, word)))
        tables[word] = t
        note = f"client certificate: {', '.join(Path(d).name for d in dirs)} (bench/heap/fit_client.py)"
        base = re.sub(r"; client certificate: [^;]*", "", sources.get(word, ["an earlier fit"])[0])
        sources[word] = [f"{base}; {note}"]
    if args.write:
        F.write(tables, sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
