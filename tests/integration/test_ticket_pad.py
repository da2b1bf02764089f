"""tools/sweep/ticket_pad.c, the LD_PRELOAD shim with which the sweep's OpenSSL servers issue tickets of a profile's
tls.resumption.ticket_max_bytes (runner.padded_ticket_bytes), and the runner's check of the ticket a device got."""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_runner():
    spec = importlib.util.spec_from_file_location("sweep_runner_pad", ROOT / "tools" / "sweep" / "runner.py")
    runner = importlib.util.module_from_spec(spec)
    sys.modules["sweep_runner_pad"] = runner
    spec.loader.exec_module(runner)
    return runner


def session_ticket_bytes(openssl: str, session: Path) -> int:
    """The ticket's length in an `s_client -sess_out` file: the hex bytes of sess_id's "TLS session ticket:" dump."""
    text = subprocess.run([openssl, "sess_id", "-in", str(session), "-text", "-noout"], capture_output=True,
                          text=True, check=True, timeout=20).stdout
    count, inside = 0, False
    for line in text.splitlines():
        if "TLS session ticket:" in line:
            inside = True
            continue
        m = re.match(r"^\s*[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){1,16})", line) if inside else None
        if inside and not m:
            if count:
                break
            continue
        if m:
            count += len(re.findall(r"[0-9a-f]{2}", m.group(1)))
    return count


@pytest.fixture(scope="module")
def server_files(tmp_path_factory):
    openssl = shutil.which("openssl")
    if openssl is None or shutil.which("cc") is None:
        pytest.fail("openssl and a C compiler are needed (scripts/test.sh installs them)")
    d = tmp_path_factory.mktemp("ticket_pad")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-subj", "/CN=localhost",
                    "-days", "2"], check=True, capture_output=True, timeout=30)
    return openssl, d


def ticket_from_server(runner, openssl: str, d: Path, version: str, want: int | None) -> int:
    port = runner.ri.free_port()
    cmd = [openssl, "s_server", "-accept", str(port), "-www", f"-{version}", "-cert", str(d / "cert.pem"),
           "-key", str(d / "key.pem")]
    env = None if want is None else runner.ri.ticket_pad_env(d, want)
    server = runner.ri.ProcessServer(cmd, re.compile(r"^ACCEPT"), port, env=env)
    session = d / f"session-{version}-{want}.pem"
    try:
        assert server.start(), "".join(server.output)
        # (a TLS 1.3 ticket comes after the handshake: stdin stays open a moment for it)
        client = subprocess.Popen([openssl, "s_client", "-connect", f"127.0.0.1:{port}", f"-{version}",
                                   "-sess_out", str(session)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        assert client.stdin is not None
        client.stdin.write(b"GET / HTTP/1.0\r\n\r\n")
        client.stdin.flush()
        client.wait(timeout=20)
    finally:
        server.stop()
    return session_ticket_bytes(openssl, session)


@pytest.mark.parametrize("version", ["tls1_2", "tls1_3"])
def test_openssl_issues_tickets_of_the_size_asked_for(server_files, version):
    runner = load_runner()
    openssl, d = server_files
    own = ticket_from_server(runner, openssl, d, version, None)
    assert 0 < own < 300  # OpenSSL 3.0's own ticket (about 180-210 bytes)
    for want in (400, 1024, 4000):
        got = ticket_from_server(runner, openssl, d, version, want)
        assert want - 16 < got <= want, (version, want, got)
    # asked for less than the session needs: the ticket is left as it is
    assert ticket_from_server(runner, openssl, d, version, 64) == own


def test_the_runner_checks_the_ticket_the_device_got():
    runner = load_runner()

    def result():
        return runner.SessionResult("s", "openssl", "suite", True, [], spec={})

    r = result()
    runner.check_padded_ticket(r, {"ticket": "1010"}, 1024)
    assert r.ok and r.spec["ticket"] == 1010
    r = result()
    runner.check_padded_ticket(r, {"ticket": "192"}, 1024)  # not padded: the peak is not of the model's ticket
    assert not r.ok and "padded to 1024" in r.problems[0]
    r = result()
    runner.check_padded_ticket(r, {"ticket": "1500"}, 1024)  # larger already (a client chain): ticket_above_max's
    assert r.ok and r.spec["ticket"] == 1500
    r = result()
    runner.check_padded_ticket(r, {"ticket": "0"}, 1024)  # no ticket (TLS 1.2 by session ID)
    assert r.ok and "ticket" not in r.spec
    r = result()
    runner.check_padded_ticket(r, {"ticket": "192"}, None)  # GnuTLS, or a calibration run: not padded
    assert r.ok and r.spec["ticket"] == 192


def test_only_openssl_sessions_of_ticket_profiles_are_padded():
    runner = load_runner()
    from tlsgen.pipeline import build

    b = build(str(ROOT / "tests" / "sweep" / "host" / "h10125-0225.yaml"))
    res = b.resolution.loaded.profile.tls.resumption
    assert "ticket" in res.tls12
    session = next(s for s in runner.peers.sessions_for(b)[0] if s.server == "openssl")
    assert runner.padded_ticket_bytes(session, b, True) == res.ticket_max_bytes
    assert runner.padded_ticket_bytes(session, b, False) is None
    gnutls = next(s for s in runner.peers.sessions_for(b)[0] if s.server == "gnutls")
    assert runner.padded_ticket_bytes(gnutls, b, True) is None
