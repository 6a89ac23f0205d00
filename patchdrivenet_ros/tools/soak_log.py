# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's log as the soak tool reads it: lines, their kinds, and throttling.

The node writes ROS log lines (``[WARN] [1712345678.123] [name]: message``, the rcutils format
the tool sets for its node processes) and whatever libraries print on their own (OpenCV,
libjpeg, torch). ``LogTail`` follows the log file and stamps each line when it appears; a ROS
line keeps its own stamp. A *kind* groups the lines one cause produces: a refused frame's
reason class, or the line with its numbers blanked. ``throttle_report`` finds the kinds that
logged more than once within a throttle period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
import re
import threading
import time

ROS_FORMAT = '[{severity}] [{time}] [{name}]: {message}'
"""RCUTILS_CONSOLE_OUTPUT_FORMAT of the node processes (rcutils' default, set explicitly)."""
_ROS_LINE = re.compile(r'^\[(?P<severity>[A-Z]+)\] \[(?P<time>\d+(?:\.\d+)?)\] '
                       r'\[(?P<name>[^\]]*)\]: (?P<message>.*)$')
_NUMBERS = re.compile(r'0x[0-9a-fA-F]+|\d+(?:\.\d+)?')
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
LOUD = frozenset({'WARN', 'ERROR', 'FATAL'})
"""ROS severities that count as complaints (INFO lines report changes and are not checked)."""
BAD_INPUT_REASONS = (
    ('unsupported encoding', 'unsupported encoding'),
    ('cv_bridge cannot convert', 'unsupported encoding'),
    ('is below width x channels', 'step below width x channels'),
    ('data holds', 'data shorter than the image'),
    ('empty image (', 'zero width or height'),
    ('needs an even width', 'odd width'),
    ('cannot decode', 'undecodable compressed data'),
    ('empty ', 'empty compressed data'),
)
"""(text in the refusal, kind) in the order tried; the node's reasons (conversions.py)."""


@dataclass(frozen=True)
class LogLine:
    """One line of a node's output and when it was written (wall clock, seconds)."""

    time_s: float
    text: str


def template(text: str) -> str:
    """Return ``text`` with numbers and quoted parts blanked: one template per cause."""
    return _NUMBERS.sub('#', _QUOTED.sub("'…'", text)).strip()


def parse(line: LogLine) -> tuple[str, str, float]:
    """Return (source, kind, time): source 'node' (a ROS line, its own stamp) or 'library'."""
    match = _ROS_LINE.match(line.text)
    if match is None:
        return 'library', template(line.text), line.time_s
    severity, message = match['severity'], match['message']
    if 'dropping a frame' in message:
        reason = message.split(': ', 1)[-1]
        kind = next((k for text, k in BAD_INPUT_REASONS if text in reason), template(reason))
        return 'node', f'{severity} bad input: {kind}', float(match['time'])
    return 'node', f'{severity} {template(message)}', float(match['time'])


def is_complaint(line: LogLine) -> bool:
    """Whether a line is checked for throttling: ROS WARN and above, or library output."""
    match = _ROS_LINE.match(line.text)
    return bool(line.text.strip()) and (match is None or match['severity'] in LOUD)


@dataclass(frozen=True)
class KindReport:
    """How often one kind of line was written, and its closest two lines."""

    source: str
    kind: str
    lines: int
    min_gap_s: float  # inf with one line
    example: str


def throttle_report(lines: list[LogLine], period_s: float, slack_s: float = 0.3
                    ) -> tuple[list[KindReport], list[KindReport]]:
    """Return (every complaint kind, those written twice within ``period_s - slack_s``)."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    examples: dict[tuple[str, str], str] = {}
    for line in lines:
        if not is_complaint(line):
            continue
        source, kind, when = parse(line)
        times[(source, kind)].append(when)
        examples.setdefault((source, kind), line.text[:200])
    reports = []
    for (source, kind), stamps in sorted(times.items()):
        stamps.sort()
        gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
        reports.append(KindReport(source, kind, len(stamps), min(gaps, default=float('inf')),
                                  examples[(source, kind)]))
    return reports, [r for r in reports if r.min_gap_s < period_s - slack_s]


class LogTail:
    """Follow a growing log file in a thread; stamp each complete line as it appears."""

    def __init__(self, path: Path, poll_s: float = 0.1) -> None:
        self._path = path
        self._poll_s = poll_s
        self._lines: list[LogLine] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._offset = 0
        self._partial = b''
        self._thread = threading.Thread(target=self._run, name='log-tail', daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._path.open('rb') as stream:
                stream.seek(self._offset)
                chunk = stream.read()
        except FileNotFoundError:
            return
        self._offset += len(chunk)
        *complete, self._partial = (self._partial + chunk).split(b'\n')
        now = time.time()
        with self._lock:
            self._lines += [LogLine(now, raw.decode('utf-8', 'replace')) for raw in complete]

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            self._read()

    def lines(self) -> list[LogLine]:
        """Return the lines read so far."""
        with self._lock:
            return list(self._lines)

    def close(self) -> list[LogLine]:
        """Read what is left (with the last, unterminated line) and return every line."""
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._read()
        if self._partial:
            with self._lock:
                self._lines.append(LogLine(time.time(), self._partial.decode('utf-8', 'replace')))
            self._partial = b''
        return self.lines()


__all__ = ['LogLine', 'LogTail', 'KindReport', 'ROS_FORMAT', 'is_complaint', 'parse',
           'template', 'throttle_report']
