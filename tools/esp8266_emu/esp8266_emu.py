#!/usr/bin/env python3
"""Host-side ESP8266 AT modem emulator: the "other end" of a firmware's UART.

Listens on a UNIX socket for ONE connection (QEMU's UART: `-chardev socket,id=c0,path=SOCK
-serial chardev:c0`; start this first, QEMU connects to it), speaks the ESP8266 NonOS AT subset the
runtime's Esp8266AtStack uses, and bridges each link to a real TCP connection (or, for a "UDP" link, a
connected UDP socket) on 127.0.0.1 only.

    esp8266_emu.py --socket /tmp/uart.sock [--ready-file F]
                   [--fault drop|delay=MS|garbage|early-close=N|cipdinfo|cipdinfo-quoted|frame=N] [--seed N]

Commands: AT, ATE0/ATE1, AT+CIPMUX=1, AT+GMR, AT+RST, AT+CIPSTART=<id>,"TCP"|"UDP","<host>",<port>,
AT+CIPSEND=<id>,<n> ('>' prompt, then exactly n bytes, then SEND OK), AT+CIPCLOSE=<id>. Data from a
peer is sent as `+IPD,<id>,<len>:<bytes>` (at most 1460 bytes a frame); a peer close as `<id>,CLOSED`.
On a UDP link each CIPSEND is one datagram and each datagram from the peer one +IPD of its whole length
(as the AT firmware does; SEND OK whether or not the peer's port is open, as UDP cannot tell).
Addresses other than 127.0.0.1/localhost are refused (ERROR): this emulator never reaches out.

Faults (deterministic with --seed): drop (drop one in five +IPD frames), delay=MS (hold each frame
MS ms), garbage (junk lines between responses), early-close=N (close a link after N bytes went
to the firmware). Modes of real firmware (comma-separated with the faults): cipdinfo (frames as after
AT+CIPDINFO=1, `+IPD,<id>,<len>,127.0.0.1,<port>:`, the address unquoted as on ESP8266 NonOS),
cipdinfo-quoted (the same with the address quoted, as ESP32 AT sends it), frame=N (frames of up to N
bytes instead of 1460: what arrives within 20 ms is coalesced, as Espressif's AT firmware does; up
to 5760 on the ESP32). Logs to stderr; exits when the UART side disconnects.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import selectors
import socket
import sys
import time
from pathlib import Path

MAX_IPD = 1460
LOOPBACK = {"127.0.0.1", "localhost"}
JUNK = [b"\r\nWIFI GOT IP\r\n", b"\r\nbusy p...\r\n", b"\r\n\x00\xff+IPD,9,x:\r\n", b"\r\nready\r\n"]


def log(msg: str) -> None:
    print(f"[esp8266-emu] {msg}", file=sys.stderr, flush=True)


class Faults:
    def __init__(self, spec: str | None, seed: int):
        self.rng = random.Random(seed)
        self.drop = self.garbage = False
        self.delay = 0.0
        self.early_close: int | None = None
        self.cipdinfo: str | None = None  # None | "plain" | "quoted"
        self.frame = MAX_IPD
        for part in (spec or "").split(","):
            if not part:
                continue
            name, _, value = part.partition("=")
            if name == "drop":
                self.drop = True
            elif name == "garbage":
                self.garbage = True
            elif name == "delay":
                self.delay = int(value or "100") / 1000.0
            elif name == "early-close":
                self.early_close = int(value or "100")
            elif name == "cipdinfo":
                self.cipdinfo = "plain"
            elif name == "cipdinfo-quoted":
                self.cipdinfo = "quoted"
            elif name == "frame":
                self.frame = int(value or "5760")
                if not 1 <= self.frame <= 65535:
                    raise SystemExit(f"frame={self.frame}: 1..65535")
            else:
                raise SystemExit(f"unknown fault {name!r} (allowed: drop, delay=MS, garbage, early-close=N, "
                                 "cipdinfo, cipdinfo-quoted, frame=N)")


class Modem:
    def __init__(self, uart: socket.socket, faults: Faults):
        self.uart = uart
        self.faults = faults
        self.sel = selectors.DefaultSelector()
        self.sel.register(uart, selectors.EVENT_READ, ("uart", None))
        self.links: dict[int, socket.socket] = {}
        self.udp: set[int] = set()  # links opened as "UDP"
        self.forwarded: dict[int, int] = {}
        self.echo = True
        self.rx = b""  # bytes from the firmware not yet handled
        self.send_link: int | None = None
        self.send_left = 0
        self.send_buf = b""
        self.running = True

    # -- output ------------------------------------------------------------------------------------
    def out(self, data: bytes) -> None:
        if self.faults.garbage and self.faults.rng.random() < 0.3:
            data = self.faults.rng.choice(JUNK) + data
        self.uart.sendall(data)

    def reply(self, text: str) -> None:
        self.out(f"\r\n{text}\r\n".encode())

    # -- commands ----------------------------------------------------------------------------------
    def command(self, line: str) -> None:
        if self.echo:
            self.out(line.encode() + b"\r\n")
        log(f"<- {line}")
        if line in ("AT", "AT+CIPMUX=1", "AT+RST"):
            self.reply("OK")
        elif line == "ATE0":
            self.echo = False
            self.reply("OK")
        elif line == "ATE1":
            self.echo = True
            self.reply("OK")
        elif line == "AT+GMR":
            self.reply("AT version:1.7.4.0(tlsgen emulator)\r\n\r\nOK")
        elif m := re.fullmatch(r'AT\+CIPSTART=(\d),"(TCP|UDP)","([^"]+)",(\d+)', line):
            self.cipstart(int(m.group(1)), m.group(3), int(m.group(4)), udp=m.group(2) == "UDP")
        elif m := re.fullmatch(r"AT\+CIPSEND=(\d),(\d+)", line):
            link, n = int(m.group(1)), int(m.group(2))
            if link not in self.links:
                self.reply("link is not valid\r\n\r\nERROR")
                return
            if not 0 < n <= 2048:
                self.reply("ERROR")
                return
            self.send_link, self.send_left, self.send_buf = link, n, b""
            self.out(b"\r\nOK\r\n> ")
        elif m := re.fullmatch(r"AT\+CIPCLOSE=(\d)", line):
            link = int(m.group(1))
            if link in self.links:
                self.drop_link(link, announce=True)
                self.reply("OK")
            else:
                self.reply("ERROR")
        else:
            self.reply("ERROR")

    def cipstart(self, link: int, host: str, port: int, udp: bool = False) -> None:
        if link in self.links or not 0 <= link <= 4:
            self.reply("ALREADY CONNECTED" if link in self.links else "ERROR")
            return
        if host not in LOOPBACK:
            log(f"refusing {host}:{port}: only 127.0.0.1 is reachable from this emulator")
            self.reply("ERROR")
            return
        try:
            if udp:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.connect(("127.0.0.1", port))
                self.udp.add(link)
            else:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as e:
            log(f"connect 127.0.0.1:{port} failed: {e}")
            self.out(b"\r\nERROR\r\nCLOSED\r\n")
            return
        s.setblocking(False)
        self.links[link] = s
        self.forwarded[link] = 0
        self.sel.register(s, selectors.EVENT_READ, ("tcp", link))
        self.out(f"{link},CONNECT\r\n\r\nOK\r\n".encode())

    def drop_link(self, link: int, announce: bool) -> None:
        s = self.links.pop(link, None)
        self.udp.discard(link)
        if s is None:
            return
        self.sel.unregister(s)
        s.close()
        if announce:
            self.out(f"{link},CLOSED\r\n".encode())

    # -- data --------------------------------------------------------------------------------------
    def from_uart(self, data: bytes) -> None:
        self.rx += data
        while self.rx:
            if self.send_link is not None:
                take = self.rx[: self.send_left]
                self.rx = self.rx[len(take):]
                self.send_buf += take
                self.send_left -= len(take)
                if self.send_left:
                    return
                link, self.send_link = self.send_link, None
                s = self.links.get(link)
                if s is not None and link in self.udp:
                    try:
                        s.send(self.send_buf)  # one datagram
                    except OSError as e:
                        log(f"link {link}: UDP send: {e} (the modem cannot tell: SEND OK)")
                    self.out(f"\r\nRecv {len(self.send_buf)} bytes\r\n\r\nSEND OK\r\n".encode())
                    continue
                try:
                    if s is None:
                        raise OSError("link gone")
                    s.setblocking(True)
                    s.sendall(self.send_buf)
                    s.setblocking(False)
                    self.out(f"\r\nRecv {len(self.send_buf)} bytes\r\n\r\nSEND OK\r\n".encode())
                except OSError:
                    self.out(b"\r\nSEND FAIL\r\n")
                continue
            nl = self.rx.find(b"\n")
            if nl < 0:
                if len(self.rx) > 4096:
                    self.rx = b""  # garbage without a newline
                return
            line, self.rx = self.rx[:nl].rstrip(b"\r"), self.rx[nl + 1:]
            if line:
                self.command(line.decode(errors="replace"))

    def from_udp(self, link: int) -> None:
        s = self.links[link]
        try:
            data = s.recv(65536)  # one datagram, whole
        except OSError:
            return  # would block, or the peer's ICMP port unreachable: UDP has no close to announce
        if self.faults.delay:
            time.sleep(self.faults.delay)
        if self.faults.drop and self.faults.rng.random() < 0.2:
            log(f"link {link}: FAULT dropped a {len(data)}-byte datagram")
            return
        if data:
            self.out(self.ipd_header(link, len(data), s) + data)
            self.forwarded[link] += len(data)

    def from_tcp(self, link: int) -> None:
        if link in self.udp:
            self.from_udp(link)
            return
        s = self.links[link]
        try:
            data = s.recv(self.faults.frame)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data and self.faults.frame > MAX_IPD:
            # Coalesce what arrives within 20 ms into one frame of up to `frame` bytes.
            deadline = time.monotonic() + 0.02
            while len(data) < self.faults.frame and time.monotonic() < deadline:
                try:
                    more = s.recv(self.faults.frame - len(data))
                except BlockingIOError:
                    time.sleep(0.002)
                    continue
                except OSError:
                    break
                if not more:
                    break  # the close is seen on the next read
                data += more
        if not data:
            log(f"link {link}: peer closed")
            self.drop_link(link, announce=True)
            return
        if self.faults.early_close is not None:
            room = self.faults.early_close - self.forwarded[link]
            data = data[: max(room, 0)]
        if self.faults.delay:
            time.sleep(self.faults.delay)
        if self.faults.drop and self.faults.rng.random() < 0.2:
            log(f"link {link}: FAULT dropped {len(data)} bytes")
        elif data:
            self.out(self.ipd_header(link, len(data), s) + data)
            self.forwarded[link] += len(data)
        if self.faults.early_close is not None and self.forwarded[link] >= self.faults.early_close:
            log(f"link {link}: FAULT early close after {self.forwarded[link]} bytes")
            self.drop_link(link, announce=True)

    def ipd_header(self, link: int, n: int, s: socket.socket) -> bytes:
        if self.faults.cipdinfo is None:
            return f"\r\n+IPD,{link},{n}:".encode()
        try:
            ip, port = s.getpeername()[:2]
        except OSError:
            ip, port = "127.0.0.1", 0
        address = f'"{ip}"' if self.faults.cipdinfo == "quoted" else ip
        return f"\r\n+IPD,{link},{n},{address},{port}:".encode()

    def run(self) -> None:
        while self.running:
            for key, _ in self.sel.select(timeout=1.0):
                kind, link = key.data
                if kind == "uart":
                    data = self.uart.recv(4096)
                    if not data:
                        log("UART side disconnected")
                        self.running = False
                        break
                    self.from_uart(data)
                elif link in self.links:
                    self.from_tcp(link)
        for link in list(self.links):
            self.drop_link(link, announce=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", required=True, help="UNIX socket path QEMU's UART connects to")
    ap.add_argument("--ready-file", help="written once the socket listens")
    ap.add_argument("--fault", help="drop | delay=MS | garbage | early-close=N | cipdinfo | cipdinfo-quoted | "
                                    "frame=N (comma-separated)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--accept-timeout", type=float, default=120.0)
    args = ap.parse_args(argv)
    faults = Faults(args.fault, args.seed)
    path = Path(args.socket)
    if path.exists():
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(args.accept_timeout)
    if args.ready_file:
        Path(args.ready_file).write_text(f"{os.getpid()}\n")
    log(f"listening on {path}")
    try:
        uart, _ = server.accept()
    except socket.timeout:
        log("nobody connected")
        return 1
    finally:
        server.close()
    log("UART connected")
    try:
        Modem(uart, faults).run()
    finally:
        uart.close()
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
