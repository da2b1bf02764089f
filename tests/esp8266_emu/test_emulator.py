"""The ESP8266 modem emulator, driven over its UNIX socket by a fake firmware, against a real TCP
server on 127.0.0.1. Every process and socket is bounded in time and cleaned up."""

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

EMU = Path(__file__).resolve().parents[2] / "tools" / "esp8266_emu" / "esp8266_emu.py"


class EchoServer:
    """TCP echo on 127.0.0.1; `close_after` bytes: then it closes the connection itself."""

    def __init__(self, close_after=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.close_after = close_after
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            seen = 0
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)
                seen += len(data)
                if self.close_after is not None and seen >= self.close_after:
                    return


class Firmware:
    """The UART side: connects to the emulator's socket, sends commands, collects what comes back."""

    def __init__(self, tmp_path, *fault):
        self.path = tmp_path / "uart.sock"
        ready = tmp_path / "ready"
        self.proc = subprocess.Popen([sys.executable, str(EMU), "--socket", str(self.path), "--ready-file", str(ready),
                                      "--accept-timeout", "20", *fault], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert time.monotonic() < deadline and self.proc.poll() is None, "emulator did not start"
            time.sleep(0.02)
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(str(self.path))
        self.s.settimeout(5)
        self.buf = b""

    def send(self, data: bytes):
        self.s.sendall(data)

    def expect(self, token: bytes, timeout=5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while token not in self.buf:
            assert time.monotonic() < deadline, f"timeout waiting for {token!r}; got {self.buf!r}"
            chunk = self.s.recv(4096)
            assert chunk, f"emulator closed; got {self.buf!r}"
            self.buf += chunk
        i = self.buf.index(token) + len(token)
        got, self.buf = self.buf[:i], self.buf[i:]
        return got

    def cmd(self, line: str, token=b"OK\r\n") -> bytes:
        self.send(line.encode() + b"\r\n")
        return self.expect(token)

    def close(self):
        self.s.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def fw(tmp_path):
    made = []

    def make(*fault):
        f = Firmware(tmp_path, *fault)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


def open_link(f, port):
    f.cmd("AT")
    f.cmd("ATE0")
    f.cmd("AT+CIPMUX=1")
    assert b"0,CONNECT" in f.cmd(f'AT+CIPSTART=0,"TCP","127.0.0.1",{port}')


def test_echo_until_ate0_then_quiet(fw):
    f = fw()
    assert b"AT\r\n" in f.cmd("AT")  # echoed
    f.cmd("ATE0")
    assert f.cmd("AT") == b"\r\nOK\r\n"


def test_send_and_receive_through_tcp(fw):
    server = EchoServer()
    f = fw()
    open_link(f, server.port)
    f.send(b"AT+CIPSEND=0,5\r\n")
    f.expect(b"> ")
    f.send(b"hello")
    f.expect(b"SEND OK\r\n")
    f.expect(b"+IPD,0,5:")
    assert f.expect(b"hello")
    f.cmd("AT+CIPCLOSE=0")
    assert f.proc.poll() is None


def test_peer_close_is_reported(fw):
    server = EchoServer(close_after=3)
    f = fw()
    open_link(f, server.port)
    f.send(b"AT+CIPSEND=0,3\r\n")
    f.expect(b"> ")
    f.send(b"bye")
    f.expect(b"+IPD,0,3:bye")
    f.expect(b"0,CLOSED\r\n")


def test_non_loopback_address_is_refused(fw):
    f = fw()
    f.cmd("AT+CIPMUX=1")
    assert b"ERROR" in f.cmd('AT+CIPSTART=0,"TCP","192.0.2.1",443', token=b"ERROR\r\n")


def test_unknown_command_and_bad_link_are_errors(fw):
    f = fw()
    f.cmd("AT+NOPE", token=b"ERROR\r\n")
    f.cmd("AT+CIPSEND=3,10", token=b"ERROR\r\n")


def test_fault_garbage_injects_junk_lines_but_keeps_responses(fw):
    server = EchoServer()
    f = fw("--fault", "garbage", "--seed", "3")
    open_link(f, server.port)
    f.send(b"AT+CIPSEND=0,4\r\n")
    f.expect(b"> ")
    f.send(b"ping")
    f.expect(b"+IPD,0,4:ping")


def test_fault_early_close_cuts_the_link(fw):
    server = EchoServer()
    f = fw("--fault", "early-close=2")
    open_link(f, server.port)
    f.send(b"AT+CIPSEND=0,6\r\n")
    f.expect(b"> ")
    f.send(b"abcdef")
    f.expect(b"+IPD,0,2:ab")
    f.expect(b"0,CLOSED\r\n")


def test_fault_delay_holds_frames(fw):
    server = EchoServer()
    f = fw("--fault", "delay=300")
    open_link(f, server.port)
    f.send(b"AT+CIPSEND=0,1\r\n")
    f.expect(b"> ")
    start = time.monotonic()
    f.send(b"x")
    f.expect(b"+IPD,0,1:x")
    assert time.monotonic() - start >= 0.25


def test_fault_drop_loses_some_frames(fw):
    server = EchoServer()
    f = fw("--fault", "drop", "--seed", "1")
    open_link(f, server.port)
    seen = b""
    for i in range(20):
        f.send(b"AT+CIPSEND=0,1\r\n")
        seen += f.expect(b"> ")
        f.send(b"z")
        seen += f.expect(b"SEND OK\r\n")
        time.sleep(0.02)
    f.s.settimeout(1)
    try:
        while True:
            chunk = f.s.recv(4096)
            if not chunk:
                break
            f.buf += chunk
    except socket.timeout:
        pass
    received = (seen + f.buf).count(b"+IPD,0,")
    assert 0 < received < 20


class BurstServer:
    """Accepts one connection and sends `data` at once, then waits for the client to close."""

    def __init__(self, data: bytes):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.data = data
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.sendall(self.data)
            conn.settimeout(10)
            try:
                conn.recv(1)
            except OSError:
                pass


def read_frames(f, total: int) -> list[tuple[bytes, bytes]]:
    """(header, payload) of +IPD frames until `total` payload bytes arrived."""
    frames, got = [], 0
    while got < total:
        header = f.expect(b":")
        header = header[header.index(b"+IPD,"):]
        n = int(header[5:-1].split(b",")[1])
        while len(f.buf) < n:
            chunk = f.s.recv(65536)
            assert chunk, "emulator closed"
            f.buf += chunk
        frames.append((header, f.buf[:n]))
        f.buf = f.buf[n:]
        got += n
    return frames


@pytest.mark.parametrize("mode,form", [("cipdinfo", rb"\+IPD,0,\d+,127\.0\.0\.1,\d+:"),
                                       ("cipdinfo-quoted", rb'\+IPD,0,\d+,"127\.0\.0\.1",\d+:')])
def test_mode_cipdinfo_frames_carry_the_remote_address(fw, mode, form):
    import re
    server = EchoServer()
    f = fw("--fault", mode)
    open_link(f, server.port)
    f.send(b"AT+CIPSEND=0,5\r\n")
    f.expect(b"> ")
    f.send(b"hello")
    [(header, payload)] = read_frames(f, 5)
    assert re.fullmatch(form, header) and header.endswith(f",{server.port}:".encode()), header
    assert payload == b"hello"


def test_mode_frame_coalesces_above_1460(fw):
    data = bytes(range(256)) * 40  # 10,240 bytes at once
    server = BurstServer(data)
    f = fw("--fault", "frame=5760")
    open_link(f, server.port)
    frames = read_frames(f, len(data))
    assert b"".join(p for _, p in frames) == data
    assert max(len(p) for _, p in frames) > 2048  # above the old 2,048-byte limit of the parser
    assert all(len(p) <= 5760 for _, p in frames)


def test_exits_when_the_uart_disconnects(fw):
    f = fw()
    f.s.close()
    assert f.proc.wait(timeout=10) == 0


class UdpEcho:
    """UDP echo on 127.0.0.1: every datagram goes back to its sender, whole."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                data, source = self.sock.recvfrom(65536)
            except OSError:
                return
            self.received.append(data)
            self.sock.sendto(data, source)


def test_udp_link_one_datagram_per_cipsend_and_per_ipd(fw):
    """Issue 15: a "UDP" link carries datagrams whole both ways (Esp8266AtUdp's contract)."""
    server = UdpEcho()
    f = fw()
    f.cmd("ATE0")
    f.cmd("AT+CIPMUX=1")
    assert b"0,CONNECT" in f.cmd(f'AT+CIPSTART=0,"UDP","127.0.0.1",{server.port}')
    for payload in (b"first", bytes(range(256)) * 4):
        f.cmd(f"AT+CIPSEND=0,{len(payload)}", b"> ")
        f.send(payload)
        f.expect(b"SEND OK\r\n")
        f.expect(f"+IPD,0,{len(payload)}:".encode())
        deadline = time.monotonic() + 5
        while len(f.buf) < len(payload):
            assert time.monotonic() < deadline
            f.buf += f.s.recv(4096)
        assert f.buf[: len(payload)] == payload
        f.buf = f.buf[len(payload):]
    assert server.received == [b"first", bytes(range(256)) * 4]
    assert b"OK" in f.cmd("AT+CIPCLOSE=0")


def test_udp_send_to_a_closed_port_still_says_send_ok(fw):
    """UDP cannot tell a closed port from a slow one: the modem says SEND OK and nothing comes back."""
    gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gone.bind(("127.0.0.1", 0))
    port = gone.getsockname()[1]
    gone.close()
    f = fw()
    f.cmd("ATE0")
    f.cmd("AT+CIPMUX=1")
    assert b"0,CONNECT" in f.cmd(f'AT+CIPSTART=0,"UDP","127.0.0.1",{port}')
    f.cmd("AT+CIPSEND=0,4", b"> ")
    f.send(b"ping")
    f.expect(b"SEND OK\r\n")
    f.cmd("AT")  # the modem still answers; no CLOSED, no +IPD
    assert b"+IPD" not in f.buf and b"CLOSED" not in f.buf
