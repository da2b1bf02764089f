#!/usr/bin/env python3
"""A seeded lossy UDP proxy for the DTLS tests (issue 15): it sits between one client and one server and
drops, duplicates, reorders and delays datagrams, reproducibly.

    lossy_udp_proxy.py --listen PORT --server HOST:PORT [--seed S] [--loss P] [--duplicate P]
                       [--reorder P] [--delay-ms LO-HI] [--log FILE]

The first datagram to --listen fixes the client's address; after that, datagrams from the client go to the
server and the server's to the client (anything from a third address is counted and dropped; `Proxy(follow_clients=True)` instead
takes a new address for the client's next session: later datagrams go to it, and to the server from a new
socket, as a new client's would). Each
datagram's fate is drawn from random.Random(seed) in arrival order per direction, so the same seed and the
same traffic give the same fates, whatever the timing:

    drop        with probability --loss
    duplicate   with probability --duplicate (the copy is sent right after the original)
    reorder     with probability --reorder: held back and sent after the next datagram in that direction
                (or when the hold times out, 200 ms, so a flight's last datagram is never lost this way)
    delay       every datagram that is not dropped waits a uniform --delay-ms (default 0-0)

`Proxy` is the same thing for use inside a Python test (start(), stop(), stats, log). The log is one line
per datagram: direction, index, length, fate.
"""

from __future__ import annotations

import argparse
import heapq
import random
import selectors
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

HOLD_TIMEOUT = 0.2  # a reordered datagram waits at most this long for a successor


@dataclass
class Stats:
    forwarded: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    strangers: int = 0
    garbage: int = 0
    replayed: int = 0
    reversed_flights: int = 0  # flights of more than one datagram sent last first
    new_clients: int = 0  # follow_clients: client addresses taken after the first
    stale: int = 0  # follow_clients: server datagrams for a session the client had left (dropped)
    log: list[str] = field(default_factory=list)


class Fates:
    """The seeded fate of each datagram, per direction: independent of timing."""

    def __init__(self, seed: int, loss: float, duplicate: float, reorder: float, delay_ms: tuple[float, float]):
        for name, p in (("loss", loss), ("duplicate", duplicate), ("reorder", reorder)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], not {p}")
        if delay_ms[0] < 0 or delay_ms[1] < delay_ms[0]:
            raise ValueError(f"delay range {delay_ms[0]}-{delay_ms[1]} ms is not lo-hi with 0 <= lo <= hi")
        self.rng = {d: random.Random(f"{seed}:{d}") for d in ("up", "down")}
        self.loss, self.duplicate, self.reorder, self.delay_ms = loss, duplicate, reorder, delay_ms

    def draw(self, direction: str) -> tuple[str, float]:
        """(fate, delay in seconds); fate is drop | duplicate | reorder | pass. Always four draws, so one
        datagram's fate never shifts another's."""
        r = self.rng[direction]
        drop, dup, hold, delay = r.random(), r.random(), r.random(), r.uniform(*self.delay_ms) / 1000.0
        if drop < self.loss:
            return "drop", 0.0
        if dup < self.duplicate:
            return "duplicate", delay
        if hold < self.reorder:
            return "reorder", delay
        return "pass", delay


