"""cmake/check_ram.py, the post-link check tlsgen_check_ram() runs: a refused image exits 2 with the figures
and is removed (a firmware that does not fit must not be left to flash); one that fits is kept."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "cmake" / "check_ram.py"


def run(tmp_path: Path, text: int, ram: int, flash: int, stack: int = 4096, need: int = 3840):
    size_tool = tmp_path / "size.py"  # stands in for arm-none-eabi-size -A
    size_tool.write_text("import sys\nprint('section size addr')\n"
                         f"print('.text {text} 0')\nprint('.data 100 0')\nprint('.bss 2000 0')\n"
                         f"print('.heap 5000 0')\nprint('.stack {stack} 0')\n")
    wrapper = tmp_path / "size"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {size_tool} \"$@\"\n")
    wrapper.chmod(0o755)
    header = tmp_path / "tlsgen_profile.hpp"
    header.write_text(f"inline constexpr std::size_t kRamBytes = {ram};\n"
                      f"inline constexpr std::size_t kFlashBytes = {flash};\n"
                      "inline constexpr std::size_t kHeapBytes = 5000;\n"
                      f"inline constexpr std::size_t kStackNeedBytes = {need};\n")
    image = tmp_path / "firmware"
    image.write_bytes(b"\x7fELF")
    proc = subprocess.run([sys.executable, str(CHECK), str(wrapper), str(image), str(header)],
                          capture_output=True, text=True)
    return proc, image


def test_an_image_that_fits_is_kept(tmp_path):
    proc, image = run(tmp_path, text=100_000, ram=16384, flash=131072)
    assert proc.returncode == 0, proc.stderr
    assert image.exists()
    assert "flash 100100 of 131072 bytes" in proc.stdout


def test_flash_overflow_exits_2_and_removes_the_image(tmp_path):
    proc, image = run(tmp_path, text=134_852, ram=0, flash=131072)
    assert proc.returncode == 2
    assert "flash image 134952 bytes exceeds target.flash_bytes 131072" in proc.stderr
    assert not image.exists()


def test_ram_overflow_exits_2_and_removes_the_image(tmp_path):
    proc, image = run(tmp_path, text=1000, ram=8192, flash=0)
    assert proc.returncode == 2
    assert "exceeds target.ram_bytes 8192 by 3004" in proc.stderr
    assert not image.exists()


def test_a_default_stack_below_the_need_exits_2_and_removes_the_image(tmp_path):
    proc, image = run(tmp_path, text=1000, ram=0, flash=0, stack=2048, need=3840)
    assert proc.returncode == 2
    assert "below the 3840 bytes the profile's sessions need" in proc.stderr
    assert not image.exists()


def test_the_sweep_tells_a_link_refusal_from_a_build_failure(tmp_path):
    """tools/sweep/runner.py counts check_ram.py's exit-2 refusal (its message, as the build log holds it) as a
    refusal with its figures, and any other build error as a failure."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sweep_runner", ROOT / "tools" / "sweep" / "runner.py")
    runner = importlib.util.module_from_spec(spec)
    sys.modules["sweep_runner"] = runner  # its dataclasses look their module up
    spec.loader.exec_module(runner)
    proc, _ = run(tmp_path, text=134_852, ram=0, flash=131072)
    log = "FAILED: sweep_fw_m1_0001\n" + proc.stderr
    assert runner.ProfileResult("m1-0001", False, log).refused_at_link == \
        "flash image 134952 bytes exceeds target.flash_bytes 131072"
    proc, _ = run(tmp_path, text=1000, ram=8192, flash=0)
    assert "exceeds target.ram_bytes 8192" in runner.ProfileResult("m1-0001", False, proc.stderr).refused_at_link
    compile_error = "FAILED: x.o\nssl_tls.c:12: error: 'MBEDTLS_X' undeclared"
    assert runner.ProfileResult("m1-0001", False, compile_error).refused_at_link is None


def test_the_sweep_leaves_the_reference_applications_buffers_out_of_the_library_share():
    """library_static_bytes() measures mbedTLS + runtime + newlib static data: main()'s buffers are the
    application's, also when they are statics of a lambda inside main() (_ZZZ4main...; the resumed-reconnect
    refactor moved reply/text there and CI's sweep.cortex-m cases counted 2 KB of them as library data)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sweep_runner", ROOT / "tools" / "sweep" / "runner.py")
    runner = importlib.util.module_from_spec(spec)
    sys.modules["sweep_runner"] = runner
    spec.loader.exec_module(runner)
    for app in ("_ZZ4mainE4file", "_ZZZ4mainENKUlimRmS_E_clEimS_S_E5reply", "_ZN12_GLOBAL__N_19g_cmdlineE",
                "_ZN12_GLOBAL__N_113g_heap_regionE", "_ZN12_GLOBAL__N_114g_alloc_timingE"):
        assert runner.APP_SYMBOLS.search(app), app
    for library in ("mbedtls_ssl_ciphersuites", "_ZN12_GLOBAL__N_16g_heapE", "impure_data", "global_data"):
        assert not runner.APP_SYMBOLS.search(library), library


def test_the_sweep_takes_a_ticket_above_ticket_max_bytes_as_not_resumed_only():
    """A server whose ticket is larger than tls.resumption.ticket_max_bytes: save_session() refuses the session
    (kResourceExhausted) and the session is not resumed, which the runner accepts; the same refusal with a ticket
    that fits the profile is a failure (the saved-session size the generator states would be wrong)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sweep_runner", ROOT / "tools" / "sweep" / "runner.py")
    runner = importlib.util.module_from_spec(spec)
    sys.modules["sweep_runner"] = runner
    spec.loader.exec_module(runner)

    def result():
        return runner.SessionResult("s", "gnutls", "suite", True, [], spec={})

    over = {"TLSGEN_SESSION": {"code": "kResourceExhausted", "detail": "4284", "ticket": "358"}}
    r = result()
    runner.check_resumed(r, over, True, 336)
    assert r.ok and r.spec["ticket_above_max"] == 358 and r.spec["resumed"] is False
    r = result()
    runner.check_resumed(r, over, True, 400)  # the ticket fits: the refusal is a defect
    assert not r.ok and "kResourceExhausted" in r.problems[0]
    r = result()
    runner.check_firmware_resumed(r, {"code": "kResourceExhausted", "resumed": "0", "ticket": "358"}, True, 336)
    assert r.ok and r.spec["resumed"] is False
    r = result()
    runner.check_firmware_resumed(r, {"code": "kResourceExhausted", "resumed": "0", "ticket": "300"}, True, 336)
    assert not r.ok
