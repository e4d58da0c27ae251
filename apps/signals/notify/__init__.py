"""Who hears about strong signals, and how: one module per channel.

- alerts.py: which signals are announced (strong: score at least ScoringPolicy.signal_alert_score;
  only news of the last 24 h, new or turned strong by a re-analysis; backfills announce nothing), and
  announcing them when the transaction that made them commits;
- stream.py: the live stream (Redis pub/sub, read by the SSE endpoint);
- websocket.py: the same events over WebSocket (Channels consumer, channel layer group "alerts");
- slack.py: a Slack alert per strong signal, debounced per symbol and article;
- webhooks.py: signed events to subscribed endpoints, one ledger job per delivery;
- deadletters.py: a dead letter becomes a job.dead event;
- http.py: the address-pinned outbound client.

Every send is a job in the ledger: retried, then a dead letter. The names below are the package's API.
"""

from apps.signals.notify.alerts import (
    ALERT_MAX_AGE,
    announce,
    announced_since,
    missed_since,
    signal_payloads,
    signals_created,
)
from apps.signals.notify.deadletters import job_died
from apps.signals.notify.http import DeliveryFailed, http_client
from apps.signals.notify.slack import debounce_key, send_slack_alert, slack_message
from apps.signals.notify.stream import publish, stream_channel
from apps.signals.notify.webhooks import SIGNATURE_HEADER, deliver, emit, new_event, sign, verify

__all__ = ["ALERT_MAX_AGE", "SIGNATURE_HEADER", "DeliveryFailed", "announce", "announced_since", "debounce_key",
           "deliver", "emit", "http_client", "job_died", "missed_since", "new_event", "publish", "send_slack_alert", "sign",
           "signal_payloads", "signals_created", "slack_message", "stream_channel", "verify"]
