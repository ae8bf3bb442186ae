"""Settings of the `book` job (section [book], env BOXOFFICE_BOOK_<KEY>)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class BookSettings(BaseModel):
    """Settings of the book job."""

    username: str | None = Field(None, description="scheduler login (email or user name)")
    password: SecretStr | None = Field(None, description="scheduler password")
    totp_secret: SecretStr | None = Field(None, description="base32 TOTP secret for 2FA")

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return [s.get_secret_value() for s in (self.password, self.totp_secret) if s is not None]
