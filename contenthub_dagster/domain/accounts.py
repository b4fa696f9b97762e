"""The account as the job sees it."""

from __future__ import annotations

from dataclasses import dataclass

NAME_FALLBACK = "账号"
DESCRIPTION_FALLBACK = "内容创作"


@dataclass(frozen=True)
class Account:
    """A ContentHub account: the fields the generation job reads."""

    id: int
    name: str | None
    description: str | None
    is_active: bool = True

    @property
    def display_name(self) -> str:
        return (self.name or "").strip() or NAME_FALLBACK

    @property
    def tone(self) -> str:
        return (self.description or "").strip() or DESCRIPTION_FALLBACK
