"""Messages a person acts on (issue 12, generator items): where a problem is, what was wrong and what
is allowed, in words; every independent problem in one run; never a failure of tlsgen's own."""

import pytest

from tlsgen.cli import EXIT_INVALID, main
from test_validation import PSK, sub


def check(path, capsys):
    rc = main(["check", path])
    captured = capsys.readouterr()
    return rc, captured.err


# ---- 1. a second YAML document is reported where it starts ----------------------------------------


@pytest.mark.parametrize("second,line", [("---\n" + PSK, 10), ("---\nname: x\n", 10), ("--- {a: 1}\n", 10),
                                         ("...\n---\nname: x\n", 11)])
def test_second_document_is_reported_at_its_document_start(second, line, write_profile, capsys):
    path = write_profile(PSK + "\n" + second)
    rc, err = check(path, capsys)
    assert rc == EXIT_INVALID
    assert f"{path}:{line}:1: error: " in err, err
    assert "exactly one YAML document" in err and "second document starts here" in err, err


def test_explicit_start_of_the_only_document_is_fine(write_profile, capsys):
    assert check(write_profile("---\n" + PSK), capsys)[0] == 0
