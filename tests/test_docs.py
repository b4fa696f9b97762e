"""The docs agree with the code: the configuration table with ``Settings``, links with files.

The table in docs/configuration.md between the ``settings-table`` markers must list exactly the
environment variables ``Settings`` declares, each with the field's default. Rule for the Default
column: the default as ``str()`` prints it, in backticks (``2700.0``, ``tasks.yaml``), or the
bare word ``unset`` when the default is None. No other spelling passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contenthub_dagster.settings import Settings, env_name
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

CONFIGURATION = REPO_ROOT / "docs" / "configuration.md"
TABLE_START = "<!-- settings-table"
TABLE_END = "<!-- /settings-table -->"
# Variables the docs may name that are not Settings fields: the test suite's own.
TEST_ONLY_VARIABLES = {"CONTENTHUB_TEST_ARTIFACTS"}

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"(?<!\\)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
VARIABLE = re.compile(r"\b(?:CONTENTHUB|OPENAI)_[A-Z0-9_]*[A-Z0-9]\b")


def documented_pages() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def expected_default(field: str) -> str:
    default = Settings.model_fields[field].default
    return "unset" if default is None else f"`{default}`"


def settings_defaults() -> dict[str, str]:
    """Every variable Settings reads, with its default in the table's spelling."""
    return {env_name(field): expected_default(field) for field in Settings.model_fields}


def table_rows(text: str) -> dict[str, str]:
    """The settings table's rows: variable -> Default cell. A variable listed twice is an
    error, not a silent override."""
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    lines = [line for line in text[start:end].splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:2] == ["variable", "default"], header
    rows: dict[str, str] = {}
    for line in lines[2:]:  # after the header and its |---| line
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        assert name not in rows, f"{name} is listed twice"
        rows[name] = cells[1]
    return rows


def table_problems(text: str) -> list[str]:
    """How the table differs from Settings; empty when they agree."""
    rows, expected = table_rows(text), settings_defaults()
    problems = [f"{name}: missing from the table" for name in expected.keys() - rows.keys()]
    problems += [f"{name}: not a Settings variable" for name in rows.keys() - expected.keys()]
    problems += [
        f"{name}: the table says {rows[name]}, Settings' default is {default}"
        for name, default in expected.items()
        if name in rows and rows[name] != default
    ]
    return sorted(problems)


def prose(text: str) -> str:
    """The text without code blocks and code spans, where brackets are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, -1 for repeats."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def link_problems(page: Path, text: str | None = None) -> list[str]:
    """Relative links of ``page`` (its ``text``, default: as on disk) whose file, or heading in
    a Markdown file, does not exist."""
    problems = []
    if text is None:
        text = page.read_text(encoding="utf-8")
    for target in LINK.findall(prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(REPO_ROOT)}: {target}"
        if not resolved.exists():
            problems.append(f"{where}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{where}: no such heading in {resolved.name}")
    return problems


def test_configuration_table_lists_every_setting_with_its_default() -> None:
    assert table_problems(CONFIGURATION.read_text(encoding="utf-8")) == []


def test_the_table_check_catches_a_missing_row_and_a_wrong_default() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    without_queue = "\n".join(
        line for line in text.splitlines() if not line.startswith("| `CONTENTHUB_QUEUE` |")
    )
    assert table_problems(without_queue) == ["CONTENTHUB_QUEUE: missing from the table"]
    wrong = text.replace(
        "| `CONTENTHUB_WORKER_CONCURRENCY` | `5` |", "| `CONTENTHUB_WORKER_CONCURRENCY` | `6` |"
    )
    assert table_problems(wrong) == [
        "CONTENTHUB_WORKER_CONCURRENCY: the table says `6`, Settings' default is `5`"
    ]


def test_docs_name_only_variables_that_exist() -> None:
    known = set(settings_defaults()) | TEST_ONLY_VARIABLES
    named = {
        (page.name, name)
        for page in documented_pages()
        for name in VARIABLE.findall(page.read_text(encoding="utf-8"))
    }
    assert sorted(f"{page}: {name}" for page, name in named if name not in known) == []


def test_relative_links_point_to_existing_files_and_headings() -> None:
    assert [problem for page in documented_pages() for problem in link_problems(page)] == []


def test_the_link_check_catches_a_broken_link() -> None:
    page = REPO_ROOT / "docs" / "README.md"
    text = page.read_text(encoding="utf-8")
    broken = text + "\n[gone](nowhere.md) [bad anchor](cli.md#no-such-heading) `[code](x.md)`\n"
    assert link_problems(page, broken) == [
        "docs/README.md: nowhere.md: no such file",
        "docs/README.md: cli.md#no-such-heading: no such heading in cli.md",
    ]
