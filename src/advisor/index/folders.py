"""Versioned build folders: a build writes ``<index_dir>/.<name>-<stamp>`` aside, flushes it to
disk and swaps it in by pointing the link ``<index_dir>/<name>`` at it with one atomic rename, so
a build killed half-way leaves the previous index in place; superseded folders are removed.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.errors import IndexCorruptError


@contextmanager
def new_build(index_dir: Path, name: str) -> Iterator[Path]:
    """A fresh versioned folder to write a build of ``name`` into, swapped in when the block
    ends (every file flushed to disk first) and removed if it fails. The caller holds the
    name's build lock (``lock.build_lock``)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6}"
    target = index_dir / f".{name}-{stamp}"
    target.mkdir()
    try:
        yield target
        # On disk before the link names it: after a power cut the link never points to a
        # folder whose files are still only in the page cache.
        sync_tree(target)
        swap_in(index_dir / name, target)
        _sync_dir(index_dir)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    _remove_stale(index_dir, name, keep=target)


def swap_in(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` with one atomic rename."""
    if link.exists() and not link.is_symlink():
        raise IndexCorruptError(f"{link} is a plain folder, not an index link: move it away")
    tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(target.name)
    os.replace(tmp, link)


def sync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then each folder itself."""
    for root, _dirs, files in os.walk(folder):
        for file in files:
            fd = os.open(os.path.join(root, file), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _sync_dir(Path(root))


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(index_dir: Path, name: str, *, keep: Path) -> None:
    # The caller holds this name's build lock, so no other build is writing any of these:
    # each is a superseded build or one whose process died. Only folders of exactly this
    # name ('.default-20250101120000-42-123456'): building 'eval' never touches 'eval-3f2a'.
    pattern = re.compile(rf"\.{re.escape(name)}-\d{{14}}-\d+-\d+")
    for old in index_dir.iterdir():
        if old != keep and pattern.fullmatch(old.name) and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
