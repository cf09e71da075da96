"""The check registry: every check of SPEC §1, its metadata as data, and what it reads.

``needs`` (the IAM actions of the data a check reads) is the one source of truth for
what a check depends on: the IAM policies are generated from it, the lean collector
fetches exactly it, the event pipeline derives which checks an event can move from it,
and a check whose data failed to collect is "not evaluated" by it. A test runs every
check on a snapshot whose undeclared parts raise on access, so a check cannot read what
it did not declare. ``subjects`` names what a check judges in a snapshot (what a scoped
audit covers), and ``by_reference`` the parts it reads only for the resources that the
scoped route tables name (so an event re-audit may fetch just those).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core import actions as A
from chalicelib.core.checks import client_vpn, endpoints, flow_logs, reachability, routing
from chalicelib.core.checks import subjects as S
from chalicelib.core.checks._base import CheckFn
from chalicelib.core.checks.subjects import Subjects
from chalicelib.core.model import Severity


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    resource_type: str  # CloudFormation type name
    arn_kind: str  # the resource part of the ARN: arn:aws:ec2:<region>:<account>:<arn_kind>/<id>
    severity: Severity
    fn: CheckFn
    needs: tuple[str, ...]  # IAM actions whose data the check reads
    subjects: Subjects  # snapshot -> the resource ids the check judges there
    remediation: str  # console step
    cli: str  # an AWS CLI command that fixes it (placeholders in <angle brackets>)
    security_hub: tuple[str, ...] = ()
    config_rule: tuple[str, ...] = ()
    cis: tuple[str, ...] = ()
    by_reference: frozenset[str] = frozenset()  # snapshot parts read only where routes name them
    # The evidence fields that tell apart several findings of the check on one resource
    # (part of the finding id): the service of an endpoint check, an intent's name and
    # destination, a return path's forward table.
    id_fields: tuple[str, ...] = ("service",)
    # What a scoped (VPC) audit collects for the check, when less than ``needs``: a check
    # that judges nothing in a scoped audit (its subjects are empty there) needs only the
    # part that tells its resources still exist (what the store's "gone" rule reads).
    scoped_needs: tuple[str, ...] | None = None

    @property
    def parts(self) -> frozenset[str]:
        """The snapshot parts (``NetworkSnapshot`` field names) the check reads."""
        return frozenset(ACTION_PARTS[action] for action in self.needs)

    def reads(self, scoped: bool) -> tuple[str, ...]:
        """The IAM actions whose data a (scoped or region-wide) collection fetches for it."""
        return self.scoped_needs if scoped and self.scoped_needs is not None else self.needs

    def parts_read(self, scoped: bool) -> frozenset[str]:
        return frozenset(ACTION_PARTS[action] for action in self.reads(scoped))


VPC = "AWS::EC2::VPC"
ROUTE_TABLE = "AWS::EC2::RouteTable"

# Each IAM action -> the snapshot part its data lands in.
ACTION_PARTS: dict[str, str] = {
    A.VPCS: "vpcs",
    A.SUBNETS: "subnets",
    A.RTBS: "route_tables",
    A.IGWS: "internet_gateways",
    A.NATS: "nat_gateways",
    A.FLOW: "flow_logs",
    A.VPCE: "vpc_endpoints",
    A.SVC: "endpoint_services",
    A.SVC_PERM: "endpoint_services",
    A.PCX: "peerings",
    A.TGW: "transit_gateways",
    A.TGW_ATT: "tgw_attachments",
    A.TGW_RTB: "tgw_route_tables",
    A.TGW_ROUTES: "tgw_route_tables",
    A.TGW_PROP: "tgw_route_tables",
    A.CVPN: "client_vpn_endpoints",
    A.CVPN_AUTH: "client_vpn_endpoints",
    A.PL: "prefix_lists",
    A.PL_ENTRIES: "prefix_lists",
    A.NACLS: "network_acls",
    A.EIGWS: "egress_only_internet_gateways",
    A.VGWS: "vpn_gateways",
    A.TGW_PEER: "tgw_peering_attachments",
}
_PL_ACTIONS = (A.PL, A.PL_ENTRIES)
# Which table each attachment is associated with comes with the attachments (A.TGW_ATT).
_TGW_TABLE_ACTIONS = (A.TGW_RTB, A.TGW_ROUTES, A.TGW_PROP)

# What the path engine (SPEC §7: ``vpcwatch path``, and the intents built on it) reads:
# everything a packet's route can pass, region-wide (a path may cross any VPC).
PATH_NEEDS: tuple[str, ...] = (
    A.VPCS,
    A.SUBNETS,
    A.RTBS,
    A.IGWS,
    A.EIGWS,
    A.NATS,
    A.VGWS,
    A.NACLS,
    A.VPCE,
    A.PCX,
    A.TGW,
    A.TGW_ATT,
    A.TGW_PEER,
    # The tables and their routes (SearchTransitGatewayRoutes lists the propagated routes
    # AWS installed): the path follows those, so it needs no propagation list.
    A.TGW_RTB,
    A.TGW_ROUTES,
    *_PL_ACTIONS,
)


REGISTRY: tuple[CheckSpec, ...] = (
    CheckSpec(
        id="vpc-flow-logs-enabled",
        title="VPC Flow Logs are enabled",
        resource_type=VPC,
        arn_kind="vpc",
        severity=Severity.MEDIUM,
        fn=flow_logs.check_flow_logs_enabled,
        needs=(A.VPCS, A.SUBNETS, A.FLOW),
        subjects=S.audited_vpcs,
        remediation="VPC console > Your VPCs > select the VPC > Flow logs > Create flow log "
        "(filter All, destination CloudWatch Logs or S3).",
        cli="aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> --traffic-type ALL "
        "--log-destination-type s3 --log-destination arn:aws:s3:::<bucket>",
        security_hub=("EC2.6",),
        config_rule=("vpc-flow-logs-enabled",),
        cis=("3.7 (v3.0-v5.0)",),
    ),
    CheckSpec(
        id="vpc-flow-logs-traffic-type",
        title="VPC Flow Logs capture the required traffic type",
        resource_type=VPC,
        arn_kind="vpc",
        severity=Severity.LOW,
        fn=flow_logs.check_flow_logs_traffic_type,
        needs=(A.VPCS, A.SUBNETS, A.FLOW),
        subjects=S.audited_vpcs,
        remediation="VPC console > the VPC > Flow logs: create a flow log with the filter the policy "
        "requires (All), then delete the narrower one.",
        cli="aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> --traffic-type ALL "
        "--log-destination-type s3 --log-destination arn:aws:s3:::<bucket>",
    ),
    CheckSpec(
        id="vpc-flow-logs-delivering",
        title="VPC Flow Logs deliver to their destination",
        resource_type="AWS::EC2::FlowLog",
        arn_kind="vpc-flow-log",
        severity=Severity.MEDIUM,
        fn=flow_logs.check_flow_logs_delivering,
        needs=(A.SUBNETS, A.FLOW),
        subjects=S.audited_flow_logs,
        remediation="Fix the delivery role or destination named in the error (IAM role trust and "
        "logs:CreateLogStream/PutLogEvents, or the S3 bucket policy), then recreate the flow log.",
        cli="aws ec2 describe-flow-logs --flow-log-ids <fl-id> --query 'FlowLogs[].DeliverLogsErrorMessage'",
    ),
    CheckSpec(
        id="private-subnet-gateway-endpoints",
        title="Private route tables reach S3 and DynamoDB through gateway endpoints",
        resource_type=ROUTE_TABLE,
        arn_kind="route-table",
        severity=Severity.MEDIUM,
        fn=endpoints.check_private_subnet_gateway_endpoints,
        needs=(A.VPCS, A.SUBNETS, A.RTBS, A.IGWS, A.VPCE),
        subjects=S.audited_route_tables,
        by_reference=frozenset({"internet_gateways"}),
        remediation="VPC console > Endpoints > Create endpoint: AWS service com.amazonaws.<region>.<service>, "
        "type Gateway, select this route table.",
        cli="aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id <vpc-id> "
        "--service-name com.amazonaws.<region>.<service> --route-table-ids <rtb-id>",
    ),
    CheckSpec(
        id="required-interface-endpoints",
        title="VPCs with private subnets have the required interface endpoints",
        resource_type=VPC,
        arn_kind="vpc",
        severity=Severity.MEDIUM,
        fn=endpoints.check_required_interface_endpoints,
        needs=(A.VPCS, A.SUBNETS, A.RTBS, A.IGWS, A.VPCE),
        subjects=S.audited_vpcs,
        by_reference=frozenset({"internet_gateways"}),
        remediation="VPC console > Endpoints > Create endpoint: AWS service com.amazonaws.<region>.<service>, "
        "type Interface, in the private subnets, with private DNS enabled.",
        cli="aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id <vpc-id> "
        "--service-name com.amazonaws.<region>.<service> --subnet-ids <subnet-ids> "
        "--security-group-ids <sg-id> --private-dns-enabled",
        security_hub=(
            "EC2.10 (ec2)",
            "EC2.55 (ecr.api)",
            "EC2.56 (ecr.dkr)",
            "EC2.57 (ssm)",
            "EC2.58 (ssm-contacts)",
            "EC2.60 (ssm-incidents)",
        ),
        config_rule=("vpc-endpoint-enabled", "service-vpc-endpoint-enabled"),
    ),
    CheckSpec(
        id="interface-endpoint-private-dns",
        title="Interface endpoints to AWS services have private DNS enabled",
        resource_type="AWS::EC2::VPCEndpoint",
        arn_kind="vpc-endpoint",
        severity=Severity.LOW,
        fn=endpoints.check_interface_endpoint_private_dns,
        needs=(A.VPCE,),
        subjects=S.audited_vpc_endpoints,
        remediation="VPC console > Endpoints > select the endpoint > Actions > Modify private DNS name > "
        "Enable (the VPC needs DNS hostnames and DNS support).",
        cli="aws ec2 modify-vpc-endpoint --vpc-endpoint-id <vpce-id> --private-dns-enabled",
    ),
    CheckSpec(
        id="endpoint-service-acceptance-required",
        title="PrivateLink endpoint services require acceptance",
        resource_type="AWS::EC2::VPCEndpointService",
        arn_kind="vpc-endpoint-service",
        severity=Severity.MEDIUM,
        fn=endpoints.check_endpoint_service_acceptance_required,
        needs=(A.SVC,),
        subjects=S.audited_endpoint_services,
        remediation="VPC console > Endpoint services > select the service > Actions > Modify endpoint "
        "acceptance setting > Acceptance required.",
        cli="aws ec2 modify-vpc-endpoint-service-configuration --service-id <vpce-svc-id> --acceptance-required",
    ),
    CheckSpec(
        id="endpoint-service-trusted-principals",
        title="PrivateLink endpoint services allow only trusted principals",
        resource_type="AWS::EC2::VPCEndpointService",
        arn_kind="vpc-endpoint-service",
        severity=Severity.HIGH,
        fn=endpoints.check_endpoint_service_trusted_principals,
        needs=(A.SVC, A.SVC_PERM),
        subjects=S.audited_endpoint_services,
        remediation="VPC console > Endpoint services > select the service > Allow principals: remove '*' "
        "and every account not in the policy's trusted_accounts.",
        cli="aws ec2 modify-vpc-endpoint-service-permissions --service-id <vpce-svc-id> "
        "--remove-allowed-principals '<principal-arn>'",
    ),
    CheckSpec(
        id="peering-cidrs-non-overlapping",
        title="Peered VPCs have non-overlapping CIDRs",
        resource_type="AWS::EC2::VPCPeeringConnection",
        arn_kind="vpc-peering-connection",
        severity=Severity.HIGH,
        fn=routing.check_peering_cidrs_non_overlapping,
        needs=(A.VPCS, A.PCX),
        subjects=S.audited_peerings,
        remediation="Renumber one side: add a non-overlapping secondary CIDR, move workloads, remove the "
        "overlapping block; or replace the peering with PrivateLink or a private NAT gateway.",
        cli="aws ec2 disassociate-vpc-cidr-block --association-id <vpc-cidr-assoc-id>",
    ),
    CheckSpec(
        id="connected-cidrs-non-overlapping",
        title="CIDRs reachable from a VPC do not overlap",
        resource_type=VPC,
        arn_kind="vpc",
        severity=Severity.HIGH,
        fn=routing.check_connected_cidrs_non_overlapping,
        needs=(A.VPCS, A.PCX, A.TGW_ATT, *_TGW_TABLE_ACTIONS, *_PL_ACTIONS),
        subjects=S.audited_vpcs,
        remediation="Renumber one of the overlapping networks, or separate them into different TGW route "
        "tables / remove one of the peerings so no VPC reaches both.",
        cli="aws ec2 disable-transit-gateway-route-table-propagation --transit-gateway-route-table-id "
        "<tgw-rtb-id> --transit-gateway-attachment-id <tgw-attach-id>",
    ),
    CheckSpec(
        id="peering-routes-least-access",
        title="Routes to peerings cover only the peer's CIDRs",
        resource_type=ROUTE_TABLE,
        arn_kind="route-table",
        severity=Severity.MEDIUM,
        fn=routing.check_peering_routes_least_access,
        needs=(A.VPCS, A.RTBS, A.PCX, *_PL_ACTIONS),
        subjects=S.audited_route_tables,
        by_reference=frozenset({"peerings", "vpcs"}),
        remediation="VPC console > Route tables > select the table > Routes > Edit: replace the broad "
        "destination with the peer VPC's CIDRs (or the subnets that need it).",
        cli="aws ec2 replace-route --route-table-id <rtb-id> --destination-cidr-block <peer-cidr> "
        "--vpc-peering-connection-id <pcx-id>",
        cis=("5.5 (v3.0)", "5.6 (v4.0, v5.0)"),
    ),
    CheckSpec(
        id="route-destinations-non-overlapping",
        title="Routes to different peerings and transit gateways do not overlap",
        resource_type=ROUTE_TABLE,
        arn_kind="route-table",
        severity=Severity.MEDIUM,
        fn=routing.check_route_destinations_non_overlapping,
        needs=(A.VPCS, A.RTBS, A.PCX, *_PL_ACTIONS),
        subjects=S.audited_route_tables,
        by_reference=frozenset({"peerings", "vpcs"}),
        remediation="VPC console > Route tables > the table > Routes: remove or narrow one of the "
        "overlapping routes so each destination has one intended path.",
        cli="aws ec2 delete-route --route-table-id <rtb-id> --destination-cidr-block <cidr>",
    ),
    CheckSpec(
        id="routes-return-path",
        id_fields=("forward_table",),
        title="Routes to peerings and transit gateways have a return path",
        resource_type=ROUTE_TABLE,
        arn_kind="route-table",
        severity=Severity.MEDIUM,
        fn=reachability.check_routes_return_path,
        # The path engine's parts, but network ACLs: the check judges routes only.
        needs=tuple(a for a in PATH_NEEDS if a != A.NACLS),
        subjects=reachability.audited_return_tables,
        scoped_needs=(A.RTBS,),
        remediation="VPC console > Route tables > the table that serves the destination subnets > Routes > "
        "Edit: add a route for the source subnets' CIDR to the same peering or transit gateway "
        "(and, for a transit gateway, a route back in the TGW route table of the destination's attachment).",
        cli="aws ec2 create-route --route-table-id <rtb-id> --destination-cidr-block <source-cidr> "
        "--vpc-peering-connection-id <pcx-id>",
    ),
    CheckSpec(
        id="reachability-intent",
        id_fields=("intent", "destination"),
        title="Reachability intents of the policy hold",
        resource_type="AWS::EC2::Subnet",
        arn_kind="subnet",
        severity=Severity.HIGH,
        fn=reachability.check_reachability_intent,
        needs=PATH_NEEDS,
        subjects=reachability.audited_source_subnets,
        scoped_needs=(A.SUBNETS,),
        remediation="Run `vpcwatch path --from <subnet> --to <destination>` to see the hop that blocks (or "
        "the public hop), then fix that route table, gateway, endpoint or network ACL; or correct the intent.",
        cli="vpcwatch path --from <subnet-id> --to <destination> --port <port>",
    ),
    CheckSpec(
        id="routes-no-blackhole",
        title="Routes do not point to missing or inactive targets",
        resource_type=ROUTE_TABLE,
        arn_kind="route-table",
        severity=Severity.MEDIUM,
        fn=routing.check_routes_no_blackhole,
        needs=(A.RTBS, A.PCX, A.TGW, A.TGW_ATT, A.NATS, A.VPCE),
        subjects=S.audited_route_tables,
        by_reference=frozenset({"peerings", "transit_gateways", "tgw_attachments", "nat_gateways"}),
        remediation="VPC console > Route tables > the table > Routes: delete the blackhole route or "
        "point it at a live target.",
        cli="aws ec2 delete-route --route-table-id <rtb-id> --destination-cidr-block <cidr>",
    ),
    CheckSpec(
        id="tgw-routes-non-overlapping",
        title="Transit Gateway route table routes from different attachments do not overlap",
        resource_type="AWS::EC2::TransitGatewayRouteTable",
        arn_kind="transit-gateway-route-table",
        severity=Severity.HIGH,
        fn=routing.check_tgw_routes_non_overlapping,
        needs=(A.VPCS, A.TGW, A.TGW_ATT, *_TGW_TABLE_ACTIONS, *_PL_ACTIONS),
        subjects=S.audited_tgw_route_tables,
        remediation="VPC console > Transit gateway route tables > the table: disable the propagation "
        "or delete the static route of one attachment, or renumber the overlapping VPC.",
        cli="aws ec2 disable-transit-gateway-route-table-propagation --transit-gateway-route-table-id "
        "<tgw-rtb-id> --transit-gateway-attachment-id <tgw-attach-id>",
    ),
    CheckSpec(
        id="tgw-auto-accept-disabled",
        title="Transit Gateways do not auto-accept shared attachments",
        resource_type="AWS::EC2::TransitGateway",
        arn_kind="transit-gateway",
        severity=Severity.HIGH,
        fn=routing.check_tgw_auto_accept_disabled,
        needs=(A.TGW, A.TGW_ATT),
        subjects=S.audited_transit_gateways,
        remediation="VPC console > Transit gateways > the gateway > Actions > Modify: clear "
        "'Auto accept shared attachments'.",
        cli="aws ec2 modify-transit-gateway --transit-gateway-id <tgw-id> "
        "--options AutoAcceptSharedAttachments=disable",
        security_hub=("EC2.23",),
        config_rule=("ec2-transit-gateway-auto-vpc-attach-disabled",),
    ),
    CheckSpec(
        id="client-vpn-connection-logging",
        title="Client VPN endpoints log connections",
        resource_type="AWS::EC2::ClientVpnEndpoint",
        arn_kind="client-vpn-endpoint",
        severity=Severity.LOW,
        fn=client_vpn.check_client_vpn_connection_logging,
        needs=(A.CVPN,),
        subjects=S.audited_client_vpn_endpoints,
        remediation="VPC console > Client VPN endpoints > the endpoint > Actions > Modify: enable "
        "connection logging to a CloudWatch Logs group.",
        cli="aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id <cvpn-endpoint-id> "
        "--connection-log-options Enabled=true,CloudwatchLogGroup=<log-group>",
        security_hub=("EC2.51",),
        config_rule=("ec2-client-vpn-connection-log-enabled",),
    ),
    CheckSpec(
        id="client-vpn-no-authorize-all",
        title="Client VPN authorization rules do not grant every user",
        resource_type="AWS::EC2::ClientVpnEndpoint",
        arn_kind="client-vpn-endpoint",
        severity=Severity.MEDIUM,
        fn=client_vpn.check_client_vpn_no_authorize_all,
        needs=(A.CVPN, A.CVPN_AUTH),
        subjects=S.audited_client_vpn_endpoints,
        remediation="VPC console > Client VPN endpoints > the endpoint > Authorization rules: replace "
        "'Allow access to all users' with rules for specific Active Directory or SAML groups.",
        cli="aws ec2 revoke-client-vpn-ingress --client-vpn-endpoint-id <cvpn-endpoint-id> "
        "--target-network-cidr <cidr> --revoke-all-groups",
        config_rule=("ec2-client-vpn-not-authorize-all",),
    ),
)

CHECK_IDS: frozenset[str] = frozenset(spec.id for spec in REGISTRY)
CHECK_BY_ID: dict[str, CheckSpec] = {spec.id: spec for spec in REGISTRY}


def required_actions() -> frozenset[str]:
    """Every IAM action the checks' data needs (the collector calls exactly these)."""
    return frozenset(action for spec in REGISTRY for action in spec.needs)


def read_actions() -> frozenset[str]:
    """Every IAM action vpcwatch reads data with: the checks' and the path engine's (what
    its IAM policies grant)."""
    return required_actions() | frozenset(PATH_NEEDS)
