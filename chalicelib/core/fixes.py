"""Fixes people can paste: each finding's own remediation, built from what it knows.

``fix_for(finding)`` returns a ``Fix``: the console step, the AWS CLI commands, a Terraform
snippet and a CloudFormation snippet, all with the finding's real ids, region, partition
and service names. A value the finding does not know (a log bucket, an access group) is the
only thing left as a ``<placeholder>``. Nothing here calls AWS and vpcwatch applies
nothing: this is text for people.

Each check id of the registry has one function in ``FIXES`` (a test enforces it). The audit
stores ``Fix.remediation`` in the finding's ``remediation`` ('<step> CLI: <commands>', the
form the notifications split), and the renderers show the snippets.

Terraform plans (SPEC §8): a finding on a planned resource has ``resource_id`` = its address
and ``evidence.terraform_address``; it has no id yet, so there is no CLI to run and the fix
is the change to that block, by address. A live resource the plan manages carries the
address too: the fix is then made in its block, since a CLI change would be reverted by the
next apply. Any other value that is an address (a planned VPC, peering, ...) is referenced
as ``<address>.id`` in Terraform and makes the CLI unavailable.

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

from chalicelib.core.checks import CHECK_BY_ID
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


def _destination_flag(destination: str) -> str:
    """The create-route / delete-route option for a destination."""
    if destination.startswith("pl-"):
        return f"--destination-prefix-list-id {destination}"
    if ":" in destination:
        return f"--destination-ipv6-cidr-block {destination}"
    return f"--destination-cidr-block {destination}"


def _tf_destination(destination: str) -> str:
    if destination.startswith("pl-"):
        return f'destination_prefix_list_id = "{destination}"'
    if ":" in destination:
        return f'destination_ipv6_cidr_block = "{destination}"'
    return f'destination_cidr_block = "{destination}"'


def _cfn_destination(destination: str) -> str:
    if destination.startswith("pl-"):
        return f"DestinationPrefixListId: {destination}"
    if ":" in destination:
        return f"DestinationIpv6CidrBlock: {destination}"
    return f"DestinationCidrBlock: {destination}"


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


# ---------------------------------------------------------------------------------
# Flow logs
# ---------------------------------------------------------------------------------

_RESOURCE_TYPES = {  # create-flow-logs --resource-type, by id prefix
    "vpc": "VPC",
    "subnet": "Subnet",
    "eni": "NetworkInterface",
    "tgw": "TransitGateway",
    "tgw-attach": "TransitGatewayAttachment",
}


def _bucket_arn(ctx: _Ctx) -> str:
    return f"arn:{ctx.partition}:s3:::<flow-logs-bucket>"


def _create_flow_log(ctx: _Ctx, resource_id: str, traffic_type: str) -> tuple[str, str, str]:
    """(CLI, Terraform, CloudFormation) of a flow log to S3 on a VPC."""
    cli = ctx.aws(
        "ec2 create-flow-logs",
        "--resource-type VPC",
        f"--resource-ids {resource_id}",
        f"--traffic-type {traffic_type}",
        "--log-destination-type s3",
        f"--log-destination {_bucket_arn(ctx)}",
    )
    name = _tf_name(resource_id, traffic_type.lower(), "flow_log")
    terraform = f"""
resource "aws_flow_log" "{name}" {{
  vpc_id               = {_hcl(resource_id)}
  traffic_type         = "{traffic_type}"
  log_destination_type = "s3"
  log_destination      = "{_bucket_arn(ctx)}" # or aws_s3_bucket.<name>.arn
}}"""
    cloudformation = f"""
{_cfn_name(resource_id, traffic_type, "FlowLog")}:
  Type: AWS::EC2::FlowLog
  Properties:
    ResourceType: VPC
    ResourceId: {_yaml(resource_id)}
    TrafficType: {traffic_type}
    LogDestinationType: s3
    LogDestination: {_bucket_arn(ctx)}"""
    return cli, terraform, cloudformation


_BUCKET_NOTE = (
    "The S3 bucket is yours to choose (a CloudWatch Logs group works too, with "
    "--log-destination-type cloud-watch-logs and a delivery role)."
)


def _fix_flow_logs_enabled(ctx: _Ctx) -> Fix:
    cli, terraform, cloudformation = _create_flow_log(ctx, ctx.rid, "ALL")
    step = (
        f"VPC console > Your VPCs > {ctx.rid} > Flow logs > Create flow log: filter All, destination an S3 "
        f"bucket (or CloudWatch Logs); a VPC-level log covers every subnet of {ctx.rid}."
    )
    return _fix(ctx, step, [cli], terraform, cloudformation, _BUCKET_NOTE)


def _fix_flow_logs_traffic_type(ctx: _Ctx) -> Fix:
    required = str(ctx.ev.get("required") or "ALL").upper()
    cli, terraform, cloudformation = _create_flow_log(ctx, ctx.rid, required)
    narrower = [str(i) for i in _list(ctx.ev.get("flow_log_ids"))]
    then = ""
    if narrower:
        then = (
            f" Once it delivers, the narrower logs ({', '.join(narrower)}) can go: "
            + ctx.aws("ec2 delete-flow-logs", "--flow-log-ids", *narrower)
            + "."
        )
    step = f"VPC console > Your VPCs > {ctx.rid} > Flow logs > Create flow log with filter {required.title()}.{then}"
    return _fix(ctx, step, [cli], terraform, cloudformation, _BUCKET_NOTE)


def _fix_flow_logs_delivering(ctx: _Ctx) -> Fix:
    error = str(ctx.ev.get("error") or "")
    watched = str(ctx.ev.get("resource_id") or "<resource-id>")
    lowered = error.lower()
    if "access" in lowered or "permission" in lowered:
        cause = (
            "Access error: the delivery role must trust vpc-flow-logs.amazonaws.com and allow "
            "logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogGroups and "
            "logs:DescribeLogStreams (CloudWatch Logs), or the bucket policy must let delivery.logs.amazonaws.com "
            "s3:PutObject (S3)."
        )
    elif "rate" in lowered:
        cause = "Rate limited: raise the CloudWatch Logs quota or send the log to S3."
    else:
        cause = "Check that the destination exists and the delivery role or bucket policy still allows delivery."
    step = (
        f"Flow log {ctx.rid} of {watched} fails to deliver"
        + (f" ({error})" if error else "")
        + f". {cause} Then delete {ctx.rid} and create it again with the same settings."
    )
    describe = ctx.aws(
        "ec2 describe-flow-logs",
        f"--flow-log-ids {ctx.rid}",
        "--query 'FlowLogs[0].[DeliverLogsErrorMessage,LogDestinationType,LogDestination,DeliverLogsPermissionArn]'",
    )
    kind = next(
        (v for k, v in sorted(_RESOURCE_TYPES.items(), key=lambda kv: -len(kv[0])) if watched.startswith(k + "-")),
        "VPC",
    )
    role = _tf_name(ctx.rid, "delivery")
    terraform = f"""
