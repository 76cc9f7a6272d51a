"""`python -m whatfix_data alerts [--since D] [--until D] [--webhook URL] [--email TO[,TO]]`.

For cron: evaluates the account's targets (set on the dashboard's Overview and Flows pages),
prints one line per breach on stdout and exits 1 when any target is breached (0 when none is,
3 when a breach could not be delivered). Without --since it judges the last complete ISO week;
with --since, the days from then to yesterday (today is not over yet).

Each breach is delivered once per channel: a sent-log in the account's store records what went
out, so the next run sends only new breaches. A failed send is not recorded: it is retried on
the next run. Delivery failures (a webhook that times out or answers 500, an SMTP server that
refuses the login) print one line each, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from whatfix_data import delivery
from whatfix_data.config import Settings
from whatfix_data.session import cli_session
from whatfix_data.store import RecordStore
from whatfix_data.targets import Evaluation, TargetStore, breaches, load_and_evaluate
from whatfix_data.windows import DateRange, InvalidDateRange, from_iso, today_for

SENT_KIND = "alerts-sent"
EXIT_BREACHED = 1
EXIT_DELIVERY_FAILED = 3
MAX_PERIOD_DAYS = 366
CHANNEL_WEBHOOK = "webhook"
CHANNEL_EMAIL = "email"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `alerts` subcommand."""
    parser = subparsers.add_parser(
        "alerts",
        help="check the targets; print, post and e-mail each breach once (for cron)",
        description="Evaluate the account's targets, print one line per breach and exit 1 when "
        "any is breached (3 when a breach could not be delivered). Each breach is posted / "
        "e-mailed once; a failed delivery is retried on the next run.",
    )
    parser.add_argument("--since", default=None,
                        help="first day, YYYY-MM-DD (default: the last complete ISO week)")
    parser.add_argument("--until", default=None,
                        help="last day, YYYY-MM-DD (default: yesterday, or that week's Sunday)")
    parser.add_argument("--webhook", default=None, metavar="URL",
                        help="POST a JSON payload of new breaches here (default: the "
                        "alert_webhook setting)")
    parser.add_argument("--email", default=None, metavar="TO[,TO]",
                        help="e-mail new breaches to these addresses through the configured "
                        "SMTP server (default: the alert_email setting)")
    parser.set_defaults(run=run)


def alert_period(since: str | None, until: str | None, settings: Settings) -> DateRange:
    """--since/--until, else the last complete ISO week before today."""
    today = today_for(settings)
    if since is None and until is None:
        this_monday = today - timedelta(days=today.weekday())
        return DateRange(this_monday - timedelta(days=7), this_monday - timedelta(days=1))
    end = from_iso(until, "until date") if until else today - timedelta(days=1)
    start = from_iso(since, "since date") if since else end - timedelta(days=6)
    period = DateRange(start, end)
    if period.days > MAX_PERIOD_DAYS:  # weekly targets load one window per week: bounded
        raise InvalidDateRange(f"--since {start.isoformat()} gives {period.days:,} days: alerts "
                               f"check at most {MAX_PERIOD_DAYS} days at a time.")
    return period


def breach_key(evaluation: Evaluation, channel: str) -> str:
    """What "this breach" means for the sent-log: the target as set (metric, flow, threshold,
    direction, per) and the start of its period, per channel. A changed threshold is a new
    target; the same week breached again is the same breach."""
    target = evaluation.target
    return "|".join([channel, target.key, f"{target.threshold:g}", target.direction,
                     target.per, evaluation.period_start.isoformat()])


def payload(settings: Settings, period: DateRange, items: list[Evaluation]) -> dict[str, Any]:
    """The webhook's JSON: account, period, one object per breach and a `text` summary (shown
    as is by Slack/Teams-style incoming webhooks)."""
    return {
        "account": settings.account_id,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "breaches": [
            {
                "target": e.target.label,
                "metric": e.target.metric,
                "flow_id": e.target.flow_id,
                "flow_name": e.target.flow_name,
                "threshold": e.target.threshold,
                "direction": e.target.direction,
                "per": e.target.per,
                "unit": e.target.unit,
                "period": e.period,
                "period_start": e.period_start.isoformat(),
                "period_end": e.period_end.isoformat(),
                "value": e.value,
            }
            for e in items
        ],
        "text": summary_text(settings, items),
    }


