"""OpenMath XML codec speed: scscp.openmath against the PyPI ``openmath`` package.

Both sides encode the same OpenMath trees and decode the same XML bytes (ours, which the
PyPI decoder reads as well), in the same run, best of several repetitions:
  - a list of 100000 small integers (list1.list of OMI);
  - a 200x200 integer matrix (linalg2.matrix of linalg2.matrixrow);
  - 1000 permutations of degree 100 (a list1.list of permut1.permutation applications);
  - a 50-deep nested application (arith1.plus(arith1.plus(..., x), x)).
The PyPI package runs in its own virtual environment, bench/.venv-openmath (created and
filled with ``pip install openmath`` when missing), in a subprocess of that environment's
Python: it would clash with nothing of ours by name, but keeping it out of the project's
environment keeps its old pins (lxml, six, setuptools' pkg_resources) out too.

It prints times and ratios (theirs / ours) for encode and decode per case, with our binary
encoding beside for reference, checks that both sides encoded the same objects, and exits
non-zero if any XML ratio is below 5.

Usage: .venv/bin/python bench/codec.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the worker's environment has no scscp
    from scscp.openmath import OMAny

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-openmath"
MIN_RATIO = 5.0

CASES = {
    "ints": "list of 100000 small ints",
    "matrix": "200x200 integer matrix",
    "perms": "1000 permutations of degree 100",
    "nested": "50-deep nested application",
}


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best time of one call in seconds: enough calls per sample to last 0.2 s, ``repeat``
    samples, the minimum (the least disturbed), as timeit recommends."""
    timer = timeit.Timer(fn)
    number, first = timer.autorange()
    # autorange's last try is a full sample already: reuse it (the slow side's calls take
    # seconds each).
    samples = [first, *timer.repeat(repeat=max(repeat - 1, 0), number=number)]
    return min(samples) / number


# --------------------------------------------------------------------------- theirs


def run_theirs(workdir: Path, repeat: int) -> None:
    """The worker, run by the PyPI environment's Python: decode each case's XML (ours) into
    their objects, then time their encoder on those objects and their decoder on the XML.
    Writes times and their own encodings (for the equality check) into ``workdir``."""
    from openmath import decoder, encoder

    results = {}
    for case in CASES:
        xml = (workdir / f"{case}.xml").read_bytes()
        tree = decoder.decode_bytes(xml)
        encoded = encoder.encode_bytes(tree)
        (workdir / f"{case}.theirs.xml").write_bytes(encoded)
        results[case] = {
            "encode": best(partial(encoder.encode_bytes, tree), repeat),
            "decode": best(partial(decoder.decode_bytes, xml), repeat),
        }
    (workdir / "theirs.json").write_text(json.dumps(results))


def ensure_venv() -> Path:
    """The PyPI environment's Python, created and filled on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    check = [str(python), "-c", "import openmath.decoder, openmath.encoder"]
    if subprocess.run(check, capture_output=True, cwd=VENV).returncode != 0:
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "openmath"], check=True)
        if subprocess.run(check, capture_output=True, cwd=VENV).returncode != 0:
            # Its decoder imports pkg_resources, which recent setuptools no longer ship.
            subprocess.run([*pip, "setuptools<81"], check=True)
            subprocess.run(check, check=True, cwd=VENV)
    return python


# --------------------------------------------------------------------------- ours


def build_cases() -> dict[str, OMAny]:
    """The OpenMath trees, built the way a caller builds them."""
    from scscp.openmath import OMApplication, OMInteger, OMSymbol, OMVariable

    list1 = OMSymbol("list1", "list")
    ints = OMApplication(list1, tuple(OMInteger(i % 1000) for i in range(100_000)))
    row = OMSymbol("linalg2", "matrixrow")
    matrix = OMApplication(
        OMSymbol("linalg2", "matrix"),
        tuple(
            OMApplication(row, tuple(OMInteger((i * j) % 97 - 48) for j in range(200)))
            for i in range(200)
        ),
    )
    rng = random.Random(2026)
    perm = OMSymbol("permut1", "permutation")
    perms = []
    for _ in range(1000):
        images = list(range(1, 101))
        rng.shuffle(images)
        perms.append(OMApplication(perm, tuple(OMInteger(i) for i in images)))
    nested: OMAny = OMInteger(1)
    plus, x = OMSymbol("arith1", "plus"), OMVariable("x")
    for _ in range(50):
        nested = OMApplication(plus, (nested, x))
    return {
        "ints": ints,
        "matrix": matrix,
        "perms": OMApplication(list1, tuple(perms)),
        "nested": nested,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="samples per measurement")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        run_theirs(args.worker, args.repeat)
        return 0

    sys.path.insert(0, str(HERE.parent))
    from scscp.openmath import decode, decode_binary, encode, encode_binary

    python = ensure_venv()
    trees = build_cases()
    ours: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="codec-bench-") as tmp:
        workdir = Path(tmp)
        for case, tree in trees.items():
            xml = encode(tree)
            binary = encode_binary(tree)
            assert decode(xml) == tree and decode_binary(binary) == tree
            (workdir / f"{case}.xml").write_bytes(xml)
            ours[case] = {
                "encode": best(partial(encode, tree), args.repeat),
                "decode": best(partial(decode, xml), args.repeat),
                "encode_binary": best(partial(encode_binary, tree), args.repeat),
                "decode_binary": best(partial(decode_binary, binary), args.repeat),
            }
        # The other side, in its own environment; run from the bench folder's parent so
        # that nothing of ours is importable there.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run(
            [
                str(python),
                str(Path(__file__).resolve()),
                "--worker",
                tmp,
                "--repeat",
                str(args.repeat),
            ],
            check=True,
            cwd=tmp,
            env=env,
        )
        theirs = json.loads((workdir / "theirs.json").read_text())
        for case, tree in trees.items():
            # Both encoders must have written the same object.
            assert decode((workdir / f"{case}.theirs.xml").read_bytes()) == tree, case

    print(
        f"{'case':34} {'op':7} {'openmath 0.3 (ms)':>17} {'ours XML (ms)':>14} "
        f"{'ratio':>7} {'ours binary (ms)':>17}"
    )
    worst = float("inf")
    for case, label in CASES.items():
        for op in ("encode", "decode"):
            t_theirs, t_ours = theirs[case][op], ours[case][op]
            ratio = t_theirs / t_ours
            worst = min(worst, ratio)
            print(
                f"{label:34} {op:7} {t_theirs * 1e3:17.2f} {t_ours * 1e3:14.2f} "
                f"{ratio:7.1f} {ours[case][op + '_binary'] * 1e3:17.2f}"
            )
    verdict = "ok" if worst >= MIN_RATIO else "TOO SLOW"
    print(f"lowest ratio {worst:.1f} (required >= {MIN_RATIO:g}): {verdict}")
    return 0 if worst >= MIN_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
