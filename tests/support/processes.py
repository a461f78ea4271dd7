"""Stopping an Airflow stack started in a process group of its own (standalone, the scale profile)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

import psutil


def stop_group(proc: subprocess.Popen, grace_s: float = 60.0) -> list[int]:
    """TERM the process group (as Ctrl-C would), KILL what is left; returns pids that had to be killed.

    Task processes run in process groups of their own (Airflow's supervisor does that), so the
    process's descendants are collected too, not only its group.
    """
    members: set[psutil.Process] = set()
    if proc.poll() is None:
        members.update(psutil.Process(proc.pid).children(recursive=True))
    for candidate in psutil.process_iter():
        try:
            if os.getpgid(candidate.pid) == proc.pid:
                members.add(candidate)
        except (ProcessLookupError, psutil.Error):
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    _, alive = psutil.wait_procs(list(members), timeout=30)
    for leftover in alive:
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    return [p.pid for p in alive]
