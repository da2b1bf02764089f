"""run_integration.check_debug_log: the checks of mbedTLS's debug output (host-debug-alpn cases)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_integration import check_debug_log  # noqa: E402


def record(message: str, level: int = 3, file: str = "ssl_msg.c", line: int = 100) -> bytes:
    return f"{level}\t{file}\t{line}\t{message}\n".encode() + b"\0"


def dump(name: str, data: bytes) -> bytes:
    """A buffer dump as mbedtls_debug_print_buf writes it: 16 bytes a line, then their printable text."""
    out = record(f"dumping '{name}' ({len(data)} bytes)")
    for offset in range(0, len(data), 16):
        chunk = data[offset:offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
        out += record(f"{offset:04x}:  {hexes}{'   ' * (16 - len(chunk))}  {text}", file="debug.c")
    return out


def unformatted(errors: list[str]) -> list[str]:
    return [e for e in errors if "unformatted conversion" in e]


def test_percent_signs_in_the_dumped_bytes_are_data_not_unformatted_conversions(tmp_path):
    # Random record bytes that read '%0x', '%s' or '(null)' in the dump's text column (the
    # alpn_debug case failed on '..i..%0xj^z.!..g' once): the buffer's own bytes, correctly shown.
    log = tmp_path / "debug.log"
    log.write_bytes(record("=> handshake") + dump("input record", b"\xe7\x92\x69\xd7\xdb%0xj^z\x8c!\x93\x89g" * 2
                                                   + b"(null) and %s %d") + record("<= handshake"))
    errors, stats = check_debug_log(log, expect_success=False)
    assert stats["dump_lines"] == 3, (errors, stats)
    assert unformatted(errors) == [], errors


def test_an_unformatted_conversion_in_a_message_is_still_found(tmp_path):
    log = tmp_path / "debug.log"
    # the third looks like a dump line but comes without a "dumping" record: its '%d' is not data
    log.write_bytes(record("=> handshake") + record("got %d bytes") + record("name: (null)")
                    + record("0000:  25 64  %d"))
    errors, _ = check_debug_log(log, expect_success=False)
    assert len(unformatted(errors)) == 3, errors