# The delivery role of a flow log to CloudWatch Logs ({ctx.rid} watches {watched}, a {kind}):
resource "aws_iam_role" "{role}" {{
  name = "{role}"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = {{ Service = "vpc-flow-logs.amazonaws.com" }}
    }}]
  }})
}}

resource "aws_iam_role_policy" "{role}" {{
  role = aws_iam_role.{role}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action = [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "logs:DescribeLogGroups", "logs:DescribeLogStreams",
      ]
      Resource = "*"
    }}]
  }})
}}
# and in the aws_flow_log block of {ctx.rid}: iam_role_arn = aws_iam_role.{role}.arn"""
    cloudformation = f"""
{_cfn_name(ctx.rid, "DeliveryRole")}:
  Type: AWS::IAM::Role
  Properties:
    AssumeRolePolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {{Service: vpc-flow-logs.amazonaws.com}}
          Action: sts:AssumeRole
    Policies:
      - PolicyName: flow-log-delivery
        PolicyDocument:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action:
                - logs:CreateLogGroup
                - logs:CreateLogStream
                - logs:PutLogEvents
                - logs:DescribeLogGroups
                - logs:DescribeLogStreams
              Resource: "*"
# and in the AWS::EC2::FlowLog of {ctx.rid}:
#   DeliverLogsPermissionArn: !GetAtt {_cfn_name(ctx.rid, "DeliveryRole")}.Arn"""
    return _fix(ctx, step, [describe], terraform, cloudformation)


# ---------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------


def _fix_gateway_endpoints(ctx: _Ctx) -> Fix:
    service = str(ctx.ev.get("service") or "s3")
    service_name = gateway_service_name(service, ctx.region)
    existing = [str(e) for e in _list(ctx.ev.get("gateway_endpoint_ids"))]
    if existing:
        endpoint = existing[0]
        step = (
            f"VPC console > Endpoints > {endpoint} ({service_name}) > Route tables > Manage route tables: "
            f"select {ctx.rid}."
        )
        cli = ctx.aws("ec2 modify-vpc-endpoint", f"--vpc-endpoint-id {endpoint}", f"--add-route-table-ids {ctx.rid}")
        name = _tf_name(ctx.rid, service)
        terraform = f"""
resource "aws_vpc_endpoint_route_table_association" "{name}" {{
  vpc_endpoint_id = {_hcl(endpoint)}
  route_table_id  = {_hcl(ctx.rid)}
}}
# or add {_hcl(ctx.rid)} to route_table_ids in the aws_vpc_endpoint block of {endpoint}"""
        cloudformation = f"""
# In the AWS::EC2::VPCEndpoint of {endpoint} ({service_name}):
    RouteTableIds:
      - {_yaml(ctx.rid)}  # added to the tables already listed"""
        others = f" (other {service} gateway endpoints in {ctx.vpc}: {', '.join(existing[1:])})" if existing[1:] else ""
        return _fix(ctx, step + others, [cli], terraform, cloudformation)
    step = (
        f"VPC console > Endpoints > Create endpoint: AWS service {service_name}, type Gateway, VPC {ctx.vpc}, "
        f"route table {ctx.rid}."
    )
    cli = ctx.aws(
        "ec2 create-vpc-endpoint",
        f"--vpc-id {ctx.vpc}",
        "--vpc-endpoint-type Gateway",
        f"--service-name {service_name}",
        f"--route-table-ids {ctx.rid}",
    )
    terraform = f"""
resource "aws_vpc_endpoint" "{_tf_name(ctx.vpc, service)}" {{
  vpc_id            = {_hcl(ctx.vpc)}
  service_name      = "{service_name}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [{_hcl(ctx.rid)}]
}}"""
    if ctx.address and is_address(ctx.rid):
        terraform = f"# For the planned route table {ctx.address}:" + terraform
    cloudformation = f"""
{_cfn_name(ctx.vpc, service, "Endpoint")}:
  Type: AWS::EC2::VPCEndpoint
  Properties:
    VpcId: {_yaml(ctx.vpc)}
    ServiceName: {service_name}
    VpcEndpointType: Gateway
    RouteTableIds:
      - {_yaml(ctx.rid)}"""
    return _fix(ctx, step, [cli], terraform, cloudformation)


