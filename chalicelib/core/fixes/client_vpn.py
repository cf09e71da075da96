"""Fixes of the Client VPN checks: connection logging, authorization rules open to all groups."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.core.fixes.context import (
    MAX_ITEMS,
    Fix,
    _cfn_name,
    _Ctx,
    _fix,
    _list,
    _tf_name,
    _unique,
)


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
