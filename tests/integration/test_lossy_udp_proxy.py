"""The seeded lossy UDP proxy the DTLS loss tests will run through (lossy_udp_proxy.py): fates are
reproducible from the seed, the rates are what was asked, and nothing is lost at 0 %."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lossy_udp_proxy import Fates, Proxy  # noqa: E402


class Echo:
    """A UDP server on 127.0.0.1 that sends every datagram back."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            self.received.append(data)
            self.sock.sendto(data, source)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def exchange(count: int, **proxy_args) -> tuple[list[bytes], list[bytes], Proxy]:
    """Sends `count` numbered datagrams through a proxy to an echo server, one at a time (so the arrival
    order, and with it each datagram's fate, does not depend on timing); returns what the server got, what
    came back, and the proxy."""
    echo = Echo()
    proxy = Proxy(("127.0.0.1", echo.port), **proxy_args).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(0.02)
    back: list[bytes] = []
    try:
        for i in range(count):
            client.sendto(f"datagram {i:04d}".encode(), ("127.0.0.1", proxy.port))
            deadline = time.monotonic() + 0.01
            while time.monotonic() < deadline:
                try:
                    back.append(client.recv(65536))
                except socket.timeout:
                    pass
        deadline = time.monotonic() + 0.5  # what is still held or delayed
        while time.monotonic() < deadline:
            try:
                back.append(client.recv(65536))
            except socket.timeout:
                pass
    finally:
        client.close()
        proxy.stop()
        echo.close()
    return echo.received, back, proxy


def test_nothing_lost_at_zero_loss():
    sent, back, proxy = exchange(50)
    expected = [f"datagram {i:04d}".encode() for i in range(50)]
    assert sent == expected
    assert back == expected
    assert (proxy.stats.dropped, proxy.stats.duplicated, proxy.stats.reordered) == (0, 0, 0)


def test_same_seed_same_fates_and_the_rate_asked():
    first = exchange(200, seed=7, loss=0.3)
    second = exchange(200, seed=7, loss=0.3)
    for direction in ("up ", "down "):  # per direction: the two directions' lines may interleave differently
        assert [x for x in first[2].stats.log if x.startswith(direction)] == \
            [x for x in second[2].stats.log if x.startswith(direction)]
    assert first[0] == second[0]
    up_drops = sum(1 for line in first[2].stats.log if line.startswith("up ") and line.endswith(" drop"))
    assert 35 <= up_drops <= 85  # 200 draws at 0.3: mean 60, sd 6.5
    # Every datagram that reached the server went through the up direction undropped, and back the same way.
    assert len(first[0]) == 200 - up_drops
    other = exchange(200, seed=8, loss=0.3)
    assert [x for x in other[2].stats.log if x.startswith("up ")] != \
        [x for x in first[2].stats.log if x.startswith("up ")]


def test_duplicates_and_reorders_are_what_the_fates_say():
    sent, back, proxy = exchange(120, seed=3, duplicate=0.2, reorder=0.2)
    assert proxy.stats.dropped == 0
    assert proxy.stats.duplicated > 0 and proxy.stats.reordered > 0
    dup_up = sum(1 for line in proxy.stats.log if line.startswith("up ") and line.endswith(" duplicate"))
    assert len(sent) == 120 + dup_up  # every datagram arrives; duplicated ones twice
    assert sorted(set(sent)) == [f"datagram {i:04d}".encode() for i in range(120)]


def test_reordered_datagram_goes_after_its_successor():
    # Fates are drawn ahead from the same Random, so the test finds a seed whose first up datagram is held.
    seed = next(s for s in range(1000) if Fates(s, 0.0, 0.0, 0.5, (0, 0)).draw("up")[0] == "reorder"
                and Fates(s, 0.0, 0.0, 0.5, (0, 0)).draw("down")[0] == "pass")
    echo = Echo()
    proxy = Proxy(("127.0.0.1", echo.port), seed=seed, reorder=0.5).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        client.sendto(b"first", ("127.0.0.1", proxy.port))
        client.sendto(b"second", ("127.0.0.1", proxy.port))
        deadline = time.monotonic() + 1.0
        while len(echo.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        client.close()
        proxy.stop()
        echo.close()
    assert echo.received[:2] == [b"second", b"first"]


@pytest.mark.parametrize("kwargs", [{"loss": 1.5}, {"duplicate": -0.1}, {"delay_ms": (5, 1)}])
def test_refuses_impossible_settings(kwargs):
    with pytest.raises(ValueError):
        Proxy(("127.0.0.1", 9), **kwargs)


def _roundtrip(client: socket.socket, port: int, data: bytes) -> bytes | None:
    client.sendto(data, ("127.0.0.1", port))
    try:
        return client.recv(65536)
    except socket.timeout:
        return None


@pytest.mark.parametrize("follow", [False, True])
def test_a_second_client_is_dropped_or_followed(follow):
    # A DTLS client's next session comes from a new socket: by default the proxy drops it (a stranger); with
    # follow_clients it becomes the client, and reaches the server from a new address of the proxy's.
    seen: list[tuple[bytes, tuple[str, int]]] = []
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, source = server.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            seen.append((data, source))
            server.sendto(data, source)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    proxy = Proxy(("127.0.0.1", server.getsockname()[1]), follow_clients=follow).start()
    first, second = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    for c in (first, second):
        c.settimeout(1.0)
    try:
        assert _roundtrip(first, proxy.port, b"one") == b"one"
        got = _roundtrip(second, proxy.port, b"two")
    finally:
        first.close()
        second.close()
        proxy.stop()
        stop.set()
        thread.join(timeout=2)
        server.close()
    if follow:
        assert got == b"two"
        assert [d for d, _ in seen] == [b"one", b"two"]
        assert seen[0][1] != seen[1][1]  # the server saw two peers
        assert (proxy.stats.new_clients, proxy.stats.strangers) == (1, 0)
    else:
        assert got is None
        assert [d for d, _ in seen] == [b"one"]
        assert (proxy.stats.new_clients, proxy.stats.strangers) == (0, 1)
