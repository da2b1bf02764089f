"""A TLS man in the middle that knows the server's keys (from `openssl s_server -keylogfile`) and
inserts records into the server's encrypted stream: the peer behaviour a test cannot get from
`s_server` itself, e.g. zero-length application data records (legal in TLS 1.2 and 1.3; OpenSSL
never sends them, mbedTLS's own comment says "OpenSSL sends empty messages to randomize the IV").

Supported: TLS 1.3 with TLS_AES_128_GCM_SHA256, TLS 1.2 with AES-128-GCM and AES-128-CCM-8 suites
(SHA-256 PRF). Every server record after the inserted ones is decrypted and encrypted again under
its new sequence number. That reuses AEAD nonces under the same key, which is fine for a test proxy
on loopback and nothing else.

Needs the `cryptography` package (Debian: python3-cryptography, installed by scripts/deps.sh).
"""
from __future__ import annotations

import hashlib
import hmac
import struct
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

APPLICATION_DATA = 23
CHANGE_CIPHER_SPEC = 20
HANDSHAKE = 22


def _hkdf_expand_label(secret: bytes, label: str, length: int) -> bytes:
    full = b"tls13 " + label.encode()
    info = struct.pack(">HB", length, len(full)) + full + b"\x00"
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def _prf_sha256(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
    return out[:length]


def read_keylog(path: Path, client_random: bytes, label: str, timeout: float = 5.0) -> bytes:
    """The secret `label` of the connection whose ClientHello.random is `client_random`."""
    want = client_random.hex()
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == label and parts[1].lower() == want:
                    return bytes.fromhex(parts[2])
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label} for client random {want[:16]}... not in {path}")
        time.sleep(0.02)


class ServerStreamRewriter:
    """Fed the server's records one by one (`feed`), returns what to send to the client instead:
    the same bytes, except that `insert` zero-length application data records go in front of the
    server's first application data record, and every encrypted record after them is re-encrypted
    under its shifted sequence number."""

    def __init__(self, keylog: Path, tls13: bool, ccm8: bool, insert: int):
        self.keylog, self.tls13, self.ccm8, self.insert = keylog, tls13, ccm8, insert
        self.client_random = b""
        self.server_random = b""
        self.encrypted = False  # TLS 1.2: after the server's ChangeCipherSpec; TLS 1.3: after ServerHello
        self.app_keys = False   # TLS 1.3: the server's handshake-key records are over
        self.seq_in = 0         # sequence number of the next record as the server encrypted it
        self.seq_out = 0        # ... and as the client will see it
        self.inserted = 0
        self.aead = None
        self.iv = b""

    def client_hello(self, record: bytes) -> None:
        self.client_random = record[5 + 4 + 2:5 + 4 + 2 + 32]

    # -- keys ---------------------------------------------------------------------------------------
    def _tls12_keys(self) -> None:
        master = read_keylog(self.keylog, self.client_random, "CLIENT_RANDOM")
        block = _prf_sha256(master, b"key expansion", self.server_random + self.client_random, 2 * 16 + 2 * 4)
        key, self.iv = block[16:32], block[36:40]  # client key, SERVER key, client iv, SERVER iv
        self.aead = AESCCM(key, tag_length=8) if self.ccm8 else AESGCM(key)

    def _tls13_keys(self, label: str) -> None:
        secret = read_keylog(self.keylog, self.client_random, label)
        self.aead = AESGCM(_hkdf_expand_label(secret, "key", 16))
        self.iv = _hkdf_expand_label(secret, "iv", 12)
        self.seq_in = self.seq_out = 0

    # -- records ------------------------------------------------------------------------------------
    def _open12(self, record: bytes, seq: int) -> bytes:
        explicit, body = record[5:13], record[13:]
        tag = 8 if self.ccm8 else 16
        aad = struct.pack(">QB2sH", seq, record[0], record[1:3], len(body) - tag)
        return self.aead.decrypt(self.iv + explicit, body, aad)

    def _seal12(self, content_type: int, plaintext: bytes, seq: int) -> bytes:
        explicit = struct.pack(">Q", (1 << 63) | seq)  # nonces of our own, apart from the server's
        aad = struct.pack(">QB2sH", seq, content_type, b"\x03\x03", len(plaintext))
        body = explicit + self.aead.encrypt(self.iv + explicit, plaintext, aad)
        return struct.pack(">B2sH", content_type, b"\x03\x03", len(body)) + body

    def _nonce13(self, seq: int) -> bytes:
        return bytes(a ^ b for a, b in zip(self.iv, b"\x00" * 4 + struct.pack(">Q", seq)))

    def _open13(self, record: bytes, seq: int) -> tuple[int, bytes]:
        inner = self.aead.decrypt(self._nonce13(seq), record[5:], record[:5]).rstrip(b"\x00")
        return inner[-1], inner[:-1]

    def _seal13(self, content_type: int, plaintext: bytes, seq: int) -> bytes:
        inner = plaintext + bytes([content_type])
        header = struct.pack(">B2sH", APPLICATION_DATA, b"\x03\x03", len(inner) + 16)
        return header + self.aead.encrypt(self._nonce13(seq), inner, header)

    def feed(self, record: bytes) -> bytes:
        rtype = record[0]
        if rtype == HANDSHAKE and not self.encrypted and record[5] == 2:  # ServerHello
            self.server_random = record[5 + 4 + 2:5 + 4 + 2 + 32]
            if self.tls13:
                self.encrypted = True
                self._tls13_keys("SERVER_HANDSHAKE_TRAFFIC_SECRET")
            return record
        if rtype == CHANGE_CIPHER_SPEC:
            if not self.tls13:
                self.encrypted = True
                self._tls12_keys()
            return record
        if not self.encrypted:
            return record
        if self.tls13:
            return self._feed13(record)
        return self._feed12(record)

    def _inserted_records(self, seal) -> bytes:
        out = b""
        while self.inserted < self.insert:
            out += seal(APPLICATION_DATA, b"", self.seq_out)
            self.seq_out += 1
            self.inserted += 1
        return out

    def _feed12(self, record: bytes) -> bytes:
        plaintext = self._open12(record, self.seq_in)
        self.seq_in += 1
        out = b""
        if record[0] == APPLICATION_DATA:
            out += self._inserted_records(self._seal12)
        out += self._seal12(record[0], plaintext, self.seq_out) if self.seq_out != self.seq_in - 1 else record
        self.seq_out += 1
        return out

    def _feed13(self, record: bytes) -> bytes:
        content_type, plaintext = self._open13(record, self.seq_in)
        self.seq_in += 1
        if not self.app_keys:
            self.seq_out += 1
            # The server's Finished ends its handshake-key records.
            at = 0
            while content_type == HANDSHAKE and at + 4 <= len(plaintext):
                if plaintext[at] == 20:
                    self.app_keys = True
                    self._tls13_keys("SERVER_TRAFFIC_SECRET_0")
                    break
                at += 4 + int.from_bytes(plaintext[at + 1:at + 4], "big")
            return record
        out = b""
        if content_type == APPLICATION_DATA:
            out += self._inserted_records(self._seal13)
        out += self._seal13(content_type, plaintext, self.seq_out) if self.seq_out != self.seq_in - 1 else record
        self.seq_out += 1
        return out
