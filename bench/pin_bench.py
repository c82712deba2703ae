"""What checking a PIN costs at the door, and what it costs a thief who copied the gallery (prints
figures; never a timed test).

    .venv/bin/python bench/pin_bench.py [--runs 15]

- **One keypad entry**: core.door.factors.pin_answer, the PIN and the duress PIN both checked
  (salted scrypt, core.gallery.secret), for a right PIN, the duress PIN, a wrong PIN and a
  person with no duress PIN: the medians should be the same (the time tells nothing).
- **An offline guess**: one scrypt of one record, so the time to try every 4, 6 and 8 digit PIN
  of one person on this machine, one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.door.factors import pin_answer  # noqa: E402
from core.gallery.secret import hash_secret, matches  # noqa: E402


def median_ms(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    pin, duress = hash_secret("4821"), hash_secret("9135")
    for label, records, answer in (
        ("right PIN", (pin, duress), "4821"),
        ("duress PIN", (pin, duress), "9135"),
        ("wrong PIN", (pin, duress), "0000"),
        ("wrong PIN, no duress PIN set", (pin, None), "0000"),
    ):
        print(f"keypad entry, {label:<30} median {median_ms(lambda r=records, a=answer: pin_answer(*r, a), args.runs):7.1f} ms")
    guess = median_ms(lambda: matches(pin, "0000"), args.runs) / 1000
    for digits in (4, 6, 8):
        print(
            f"offline: every {digits}-digit PIN of one person  {guess * 10**digits / 3600:10.1f} h on one core ({guess * 1000:.0f} ms a guess)"
        )


if __name__ == "__main__":
    main()