def _one_per_zone(ctx: _Ctx) -> list[str]:
    chosen = _list(ctx.ev.get("endpoint_subnet_ids")) or _list(ctx.ev.get("private_subnet_ids"))
    return [str(s) for s in chosen] or ["<subnet-id>"]


def _fix_interface_endpoints(ctx: _Ctx) -> Fix:
    service = str(ctx.ev.get("service") or "<service>")
    service_name = interface_service_name(service, ctx.region)
    subnets = _one_per_zone(ctx)
    step = (
        f"VPC console > Endpoints > Create endpoint: AWS service {service_name}, type Interface, VPC {ctx.vpc}, "
        f"subnets {', '.join(subnets)} (one per Availability Zone), private DNS enabled (the VPC needs DNS "
        "support and DNS hostnames)."
    )
    cli = ctx.aws(
        "ec2 create-vpc-endpoint",
        f"--vpc-id {ctx.vpc}",
        "--vpc-endpoint-type Interface",
        f"--service-name {service_name}",
        "--subnet-ids",
        *subnets,
        "--private-dns-enabled",
    )
    note = (
        "Without --security-group-ids the endpoint gets the VPC's default security group: "
        "it must allow HTTPS (443) from the clients."
    )
    terraform = f"""
resource "aws_vpc_endpoint" "{_tf_name(ctx.vpc, service)}" {{
  vpc_id              = {_hcl(ctx.vpc)}
  service_name        = "{service_name}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = {_hcl_list(subnets)}
  private_dns_enabled = true
  # security_group_ids = [aws_security_group.<allows 443 from the VPC>.id]
}}"""
    cloudformation = f"""
{_cfn_name(ctx.vpc, service, "Endpoint")}:
  Type: AWS::EC2::VPCEndpoint
  Properties:
    VpcId: {_yaml(ctx.vpc)}
    ServiceName: {service_name}
    VpcEndpointType: Interface
    PrivateDnsEnabled: true
    SubnetIds: [{", ".join(_yaml(s) for s in subnets)}]
    # SecurityGroupIds: [a group that allows 443 from the VPC]"""
    return _fix(ctx, step, [cli], terraform, cloudformation, note)


def _fix_private_dns(ctx: _Ctx) -> Fix:
    service_name = str(ctx.ev.get("service_name") or "")
    step = (
        f"VPC console > Endpoints > {ctx.rid} > Actions > Modify private DNS name > Enable"
        + (f" ({service_name})" if service_name else "")
        + f"; VPC {ctx.vpc} needs DNS support and DNS hostnames enabled."
    )
    cli = ctx.aws("ec2 modify-vpc-endpoint", f"--vpc-endpoint-id {ctx.rid}", "--private-dns-enabled")
    _, comment = ctx.block("aws_vpc_endpoint", str(ctx.ev.get("service") or ctx.rid))
    terraform = f"""
{comment}
  private_dns_enabled = true"""
    cloudformation = f"""
# In the AWS::EC2::VPCEndpoint of {ctx.rid}:
    PrivateDnsEnabled: true"""
    return _fix(ctx, step, [cli], terraform, cloudformation)


def _fix_acceptance_required(ctx: _Ctx) -> Fix:
    step = (
        f"VPC console > Endpoint services > {ctx.rid} > Actions > Modify endpoint acceptance setting > "
        "Acceptance required."
    )
    cli = ctx.aws("ec2 modify-vpc-endpoint-service-configuration", f"--service-id {ctx.rid}", "--acceptance-required")
    _, comment = ctx.block("aws_vpc_endpoint_service", ctx.rid)
    terraform = f"""
{comment}
  acceptance_required = true"""
    cloudformation = f"""
# In the AWS::EC2::VPCEndpointService of {ctx.rid}:
    AcceptanceRequired: true"""
    return _fix(ctx, step, [cli], terraform, cloudformation)


