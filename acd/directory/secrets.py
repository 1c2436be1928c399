"""The SIP passwords of the directory's phones: generated (never fixed), kept with the other generated secrets in
the 0600 secrets file (dialplans.secrets), never listed by the API; a rotation returns the new one once."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dialplans.secrets import new_phone_secret, save_phone_secrets


class PhoneSecrets:
    """The phones' passwords: `known` is the live map the service started with (the secrets file's `agents`);
    it is changed in place, so what was rendered from it at start follows too."""

    def __init__(self, path: Path, known: dict[str, str]) -> None:
        self._path = path
        self._known = known

    def get(self, phone: str) -> str | None:
        return self._known.get(phone)

    def ensure(self, phones: Iterable[str]) -> None:
        """A password for each phone that has none yet (one write of the file for all)."""
        fresh = {phone: new_phone_secret() for phone in phones if phone not in self._known}
        if fresh:
            save_phone_secrets(self._path, fresh)
            self._known.update(fresh)

    def rotate(self, phone: str) -> str:
        secret = new_phone_secret()
        save_phone_secrets(self._path, {phone: secret})
        self._known[phone] = secret
        return secret

    def of(self, phones: Iterable[str]) -> dict[str, str]:
        """Phone → password for these phones (those without one are left out)."""
        return {phone: self._known[phone] for phone in phones if phone in self._known}
