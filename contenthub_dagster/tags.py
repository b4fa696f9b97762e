"""Run and job tags: what the executions filters, the run queue and the UI read."""

TASK = "contenthub/task"
TASK_TYPE = "contenthub/task_type"
TRIGGER = "contenthub/trigger"
SUBMITTED = "contenthub/submitted"
FAILED = "contenthub/failed"
MODE = "contenthub/mode"
DAGSTER_PRIORITY = "dagster/priority"

TRIGGER_SCHEDULE = "schedule"
TRIGGER_SENSOR = "sensor"
TRIGGER_MANUAL = "manual"