def _fix_trusted_principals(ctx: _Ctx) -> Fix:
    principals = [str(p) for p in _list(ctx.ev.get("untrusted_principals"))] or ["<principal-arn>"]
    step = f"VPC console > Endpoint services > {ctx.rid} > Allow principals: remove {', '.join(principals)}."
    cli = ctx.aws(
        "ec2 modify-vpc-endpoint-service-permissions",
        f"--service-id {ctx.rid}",
        "--remove-allowed-principals",
        *(_q(p) for p in principals),
    )
    listed = ", ".join(f'"{p}"' for p in principals)
    _, comment = ctx.block("aws_vpc_endpoint_service", ctx.rid)
    terraform = f"""
{comment}
  # allowed_principals = [ ... ] without {listed}
# or delete each aws_vpc_endpoint_service_allowed_principal whose principal_arn is one of {listed}"""
    cloudformation = f"""
# In the AWS::EC2::VPCEndpointServicePermissions of {ctx.rid}:
    AllowedPrincipals: []  # the trusted principals only; not {listed}"""
    note = (
        "Principals that really need the service go back as account ARNs "
        f"(arn:{ctx.partition}:iam::<account-id>:root) with --add-allowed-principals."
    )
    return _fix(ctx, step, [cli], terraform, cloudformation, note)


# ---------------------------------------------------------------------------------
# Peering, routes, Transit Gateway
# ---------------------------------------------------------------------------------


def _cidr_association_id(ctx: _Ctx, vpc_id: str, cidr: str) -> str:
    """A shell substitution that finds the association id of a VPC CIDR block."""
    field_name = (
        ("Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock") if ":" in cidr else ("CidrBlockAssociationSet", "CidrBlock")
    )
    query = f"Vpcs[0].{field_name[0]}[?{field_name[1]}=='{cidr}'].AssociationId | [0]"
    return '"$(' + ctx.aws("ec2 describe-vpcs", f"--vpc-ids {vpc_id}", f'--query "{query}"', "--output text") + ')"'


def _fix_peering_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    requester = str(ctx.ev.get("requester_vpc_id") or "<requester-vpc-id>")
    accepter = str(ctx.ev.get("accepter_vpc_id") or "<accepter-vpc-id>")
    mine, side = (accepter, "accepter_cidr") if ctx.f.vpc_id == accepter else (requester, "requester_cidr")
    first = pairs[0] if pairs else {}
    cidr = str(first.get(side) or "<cidr>")
    overlap = (
        f"{first.get('requester_cidr')} ({requester}) and {first.get('accepter_cidr')} ({accepter})" if first else ""
    )
    step = (
        f"Peering {ctx.rid} joins overlapping ranges{': ' + overlap if overlap else ''}. Renumber one side: if "
        f"{cidr} is a secondary CIDR of {mine}, move its subnets and disassociate it; otherwise replace the peering "
        "with PrivateLink or a private NAT gateway (delete-vpc-peering-connection), since both ranges cannot be "
        "reached through it."
    )
    cli = ctx.aws("ec2 disassociate-vpc-cidr-block", f"--association-id {_cidr_association_id(ctx, mine, cidr)}")
    terraform = f"""
# Renumber {mine}: remove the aws_vpc_ipv4_cidr_block_association (or ipv6) of {cidr} on {_hcl(mine)}
# after moving its aws_subnet blocks to a range that does not overlap; or remove the
# aws_vpc_peering_connection {ctx.address or ctx.rid} and reach the peer through PrivateLink."""
    cloudformation = f"""
# Renumber {mine}: remove the AWS::EC2::VPCCidrBlock of {cidr} after moving its subnets,
# or remove the AWS::EC2::VPCPeeringConnection {ctx.rid}."""
    return _fix(
        ctx, step, [cli], terraform, cloudformation, "AWS refuses to disassociate a primary CIDR or one with subnets."
    )


def _fix_connected_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    cli: list[str] = []
    tf: list[str] = []
    cfn: list[str] = []
    described: list[str] = []
    for pair in pairs:
        for side in ("b", "a"):
            reach = pair.get(side)
            if not isinstance(reach, Mapping) or reach.get("via") in (None, "self"):
                continue
            via, cidr, owner = str(reach["via"]), str(reach.get("cidr")), reach.get("vpc_id")
            described.append(f"{cidr} through {via}" + (f" ({owner})" if owner else ""))
            if "/" in via and via.startswith("tgw-rtb-"):
                table, attachment = via.split("/", 1)
                cmd = ctx.aws(
                    "ec2 disable-transit-gateway-route-table-propagation",
                    f"--transit-gateway-route-table-id {table}",
                    f"--transit-gateway-attachment-id {attachment.split(',')[0]}",
                )
                tf.append(
                    f"# remove the aws_ec2_transit_gateway_route_table_propagation of {attachment} in {table} "
                    f"(or the aws_ec2_transit_gateway_route to {cidr})"
                )
                cfn.append(f"# remove the AWS::EC2::TransitGatewayRouteTablePropagation of {attachment} in {table}")
            else:
                cmd = ctx.aws(
                    "ec2 describe-route-tables",
                    f"--filters Name=vpc-id,Values={ctx.rid} Name=route.vpc-peering-connection-id,Values={via}",
                    "--query 'RouteTables[].RouteTableId'",
                )
                tf.append(f"# remove the aws_route blocks of {ctx.rid}'s tables to {via} for {cidr}, or the peering")
                cfn.append(f"# remove the AWS::EC2::Route resources of {ctx.rid}'s tables to {via} for {cidr}")
            if cmd not in cli:
                cli.append(cmd)
            break
        if len(cli) >= MAX_ITEMS:
            break
    if not cli:
        cli = [ctx.aws("ec2 describe-transit-gateway-attachments", f"--filters Name=resource-id,Values={ctx.rid}")]
    step = (
        f"VPC {ctx.rid} reaches overlapping ranges ({'; '.join(_unique(described)[:3]) or 'see evidence'}). Keep one "
        "path per range: stop propagating the second VPC into the TGW route table this VPC uses (or give it its "
        "own table), or remove the routes to / the peering with one of them; renumbering removes the cause."
        + _more(pairs, int(ctx.ev.get("pair_count") or len(pairs)))
    )
    return _fix(
        ctx,
        step,
        cli,
        "\n".join(_unique(tf)) or "# see the console step",
        "\n".join(_unique(cfn)) or "# see the console step",
    )


