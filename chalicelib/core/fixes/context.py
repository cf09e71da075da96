"""What every fix shares: the ``Fix`` it returns, the ``_Ctx`` it reads the finding through,
and the text helpers: partitions, service names, Terraform references, YAML, shell words and
AWS CLI flags.

Service names: gateway endpoints (S3, DynamoDB) are ``com.amazonaws.<region>.<service>`` in
every partition, China included; interface endpoints in the China regions use
``cn.com.amazonaws.<region>.<service>`` for the services listed in ``_CN_PREFIXED``
(and Transcribe adds ``.cn``), ``com.amazonaws`` for the others; GovCloud uses
``com.amazonaws.<region>.<service>``. ARNs carry the finding's partition (read from its
``resource_arn``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.model import Finding

CLI_SEPARATOR = " CLI: "  # render/messages.py splits the stored remediation on it
JOIN = " && "  # commands run in order, each only if the one before succeeded
MAX_ITEMS = 5  # routes / pairs / rules turned into commands per finding


@dataclass(frozen=True)
class Fix:
    console: str  # the console step, with the real ids
    cli: tuple[str, ...] = ()  # AWS CLI commands, in order (empty: none can be run yet)
    terraform: str = ""  # HCL
    cloudformation: str = ""  # YAML
    notes: tuple[str, ...] = field(default=())  # what the commands cannot know

    @property
    def cli_text(self) -> str:
        return JOIN.join(self.cli)

    @property
    def remediation(self) -> str:
        """The finding's ``remediation`` string: '<console step> CLI: <commands>'."""
        step = " ".join([self.console, *self.notes])
        if self.cli:
            return f"{step}{CLI_SEPARATOR}{self.cli_text}"
        return f"{step}{CLI_SEPARATOR}(none before the plan is applied: change the Terraform configuration)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "console": self.console,
            "cli": list(self.cli),
            "terraform": self.terraform,
            "cloudformation": self.cloudformation,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------
# Names: partitions, service names, Terraform references, shell words
# ---------------------------------------------------------------------------------


def partition_of(finding: Finding) -> str:
    """The partition of the finding's account, from its ARN (arn:<partition>:ec2:...)."""
    parts = finding.resource_arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


# Interface endpoint services named cn.com.amazonaws.<region>.<service> in the China regions
# (after the AWS CDK's table, from DescribeVpcEndpointServices there); the others keep com.amazonaws.
_CN_COMMON = frozenset(
    [
        "application-autoscaling",
        "appmesh-envoy-management",
        "athena",
        "autoscaling",
        "awsconnector",
        "backup",
        "batch",
        "cassandra",
        "cloudcontrolapi",
        "cloudformation",
        "codedeploy-commands-secure",
        "databrew",
        "dms",
        "ebs",
        "ec2",
        "ecr.api",
        "ecr.dkr",
        "eks",
        "elasticache",
        "elasticbeanstalk",
        "elasticfilesystem",
        "elasticfilesystem-fips",
        "emr-containers",
        "execute-api",
        "fsx",
        "imagebuilder",
        "iot.data",
        "kinesis-streams",
        "lambda",
        "license-manager",
        "monitoring",
        "rds",
        "redshift",
        "redshift-data",
        "s3",
        "sagemaker.api",
        "sagemaker.featurestore-runtime",
        "sagemaker.runtime",
        "securityhub",
        "servicecatalog",
        "sms",
        "sqs",
        "states",
        "sts",
        "sync-states",
        "synthetics",
        "transcribe",
        "transcribestreaming",
        "transfer",
        "xray",
    ]
)
_CN_PREFIXED: dict[str, frozenset[str]] = {
    "cn-north-1": _CN_COMMON | {"iotsitewise.api", "iotsitewise.data"},
    "cn-northwest-1": _CN_COMMON | {"account", "polly", "workspaces"},
}
_CN_SUFFIXED = frozenset({"transcribe"})  # cn.com.amazonaws.cn-north-1.transcribe.cn


def gateway_service_name(service: str, region: str) -> str:
    """S3 and DynamoDB gateway endpoints: com.amazonaws.<region>.<service> in every partition."""
    return f"com.amazonaws.{region}.{service}"


def interface_service_name(service: str, region: str) -> str:
    """The interface endpoint service name of an AWS service in a region."""
    if region.startswith("cn-") and service in _CN_PREFIXED.get(region, _CN_COMMON):
        suffix = ".cn" if service in _CN_SUFFIXED else ""
        return f"cn.com.amazonaws.{region}.{service}{suffix}"
    return f"com.amazonaws.{region}.{service}"


_ADDRESS_RE = re.compile(
    r"^(module\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.)*(data\.)?[a-z][a-z0-9]*_[a-z0-9_]*\.[A-Za-z0-9_-]+(\[[^\]]*\])?$"
)


def is_address(value: str) -> bool:
    """A Terraform address (aws_vpc.app, module.net.aws_subnet.private["a"]), not an AWS id."""
    return bool(_ADDRESS_RE.match(value))


