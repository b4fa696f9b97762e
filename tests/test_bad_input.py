"""Input that used to pass validation and then break (docs/domain.md §1, §2, §8).

Each file in ``tests/bad_input/`` is one case: a task file whose first comment lines say what
must be reported (``# expect:`` a substring of the reason, ``# task:`` the task, ``(file)`` for
an error of the whole file, ``# field:`` the field). Adding a case is adding a file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from contenthub_dagster.admin.trigger import (
    InvalidOverrideError,
    params_with_overrides,
    parse_overrides,
)
from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.params import MAX_TASKS_PER_RUN_DEFAULT, validate_params
from contenthub_dagster.domain.texts import (
    ACCOUNT_NAME_MAX_LENGTH,
    CATEGORY_MAX_LENGTH,
    KEYWORDS_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
)
from contenthub_dagster.domain.topics import CATEGORY_SUFFIXES, FALLBACK_SUFFIXES, build_topics
from contenthub_dagster.tasks import yaml_document
from contenthub_dagster.tasks.job_names import DAGSTER_DISALLOWED_NAMES, reserved_key_problem
from contenthub_dagster.tasks.loader import load_catalog
from contenthub_dagster.tasks.yaml_document import Loader, parse_document
from tests.cli_support import invoke
from tests.job_support import failure_message, task_job

pytestmark = pytest.mark.unit

CASES = Path(__file__).parent / "bad_input"

VALID = """\
tasks:
  - key: valid_neighbour
    name: 好邻居
    cron_expression: "0 8 * * *"
    params: {account_ids: [49], category: 技术}
"""


def expectations(case: Path) -> dict[str, str]:
    """The ``# name: value`` header lines of a case file."""
    found: dict[str, str] = {}
    for line in case.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# "):
            break
        name, _, value = line[2:].partition(":")
        found[name.strip()] = value.strip()
    return found


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_input_is_an_error_of_its_task_only(case: Path, tmp_path: Path) -> None:
    expected = expectations(case)
    task = "" if expected["task"] == "(file)" else expected["task"]
    folder = tmp_path / "tasks"
    folder.mkdir()
    bad = folder / case.name
    shutil.copy(case, bad)
    (folder / "valid.yaml").write_text(VALID, encoding="utf-8")

    catalog = load_catalog(folder)

    assert [t.key for t in catalog.tasks] == ["valid_neighbour"]
    assert catalog.errors, "the case loaded without an error"
    for error in catalog.errors:
        assert (error.source, error.task) == (str(bad), task), error
    assert any(
        e.field == expected["field"] and expected["expect"] in e.reason for e in catalog.errors
    ), [str(e) for e in catalog.errors]
    # The code location still loads, with the valid task's job.
    definitions = build_definitions(catalog)
    assert {j.name for j in definitions.resolve_all_job_defs()} >= {"valid_neighbour"}

    result = invoke(["tasks", "validate", "--file", str(folder)])
    assert result.exit_code == 1
    where = f"{bad}: task {task}" if task else str(bad)
    assert f"error: {where}: {expected['field']}: " in result.output
    assert expected["expect"] in result.output
    assert "1 task(s) loaded" in result.output


def test_every_case_has_its_expectations() -> None:
    cases = sorted(CASES.glob("*.yaml"))
    assert len(cases) >= 20
    for case in cases:
        assert {"expect", "task", "field"} <= expectations(case).keys(), case.name


# --- Task names Dagster reserves -----------------------------------------------------------


def test_reserved_names_cover_the_installed_dagster() -> None:
    from dagster._core.definitions.assets.job.asset_job import (
        IMPLICIT_ASSET_JOB_NAME,
        is_reserved_asset_job_name,
    )
    from dagster._core.definitions.utils import DISALLOWED_NAMES

    assert set(DISALLOWED_NAMES) <= DAGSTER_DISALLOWED_NAMES
    for name in (IMPLICIT_ASSET_JOB_NAME, "__anonymous_asset_job_x", *DISALLOWED_NAMES):
        assert reserved_key_problem(name) is not None, name
    assert is_reserved_asset_job_name(IMPLICIT_ASSET_JOB_NAME)


def test_a_task_may_be_keyed_like_the_code_locations_own_sensors(tmp_path: Path) -> None:
    own = ["task_definitions_sensor", "task_run_failure_sensor", "step_outputs_cleanup_sensor"]
    entries = [
        {"key": key, "name": key, "params": {"account_ids": [49]}, **cadence}
        for key in [*own, "run_housekeeping_sensor"]
        for cadence in [{"cron_expression": "0 8 * * *"}]
    ] + [
        {
            "key": "task_run_failure",
            "name": "i",
            "interval": 7,
            "interval_unit": "minutes",
            "params": {"account_ids": [49]},
        },
    ]
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump({"tasks": entries}), encoding="utf-8")
    catalog = load_catalog(path)
    assert catalog.errors == ()
    repository = build_definitions(catalog).get_repository_def()
    assert {e["key"] for e in entries} <= {j.name for j in repository.get_all_jobs()}
    assert set(own) <= {s.name for s in repository.sensor_defs}