def _route_entries(ctx: _Ctx) -> list[Mapping[str, Any]]:
    return [r for r in _list(ctx.ev.get("routes")) if isinstance(r, Mapping)]


def _fix_peering_least_access(ctx: _Ctx) -> Fix:
    routes = _route_entries(ctx)[:MAX_ITEMS]
    cli: list[str] = []
    tf: list[str] = []
    cfn: list[str] = []
    for route in routes:
        destination, target = str(route.get("destination")), str(route.get("target"))
        cidrs = [str(c) for c in _list(route.get("peer_cidrs"))] or ["<peer-cidr>"]
        for cidr in cidrs:
            cli.append(
                ctx.aws(
                    "ec2 create-route",
                    f"--route-table-id {ctx.rid}",
                    _destination_flag(cidr),
                    f"--vpc-peering-connection-id {target}",
                )
            )
            tf.append(
                f'resource "aws_route" "{_tf_name(ctx.rid, target, cidr)}" {{\n'
                f"  route_table_id            = {_hcl(ctx.rid)}\n"
                f"  {_tf_destination(cidr)}\n"
                f"  vpc_peering_connection_id = {_hcl(target)}\n}}"
            )
            cfn.append(
                f"{_cfn_name(ctx.rid, target, cidr)}:\n  Type: AWS::EC2::Route\n  Properties:\n"
                f"    RouteTableId: {_yaml(ctx.rid)}\n    {_cfn_destination(cidr)}\n"
                f"    VpcPeeringConnectionId: {_yaml(target)}"
            )
        cli.append(ctx.aws("ec2 delete-route", f"--route-table-id {ctx.rid}", _destination_flag(destination)))
        where = f"{ctx.address} (inline route)" if ctx.address else f"the aws_route of {ctx.rid}"
        tf.append(f"# and remove {where} to {destination} via {target}")
        cfn.append(f"# and remove the AWS::EC2::Route of {ctx.rid} to {destination} via {target}")
    shown = "; ".join(
        f"{r.get('destination')} via {r.get('target')} -> {', '.join(map(str, _list(r.get('peer_cidrs'))))}"
        for r in routes
    )
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes > Edit routes: replace each broad route with routes to "
        f"the peer's CIDRs ({shown or 'see evidence'})." + _more(_route_entries(ctx))
    )
    return _fix(
        ctx,
        step,
        cli,
        "\n".join(tf),
        "\n".join(cfn),
        "Each route to a peer CIDR is created before the broad one is deleted.",
    )


def _fix_route_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    routes = _unique(
        f"{p['a'].get('destination')}|{p['a'].get('target')}" for p in pairs if isinstance(p.get("a"), Mapping)
    )[:MAX_ITEMS]
    cli, tf, cfn, shown = [], [], [], []
    for entry in routes:
        destination, target = entry.split("|", 1)
        holder: Mapping[str, Any] = next(
            (p["b"] for p in pairs if isinstance(p.get("a"), Mapping) and p["a"].get("destination") == destination), {}
        )
        shown.append(
            f"{destination} -> {target} (inside {holder.get('cidr')} of {holder.get('vpc_id')} via {holder.get('via')})"
        )
        cli.append(ctx.aws("ec2 delete-route", f"--route-table-id {ctx.rid}", _destination_flag(destination)))
        tf.append(
            f"# remove the route of {ctx.address or ctx.rid} to {destination} via {target} (aws_route or inline route)"
        )
        cfn.append(f"# remove the AWS::EC2::Route of {ctx.rid} with {_cfn_destination(destination)} via {target}")
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes: remove (or narrow) the routes that take a peer VPC's "
        f"range elsewhere: {'; '.join(shown) or 'see evidence'}."
        + _more(pairs, int(ctx.ev.get("pair_count") or len(pairs)))
    )
    return _fix(ctx, step, cli, "\n".join(tf), "\n".join(cfn))


