"""Deployment as data: the CloudFormation merge template (``resources.json``, merged by
``chalice package --merge-template``), the member role template (``member-role.json``,
deployed in every member account, e.g. as a StackSet) and the IAM actions the service
needs beyond the checks' own. ``python -m vpcwatch_tools.infra --write resources.json`` and
``--member-role member-role.json`` regenerate the files; a test fails when a committed
one drifts, and others prove the hand-written ``.chalice/policy-<stage>.json`` grants
exactly these actions and the registry's, and the member role exactly the registry's."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from chalicelib.core.events import EVENT_PATTERN
from vpcwatch_tools.provision import (
    AUDIT_QUEUE_VISIBILITY_SECONDS,
    DLQ_NAME,
    FAILURE_QUEUE_NAME,
    QUEUE_NAME,
    TABLE_NAME,
    TOPIC_NAME,
)

# Chalice's logical ids of the functions (CamelCase of their names) and the API's.
FUNCTIONS = ("OnNetworkChange", "ScheduledSweep", "AuditWorker", "SlackForwarder", "APIHandler")
# SSM parameters the functions may read: everything under /vpcwatch/, that is the Slack
# webhook URL and a policy document (POLICY may name a parameter, SPEC §2), e.g.
# /vpcwatch/policy. The policies grant ssm:GetParameter on this path and nothing else.
PARAMETER_PATH = "/vpcwatch/"
SLACK_PARAMETER = f"{PARAMETER_PATH}slack-webhook-url"
POLICY_PARAMETER = f"{PARAMETER_PATH}policy"  # the suggested name (README); any name under the path works

# What an asynchronously invoked function (EventBridge rule, schedule, SNS) failed to
# process is never dropped: Lambda retries it ASYNC_RETRIES times, then sends the
# invocation record (the event itself as ``requestPayload``, the error as
# ``responsePayload``) to the failure queue, its on-failure destination. EventBridge sends
# an event it could not deliver to the function at all to the same queue (the rule
# target's dead-letter queue), and SNS a message it could not deliver to slack_forwarder
# (the subscription's redrive policy). audit_worker's failures go to the audit queue's
# own dead-letter queue.
ASYNC_FUNCTIONS = ("OnNetworkChange", "ScheduledSweep", "SlackForwarder")
ASYNC_RETRIES = 2  # Lambda's maximum
ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 3600  # Lambda's maximum: an event waiting longer is sent to the queue
# The rules SAM generates for the two EventBridge-triggered functions (function + event).
EVENT_RULES = ("OnNetworkChangeOnNetworkChangeEvent", "ScheduledSweepScheduledSweepEvent")
RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum, for both dead-letter queues
# The member role's default name (member-role.json's RoleName parameter): the policies
# may assume only roles of this name. Deploy it under another name and MEMBER_ROLE_NAME
# and the "AssumeMemberRole" statement of .chalice/policy-<stage>.json follow.
MEMBER_ROLE_NAME = "vpcwatch-member"
# Every ARN in the policies and templates names its partition as ${AWS::Partition} (an
# Fn::Sub), so one template deploys to aws, aws-cn and aws-us-gov alike. `chalice package`
# copies .chalice/policy-<stage>.json into the template's role policies verbatim, so the
# policy files carry the Fn::Sub themselves; `--iam-policy` resolves one for `chalice deploy`.
PARTITION = "${AWS::Partition}"
MEMBER_ROLE_ARN = f"arn:{PARTITION}:iam::*:role/{MEMBER_ROLE_NAME}"
# Pairs audited at once by audit_worker Lambdas (the SQS event source's maximum
# concurrency): EC2's request rate limits are per account and region, and each pair is
# one message, so this bounds the calls any one account sees from the sweep too.
WORKER_MAX_CONCURRENCY = 10

# EC2 reads the event pipeline makes, beyond the checks' own data, to learn what an event
# touched (chalicelib/core/events.py: the attachments a TGW route table event reaches, from the
# table's association list). The auditor makes them in member accounts too, through the
# member role. A test resolves every watched event and proves each call it makes is granted.
EVENT_LOOKUP_ACTIONS: tuple[str, ...] = ("ec2:GetTransitGatewayRouteTableAssociations",)

# Actions by resource; the policy files are tested against exactly these.
SERVICE_ACTIONS: dict[str, tuple[str, ...]] = {
    "table": (  # the store, and Powertools Idempotency's records in the same table
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ),
    "topic": ("sns:Publish",),
    "queue": (
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
    ),
    "failures": ("sqs:SendMessage",),  # Lambda's on-failure destination, sent with the function's role
    "parameter": ("ssm:GetParameter",),  # under PARAMETER_PATH only
    "identity": ("sts:GetCallerIdentity",),
    "event_lookups": EVENT_LOOKUP_ACTIONS,
    "regions": ("ec2:DescribeRegions",),  # the sweep's regions when AUDIT_REGIONS is unset
    "organization": ("organizations:ListAccounts",),  # the sweep's accounts (MEMBER_ROLE_NAME set)
    "member_role": ("sts:AssumeRole",),  # on arn:aws:iam::*:role/vpcwatch-member only
    "securityhub": ("securityhub:BatchImportFindings",),  # SECURITY_HUB_EXPORT=true, own product only
    "logs": ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
    "tracing": ("xray:PutTelemetryRecords", "xray:PutTraceSegments"),
}


def merge_template() -> dict[str, Any]:
    from chalicelib.aws.store.table import table_definition

    table = table_definition(TABLE_NAME)
    environment = {
        "FINDINGS_TABLE": {"Ref": "FindingsTable"},
        "ALERTS_TOPIC_ARN": {"Ref": "AlertsTopic"},
        "AUDIT_QUEUE_URL": {"Ref": "AuditQueue"},
        "SLACK_WEBHOOK_PARAM": SLACK_PARAMETER,
        "POWERTOOLS_SERVICE_NAME": "vpcwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "vpcwatch",
    }
    resources: dict[str, Any] = {
        "FindingsTable": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                **table,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            },
        },
        "AlertsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": TOPIC_NAME, "KmsMasterKeyId": "alias/aws/sns"},
        },
        "AuditDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": DLQ_NAME,
                "MessageRetentionPeriod": RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        "FailureQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": FAILURE_QUEUE_NAME,
                "MessageRetentionPeriod": RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        "FailureQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {"Queues": [{"Ref": "FailureQueue"}], "PolicyDocument": failure_queue_policy()},
        },
        "AuditQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": QUEUE_NAME,
                "VisibilityTimeout": AUDIT_QUEUE_VISIBILITY_SECONDS,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["AuditDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": 3,
                },
            },
        },
    }
    for function in FUNCTIONS:
        resources[function] = {"Properties": {"Environment": {"Variables": environment}}}
    # on_network_change is a plain Lambda function (it must survive malformed events),
    # so its EventBridge rule is declared here rather than by a Chalice decorator.
    failure_queue = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    resources["OnNetworkChange"]["Properties"]["Events"] = {
        "OnNetworkChangeEvent": {
            "Type": "CloudWatchEvent",
            "Properties": {"Pattern": EVENT_PATTERN, "DeadLetterConfig": {"Arn": failure_queue}},
        }
    }
    # Merged into the events Chalice generates for the schedule and the SNS subscription.
    resources["ScheduledSweep"]["Properties"]["Events"] = {
        "ScheduledSweepEvent": {"Properties": {"DeadLetterConfig": {"Arn": failure_queue}}}
    }
    resources["SlackForwarder"]["Properties"]["Events"] = {
        "SlackForwarderSnsSubscription": {"Properties": {"RedrivePolicy": {"deadLetterTargetArn": failure_queue}}}
    }
    for function in ASYNC_FUNCTIONS:
        resources[function]["Properties"]["EventInvokeConfig"] = {
            "MaximumRetryAttempts": ASYNC_RETRIES,
            "MaximumEventAgeInSeconds": ASYNC_MAX_EVENT_AGE_SECONDS,
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": failure_queue}},
        }
    # audit_worker answers partial batch responses (Powertools' batch utility): the event
    # source mapping Chalice generates must say so, or a failed message fails the batch.
    resources["AuditWorker"]["Properties"]["Events"] = {
        "AuditWorkerSqsEventSource": {
            "Properties": {
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": WORKER_MAX_CONCURRENCY},
            }
        }
    }
    # The environment's Refs also order creation: the topic and queue the triggers name
    # exist before the functions.
    return {
        "Outputs": {
            "FindingsTableName": {"Value": {"Ref": "FindingsTable"}},
            "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
            "AuditQueueUrl": {"Value": {"Ref": "AuditQueue"}},
            "FailureQueueUrl": {"Value": {"Ref": "FailureQueue"}},
        },
        "Resources": resources,
    }


def failure_queue_policy() -> dict[str, Any]:
    """Who may send to the failure queue besides the functions' roles (Lambda's on-failure
    destination uses those): the two EventBridge rules (their targets' dead-letter queue)
    and the alerts topic (slack_forwarder's subscription redrive policy), each by its ARN."""
    queue = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgeRules",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue,
                "Condition": {"ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": [rule, "Arn"]} for rule in EVENT_RULES]}},
            },
            {
                "Sid": "AlertsSubscription",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue,
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "AlertsTopic"}}},
            },
        ],
    }