# --- Template topics stay within their columns ---------------------------------------------


def test_template_topics_and_keywords_fit_their_columns() -> None:
    # The longest account name the accounts table holds, the longest category, the last index.
    account = Account(id=2**31 - 1, name="名" * ACCOUNT_NAME_MAX_LENGTH, description=None)
    for category in [*CATEGORY_SUFFIXES, "类" * CATEGORY_MAX_LENGTH, None]:
        params = validate_params(
            {
                "account_ids": [account.id],
                "category": category,
                "count_per_account": MAX_TASKS_PER_RUN_DEFAULT,
            }
        )
        last = build_topics(account, params)[-1]
        assert last.topic.endswith(f" {MAX_TASKS_PER_RUN_DEFAULT}")
        assert len(last.topic) <= TOPIC_MAX_LENGTH
        assert len(last.keywords) <= KEYWORDS_MAX_LENGTH
    longest_suffix = max(len(s) for s in (*FALLBACK_SUFFIXES, *CATEGORY_SUFFIXES["技术"]))
    # name + " - " + suffix + " " + index; name + "," + category + "," + suffix
    assert ACCOUNT_NAME_MAX_LENGTH + 3 + longest_suffix + 1 + 6 <= TOPIC_MAX_LENGTH
    assert ACCOUNT_NAME_MAX_LENGTH + 1 + CATEGORY_MAX_LENGTH + 1 + longest_suffix <= (
        KEYWORDS_MAX_LENGTH
    )


# --- Unknown categories: accepted, with a warning --------------------------------------------


def test_unknown_category_loads_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(VALID.replace("category: 技术", "category: 科技"), encoding="utf-8")
    catalog = load_catalog(path)
    assert [t.key for t in catalog.tasks] == ["valid_neighbour"]
    assert catalog.errors == ()
    (warning,) = catalog.warnings
    assert "category '科技' is not one of the known categories 技术, 产品, 运营, 营销" in warning
    result = invoke(["tasks", "validate", "--file", str(path)])
    assert result.exit_code == 0
    assert f"warning: {warning}" in result.output


def test_known_category_has_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_catalog(path).warnings == ()


# --- Sources with no tasks, keys in two files, symlinks -----------------------------------------


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# only a comment\n# and another\n", "tasks:\n", "tasks: []\n"]
)
def test_a_file_without_tasks_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(path)
    assert catalog.tasks == ()
    (error,) = catalog.errors
    assert (error.source, error.field) == (str(path), "tasks")
    assert "no tasks defined in the file" in error.reason
    result = invoke(["tasks", "validate", "--file", str(path)])
    assert result.exit_code == 1
    assert "no tasks defined" in result.output


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    result = invoke(["tasks", "validate", "--file", str(folder)])
    assert result.exit_code == 1
    assert f"error: {folder}: no *.yaml or *.yml files in the directory" in result.output
    (folder / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    (folder / "other.yml").write_text("", encoding="utf-8")
    result = invoke(["tasks", "validate", "--file", str(folder)])
    assert result.exit_code == 1
    assert "no tasks defined in any of its 2 file(s)" in result.output


def test_an_empty_file_beside_tasks_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "empty.yaml").write_text("", encoding="utf-8")
    (folder / "valid.yaml").write_text(VALID, encoding="utf-8")
    catalog = load_catalog(folder)
    assert ([t.key for t in catalog.tasks], catalog.errors) == (["valid_neighbour"], ())


def test_the_same_key_in_two_files_names_both(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "a.yaml").write_text(VALID, encoding="utf-8")
    (folder / "b.yaml").write_text(VALID, encoding="utf-8")
    (folder / "c.yaml").write_text(VALID.replace("valid_neighbour", "other"), encoding="utf-8")
    catalog = load_catalog(folder)
    assert [t.key for t in catalog.tasks] == ["other"]
    assert [e.source for e in catalog.errors] == [str(folder / "a.yaml"), str(folder / "b.yaml")]
    for error in catalog.errors:
        assert (error.task, error.field) == ("valid_neighbour", "key")
        assert error.reason == (
            f"'valid_neighbour' is defined 2 times: in {folder / 'a.yaml'} and {folder / 'b.yaml'}"
        )


def test_symlink_loops_and_broken_links_say_what_they_are(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    os.symlink("loop.yaml", loop)
    (error,) = load_catalog(loop).errors
    assert error.reason.startswith("symlink loop:"), error
    result = invoke(["tasks", "validate", "--file", str(loop)])
    assert result.exit_code == 1 and "symlink loop" in result.output

    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "valid.yaml").write_text(VALID, encoding="utf-8")
    os.symlink("a.yaml", folder / "b.yaml")
    os.symlink("b.yaml", folder / "a.yaml")
    os.symlink("gone.yaml", folder / "c.yaml")
    catalog = load_catalog(folder)
    assert [t.key for t in catalog.tasks] == ["valid_neighbour"]
    reasons = {Path(e.source).name: e.reason for e in catalog.errors}
    assert reasons["a.yaml"].startswith("symlink loop:")
    assert reasons["b.yaml"].startswith("symlink loop:")
    assert reasons["c.yaml"] == "broken symbolic link to gone.yaml (no such file)"


