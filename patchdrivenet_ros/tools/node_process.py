# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A perception node in a process of its own, as the replay, demo and soak tools start it.

``NodeProcess`` runs ``python -m patchdrivenet_ros.ros.node --ros-args ...`` with its log in a
file it follows, reads its resident memory and stops it as Ctrl-C does.
"""

from __future__ import annotations

from collections.abc import Sequence
import os
from pathlib import Path
import signal
import subprocess
import sys

from patchdrivenet_ros.config import DEFAULT_NODE_NAME
from patchdrivenet_ros.tools.soak_log import ROS_FORMAT, LogLine, LogTail
from patchdrivenet_ros.tools.soak_stats import rss_bytes

STOP_TIMEOUT_S = 60.0


class NodeProcess:
    """A perception node in its own process; its output goes to ``log_path``, followed.

    ``params`` are ``name:=value`` settings (``-p``), ``remaps`` ``from:=to`` rules (``-r``),
    applied after ``params_file``.
    """

    def __init__(self, namespace: str, params: Sequence[str], log_path: Path,
                 params_file: Path | None = None, remaps: Sequence[str] = ()) -> None:
        self.namespace = namespace
        self.fqn = f'{namespace}/{DEFAULT_NODE_NAME}'
        self.log_path = log_path
        args = ['--ros-args', '-r', f'__ns:={namespace}']
        if params_file is not None:
            args += ['--params-file', str(params_file)]
        for param in params:
            args += ['-p', param]
        for remap in remaps:
            args += ['-r', remap]
        env = {**os.environ, 'RCUTILS_CONSOLE_OUTPUT_FORMAT': ROS_FORMAT,
               'PYTHONUNBUFFERED': '1'}
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open('wb') as log:
            self.process = subprocess.Popen(
                [sys.executable, '-m', 'patchdrivenet_ros.ros.node', *args],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        self._tail = LogTail(log_path)
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def rss(self) -> int | None:
        """Resident memory in bytes (None once it exited)."""
        return rss_bytes(self.pid) if self.alive() else None

    def lines(self) -> list[LogLine]:
        """Return the log lines written so far."""
        return self._tail.lines()

    def wait_exit(self, timeout_s: float) -> int | None:
        """Wait up to ``timeout_s`` for the process to end by itself; its status or None."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int:
        """Interrupt as Ctrl-C does (kill after STOP_TIMEOUT_S); return the exit status."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            if self.wait_exit(STOP_TIMEOUT_S) is None:
                self.process.kill()
        self.exit_code = self.process.wait()
        return self.exit_code

    def close(self) -> list[LogLine]:
        """Stop the process (when running) and return every line it wrote."""
        self.stop()
        return self._tail.close()


__all__ = ['NodeProcess']
