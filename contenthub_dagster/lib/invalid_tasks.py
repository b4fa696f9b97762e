"""Invalid tasks shown where the operator looks for them: a job under the task's key that says
what is wrong, has no schedule or sensor, and fails at once if launched."""

from collections.abc import Sequence

import dagster as dg

from contenthub_dagster.lib import tags
from contenthub_dagster.lib.logs import executor_logger
from contenthub_dagster.tasks.errors import TaskLoadError

INVALID_HEADING = "INVALID TASK DEFINITION"
# Job metadata holding the problems, which the op reads back (ops are shared by every job).
PROBLEMS = "problems"


def problem_lines(errors: Sequence[TaskLoadError]) -> list[str]:
    """One line per problem: file (or table), field, reason."""
    return [f"{e.source}: {e.field or '(task)'}: {e.reason}" for e in errors]


def invalid_task_description(key: str, errors: Sequence[TaskLoadError]) -> str:
    """Starts with ``INVALID TASK DEFINITION``, then every problem (Markdown: the UI renders it)."""
    head = (
        f"{INVALID_HEADING}: task {key} could not be loaded ({len(errors)} problem(s)). "
        "It has no schedule or sensor, and a launched run fails with these problems. "
        "Fix the task definition, then reload the code location."
    )
    return head + "\n\n" + "\n".join(f"- {line}" for line in problem_lines(errors))


@dg.op(description="Fail at once with the task definition's problems; reads and writes nothing.")
def report_invalid_task(context: dg.OpExecutionContext) -> None:
    value = context.job_def.metadata.get(PROBLEMS)
    problems = list(getattr(value, "value", None) or [])
    message = (
        f"Task {context.job_name}: {INVALID_HEADING}, not run: " + "; ".join(problems)
        if problems
        else f"Task {context.job_name}: {INVALID_HEADING}, not run"
    )
    executor_logger().error("%s run %s: %s", context.job_name, context.run_id, message)
    raise dg.Failure(description=message, allow_retries=False)


@dg.graph(description="An invalid task: its one op fails with the task definition's problems.")
def invalid_task_definition() -> None:
    report_invalid_task()


def build_invalid_task_job(key: str, errors: Sequence[TaskLoadError]) -> dg.JobDefinition:
    """The job an invalid task with a usable key gets instead of its real one."""
    return invalid_task_definition.to_job(
        name=key,
        description=invalid_task_description(key, errors),
        tags={tags.TASK: key, tags.INVALID: "true", tags.TRIGGER: tags.TRIGGER_MANUAL},
        executor_def=dg.in_process_executor,
        metadata={PROBLEMS: dg.MetadataValue.json(problem_lines(errors))},
    )
