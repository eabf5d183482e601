"""The tools' process helpers: this process's memory, a free port, and ``app.py`` as a child to measure.

``benchmark``, ``stress`` and ``serving_profile`` all launch the app the same way: ``python app.py --port P
--host 127.0.0.1 ...`` in its own session (so stopping it stops exactly what was started), its output to a
temporary file read back only when something went wrong.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]


def memory() -> dict:
    """This process's resident memory in MiB: current (VmRSS) and peak (VmHWM)."""
    status = Path("/proc/self/status")
    if status.is_file():
        fields = {}
        for line in status.read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024  # kB → MiB
        if fields:
            return {"rss_mib": round(fields.get("VmRSS", 0.0), 1), "peak_rss_mib": round(fields.get("VmHWM", 0.0), 1)}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, kB elsewhere
    return {"rss_mib": None, "peak_rss_mib": round(peak_mib, 1)}


def process_memory(pid: int) -> dict:
    """Resident memory of another process (Linux /proc; empty elsewhere), in MiB."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except OSError:
        return {}
    mib = lambda key: round(int(fields[key].split()[0]) / 1024, 1) if key in fields else None  # noqa: E731
    return {"app_rss_mib": mib("VmRSS"), "app_peak_rss_mib": mib("VmHWM")}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(proc: subprocess.Popen, port: int, deadline: float) -> float:
    """Poll until ``port`` accepts connections; the time it did. Fails if the app exits or time runs out."""
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with code {proc.returncode} before serving")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.time()
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("app.py did not start serving in time")


def stop(proc: subprocess.Popen) -> None:
    """Stop a child started in its own session: its process group is exactly what was started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, 9)
            proc.wait(timeout=15)


@dataclass
class App:
    """``app.py`` running as a child process (``launch_app``)."""

    proc: subprocess.Popen
    port: int
    command: list[str]
    log: IO[str]
    started: float = field(default_factory=time.time)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def wait(self, timeout: float) -> float:
        """Until it serves (``wait_for_port``); the time it started to."""
        return wait_for_port(self.proc, self.port, self.started + timeout)

    def memory(self) -> dict:
        return process_memory(self.proc.pid)

    def output(self) -> str:
        """Everything it printed so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


def launch_app(app_args: list[str], env: dict | None = None) -> App:
    """``python app.py --port P --host 127.0.0.1 *app_args`` from the repository, in its own session."""
    port = free_port()
    command = [sys.executable, str(REPO / "app.py"), "--port", str(port), "--host", "127.0.0.1", *app_args]
    log = tempfile.TemporaryFile(mode="w+")
    started = time.time()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    return App(proc, port, command, log, started)
