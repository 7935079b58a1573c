#!/usr/bin/env python3
"""Counts test results from meson's JSON logs and prints "N passed, M failed".

A doctest binary counts its test cases (from its summary line); any other test, or a binary
that died before printing a summary, counts as one result by its meson outcome.
"""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")


def count(test):
    """Returns (passed, failed) for one entry of a meson test log."""
    found = SUMMARY.findall(test.get("stdout", "") or "")
    ok = test.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    if not found:
        return (1, 0) if ok else (0, 1)
    _, passed, failed = (int(x) for x in found[-1])
    if not ok and failed == 0:
        failed = 1  # crashed or timed out after its summary
    return passed, failed


def main(paths):
    passed = failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as log:
            for line in log:
                p, f = count(json.loads(line))
                passed += p
                failed += f
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
