"""gunicorn with the repository's gunicorn.conf.py on a free loopback port, for benchmarks.

BENCH_SERVER_LOGS names a folder where each server's log is kept when it stops.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


class Gunicorn:
    def __init__(self, target: str, env: dict):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # The server's log, read back when a benchmark meets an error.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", target],
            cwd=ROOT,
            env={**os.environ, **env, "BIND": f"127.0.0.1:{self.port}"},
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def errors(self, last: int = 3) -> list[str]:
        """The last logged errors (tracebacks' final lines and 5xx requests)."""
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").splitlines()
        errors = [line for line in lines if '"ERROR"' in line or "Error" in line][-last:]
        return [line[:160] + " … " + line[-200:] if len(line) > 400 else line for line in errors]

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) the server's processes have used so far: the
        master and its workers, which share its process group."""
        ticks = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            # After the command's name: state, ppid, pgrp, ..., utime (12th), stime (13th).
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == self.process.pid:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    async def wait_ready(self, path: str) -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}{path}") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        if folder := os.environ.get("BENCH_SERVER_LOGS"):  # kept to read the requests' times
            self.log.seek(0)
            (Path(folder) / f"gunicorn-{self.port}.log").write_bytes(self.log.read())
        self.log.close()
