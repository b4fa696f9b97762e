"""Run config of a task job, derived from the domain's params so each field is defined once.

Every field is optional: a field left out (or null) keeps the task's own value, so a run config
that sets only ``priority`` still runs the task's accounts. Jobs carry no default run config (it
would cost a full config-schema resolution per job at load), so the launchpad opens empty and
runs the task's own params; :func:`run_config` is the shape ``trigger --set`` sends.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

import dagster as dg
from pydantic import BaseModel, Field, create_model

from contenthub_dagster.domain.params import GenerationParams, TopicSpec

# The op that takes the params as config; the only place the run-config shape is spelled.
PARAMS_OP = "resolve_accounts"


def _config_type(annotation: Any) -> Any:
    """A domain annotation as Dagster config takes it: plain types, nested models as Config."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return _config_type(inner)
    if origin is list:
        return list[_config_type(get_args(annotation)[0])]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _CONFIG_MODELS[annotation]
    # StrictInt inside a list stays Annotated[int, Strict()]: the domain checks strictness.
    return getattr(annotation, "__origin__", annotation)


def _derived(model: type[BaseModel], name: str, *, required: set[str]) -> type[dg.Config]:
    fields: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        annotation = _config_type(field.annotation)
        if field_name in required:
            fields[field_name] = (annotation, Field(description=field.description))
        else:
            fields[field_name] = (annotation | None, Field(None, description=field.description))
    return create_model(name, __base__=dg.Config, __doc__=model.__doc__, **fields)


_CONFIG_MODELS: dict[type[BaseModel], type[dg.Config]] = {}
TopicConfig = _CONFIG_MODELS[TopicSpec] = _derived(TopicSpec, "TopicConfig", required={"topic"})
GenerationParamsConfig = _derived(GenerationParams, "GenerationParamsConfig", required=set())


def params_overlay(task_params: Mapping[str, Any], config: dg.Config) -> dict[str, Any]:
    """The task's params with every field the run config sets laid over them."""
    overrides = config.model_dump(exclude_none=True)
    return {**task_params, **overrides}


def run_config(params: Mapping[str, Any]) -> dict[str, Any]:
    """A task job's run config for these params (the launchpad's shape)."""
    return {"ops": {PARAMS_OP: {"config": dict(params)}}}
