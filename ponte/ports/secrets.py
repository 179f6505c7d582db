from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping


class SecretNotFoundError(Exception):
    """The secret store has no such secret, or it lacks the field asked for."""


class SecretStore(ABC):
    """Named secrets, each a JSON object of string fields (AWS Secrets Manager in production)."""

    @abstractmethod
    def get(self, name: str) -> Mapping[str, str]: ...

    def field(self, name: str, key: str) -> str:
        value = self.get(name).get(key)
        if not value:
            raise SecretNotFoundError(f"secret {name!r} has no field {key!r}")
        return value
