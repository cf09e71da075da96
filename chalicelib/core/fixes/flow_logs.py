"""Fixes of the flow log checks: create a flow log, widen its traffic type, repair its delivery."""

from __future__ import annotations

from chalicelib.core.fixes.context import (
    Fix,
    _cfn_name,
    _Ctx,
    _fix,
    _hcl,
    _list,
    _tf_name,
    _yaml,
)

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
