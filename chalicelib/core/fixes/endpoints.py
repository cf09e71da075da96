"""Fixes of the VPC endpoint checks: gateway and interface endpoints, private DNS, and the
PrivateLink services the account provides (acceptance, trusted principals)."""

from __future__ import annotations

from chalicelib.core.fixes.context import (
    Fix,
    _cfn_name,
    _Ctx,
    _fix,
    _hcl,
    _hcl_list,
    _list,
    _q,
    _tf_name,
    _yaml,
    gateway_service_name,
    interface_service_name,
    is_address,
)


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