class Proxy:
    def __init__(self, server: tuple[str, int], seed: int = 0, loss: float = 0.0, duplicate: float = 0.0,
                 reorder: float = 0.0, delay_ms: tuple[float, float] = (0.0, 0.0), listen_port: int = 0,
                 garbage: float = 0.0, replay: float = 0.0, reverse_flights_ms: float = 0.0,
                 follow_clients: bool = False):
        self.follow_clients = follow_clients
        self._retired: list[socket.socket] = []  # follow_clients: the sockets of the sessions the client left
        self.fates = Fates(seed, loss, duplicate, reorder, delay_ms)
        # reverse_flights_ms > 0: the server's datagrams are held until none has come for that long (its flight is
        # complete), then sent to the client last first: every message of a flight but its last comes after the
        # ones behind it, which the client must buffer (DTLS's worst case for the heap, deterministically).
        self.reverse_gap = reverse_flights_ms / 1000.0
        self._flight: list[bytes] = []
        self._flight_last = 0.0
        # Toward the client only, from a stream of their own (the fates above stay those of the seed): after a
        # server datagram, with probability `garbage` a datagram of 1-200 random bytes, and with probability
        # `replay` a copy of an earlier server datagram (a replayed record).
        for name, p in (("garbage", garbage), ("replay", replay)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], not {p}")
        self.garbage, self.replay = garbage, replay
        self._extra = random.Random(f"{seed}:extra")
        self._history: list[bytes] = []
        self.server = server
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", listen_port))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(server)
        self.port = self.front.getsockname()[1]
        self.client: tuple[str, int] | None = None
        self.stats = Stats()
        self._count = {"up": 0, "down": 0}
        self._held: dict[str, tuple[float, bytes] | None] = {"up": None, "down": None}
        self._queue: list[tuple[float, int, str, bytes]] = []  # (due, tie-break, direction, data)
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Proxy":
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        self.front.close()
        self.back.close()
        for old in self._retired:
            old.close()

    def _send(self, direction: str, data: bytes) -> None:
        try:
            if direction == "up":
                self.back.send(data)
            elif self.client is not None:
                self.front.sendto(data, self.client)
        except OSError:
            pass  # the far side went away (ICMP): a lossy link just loses it
        self.stats.forwarded += 1

    def _schedule(self, direction: str, data: bytes, delay: float) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, direction, data))

    def _arrive(self, direction: str, data: bytes) -> None:
        if direction == "down" and self.reverse_gap > 0:
            self._flight.append(data)
            self._flight_last = time.monotonic()
            return
        self._arrive_now(direction, data)

    def _flush_flight(self, now: float) -> None:
        if self._flight and now - self._flight_last >= self.reverse_gap:
            flight, self._flight = self._flight[::-1], []
            self.stats.reversed_flights += 1 if len(flight) > 1 else 0
            for data in flight:
                self._arrive_now("down", data)

    def _arrive_now(self, direction: str, data: bytes) -> None:
        index = self._count[direction]
        self._count[direction] += 1
        fate, delay = self.fates.draw(direction)
        self.stats.log.append(f"{direction} {index} {len(data)} {fate}")
        if fate == "drop":
            self.stats.dropped += 1
            return
        held = self._held[direction]
        if fate == "reorder" and held is None:
            self.stats.reordered += 1
            self._held[direction] = (time.monotonic() + HOLD_TIMEOUT, data)
            return
        self._schedule(direction, data, delay)
        if fate == "duplicate":
            self.stats.duplicated += 1
            self._schedule(direction, data, delay)
        if held is not None:  # the held datagram goes after this one
            self._held[direction] = None
            self._schedule(direction, held[1], delay)
        if direction == "down" and (self.garbage or self.replay):
            r = self._extra
            junk, again = r.random(), r.random()
            if junk < self.garbage:
                self.stats.garbage += 1
                self._schedule(direction, bytes(r.getrandbits(8) for _ in range(r.randint(1, 200))), delay)
            if again < self.replay and self._history:
                self.stats.replayed += 1
                self._schedule(direction, r.choice(self._history), delay)
            self._history.append(data)

    def _flush_up(self) -> None:
        """Sends every datagram of the client's still queued or held toward the server, now (follow_clients, before
        the next session's socket takes over: the server must see the old session's last datagrams, its
        close_notify, come from the old session's address, not the new one's)."""
        held = self._held["up"]
        self._held["up"] = None
        up = sorted((q for q in self._queue if q[2] == "up"), key=lambda q: q[:2])
        self._queue = [q for q in self._queue if q[2] != "up"]
        heapq.heapify(self._queue)
        for _, _, direction, data in up:
            self._send(direction, data)
        if held is not None:
            self._send("up", held[1])

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ, "up")
        sel.register(self.back, selectors.EVENT_READ, "down")
        while not self._stop.is_set():
            now = time.monotonic()
            self._flush_flight(now)
            for direction, held in self._held.items():
                if held is not None and held[0] <= now:
                    self._held[direction] = None
                    self._schedule(direction, held[1], 0.0)
            while self._queue and self._queue[0][0] <= now:
                _, _, direction, data = heapq.heappop(self._queue)
                self._send(direction, data)
            due = [q[0] for q in self._queue[:1]] + [h[0] for h in self._held.values() if h is not None] + \
                ([self._flight_last + self.reverse_gap] if self._flight else [])
            timeout = max(0.0, min(due) - now) if due else 0.05
            for key, _ in sel.select(timeout=min(timeout, 0.05)):
                try:
                    if key.data == "up":
                        data, source = self.front.recvfrom(65536)
                        if self.client is None:
                            self.client = source
                        elif source != self.client and self.follow_clients:
                            # The client's next session (a new socket): the server sees a new peer too.
                            # The old socket stays open (what the server still sends the old session, its
                            # close_notify, is read and dropped): closed, it would answer the server with ICMP port
                            # unreachable, which OpenSSL's s_server takes for an error on its socket.
                            self._flush_up()  # what the old session sent goes out from its own socket first
                            self.client = source
                            self.stats.new_clients += 1
                            sel.unregister(self.back)
                            self._retired.append(self.back)
                            sel.register(self.back, selectors.EVENT_READ, "stale")
                            self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                            self.back.connect(self.server)
                            sel.register(self.back, selectors.EVENT_READ, "down")
                        elif source != self.client:
                            self.stats.strangers += 1
                            continue
                    elif key.data == "stale" or key.fileobj is not self.back:
                        # For a session the client has left (an event of this select() may name the socket that
                        # was the server's side until a datagram above made a new one: read from the socket the
                        # event is for, never from the new one, which may have nothing and would block).
                        key.fileobj.recv(65536)
                        self.stats.stale += 1
                        continue
                    else:
                        data = self.back.recv(65536)
                except OSError:
                    continue  # ICMP from a closed far side
                self._arrive(key.data, data)
        sel.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--server", required=True, help="HOST:PORT")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--duplicate", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--delay-ms", default="0-0")
    ap.add_argument("--log")
    args = ap.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    lo, _, hi = args.delay_ms.partition("-")
    try:
        proxy = Proxy((host, int(port)), args.seed, args.loss, args.duplicate, args.reorder,
                      (float(lo), float(hi or lo)), args.listen)
    except (ValueError, OSError) as e:
        print(f"lossy_udp_proxy: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: proxy._stop.set())
    try:
        proxy.run()
    except KeyboardInterrupt:
        pass
    finally:
        if args.log:
            with open(args.log, "w", encoding="utf-8") as f:
                f.write("\n".join(proxy.stats.log) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
