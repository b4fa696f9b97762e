"""The one settings object: defaults, blank values, bad numbers, and the mode rule."""

from __future__ import annotations

import pytest

from contenthub_dagster.settings import SettingsError, env_name, get_settings

pytestmark = pytest.mark.unit


def test_defaults_and_blank_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTHUB_QUEUE", "   ")
    config = get_settings()
    assert (config.queue, config.queue_prefix, config.timezone) == (
        "content-generation",
        "bull",
        "Asia/Shanghai",
    )
    assert (config.retry_backoff_ms, config.generation_timeout) == (30_000, 2700.0)
    assert env_name("openai_api_key") == "OPENAI_API_KEY"
    assert env_name("redis_url") == "CONTENTHUB_REDIS_URL"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "CONTENTHUB_RETRY_BACKOFF_MS",
            "-5",
            "CONTENTHUB_RETRY_BACKOFF_MS must be positive, got '-5'",
        ),
        (
            "CONTENTHUB_CREATOR_TIMEOUT",
            "soon",
            "CONTENTHUB_CREATOR_TIMEOUT must be a number, got 'soon'",
        ),
        ("CONTENTHUB_MODE", "fast", "CONTENTHUB_MODE: Input should be 'queue' or 'sync'"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        get_settings()
    assert message in str(raised.value)


def test_secrets_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTHUB_MODE", "sk-secret-value")
    with pytest.raises(SettingsError) as raised:
        get_settings()
    assert "sk-secret-value" not in str(raised.value)


@pytest.mark.parametrize(
    ("env", "mode", "problem"),
    [
        ({}, "sync", None),  # the embedded demo database
        ({"CONTENTHUB_REDIS_URL": "redis://r"}, "queue", None),
        (
            {"CONTENTHUB_DATABASE_URL": "postgresql://d", "CONTENTHUB_REDIS_URL": "redis://r"},
            "queue",
            None,
        ),
        ({"CONTENTHUB_DATABASE_URL": "postgresql://d"}, "sync", "CONTENTHUB_MODE=sync"),
        (
            {"CONTENTHUB_DATABASE_URL": "postgresql://d", "CONTENTHUB_MODE": "sync"},
            "sync",
            "CONTENTHUB_GENERATOR set explicitly",
        ),
        (
            {
                "CONTENTHUB_DATABASE_URL": "postgresql://d",
                "CONTENTHUB_MODE": "sync",
                "CONTENTHUB_GENERATOR": "offline",
            },
            "sync",
            None,
        ),
        ({"CONTENTHUB_MODE": "queue"}, "queue", "CONTENTHUB_MODE=queue needs CONTENTHUB_REDIS_URL"),
        ({"CONTENTHUB_MODE": "sync", "CONTENTHUB_REDIS_URL": "redis://r"}, "sync", None),
    ],
)
def test_generation_mode(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], mode: str, problem: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    chosen, why = get_settings().generation_mode()
    assert chosen == mode
    if problem is None:
        assert why is None
    else:
        assert why is not None and problem in why


def test_worker_options_are_settings_named_by_their_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from contenthub_dagster.cli.worker import OPTIONS, worker_command
    from contenthub_dagster.settings import Settings

    assert set(OPTIONS.values()) <= set(Settings.model_fields)
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CONTENTHUB_WORKER_STALLED_MS", "50")
    result = CliRunner().invoke(worker_command, ["--concurrency", "0", "--timeout", "x"])
    assert result.exit_code == 1
    assert "--concurrency must be at least 1, got '0'" in result.output
    assert "--timeout must be a number, got 'x'" in result.output
    assert "CONTENTHUB_WORKER_STALLED_MS must be at least 100, got '50'" in result.output
    monkeypatch.setenv("CONTENTHUB_WORKER_CONCURRENCY", "3")
    monkeypatch.delenv("CONTENTHUB_WORKER_STALLED_MS")
    assert get_settings({"worker_concurrency": "7"}).worker_concurrency == 7  # the option wins
