"""The first user: a service with no users at all makes `admin` with a generated password, kept in a 0600 file
in the service's home and changed at first sign-in; the file goes once that is done. No fixed password."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hotline.core.accounts.users import NewUser, Users
from hotline.core.web.tokens import Actor

log = logging.getLogger(__name__)
FIRST = Actor("first-run", "admin")


async def ensure_first_admin(users: Users, path: Path) -> bool:
    """Create `admin` when there is no user, writing its password to `path`; True when it did. A kept file
    whose password has since been changed is removed."""
    if await users.count() > 0:
        admin = await users.named("admin")
        if path.exists() and (admin is None or not admin.must_change_password):
            path.unlink()  # its one-time password no longer signs anyone in
        return False
    _, password = await users.create(NewUser("admin", "admin", "管理员"), by=FIRST)
    assert password is not None
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    log.info("first sign-in: user admin, password in %s", path)
    return True
