"""Certificate chains for the sweep, made with the openssl command line and cached in a work directory.

A chain is what a server of the profile sends: a leaf for tlsgen.test / localhost / 127.0.0.1 and
`certs - 1` intermediates, under a root CA the client trusts. Its key types and sizes, the signature
scheme the CAs sign with, and its DER size come from the profile (the worst case the profile allows):
each certificate carries a private, non-critical padding extension (mbedTLS skips it) so that the
chain's DER adds up to `chain_bytes`, and the root to `ca_bytes`, within a few bytes below.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import re
import subprocess
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

# Chains and keys are made once and cached in the work directory; sessions run in threads, and ctest runs several
# runner processes on one work directory (tests/sweep), so making them is serialised across both: a thread lock,
# and an exclusive lock on a file of the work directory (two processes once made the same client CA key at once,
# and the one that renamed it last left the other's root certificate without its key).
LOCK = threading.RLock()


@contextlib.contextmanager
def _locked(work: Path):
    with LOCK:
        work.mkdir(parents=True, exist_ok=True)
        with open(work / ".pki.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
PAD_OID = "1.3.6.1.4.1.55555.1"  # a private arc: an unknown, non-critical extension
CURVE_OPENSSL = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
SERVER_NAME = "tlsgen.test"
# How close below a size target a padded certificate must land (ECDSA signatures vary by a few bytes).
SLACK = 12


@dataclass(frozen=True)
class Key:
    kind: str  # "ecdsa" | "rsa"
    size: str  # curve name (secp256r1...) or RSA bits ("2048")

    @property
    def label(self) -> str:
        return self.size if self.kind == "ecdsa" else f"rsa{self.size}"


@dataclass(frozen=True)
class ChainSpec:
    leaf: Key
    ca: Key  # root and intermediates
    scheme: str  # the CAs' signature scheme, a TLS SignatureScheme name (rsa_pss_rsae_sha256, ...)
    certs: int  # certificates the server sends: the leaf and certs - 1 intermediates
    chain_bytes: int  # DER bytes of those, at most (0: no padding)
    ca_bytes: int  # DER bytes of the root, at most (0: no padding)
    client: bool = False  # the device's own chain (mutual TLS): keys and names of its own, so that no server
                          # mistakes the device's CA for its own issuer (OpenSSL builds its chain from -CAfile)

    @property
    def tag(self) -> str:
        h = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.leaf.label}-by-{self.ca.label}-{self.scheme}-{self.certs}c-{h}"


@dataclass(frozen=True)
class Chain:
    spec: ChainSpec
    root_pem: Path
    root_der: Path
    leaf_key: Path
    chain_pem: Path  # leaf first, then the intermediates (what the server sends)
    intermediates_pem: Path | None
    chain_der_bytes: int
    root_der_bytes: int
    cert_der_bytes: tuple[int, ...]


def _run(cmd: list[str], cwd: Path) -> None:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")


def key_file(openssl: str, keys: Path, key: Key, role: str) -> Path:
    """A private key of this type for this role (root, int1, leaf...), generated once per work directory."""
    keys.mkdir(parents=True, exist_ok=True)
    path = keys / f"{role}-{key.label}.key"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        if key.kind == "ecdsa":
            _run([openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{CURVE_OPENSSL[key.size]}",
                  "-out", str(tmp)], keys)
        else:
            _run([openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{key.size}", "-out", str(tmp)],
                 keys)
        tmp.rename(path)
    return path


def _sign_options(scheme: str) -> list[str]:
    md = "-" + scheme.rsplit("_", 1)[1]
    if "_pss_" in scheme:
        return [md, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]
    return [md]


def _der_size(openssl: str, pem: Path, cwd: Path) -> int:
    der = pem.with_suffix(".der")
    _run([openssl, "x509", "-in", str(pem), "-outform", "der", "-out", str(der)], cwd)
    return der.stat().st_size


def _cert(openssl: str, d: Path, name: str, key: Path, subject: str, issuer: tuple[Path, Path] | None,
          scheme: str, ca: bool, pad: int, lean: bool = False) -> Path:
    """One certificate (self-signed when issuer is None) with `pad` bytes of padding extension. `lean`: only
    what mbedTLS needs (a CA's basicConstraints, the leaf's name), for budgets near the smallest certificate."""
    if lean:
        ext = ["basicConstraints=critical,CA:TRUE"] if ca else [f"subjectAltName=DNS:{SERVER_NAME}"]
        ext += ["subjectKeyIdentifier=none", "authorityKeyIdentifier=none"]
        subject = "/CN=" + (subject.rsplit(" ", 1)[-1][:2] if ca else SERVER_NAME)
    else:
        ext = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"] if ca else \
            ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
             f"subjectAltName=DNS:{SERVER_NAME},DNS:localhost,IP:127.0.0.1"]
    if pad > 0:
        ext.append(f"{PAD_OID}=ASN1:FORMAT:HEX,OCTETSTRING:{'a5' * pad}")
    cnf = d / f"{name}.cnf"
    cnf.write_text("[req]\ndistinguished_name=dn\n[dn]\n[ext]\n" + "\n".join(ext) + "\n")
    pem = d / f"{name}.pem"
    if issuer is None:
        _run([openssl, "req", "-x509", "-new", "-key", str(key), "-subj", subject, "-days", "3650",
              "-set_serial", str(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8 if not lean else 1], "big")),
              "-config", str(cnf), "-extensions", "ext", *_sign_options(scheme), "-out", str(pem)], d)
    else:
        csr = d / f"{name}.csr"
        _run([openssl, "req", "-new", "-key", str(key), "-subj", subject, "-config", str(cnf), "-out", str(csr)], d)
        _run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(issuer[0]), "-CAkey", str(issuer[1]),
              "-set_serial", str(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8 if not lean else 1], "big")),
              "-days", "3650", "-extfile", str(cnf), "-extensions", "ext", *_sign_options(scheme),
              "-out", str(pem)], d)
    return pem


def _padded(openssl: str, d: Path, name: str, target: int, make) -> tuple[Path, int]:
    """make(pad, lean) -> pem; the largest pad whose certificate is at most `target` DER bytes (within SLACK);
    a lean certificate when a full one does not fit."""
    pem = make(0)
    size = _der_size(openssl, pem, d)
    if target > 0 and size > target:
        full = make
        make = lambda pad: full(pad, True)  # noqa: E731
        pem = make(0)
        size = _der_size(openssl, pem, d)
    if target <= 0 or size >= target - SLACK:
        return pem, size
    pad = target - size - 8  # the extension's own header
    for _ in range(6):
        pem = make(max(pad, 0))
        size = _der_size(openssl, pem, d)
        if target - SLACK <= size <= target:
            break
        pad += (target - SLACK // 2) - size
    return pem, size


def make_chain(openssl: str, work: Path, spec: ChainSpec) -> Chain:
    with _locked(work):
        return _make_chain(openssl, work, spec)


def _make_chain(openssl: str, work: Path, spec: ChainSpec) -> Chain:
    keys = work / "keys"
    d = work / "chains" / spec.tag
    done = d / "chain.json"
    if done.exists():
        m = json.loads(done.read_text())
        return Chain(spec, d / "root.pem", d / "root.der", Path(m["leaf_key"]), d / "chain.pem",
                     (d / "intermediates.pem") if spec.certs > 1 else None, m["chain"], m["root"], tuple(m["certs"]))
    d.mkdir(parents=True, exist_ok=True)
    who = "client-" if spec.client else ""
    name = "tlsgen sweep client" if spec.client else "tlsgen sweep"
    root_key = key_file(openssl, keys, spec.ca, who + "root")
    root, root_size = _padded(openssl, d, "root", spec.ca_bytes, lambda pad, lean=False: _cert(
        openssl, d, "root", root_key, f"/CN={name} root", None, spec.scheme, True, pad, lean))
    _run([openssl, "x509", "-in", str(root), "-outform", "der", "-out", str(d / "root.der")], d)
    # The chain budget, shared out: each certificate sent gets an equal share. A leaf whose smallest form is larger
    # than its share (an RSA-3072 leaf under P-521 intermediates) would push the chain past the budget: the
    # intermediates are then made again with what the leaf leaves them.
    share = spec.chain_bytes // spec.certs if spec.chain_bytes else 0
    leaf_key = key_file(openssl, keys, spec.leaf, who + "leaf")
    for _attempt in range(3):
        issuer = (root, root_key)
        sent: list[tuple[Path, int]] = []
        for i in range(1, spec.certs):
            k = key_file(openssl, keys, spec.ca, f"{who}int{i}")
            pem, size = _padded(openssl, d, f"int{i}", share, lambda pad, lean=False, i=i, k=k, issuer=issuer: _cert(
                openssl, d, f"int{i}", k, f"/CN={name} intermediate {i}", issuer, spec.scheme, True, pad, lean))
            sent.insert(0, (pem, size))
            issuer = (pem, k)
        used = sum(s for _, s in sent)
        leaf_target = spec.chain_bytes - used if spec.chain_bytes else 0
        leaf, leaf_size = _padded(openssl, d, "leaf", leaf_target, lambda pad, lean=False, issuer=issuer: _cert(
            openssl, d, "leaf", leaf_key, f"/CN={SERVER_NAME}", issuer, spec.scheme, False, pad, lean))
        over = used + leaf_size - spec.chain_bytes
        if not spec.chain_bytes or spec.certs == 1 or over <= 0:
            break
        share -= -(-over // (spec.certs - 1)) + SLACK // 2
    sent.insert(0, (leaf, leaf_size))
    (d / "chain.pem").write_text("".join(p.read_text() for p, _ in sent))
    if spec.certs > 1:
        (d / "intermediates.pem").write_text("".join(p.read_text() for p, _ in sent[1:]))
    sizes = [s for _, s in sent]
    done.write_text(json.dumps({"leaf_key": str(leaf_key), "chain": sum(sizes), "root": root_size, "certs": sizes}))
    return _make_chain(openssl, work, spec)


def extra_roots(openssl: str, work: Path, key: Key, scheme: str, count: int, size: int) -> list[Path]:
    """`count` unrelated self-signed CA certificates (PEM), each padded to `size` DER bytes: the other
    roots an application loads beside the one that signed the server's chain."""
    with _locked(work):
        return _extra_roots(openssl, work, key, scheme, count, size)


