"""Per-account planning: which accounts get topics and which fail up front (docs/domain.md §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.params import GenerationParams
from contenthub_dagster.domain.topics import TopicPlan, build_topics


def unknown_account_error(account_id: int) -> str:
    return f"账号 {account_id} 不存在"


def inactive_account_error(account_id: int) -> str:
    return f"账号 {account_id} 已停用"


@dataclass(frozen=True)
class AccountPlan:
    """What one account gets in this run: topics, or an error that fails all of them."""

    account_id: int
    account: Account | None
    topics: list[TopicPlan] = field(default_factory=list)
    error: str | None = None


def plan_accounts(params: GenerationParams, found: Mapping[int, Account]) -> list[AccountPlan]:
    """Plan every requested account in order; unknown and inactive ones become errors."""
    plans = []
    for account_id in params.account_ids:
        account = found.get(account_id)
        if account is None:
            plans.append(AccountPlan(account_id, None, error=unknown_account_error(account_id)))
        elif not account.is_active:
            plans.append(AccountPlan(account_id, account, error=inactive_account_error(account_id)))
        else:
            plans.append(AccountPlan(account_id, account, topics=build_topics(account, params)))
    return plans
