"""The outbox drain: every recorded state change is announced on SNS (and exported to
Security Hub when SECURITY_HUB_EXPORT is on) exactly once per channel, this run's own
entries at once, what earlier runs left while the invocation has time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.aws.session import error_code
from chalicelib.service.base import ServiceBase

if TYPE_CHECKING:
    from chalicelib.aws.store.outbox import OutboxEntry

log = logging.getLogger("vpcwatch.service")

# The outbox is drained while the invocation has time left: after the first page, a page
# is claimed only while more than this reserve (for releasing what failed and answering)
# plus the longest page so far remains; without a Lambda context, a run may drain for
# DEFAULT_PUBLISH_SECONDS.
PUBLISH_RESERVE_SECONDS = 10.0
DEFAULT_PUBLISH_SECONDS = 600.0


class OutboxDrain(ServiceBase):
    """Announcing what the store recorded: this run's claimed entries, then the backlog."""

    def bind_invocation(self, lambda_context: Any) -> None:
        """The Lambda context of the invocation that runs now (a container runs one at a
        time): ``publish_pending`` drains the outbox while its remaining time allows.
        None, or a context without ``get_remaining_time_in_millis``: a generous default."""
        remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
        self._time_left = (lambda: float(remaining()) / 1000.0) if callable(remaining) else None

    def publish_pending(self, time_left: Callable[[], float] | None = None) -> tuple[int, int]:
        """Drain the outbox: claim a page of pending entries (this run's and any a failed
        run left), deliver each to every channel that does not have it yet (SNS, with
        PublishBatch; Security Hub too when SECURITY_HUB_EXPORT is on, 100 at a time), and
        claim the next page, until the outbox is empty or ``time_left()`` (seconds; by
        default the bound invocation's remaining time, else ``DEFAULT_PUBLISH_SECONDS``)
        no longer leaves ``PUBLISH_RESERVE_SECONDS`` plus the longest page so far. The
        first page is always taken: a run announces its own changes at once (should the
        function time out in it, its claims lapse after the lease and the next run
        delivers them; a message published twice so carries the same ``dedupe_key``).
        What is left stays pending for the next run. An entry leaves the outbox once every
        channel has it; one a channel refused stays claimed until the end of the run (so
        this run does not retry it), then is released, due again at once: the next run
        retries only the channels still missing, so nothing is announced twice and nothing
        is lost. Returns (messages published on SNS, entries kept for the next run)."""
        if time_left is None:
            time_left = self._time_left or _countdown(DEFAULT_PUBLISH_SECONDS)
        published = pages = 0
        kept: list[Any] = []
        slowest = 0.0
        while True:
            if pages and time_left() <= PUBLISH_RESERVE_SECONDS + slowest:
                log.info("outbox: %.1f s left, what is still pending waits for the next run", time_left())
                break
            started = time.perf_counter()
            entries = self.store.pending()
            if not entries:
                break
            pages += 1
            sent, failed = self._deliver(entries)
            published += sent
            kept += failed
            slowest = max(slowest, time.perf_counter() - started)
            if len(failed) == len(entries):
                log.warning("no outbox entry of this page could be delivered: the rest waits for the next run")
                break
        for entry in kept:
            self.store.release(entry)  # due again at once: the next run retries what is missing
        return published, len(kept)

    def _deliver(self, entries: Sequence[Any]) -> tuple[int, list[Any]]:
        """One page of the outbox to every channel: entries every channel has are marked
        sent; the others get the channels that took them recorded and are returned.
        Returns (published on SNS, entries some channel still lacks)."""
        from chalicelib.aws.publish.sns import publish_batch

        channels = {"sns"} | ({"securityhub"} if self.settings.security_hub_export else set())
        done: dict[str, set[str]] = {e.key: set(e.delivered) for e in entries}
        to_sns = [e for e in entries if "sns" not in e.delivered]
        results = publish_batch(self.sns, self.settings.alerts_topic_arn, [(e.change, e.dedupe_key) for e in to_sns])
        for entry, result in zip(to_sns, results, strict=True):
            if result.ok:
                done[entry.key].add("sns")
            else:
                log.warning(
                    "publish failed, kept for the next run: %s %s: %s", entry.change.type, entry.key, result.error
                )
        if "securityhub" in channels:
            for entry in self._export_to_security_hub([e for e in entries if "securityhub" not in e.delivered]):
                done[entry.key].add("securityhub")
        failed = [e for e in entries if not channels <= done[e.key]]
        self.store.mark_sent_many([e for e in entries if channels <= done[e.key]])
        for entry in failed:
            for channel in sorted(done[entry.key] - entry.delivered):
                self.store.mark_delivered(entry, channel)  # a retry skips the channels that have it
        return sum(1 for r in results if r.ok), failed

    def _export_to_security_hub(self, entries: Sequence[Any]) -> list[Any]:
        """The entries Security Hub imported."""
        from chalicelib.aws.publish.securityhub import export

        if not entries:
            return []
        try:
            result = export(self.securityhub, [e.change for e in entries])
        except (ClientError, BotoCoreError) as exc:  # export reports batch errors; this is the client itself
            log.warning("Security Hub export failed, kept for the next run: %s", exc)
            return []
        failed = {id(f.item) for f in result.failed}
        for entry in entries:
            if id(entry.change) in failed:
                log.warning("Security Hub refused %s, kept for the next run", entry.change.finding.id)
        return [e for e in entries if id(e.change) not in failed]

    def _announce(self, entries: Sequence[OutboxEntry]) -> tuple[int, int]:
        """Publish this run's own (claimed) outbox entries: PublishBatch, ten a request;
        those published leave the outbox in one transaction, the others are released
        for the next run. Returns (published, left for the next run)."""
        if not entries:
            return 0, 0
        from chalicelib.aws.publish.sns import publish_batch

        results = publish_batch(self.sns, self.settings.alerts_topic_arn, [(e.change, e.dedupe_key) for e in entries])
        sent = [e for e, result in zip(entries, results, strict=True) if result.ok]
        unsent = [e for e, result in zip(entries, results, strict=True) if not result.ok]
        for entry, result in zip(entries, results, strict=True):
            if not result.ok:
                log.warning(
                    "publish failed, kept for the next run: %s %s: %s", entry.change.type, entry.key, result.error
                )
        try:
            self.store.mark_sent_many(sent)
        except (ClientError, BotoCoreError) as exc:  # published: at worst announced again when the lease ends
            log.error("published changes not marked sent (%s): they may be announced again", error_code(exc))
        for entry in unsent:
            self.store.release(entry)  # due again at once: the next run retries it
        return len(sent), len(unsent)


def _countdown(seconds: float) -> Callable[[], float]:
    """Seconds left of a budget of ``seconds`` that starts now."""
    deadline = time.monotonic() + seconds
    return lambda: deadline - time.monotonic()
