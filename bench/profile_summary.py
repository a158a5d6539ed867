"""Summarise py-spy's folded stacks (``bench/signaling_load.py --profile DIR``).

For each profile file: the share of samples spent in each function itself (self time) and
under it (inclusive), top entries only, so docs/performance.md can say where the time goes.

    .venv/bin/python bench/profile_summary.py /tmp/profile/memory-relay-0.txt
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# "function (path/to/file.py:123)" → "function (file.py)": lines vary inside one function.
FRAME = re.compile(r"^(?P<name>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match["file"]
    parts = Path(file).parts
    # Keep the package and module: "channels/consumer.py", "signaling/consumer.py".
    tail = "/".join(parts[-2:]) if len(parts) >= 2 else file
    return f"{match['name']} ({tail})"


def summarise(path: Path, top: int) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";") if frame.strip()]
        if not frames:
            continue
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{path.name}: {total} samples"]
    lines.append("  self time:")
    for frame, count in self_time.most_common(top):
        lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    lines.append("  inclusive (project code and the server's layers):")
    interesting = [
        (frame, count)
        for frame, count in inclusive.most_common()
        if any(
            part in frame
            for part in (
                "signaling/",
                "rooms/",
                "accounts/",
                "channels/",
                "daphne/",
                "autobahn/",
                "django/db",
                "json",
                "orjson",
            )
        )
    ]
    for frame, count in interesting[:top]:
        lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, args.top))
        print()


if __name__ == "__main__":
    main()
