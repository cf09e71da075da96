"""Environment -> frozen Settings: the only reader of the service's environment (SPEC §4).

``POLICY`` holds either the policy document itself (YAML or JSON) or the name of an SSM
parameter that holds it; names are told apart by their shape (a document has a ':' or a
'{', a parameter name is a path of [A-Za-z0-9_.-/] or an SSM ARN).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.policy import Policy, PolicyError, loads_policy

SSM_NAME_RE = re.compile(r"^(arn:aws[\w-]*:ssm:[\w-]+:\d{12}:parameter/[\w./-]+|/?[\w.-]+(/[\w.-]+)*)$")


class SettingsError(ValueError):
    """A missing or invalid environment variable; the message names it."""


@dataclass(frozen=True)
class Settings:
    region: str
    findings_table: str
    alerts_topic_arn: str
    audit_regions: tuple[str, ...]  # AUDIT_REGIONS, else the function's region
    policy: Policy = field(default_factory=Policy)
    slack_webhook_param: str | None = None
    member_role_name: str | None = None
    external_id: str | None = None
    audit_queue_url: str | None = None
    security_hub_export: bool = False
    # False when AUDIT_REGIONS is unset: the sweep then covers every enabled region
    # (SPEC §5) while the other entry points default to the function's region.
    audit_regions_explicit: bool = True


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _required(environ: Mapping[str, str], name: str) -> str:
    value = _optional(environ, name)
    if value is None:
        raise SettingsError(f"environment variable {name} is required (run `vpcwatch setup` for local values)")
    return value


def is_parameter_name(value: str) -> bool:
    return bool(SSM_NAME_RE.match(value.strip()))


def load_settings(
    environ: Mapping[str, str] | None = None,
    read_parameter: Callable[[str], str] | None = None,
) -> Settings:
    """Read the environment once. ``read_parameter`` fetches an SSM parameter's value
    (decrypted); it is only called when ``POLICY`` names a parameter."""
    env = os.environ if environ is None else environ
    # AWS_REGION first (Lambda sets it; boto3 itself reads only AWS_DEFAULT_REGION).
    region = _optional(env, "AWS_REGION") or _optional(env, "AWS_DEFAULT_REGION")
    if region is None:
        raise SettingsError("environment variable AWS_REGION (or AWS_DEFAULT_REGION) is required")
    explicit_regions = _optional(env, "AUDIT_REGIONS")
    regions = tuple(r.strip() for r in (explicit_regions or region).split(",") if r.strip())
    policy = Policy()
    policy_value = _optional(env, "POLICY")
    if policy_value is not None:
        if is_parameter_name(policy_value):
            if read_parameter is None:
                raise SettingsError("POLICY names an SSM parameter but no parameter reader was given")
            policy_value = read_parameter(policy_value)
        try:
            policy = loads_policy(policy_value, CHECK_IDS)
        except PolicyError as exc:
            raise SettingsError(f"POLICY: {exc}") from None
    return Settings(
        region=region,
        findings_table=_required(env, "FINDINGS_TABLE"),
        alerts_topic_arn=_required(env, "ALERTS_TOPIC_ARN"),
        audit_regions=regions,
        policy=policy,
        slack_webhook_param=_optional(env, "SLACK_WEBHOOK_PARAM"),
        member_role_name=_optional(env, "MEMBER_ROLE_NAME"),
        external_id=_optional(env, "EXTERNAL_ID"),
        audit_queue_url=_optional(env, "AUDIT_QUEUE_URL"),
        security_hub_export=(_optional(env, "SECURITY_HUB_EXPORT") or "").lower() == "true",
        audit_regions_explicit=explicit_regions is not None,
    )