def summary_text(settings: Settings, items: list[Evaluation]) -> str:
    lines = [f"Whatfix targets breached for {settings.account_id}:"]
    lines += [f"- {e.line()}" for e in items]
    return "\n".join(lines)


class _SentLog:
    def __init__(self, records: RecordStore) -> None:
        self.records = records
        self.sent = set(records.records(SENT_KIND))

    def unsent(self, items: list[Evaluation], channel: str) -> list[Evaluation]:
        return [e for e in items if breach_key(e, channel) not in self.sent]

    def mark(self, items: list[Evaluation], channel: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for e in items:
            key = breach_key(e, channel)
            self.records.put(SENT_KIND, key, {"sent_at": stamp, "line": e.line()})
            self.sent.add(key)


def _deliver(settings: Settings, args: argparse.Namespace, period: DateRange,
             found: list[Evaluation], log: _SentLog) -> list[str]:
    """Send new breaches on each configured channel; the failures' messages."""
    failures: list[str] = []
    webhook = args.webhook or settings.alert_webhook
    recipients_text = args.email if args.email is not None else settings.alert_email
    if webhook and (new := log.unsent(found, CHANNEL_WEBHOOK)):
        try:
            delivery.post_webhook(webhook, payload(settings, period, new),
                                  settings.webhook_timeout_s)
            log.mark(new, CHANNEL_WEBHOOK)
            print(f"Posted {len(new)} new breach(es) to the webhook at "
                  f"{delivery.webhook_host(webhook)}.", file=sys.stderr)
        except delivery.DeliveryError as exc:
            failures.append(f"{exc.user_message} The breaches stay unsent and are retried on "
                            "the next run.")
    if recipients_text:
        try:
            recipients = delivery.parse_recipients(recipients_text)
            if new := log.unsent(found, CHANNEL_EMAIL):
                subject = (f"Whatfix alert: {len(new)} target(s) breached "
                           f"({settings.account_id}, {period.label()})")
                delivery.send_email(settings, recipients, subject, summary_text(settings, new))
                log.mark(new, CHANNEL_EMAIL)
                print(f"E-mailed {len(new)} new breach(es) to {', '.join(recipients)}.",
                      file=sys.stderr)
        except delivery.DeliveryError as exc:
            failures.append(f"{exc.user_message} The breaches stay unsent and are retried on "
                            "the next run.")
    return failures


def run(args: argparse.Namespace) -> int:
    """Evaluate, print, deliver (failures: one line and a non-zero code, via whatfix_data.cli)."""
    session = cli_session()  # resolved once; demo mode starts the built-in server
    settings = session.settings
    period = alert_period(args.since, args.until, settings)
    # A bad address is a usage error: said before anything is loaded.
    delivery.parse_recipients(args.email if args.email is not None else settings.alert_email)
    if settings.demo:
        print("No Whatfix credentials configured: checking the built-in demo account.",
              file=sys.stderr)
    records = RecordStore(settings)
    targets = TargetStore(settings, records).targets()
    if not targets:
        print("No targets are set for this account: set them on the Overview and Flows pages "
              "of the dashboard.", file=sys.stderr)
        return 0
    with session.client() as client:
        evaluations = load_and_evaluate(client, targets, period)
    found = breaches(evaluations)
    log = _SentLog(records)
    for evaluation in found:
        print(evaluation.line())
    failures = _deliver(settings, args, period, found, log) if found else []
    for message in failures:
        print(f"Error: {message}", file=sys.stderr)
    print(f"{len(targets)} target(s) checked over {period.label()}: {len(found)} breach(es).",
          file=sys.stderr)
    if failures:
        return EXIT_DELIVERY_FAILED
    return EXIT_BREACHED if found else 0