def _fix_blackhole(ctx: _Ctx) -> Fix:
    routes = _route_entries(ctx)[:MAX_ITEMS]
    cli = [
        ctx.aws("ec2 delete-route", f"--route-table-id {ctx.rid}", _destination_flag(str(r.get("destination"))))
        for r in routes
    ]
    shown = "; ".join(f"{r.get('destination')} -> {r.get('target')} ({r.get('reason')})" for r in routes)
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes: delete each dead route, or edit it to a live target "
        f"(aws ec2 replace-route): {shown or 'see evidence'}." + _more(_route_entries(ctx))
    )
    tf = "\n".join(
        f"# remove the route of {ctx.address or ctx.rid} to {r.get('destination')} via {r.get('target')} "
        "(aws_route or inline route), or point it at a live target"
        for r in routes
    )
    cfn = "\n".join(
        f"# remove the AWS::EC2::Route of {ctx.rid} with {_cfn_destination(str(r.get('destination')))} "
        f"via {r.get('target')}"
        for r in routes
    )
    return _fix(ctx, step, cli, tf, cfn)


def _fix_tgw_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    cli: list[str] = []
    tf: list[str] = []
    cfn: list[str] = []
    shown: list[str] = []
    table = ctx.address or ctx.rid
    for pair in pairs:
        a, b = pair.get("a"), pair.get("b")
        if not isinstance(b, Mapping):
            continue
        destination, attachment = str(b.get("destination")), str(b.get("attachment_id") or "").split(",")[0]
        if isinstance(a, Mapping):
            first = f"{a.get('destination')} ({a.get('type')}, {a.get('attachment_id')})"
            shown.append(f"{first} and {destination} ({b.get('type')}, {attachment})")
        if b.get("type") == "propagated":
            cmd = ctx.aws(
                "ec2 disable-transit-gateway-route-table-propagation",
                f"--transit-gateway-route-table-id {ctx.rid}",
                f"--transit-gateway-attachment-id {attachment}",
            )
            tf_line = f"# remove the aws_ec2_transit_gateway_route_table_propagation of {attachment} in {table}"
            cfn_line = f"# remove the AWS::EC2::TransitGatewayRouteTablePropagation of {attachment} in {ctx.rid}"
        elif destination.startswith("pl-"):
            cmd = ctx.aws(
                "ec2 delete-transit-gateway-prefix-list-reference",
                f"--transit-gateway-route-table-id {ctx.rid}",
                f"--prefix-list-id {destination}",
            )
            tf_line = f"# remove the aws_ec2_transit_gateway_prefix_list_reference of {destination} in {table}"
            cfn_line = f"# remove the AWS::EC2::TransitGatewayRoute of {destination} in {ctx.rid}"
        else:
            cmd = ctx.aws(
                "ec2 delete-transit-gateway-route",
                f"--transit-gateway-route-table-id {ctx.rid}",
                f"--destination-cidr-block {destination}",
            )
            tf_line = f"# remove the aws_ec2_transit_gateway_route to {destination} ({attachment}) in {table}"
            cfn_line = f"# remove the AWS::EC2::TransitGatewayRoute to {destination} in {ctx.rid}"
        if cmd not in cli:
            cli.append(cmd)
            tf.append(tf_line)
            cfn.append(cfn_line)
        if len(cli) >= MAX_ITEMS:
            break
    step = (
        f"VPC console > Transit gateway route tables > {ctx.rid}: remove the second route of each overlapping "
        f"pair (disable its propagation or delete the static route), or renumber the overlapping VPC: "
        f"{'; '.join(shown[:3]) or 'see evidence'}." + _more(pairs, int(ctx.ev.get("pair_count") or len(pairs)))
    )
    return _fix(ctx, step, cli, "\n".join(tf), "\n".join(cfn), "Check which attachment should keep the range first.")


def _fix_tgw_auto_accept(ctx: _Ctx) -> Fix:
    step = f"VPC console > Transit gateways > {ctx.rid} > Actions > Modify: clear 'Auto accept shared attachments'."
    cli = ctx.aws(
        "ec2 modify-transit-gateway", f"--transit-gateway-id {ctx.rid}", "--options AutoAcceptSharedAttachments=disable"
    )
    _, comment = ctx.block("aws_ec2_transit_gateway", ctx.rid)
    terraform = f"""
{comment}
  auto_accept_shared_attachments = "disable\""""
    cloudformation = f"""
# In the AWS::EC2::TransitGateway of {ctx.rid}:
    AutoAcceptSharedAttachments: disable"""
    return _fix(ctx, step, [cli], terraform, cloudformation)


# ---------------------------------------------------------------------------------
# Client VPN
# ---------------------------------------------------------------------------------


