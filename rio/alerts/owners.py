"""Where each owner's alerts go: a YAML file (`RIO_OWNERS_FILE`) and/or a mapping in settings.

Owners are recorded by name ("NHS England"); the directory maps names to addresses. Names
match ignoring case and runs of spaces. An owner with no address is reported by each run
and their alerts wait, pending, until one is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import yaml

from rio.domain.access import owner_key
from rio.errors import ConfigurationError


class OwnersFileError(ConfigurationError):
    """The owners file (RIO_OWNERS_FILE) or RIO_OWNER_EMAILS cannot be read, or says
    something that is not an address."""


@dataclass(frozen=True)
class OwnerDirectory:
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(
        cls, file: Path | None = None, mapping: Mapping[str, Any] | None = None
    ) -> OwnerDirectory:
        """The file's entries, then the settings mapping's (which win for the same owner)."""
        entries: dict[str, tuple[str, ...]] = {}
        if file is not None:
            try:
                data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as error:
                raise OwnersFileError(
                    f"RIO_OWNERS_FILE: cannot read the owners file {file}: {error}"
                ) from None
            if not isinstance(data, dict):
                raise OwnersFileError(
                    f"RIO_OWNERS_FILE {file}: the owners file must map each owner's name to an "
                    "address"
                )
            entries.update(_entries(data, f"RIO_OWNERS_FILE {file}"))
        entries.update(_entries(mapping or {}, "RIO_OWNER_EMAILS"))
        return cls(entries)

    def address_of(self, owner: str) -> tuple[str, ...]:
        return self.addresses.get(owner_key(owner), ())


def _entries(data: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    entries: dict[str, tuple[str, ...]] = {}
    for name, value in data.items():
        raw = [value] if isinstance(value, str) else value
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise OwnersFileError(f"{where}: {name!r} must map to an address or a list of them")
        addresses = tuple(parseaddr(address)[1] for address in raw)
        for address, bare in zip(raw, addresses, strict=True):
            if "@" not in bare:
                raise OwnersFileError(f"{where}: {address!r} (for {name!r}) is not an address")
        entries[owner_key(str(name))] = addresses
    return entries
