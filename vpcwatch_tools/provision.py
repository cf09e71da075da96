"""``vpcwatch setup``: create, where missing, every resource the service uses at the
current endpoint (findings table, alerts topic, audit queue with its dead-letter queue,
the failure queue of the asynchronous functions), as the deployed template has them
(``vpcwatch_tools.infra``), and return the environment that points the service at them. Idempotent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from chalicelib.aws.session import make_client

# One name per resource: the Chalice triggers name the topic and the queue statically.
TABLE_NAME = "vpcwatch-findings"
TOPIC_NAME = "vpcwatch-alerts"
QUEUE_NAME = "vpcwatch-audits"
DLQ_NAME = "vpcwatch-audits-dlq"
FAILURE_QUEUE_NAME = "vpcwatch-failures"  # the asynchronous functions' on-failure destination
# audit_worker takes one message per invocation (app.AUDIT_BATCH_SIZE), so its timeout
# (.chalice/config.json, tested equal) bounds one (account, region) audit and the outbox
# drain after it. The audit queue's visibility timeout is six times the function's, as
# Lambda's SQS guide asks (room for retries while the function is throttled).
WORKER_TIMEOUT_SECONDS = 300
AUDIT_QUEUE_VISIBILITY_SECONDS = 6 * WORKER_TIMEOUT_SECONDS


@dataclass(frozen=True)
class Names:
    table: str = TABLE_NAME
    topic: str = TOPIC_NAME
    queue: str = QUEUE_NAME
    dead_letter_queue: str = DLQ_NAME


def provision(session: boto3.session.Session, region: str, names: Names = Names()) -> dict[str, str]:
    from chalicelib.aws.store.table import create_table

    create_table(make_client(session, "dynamodb", region), names.table)
    topic_arn = make_client(session, "sns", region).create_topic(Name=names.topic)["TopicArn"]  # idempotent
    sqs = make_client(session, "sqs", region)
    dlq_url = sqs.create_queue(QueueName=names.dead_letter_queue)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    queue_url = sqs.create_queue(
        QueueName=names.queue,
        Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": str(AUDIT_QUEUE_VISIBILITY_SECONDS)},
    )["QueueUrl"]
    sqs.create_queue(QueueName=FAILURE_QUEUE_NAME)  # where Lambda and SNS put what failed for good
    return {
        "AWS_REGION": region,
        "FINDINGS_TABLE": names.table,
        "ALERTS_TOPIC_ARN": str(topic_arn),
        "AUDIT_QUEUE_URL": str(queue_url),
    }


def describe(env: dict[str, Any]) -> str:
    return json.dumps(env, indent=2, sort_keys=True)