def _hcl(value: str) -> str:
    """A Terraform expression for an id: a reference for a planned resource, else a string."""
    return f"{value}.id" if is_address(value) else f'"{value}"'


def _hcl_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_hcl(v) for v in values) + "]"


def _yaml(value: str) -> str:
    return f"!Ref {_cfn_name(value)}" if is_address(value) else value


def _tf_name(*parts: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", "_".join(p for p in parts if p).lower()).strip("_")
    return name if name and not name[0].isdigit() else f"r_{name}"


def _cfn_name(*parts: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Resource"


def _q(value: str) -> str:
    return shlex.quote(value)


# A route destination's option in each fix format: the CLI, Terraform, CloudFormation.
_DESTINATION_OPTIONS = {
    "prefix-list": ("--destination-prefix-list-id", "destination_prefix_list_id", "DestinationPrefixListId"),
    "ipv6": ("--destination-ipv6-cidr-block", "destination_ipv6_cidr_block", "DestinationIpv6CidrBlock"),
    "ipv4": ("--destination-cidr-block", "destination_cidr_block", "DestinationCidrBlock"),
}


def _destination_options(destination: str) -> tuple[str, str, str]:
    kind = "prefix-list" if destination.startswith("pl-") else "ipv6" if ":" in destination else "ipv4"
    return _DESTINATION_OPTIONS[kind]


def _destination_flag(destination: str) -> str:
    """The create-route / delete-route option for a destination."""
    return f"{_destination_options(destination)[0]} {destination}"


def _tf_destination(destination: str) -> str:
    return f'{_destination_options(destination)[1]} = "{destination}"'


def _cfn_destination(destination: str) -> str:
    return f"{_destination_options(destination)[2]}: {destination}"


def _route_target_flag(target: str) -> str:
    kinds = {
        "pcx": "--vpc-peering-connection-id",
        "tgw": "--transit-gateway-id",
        "nat": "--nat-gateway-id",
        "igw": "--gateway-id",
        "vgw": "--gateway-id",
        "vpce": "--vpc-endpoint-id",
        "eni": "--network-interface-id",
    }
    return f"{kinds.get(target.split('-', 1)[0], '--gateway-id')} {target}"


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _more(items: Sequence[Any], total: int | None = None) -> str:
    total = len(items) if total is None else total
    return f" ({total - MAX_ITEMS} more not shown: run the audit again after these)" if total > MAX_ITEMS else ""


# ---------------------------------------------------------------------------------
# The context every fix reads
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    finding: Finding

    @property
    def f(self) -> Finding:
        return self.finding

    @property
    def ev(self) -> Mapping[str, Any]:
        return self.finding.evidence

    @property
    def region(self) -> str:
        return self.finding.region

    @property
    def partition(self) -> str:
        return partition_of(self.finding)

    @property
    def rid(self) -> str:
        return self.finding.resource_id

    @property
    def vpc(self) -> str:
        return self.finding.vpc_id or "<vpc-id>"

    @property
    def address(self) -> str | None:
        value = self.ev.get("terraform_address")
        return str(value) if value else None

    def aws(self, service_command: str, *args: str) -> str:
        """One AWS CLI command for the finding's region."""
        return " ".join(["aws", service_command, "--region", self.region, *args])

    def block(self, resource_type: str, default_name: str) -> tuple[str, str]:
        """(Terraform address of the block to change, the comment that says which block)."""
        if self.address:
            state = "planned" if is_address(self.rid) else "managed by this configuration"
            return self.address, f"# Change the block {self.address} ({state}):"
        name = _tf_name(default_name)
        return (
            f"{resource_type}.{name}",
            f"# In the {resource_type} block that manages {self.rid} "
            f"(none yet? terraform import {resource_type}.{name} {self.rid}):",
        )

    def console(self, step: str) -> str:
        if self.address and is_address(self.rid):
            return f"Planned resource {self.address}: change its Terraform block before applying. {step}"
        if self.address:
            return (
                f"Managed by Terraform as {self.address}: make the change in that block (a console or CLI "
                f"change would be reverted by the next apply). {step}"
            )
        return step


def _fix(ctx: _Ctx, step: str, cli: Sequence[str], terraform: str, cloudformation: str, *notes: str) -> Fix:
    # A planned resource (its id is an address) cannot be named on the command line yet.
    runnable = not any(is_address(word) for command in cli for word in re.split(r"[\s=,\"']+", command))
    runnable = runnable and not is_address(ctx.rid)
    return Fix(
        console=ctx.console(step),
        cli=tuple(cli) if runnable else (),
        terraform=terraform.strip("\n"),
        cloudformation=cloudformation.strip("\n"),
        notes=tuple(n for n in notes if n),
    )


FixFn = Callable[[_Ctx], Fix]


def _route_entries(ctx: _Ctx) -> list[Mapping[str, Any]]:
    return [r for r in _list(ctx.ev.get("routes")) if isinstance(r, Mapping)]
