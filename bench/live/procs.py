"""The measuring of processes: the server's memory, CPU (by thread) and sockets, this
client's CPU, the whole machine's, and what the machine and the checkout are.

Everything comes from /proc (Linux). Part of ``bench/live_gaps.py``, which re-exports it.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_times(pid: int) -> tuple[float, float]:
    """utime and stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # fields 14 and 15 of stat(5)


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of the main thread (uvicorn's event loop) and of all other threads
    (the writer, the hub's ticker, the to_thread pool) together. The others are the
    process's total less the main thread's: the total keeps the time of threads that have
    ended (the to_thread pool's come and go), a sum over the living ones would not."""
    fields = (Path(f"/proc/{pid}/task/{pid}/stat")).read_text().rsplit(")", 1)[1].split()
    main = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return {"event loop (main thread)": main, "other threads": cpu_seconds(pid) - main}


def socket_fds(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """CPU seconds spent by the whole machine (every core, every process) so far."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def _listed(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


class Servers:
    """The server processes' figures, summed (one process, or K behind Redis)."""

    def __init__(self, pids: list[int]):
        self.pids = pids

    def rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def kernel(self) -> float:
        return sum(cpu_times(pid)[1] for pid in self.pids)

    def threads(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid in self.pids:
            for name, seconds in thread_cpu(pid).items():
                out[name] = out.get(name, 0.0) + seconds
        return out

    def sockets(self) -> int:
        return sum(socket_fds(pid) for pid in self.pids)


def uptime() -> str:
    """What `uptime` says (the machine is shared: every figure goes with its load)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine() -> dict:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
