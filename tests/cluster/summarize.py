"""The README's results table from the rounds that uninstall_rounds.py recorded (--results).

  python3 tests/cluster/summarize.py tests/cluster/results/*.jsonl

One row per file: rounds, Jobs that completed, pods that ended Failed, attempts whose flag check
ran before the Settings LIST was answered (the race lost, whether or not a retry saved it),
and the Jobs' durations.
"""

import json
import pathlib
import statistics
import sys


def row(path: pathlib.Path) -> str:
    rounds = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    seconds = [r["seconds"] for r in rounds]
    margins = [m for r in rounds for m in r.get("settings_list_margins", [])]
    measured = "settings_list_margins" in rounds[0]
    lost = sum(1 for m in margins if m is None or m < 0)
    failed = sum(len(r["failed"]) for r in rounds)
    return (f"| {path.stem} | {len(rounds)} | {sum(r['outcome'] == 'Complete' for r in rounds)} "
            f"| {failed} ({100 * failed / len(rounds):.0f} %) | {sum(1 for r in rounds if r['failed'])} "
            f"| {f'{lost} of {len(margins)}' if measured else 'not measured'} "
            f"| {statistics.median(seconds):.1f} | {max(seconds):.1f} |")


def main() -> int:
    print("| run | rounds | Jobs completed | pods Failed (per round) | rounds with a Failed pod "
          "| checks before the Settings LIST | Job s p50 | Job s max |")
    print("|---|---|---|---|---|---|---|---|")
    for name in sys.argv[1:]:
        print(row(pathlib.Path(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
