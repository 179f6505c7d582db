"""Where the Cloud API instances' credentials come from (the secret store in production)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from ponte.domain.cloud import CloudCredentials


class CloudCredentialStore(ABC):
    @abstractmethod
    def credentials(self, secret_name: str | None) -> CloudCredentials | None:
        """The credentials the named secret holds; None when it is missing or incomplete."""
