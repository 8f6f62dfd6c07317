"""Checks that a log file is JSON lines: `json_log_lines.py FILE`.

Every line must be strict UTF-8 holding one JSON object with string fields time, level and
msg, and the file must not be empty. Prints the first offending lines and exits 1, else
prints nothing and exits 0.
"""

from __future__ import annotations

import json
import sys

# Enough offending lines to see the pattern; the rest would only bury it.
MAX_REPORTED = 10
# A bad line is shown only this far: log lines can be long, one is enough to recognise.
SHOWN_BYTES = 300


def problems(path: str) -> list[str]:
    bad = []
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        bad.append("(log is empty)")
    for number, raw in enumerate(lines, 1):
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("time", "level", "msg")):
                raise ValueError("not an object with string time, level, msg")
        except Exception as error:
            bad.append(f"line {number}: {error}: {raw[:SHOWN_BYTES]!r}")
    return bad


if __name__ == "__main__":
    found = problems(sys.argv[1])
    print("\n".join(found[:MAX_REPORTED]))
    sys.exit(1 if found else 0)
