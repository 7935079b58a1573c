#!/usr/bin/env python3
"""Counts test results from meson's JSON log and prints "N passed, M failed".

A doctest binary counts its test cases (from its summary line); any other test, or a binary
that died before printing a summary, counts as one result by its meson outcome.
"""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")


def main(path):
    passed = failed = 0
    with open(path, encoding="utf-8") as log:
        for line in log:
            test = json.loads(line)
            found = SUMMARY.findall(test.get("stdout", "") or "")
            ok = test.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
            if found:
                _, p, f = (int(x) for x in found[-1])
                passed += p
                failed += f
                if not ok and f == 0:
                    failed += 1  # crashed or timed out after its summary
            elif ok:
                passed += 1
            else:
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
