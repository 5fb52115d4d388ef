"""Who may read what deskpulse writes: everything under ``DESKPULSE_HOME`` is its owner's alone.

The warehouse, dlt state and load packages, quarantine, logs, Dagster storage and serving files
hold clients' data. The entry points (the ``deskpulse`` command, the Dagster code location) set
the process umask to 077 before anything is written, so every file is created 0600 and every
folder 0700 whatever the login's umask (usually 022); dbt and ``dagster dev``, started from there,
inherit it. Serving files are made read-only (0400) once written.

One exception, asked for explicitly: ``DESKPULSE_SERVING_GROUP`` names a group (say, the one of a
BI tool's service account) that may read the serving files. They then belong to that group with
mode 0440, their folders 0750, and ``DESKPULSE_HOME`` itself 0710, so the group can pass through
it to ``serving/`` without listing or reading anything else. ``exposed`` lists whatever is
readable beyond that, for ``deskpulse check``.
"""

from __future__ import annotations

import grp
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from pipelines.ingest.config import ConfigError
from pipelines.ingest.home import home, serving_dir

PRIVATE_UMASK = 0o077
SERVING_GROUP_ENV = "DESKPULSE_SERVING_GROUP"
GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
SERVING_FILE, SHARED_FILE = 0o400, 0o440
SHARED_FOLDER, SHARED_HOME = 0o750, 0o710


def make_private() -> None:
    """From now on this process and its children create files 0600 and folders 0700."""
    os.umask(PRIVATE_UMASK)


def serving_group() -> int | None:
    """The id of the group ``DESKPULSE_SERVING_GROUP`` names, if set: it must exist and hold the
    user running deskpulse (only a member may hand a file to a group)."""
    name = os.environ.get(SERVING_GROUP_ENV)
    if not name:
        return None
    if not GROUP_NAME.fullmatch(name):
        raise ConfigError(f"{SERVING_GROUP_ENV} must name a group, such as bi_readers")
    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        raise ConfigError(f"{SERVING_GROUP_ENV}: there is no group {name!r} on this machine") from None
    if gid != os.getegid() and gid not in os.getgroups():
        raise ConfigError(f"{SERVING_GROUP_ENV}: the user running deskpulse is not in group {name!r}, "
                          "so it cannot share the serving files with it")
    return gid


def seal_serving_file(path: Path) -> None:
    """Make a serving file, written and closed, read-only: for its owner, and for the serving group
    if one is set (with the folders on the way to it opened just enough for that group)."""
    gid = serving_group()
    if gid is None:
        path.chmod(SERVING_FILE)
        return
    os.chown(path, -1, gid)
    path.chmod(SHARED_FILE)
    folder = path.parent
    while folder != home() and serving_dir() in (folder, *folder.parents):
        os.chown(folder, -1, gid)
        folder.chmod(SHARED_FOLDER)
        folder = folder.parent
    os.chown(home(), -1, gid)
    home().chmod(SHARED_HOME)


def exposed(root: Path | None = None) -> list[Path]:
    """Everything under ``root`` (``DESKPULSE_HOME``) that a user other than its owner may read,
    write or enter, beyond what ``DESKPULSE_SERVING_GROUP`` shares."""
    root = root or home()
    gid = serving_group()
    shared_tree = serving_dir() if root == home() else None
    found = []
    for path in _walk(root):
        try:
            info = path.lstat()
        except FileNotFoundError:  # a run removed it meanwhile
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        allowed = 0
        if gid is not None and info.st_gid == gid and shared_tree is not None:
            if path == root:
                allowed = SHARED_HOME & 0o070
            elif shared_tree == path or shared_tree in path.parents:
                allowed = (SHARED_FOLDER if stat.S_ISDIR(info.st_mode) else SHARED_FILE) & 0o070
        if mode & 0o077 & ~allowed:
            found.append(path)
    return found


def _walk(root: Path) -> Iterator[Path]:
    yield root
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            yield Path(folder) / name