def _fix_client_vpn_logging(ctx: _Ctx) -> Fix:
    group = f"/aws/client-vpn/{ctx.rid}"
    step = (
        f"VPC console > Client VPN endpoints > {ctx.rid} > Actions > Modify Client VPN endpoint: enable "
        f"connection logging to the CloudWatch Logs group {group}."
    )
    cli = [
        ctx.aws("logs create-log-group", f"--log-group-name {group}"),
        ctx.aws(
            "ec2 modify-client-vpn-endpoint",
            f"--client-vpn-endpoint-id {ctx.rid}",
            f"--connection-log-options Enabled=true,CloudwatchLogGroup={group}",
        ),
    ]
    _, comment = ctx.block("aws_ec2_client_vpn_endpoint", ctx.rid)
    log_name = _tf_name(ctx.rid, "connections")
    terraform = f"""
resource "aws_cloudwatch_log_group" "{log_name}" {{
  name = "{group}"
}}

{comment}
  connection_log_options {{
    enabled              = true
    cloudwatch_log_group = aws_cloudwatch_log_group.{log_name}.name
  }}"""
    cloudformation = f"""
{_cfn_name(ctx.rid, "Connections")}:
  Type: AWS::Logs::LogGroup
  Properties:
    LogGroupName: {group}
# In the AWS::EC2::ClientVpnEndpoint of {ctx.rid}:
    ConnectionLogOptions:
      Enabled: true
      CloudwatchLogGroup: !Ref {_cfn_name(ctx.rid, "Connections")}"""
    return _fix(ctx, step, cli, terraform, cloudformation, "Skip create-log-group if the group exists.")


def _fix_client_vpn_authorize_all(ctx: _Ctx) -> Fix:
    rules = [r for r in _list(ctx.ev.get("rules")) if isinstance(r, Mapping)]
    cidrs = _unique(str(r.get("destination_cidr")) for r in rules)[:MAX_ITEMS] or ["<cidr>"]
    cli: list[str] = []
    for cidr in cidrs:
        cli.append(
            ctx.aws(
                "ec2 authorize-client-vpn-ingress",
                f"--client-vpn-endpoint-id {ctx.rid}",
                f"--target-network-cidr {cidr}",
                "--access-group-id <access-group-id>",
            )
        )
        cli.append(
            ctx.aws(
                "ec2 revoke-client-vpn-ingress",
                f"--client-vpn-endpoint-id {ctx.rid}",
                f"--target-network-cidr {cidr}",
                "--revoke-all-groups",
            )
        )
    step = (
        f"VPC console > Client VPN endpoints > {ctx.rid} > Authorization rules: for {', '.join(cidrs)}, add a rule "
        "for the Active Directory or SAML group that needs it, then remove 'Allow access to all users'."
    )
    terraform = "\n".join(
        f"# the aws_ec2_client_vpn_authorization_rule of {ctx.rid} for {cidr}:\n"
        f'  target_network_cidr  = "{cidr}"\n'
        "  authorize_all_groups = false\n"
        '  access_group_id      = "<access-group-id>"'
        for cidr in cidrs
    )
    cloudformation = "\n".join(
        f"# the AWS::EC2::ClientVpnAuthorizationRule of {ctx.rid} for {cidr}:\n"
        f"    TargetNetworkCidr: {cidr}\n    AuthorizeAllGroups: false\n    AccessGroupId: <access-group-id>"
        for cidr in cidrs
    )
    return _fix(ctx, step, cli, terraform, cloudformation, "The access group id comes from your identity provider.")


# ---------------------------------------------------------------------------------
# The registry of fixes
# ---------------------------------------------------------------------------------

FixFn = Callable[[_Ctx], Fix]

# ---------------------------------------------------------------------------------
# Paths (SPEC §7)
# ---------------------------------------------------------------------------------


def _fix_return_path(ctx: _Ctx) -> Fix:
    """A route back to the sources through the connection the forward route used: a
    peering is symmetric, and a transit gateway attachment returns through its gateway."""
    forward = str(ctx.ev.get("route") or "")
    _, _, target = forward.partition(" -> ")
    cidrs = [str(c) for c in _list(ctx.ev.get("source_cidrs")) or [ctx.ev.get("source_cidr")] if c][:MAX_ITEMS]
    blocked = ctx.ev.get("return_blocked_at") or {}
    if not target or not cidrs:
        return _fix(
            ctx, f"VPC console > Route tables > {ctx.rid} > Routes: add a route back to the sources.", [], "", ""
        )
    flag = _route_target_flag(target)
    cli = [ctx.aws("ec2 create-route", f"--route-table-id {ctx.rid}", _destination_flag(c), flag) for c in cidrs]
    attribute = {"pcx": "vpc_peering_connection_id", "tgw": "transit_gateway_id"}.get(target.split("-", 1)[0])
    tf = "\n".join(
        f'resource "aws_route" "{_tf_name(ctx.rid, "return", c)}" {{\n'
        f"  route_table_id = {_hcl(ctx.rid)}\n  {_tf_destination(c)}\n"
        f"  {attribute or 'gateway_id'} = {_hcl(target)}\n}}"
        for c in cidrs
    )
    cfn_property = {"pcx": "VpcPeeringConnectionId", "tgw": "TransitGatewayId"}.get(
        target.split("-", 1)[0], "GatewayId"
    )
    cfn = "\n".join(
        f"{_cfn_name(ctx.rid, 'Return', c)}:\n  Type: AWS::EC2::Route\n  Properties:\n"
        f"    RouteTableId: {_yaml(ctx.rid)}\n    {_cfn_destination(c)}\n    {cfn_property}: {_yaml(target)}"
        for c in cidrs
    )
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes > Edit routes: add {', '.join(cidrs)} -> {target}, so "
        f"replies to what {ctx.ev.get('forward_table')} sends ({forward}) go back the way they came "
        f"(they die today at {blocked.get('resource_id', '?')}: {blocked.get('reason', '?')})."
    )
    if ctx.address:
        tf = f"# the route table is {ctx.address}: add beside it\n{tf}"
    return _fix(ctx, step, cli, tf, cfn)


