"""The crash test can fail: with fsync disabled it must report losses.

Runs test_crash_durability.py --eatmydata (mxgate under eatmydata, so every
fsync is a no-op and nothing mxgate writes reaches the image before a cut).
Passes only if that run ends with RESULT ... lost=N with N > 0 and exit 1,
i.e. the crash test caught acknowledged messages that a power cut lost.
Skips (77) when the crash test skips (not root, no loop mounts) or
eatmydata is not installed. See docs/durability.md.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import require, skip  # noqa: E402


def main():
    require("eatmydata")
    test = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_crash_durability.py")
    # Fewer rounds than the normal run: every round of this mode loses what
    # it acknowledged, so a few are plenty.
    cmd = [sys.executable, test, "--eatmydata", "--rounds", "5", "--host-base", "100"] + sys.argv[1:]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    out = r.stdout
    sys.stdout.write("\n".join(line for line in out.splitlines() if not line.startswith("LOST:")) + "\n")
    if r.returncode == 77:
        last = out.strip().splitlines()[-1] if out.strip() else ""
        skip("the crash test skipped: " + last.removeprefix("SKIP: "))
    m = re.search(r"^RESULT: mode=eatmydata\+power-cut rounds=(\d+) acked=(\d+) pairs=\d+ lost=(\d+)", out, re.M)
    ok = r.returncode == 1 and m is not None and int(m.group(3)) > 0
    if ok:
        print(f"PASS: with fsync disabled the crash test lost {m.group(3)} acknowledged deliveries "
              f"of {m.group(2)} acknowledged messages in {m.group(1)} rounds and failed, as it must")
        print("1 passed, 0 failed")
        sys.exit(0)
    sys.stderr.write(r.stderr[-4000:])
    print(f"FAIL: the crash test under eatmydata should have detected a loss "
          f"(exit {r.returncode}, result line {'found' if m else 'missing'})")
    print("0 passed, 1 failed")
    sys.exit(1)


if __name__ == "__main__":
    main()
