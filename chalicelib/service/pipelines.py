"""The service behind every entry point: the pipelines the handlers share, one class.

Each pipeline is a module, built on the one below it:

- ``base``: construction, settings, the lazily built clients;
- ``outbox``: announcing recorded changes (SNS, Security Hub) exactly once per channel;
- ``record``: audit -> reconcile in the store -> publish the outbox -> resource memory;
- ``events``: a CloudTrail event's re-audit and the delayed re-audits while it settles;
- ``fanout``: the sweep, the audit queue and its worker;
- ``queries``: ``POST /audits``;
- here: the Slack forwarder, and ``Service``, which is all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from chalicelib.service.queries import ApiQueries

log = logging.getLogger("vpcwatch.service")


class Service(ApiQueries):
    """Every pipeline; ``app.py``, the CLI's demo and the benchmarks build one."""

    def forward_to_slack(self, sns_event: Mapping[str, Any]) -> int:
        from chalicelib.aws.publish.slack import forward_to_slack, webhook_url

        if not self.settings.slack_webhook_param:
            log.warning("SLACK_WEBHOOK_PARAM is not set: nothing forwarded")
            return 0
        return forward_to_slack(sns_event, webhook_url(self.settings.slack_webhook_param, self.ssm))
