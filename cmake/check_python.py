"""Which of python-requirements.txt this Python lacks: one line per package, nothing when all are there.

Run by cmake/Tlsgen.cmake at configure time with the Python that will run the generator. Understands
the requirement forms that file uses: `name`, `name>=x.y`, `name>=x.y,<z`.
"""

import re
import sys
from importlib import metadata


def version(text: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def main(requirements: str) -> int:
    for line in open(requirements, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(\[.*\])?\s*(.*)", line).groups()
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            print(f"{name} (not installed; need {spec or 'any version'})")
            continue
        for op, bound in re.findall(r"(>=|<)\s*([0-9.]+)", spec):
            ok = version(have) >= version(bound) if op == ">=" else version(have) < version(bound)
            if not ok:
                print(f"{name} ({have} installed; need {spec})")
                break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