# Chalice names the runtime after the local interpreter (python3.11, the project's), but
# Lambda stopped creating python3.11 functions on 2026-07-31. The package is pure Python
# apart from optional C speed-ups (PyYAML) that fall back when their ABI does not match,
# so the template is retargeted at a supported runtime.
LAMBDA_RUNTIME = "python3.13"


def set_runtime(template: dict[str, Any], runtime: str) -> int:
    """Point every function of a packaged template at ``runtime``; returns how many."""
    changed = 0
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function") and "Runtime" in properties:
            properties["Runtime"] = runtime
            changed += 1
    return changed


def render() -> str:
    return json.dumps(merge_template(), indent=2, sort_keys=True) + "\n"


def member_role_actions() -> list[str]:
    """What the member role grants: the checks' and the path engine's read-only actions, the event pipeline's
    lookups, GetCallerIdentity, and DescribeRegions (to tell a region not enabled for the
    account from refused credentials)."""
    from chalicelib.core.checks import read_actions

    return sorted({*read_actions(), *EVENT_LOOKUP_ACTIONS, "sts:GetCallerIdentity", "ec2:DescribeRegions"})


def member_role_template() -> dict[str, Any]:
    """The role vpcwatch assumes in every member account (SPEC §5): read-only network
    access, trusting only the auditor account's roles that present the external id."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "vpcwatch member role: read-only access to VPC networking for the vpcwatch auditor account. "
            "Deploy in every member account (for example as a service-managed StackSet)."
        ),
        "Parameters": {
            "RoleName": {
                "Type": "String",
                "Default": MEMBER_ROLE_NAME,
                "AllowedPattern": "[\\w+=,.@-]{1,64}",
                "Description": "The role's name: vpcwatch's MEMBER_ROLE_NAME (its IAM policy allows this default)",
            },
            "AuditorAccountId": {
                "Type": "String",
                "AllowedPattern": "\\d{12}",
                "Description": "The account vpcwatch runs in",
            },
            "AuditorRoleNamePattern": {
                "Type": "String",
                "Default": "*",
                "AllowedPattern": "[\\w+=,.@*/-]{1,128}",
                "Description": "Which of the auditor account's roles may assume this one (ArnLike, e.g. vpcwatch-*)",
            },
            "ExternalId": {
                "Type": "String",
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": "[\\w+=,.@:/-]*",
                "NoEcho": True,
                "Description": "vpcwatch's EXTERNAL_ID",
            },
        },
        "Resources": {
            "MemberRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "vpcwatch: read-only VPC networking audit",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "VpcwatchAuditor",
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AuditorAccountId}:root"}
                                },
                                "Action": "sts:AssumeRole",
                                "Condition": {
                                    "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}},
                                    "ArnLike": {
                                        "aws:PrincipalArn": {
                                            "Fn::Sub": (
                                                "arn:${AWS::Partition}:iam::${AuditorAccountId}:role/"
                                                "${AuditorRoleNamePattern}"
                                            )
                                        }
                                    },
                                },
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "vpcwatch-read-network",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Sid": "ReadNetwork",
                                        "Effect": "Allow",
                                        "Action": member_role_actions(),
                                        "Resource": "*",
                                    }
                                ],
                            },
                        }
                    ],
                },
            }
        },
        "Outputs": {
            "MemberRoleArn": {"Value": {"Fn::GetAtt": ["MemberRole", "Arn"]}},
        },
    }


def render_member_role() -> str:
    return json.dumps(member_role_template(), indent=2, sort_keys=True) + "\n"


def resolve_partition(document: Any, partition: str) -> Any:
    """``document`` with every ``{"Fn::Sub": "...${AWS::Partition}..."}`` that names no other
    variable replaced by its string in ``partition``: the plain IAM policy that
    `chalice deploy` (which calls IAM directly, without CloudFormation) can put."""
    if isinstance(document, dict):
        if set(document) == {"Fn::Sub"} and isinstance(document["Fn::Sub"], str):
            text = document["Fn::Sub"].replace(PARTITION, partition)
            if "${" in text:
                raise ValueError(f"cannot resolve {document['Fn::Sub']!r} outside CloudFormation")
            return text
        return {key: resolve_partition(value, partition) for key, value in document.items()}
    if isinstance(document, list):
        return [resolve_partition(value, partition) for value in document]
    return document


def main() -> int:
    parser = argparse.ArgumentParser(description="Print or write the CloudFormation merge template.")
    parser.add_argument("--write", metavar="FILE", help="write the merge template to FILE")
    parser.add_argument("--member-role", metavar="FILE", help="write the member role template to FILE")
    parser.add_argument("--retarget", metavar="TEMPLATE", help="set the runtime of a packaged template's functions")
    parser.add_argument("--runtime", default=LAMBDA_RUNTIME)
    parser.add_argument(
        "--iam-policy", metavar="FILE", help="print a policy file (.chalice/policy-<stage>.json) as plain IAM JSON"
    )
    parser.add_argument("--partition", default="aws", help="the partition --iam-policy resolves to (default: aws)")
    args = parser.parse_args()
    if args.iam_policy:
        with open(args.iam_policy, encoding="utf-8") as handle:
            policy = json.load(handle)
        sys.stdout.write(json.dumps(resolve_partition(policy, args.partition), indent=2) + "\n")
    elif args.retarget:
        with open(args.retarget, encoding="utf-8") as handle:
            template = json.load(handle)
        count = set_runtime(template, args.runtime)
        with open(args.retarget, "w", encoding="utf-8") as handle:
            json.dump(template, handle, indent=2)
        sys.stderr.write(f"{count} functions now run on {args.runtime}\n")
    elif args.write or args.member_role:
        if args.write:
            with open(args.write, "w", encoding="utf-8") as handle:
                handle.write(render())
        if args.member_role:
            with open(args.member_role, "w", encoding="utf-8") as handle:
                handle.write(render_member_role())
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