def _fix_reachability_intent(ctx: _Ctx) -> Fix:
    """What breaks the intent is where the fix goes: the blocking hop, or the public hop
    where the intent wants private traffic. The command shows the path from the source."""
    ev = ctx.ev
    destination = str(ev.get("destination") or "")
    blocked = ev.get("blocked_at") or {}
    public = ev.get("public_hop") or {}
    trace = ctx.aws(
        "ec2 describe-route-tables",
        f"--filters Name=association.subnet-id,Values={ctx.rid}",
        "--query 'RouteTables[].Routes'",
    )
    expect, verdict = ev.get("expect"), ev.get("verdict")
    if expect == "unreachable":
        where = " -> ".join(str(h) for h in _list(ev.get("hops"))[:8]) or "see evidence"
        step = (
            f"Intent {ev.get('intent')}: {ctx.rid} must not reach {destination}, and it does ({where}). Remove the "
            "route that carries it, or deny it in the network ACL of the source or destination subnet."
        )
    elif blocked:
        step = (
            f"Intent {ev.get('intent')}: {ctx.rid} -> {destination} ({ev.get('protocol')} {ev.get('port')}) is "
            f"blocked at {blocked.get('resource_id')} ({blocked.get('type')}): {blocked.get('reason')}. Fix that hop "
            f"(e.g. for s3/dynamodb, a gateway endpoint on the subnet's route table; for a VPC, the route and the "
            f"route back)."
        )
    elif public:
        step = (
            f"Intent {ev.get('intent')} wants private traffic: {ctx.rid} -> {destination} leaves through "
            f"{public.get('resource_id')} ({public.get('type')}). Give it a private way (a gateway or interface "
            "endpoint, a peering or transit gateway route) that longest-prefix match prefers."
        )
    else:
        step = (
            f"Intent {ev.get('intent')}: {ctx.rid} -> {destination} is {verdict}"
            f" ({ev.get('reason', 'not modelled')}); check the path with vpcwatch path."
        )
    cli = [trace]
    if blocked.get("type") == "route-table" and destination in ("s3", "dynamodb") and expect != "unreachable":
        # The lab's case: no gateway endpoint on the subnet's table. Create one on it.
        service = gateway_service_name(destination, ctx.region)
        cli = [
            ctx.aws(
                "ec2 create-vpc-endpoint",
                f"--vpc-id {ctx.vpc}",
                "--vpc-endpoint-type Gateway",
                f"--service-name {service}",
                f"--route-table-ids {blocked.get('resource_id')}",
            ),
            trace,  # then the subnet's routes show the endpoint's prefix list
        ]
    explain = f"vpcwatch path --from {ctx.rid} --to {destination} --region {ctx.region}"
    hop = blocked.get("resource_id") or public.get("resource_id") or ctx.rid
    tf = f"# {explain}\n# then change the Terraform block of the hop it names ({hop})"
    cfn = f"# {explain}\n# then change the resource of the hop it names in its template"
    return _fix(ctx, step, cli, tf, cfn)


FIXES: dict[str, FixFn] = {
    "vpc-flow-logs-enabled": _fix_flow_logs_enabled,
    "vpc-flow-logs-traffic-type": _fix_flow_logs_traffic_type,
    "vpc-flow-logs-delivering": _fix_flow_logs_delivering,
    "private-subnet-gateway-endpoints": _fix_gateway_endpoints,
    "required-interface-endpoints": _fix_interface_endpoints,
    "interface-endpoint-private-dns": _fix_private_dns,
    "endpoint-service-acceptance-required": _fix_acceptance_required,
    "endpoint-service-trusted-principals": _fix_trusted_principals,
    "peering-cidrs-non-overlapping": _fix_peering_overlap,
    "connected-cidrs-non-overlapping": _fix_connected_overlap,
    "peering-routes-least-access": _fix_peering_least_access,
    "route-destinations-non-overlapping": _fix_route_overlap,
    "routes-no-blackhole": _fix_blackhole,
    "tgw-routes-non-overlapping": _fix_tgw_overlap,
    "tgw-auto-accept-disabled": _fix_tgw_auto_accept,
    "client-vpn-connection-logging": _fix_client_vpn_logging,
    "client-vpn-no-authorize-all": _fix_client_vpn_authorize_all,
    "routes-return-path": _fix_return_path,
    "reachability-intent": _fix_reachability_intent,
}


def generic_fix(check: str) -> Fix:
    """The check's generic remediation (placeholders and all): for a check without a fix."""
    spec = CHECK_BY_ID.get(check)
    if spec is None:
        return Fix(console="See the check's documentation.")
    return Fix(console=spec.remediation, cli=(spec.cli,))


def fix_for(finding: Finding) -> Fix:
    """The finding's own fix; the check's generic one for a check with none (stored findings of
    a check that no longer exists)."""
    fn = FIXES.get(finding.check)
    return generic_fix(finding.check) if fn is None else fn(_Ctx(finding))