def _extra_roots(openssl: str, work: Path, key: Key, scheme: str, count: int, size: int) -> list[Path]:
    out = []
    keys = work / "keys"
    for i in range(count):
        d = work / "roots" / f"{key.label}-{scheme}-{size}-{i}"
        pem = d / "extra.pem"
        if not pem.exists():
            d.mkdir(parents=True, exist_ok=True)
            k = key_file(openssl, keys, key, f"extra{i}")
            made, _ = _padded(openssl, d, "extra", size, lambda pad, lean=False, d=d, k=k, i=i: _cert(
                openssl, d, "extra", k, f"/CN=tlsgen sweep other root {i}", None, scheme, True, pad, lean))
            if made != pem:
                made.rename(pem)
        out.append(pem)
    return out


def device_files(openssl: str, chain: Chain, pem: bool) -> tuple[Path, Path]:
    """The chain and private key a device with this chain loads (SslConfig::client_certificate): PEM files, or
    DER (the certificates back to back, leaf first; the key as PKCS#8 DER) when the profile parses no PEM."""
    if pem:
        return chain.chain_pem, chain.leaf_key
    with _locked(chain.chain_pem.parents[2]):
        der_chain = chain.chain_pem.with_name("chain.der")
        der_key = chain.chain_pem.with_name("leaf-key.der")
        if not der_chain.exists():
            blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                                chain.chain_pem.read_text(), re.S)
            tmp = der_chain.with_suffix(".tmp")
            tmp.write_bytes(b"".join(base64.b64decode("".join(b.split())) for b in blocks))
            tmp.rename(der_chain)
        if not der_key.exists():
            _run([openssl, "pkey", "-in", str(chain.leaf_key), "-outform", "der", "-out", str(der_key)],
                 der_key.parent)
    return der_chain, der_key
