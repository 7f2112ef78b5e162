"""One build of an index name at a time: a file lock beside the index that names its holder.

The CLI, the server's build-if-missing, the Kubernetes index Job and the BEIR builds all take
it, so two builds never write the same name and a waiting one can say whom it waits for.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.errors import IndexBusyError


@contextmanager
def build_lock(
    index_dir: Path,
    name: str,
    *,
    timeout: float = 3600.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the build lock of ``index_dir/name``; say who holds it while waiting."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / f".{name}.lock"))
    owner = index_dir / f".{name}.lock.owner"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _lock_holder(owner)
        if on_wait is not None:
            on_wait(f"index {name}: waiting for the build by {holder} to finish")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise IndexBusyError(
                f"index {index_dir / name} is still being built by {_lock_holder(owner)} after "
                f"{timeout:.0f} s; wait for it or stop it, then run `advisor index` again"
            ) from None
    try:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        owner.write_text(json.dumps(record), encoding="utf-8")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def _lock_holder(owner: Path) -> str:
    """Who holds the lock, from the record its holder writes just after taking it."""
    for _ in range(20):  # the holder may be between taking the lock and writing the record
        try:
            record = json.loads(owner.read_text(encoding="utf-8"))
            return f"process {record['pid']} on {record['host']} (since {record['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            time.sleep(0.01)
    return "another process"