def test_duplicate_keys_are_found_with_the_c_loader_and_merges_still_work(tmp_path: Path) -> None:
    assert Loader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document, duplicates = parse_document(
        "base: &b {priority: 3, category: 技术}\n"
        "task:\n  <<: *b\n  priority: 4\n"  # a merge key then an override: not a duplicate
        "'1': a\n1: b\n"  # a string and an int key: different keys
    )
    assert duplicates == []
    assert document["task"] == {"priority": 4, "category": "技术"}


def test_a_document_nested_too_deeply_is_not_valid_yaml(tmp_path: Path) -> None:
    """Whatever the parser's own depth limit, the file is refused cleanly, and alone."""
    path = tmp_path / "tasks.yaml"
    path.write_text("tasks: " + "[" * 5000 + "x" + "]" * 5000 + "\n", encoding="utf-8")
    (error,) = load_catalog(path).errors
    assert error.reason.startswith("not valid YAML"), error


def test_the_pure_python_parser_refuses_a_too_deep_document_as_yaml_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the parser sets no depth limit, Python's stack does: still a YAML error."""
    monkeypatch.setattr(yaml_document, "Loader", yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError, match="nested too deeply"):
        parse_document("a: " + "[" * 5000 + "x" + "]" * 5000 + "\n")


@pytest.mark.parametrize("shared", ["", "anchor: &x {k: v}\nalias: *x\n"])
def test_repeated_keys_are_found_with_the_path_to_their_mapping(shared: str) -> None:
    """With or without anchors, each repeated key is found with the path to its mapping."""
    lines = shared.count("\n")
    text = shared + "a: 1\nb: {c: [1, {d: x, d: y}]}\na: 2\n"
    document, duplicates = parse_document(text)
    assert document["a"] == 2 and document["b"] == {"c": [1, {"d": "y"}]}
    assert [(d.path, d.key, d.line, d.first_line) for d in duplicates] == [
        (("b", "c", 1), "d", lines + 2, lines + 2),
        ((), "a", lines + 3, lines + 1),
    ]


# --- The same limits for a trigger --set and a run config override -------------------------------

OVERRIDES = [
    ("count_per_account=1000000000", "params.count_per_account", "less than or equal to 100000"),
    ("account_ids=[49, 2147483648]", "params.account_ids", "at most 2147483647"),
    (f"category={'类' * 51}", "params.category", "at most 50 characters"),
    ('category="技术\\0"', "params.category", "control character U+0000"),
    (f"topics=[{{topic: {'题' * 501}}}]", "params.topics.0.topic", "at most 500 characters"),
    ('topics=[{topic: t, tone: "a\\x1b"}]', "params.topics.0.tone", "control character U+001B"),
]


@pytest.mark.parametrize(("override", "field", "reason"), OVERRIDES)
def test_trigger_overrides_meet_the_same_limits(
    tmp_path: Path, override: str, field: str, reason: str
) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(VALID, encoding="utf-8")
    task = load_catalog(path).get("valid_neighbour")
    with pytest.raises(InvalidOverrideError) as info:
        params_with_overrides(task, parse_overrides([override]))
    assert f"{field}: " in str(info.value) and reason in str(info.value)
    # The command refuses before any call: the URL answers nothing.
    args = ["trigger", "valid_neighbour", "--file", str(path), "--url", "http://127.0.0.1:9"]
    result = invoke([*args, "--set", override])
    assert result.exit_code == 1
    assert reason in result.stderr and "no Dagster webserver" not in result.stderr


RUN_CONFIG_OVERRIDES = [
    ({"count_per_account": 10**9}, "params.count_per_account", "less than or equal to 100000"),
    ({"account_ids": [49, 2**31]}, "params.account_ids", "at most 2147483647"),
    ({"category": "类" * 51}, "params.category", "at most 50 characters"),
    ({"topics": [{"topic": "选题\x00"}]}, "params.topics.0.topic", "control character U+0000"),
    (
        {"topics": [{"topic": "t", "keywords": "k" * 501}]},
        "params.topics.0.keywords",
        "at most 500",
    ),
]


@pytest.mark.parametrize(("override", "field", "reason"), RUN_CONFIG_OVERRIDES)
def test_run_config_overrides_fail_at_resolve_accounts_before_any_io(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, override: dict, field: str, reason: str
) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(VALID, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_TASKS", str(path))
    instance = dg.DagsterInstance.ephemeral()
    config = {"ops": {"resolve_accounts": {"config": override}}}
    result = task_job("valid_neighbour").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False
    )
    assert not result.success
    message = failure_message(instance, result.run_id)
    assert f"Task valid_neighbour: invalid params: {field}: " in message
    assert reason in message
    assert [e.step_key for e in result.all_events if e.is_step_failure] == ["resolve_accounts"]
    assert not (tmp_path / ".contenthub").exists(), "nothing was read or written"
