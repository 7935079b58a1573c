#!/usr/bin/env python3
"""Counts test results from meson's JSON logs and prints "N passed, M failed" (", K skipped").

A doctest binary counts its test cases (from its summary line); any other test, or a binary
that died before printing a summary, counts as one result by its meson outcome. doctest's own
"skipped" figure is not counted: it includes the cases a filter (-tc, -ts) left to another run
of the same binary, so summing it over runs would count those as skipped although they ran.
A test that meson reports as SKIP (its program exited with 77) counts as skipped, not passed.
The closing line is "N passed, M failed", with ", K skipped" appended only when K > 0.
"""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")


def count(test):
    """Returns (passed, failed, skipped) for one entry of a meson test log."""
    result = test.get("result")
    if result == "SKIP":
        return 0, 0, 1
    ok = result in ("OK", "EXPECTEDFAIL")
    found = SUMMARY.findall(test.get("stdout", "") or "")
    if not found:
        return (1, 0, 0) if ok else (0, 1, 0)
    _, passed, failed = (int(x) for x in found[-1])
    if not ok and failed == 0:
        failed = 1  # crashed or timed out after its summary
    return passed, failed, 0


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        with open(path, encoding="utf-8") as log:
            for line in log:
                p, f, s = count(json.loads(line))
                passed += p
                failed += f
                skipped += s
    line = f"{passed} passed, {failed} failed"
    if skipped > 0:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
