"""Every feature flag the project knows, declared once. A data migration and `manage.py sync_flags`
create them in the database (django-waffle), where staff toggle them in the admin.

Switches gate system behaviour that workers check (no user involved); Flags gate per-user API
features (users, groups, percent targeting need a request or a user)."""

from dataclasses import dataclass

SWITCH, FLAG = "switch", "flag"


@dataclass(frozen=True)
class FlagSpec:
    name: str
    kind: str
    default: bool
    description: str
    gates: str


FLAGS: dict[str, FlagSpec] = {spec.name: spec for spec in [
    FlagSpec("rss_polling", SWITCH, True, "Poll sources (RSS/Atom feeds; Reddit, X and SEC sources also need their own switch).",
             "poll_due_sources, poll_source and refresh_source_metadata end as skipped jobs when off"),
    FlagSpec("llm_analysis", SWITCH, True, "Analyse with the configured LLM.",
             "off: every analysis uses the offline analyser, whatever was asked"),
    FlagSpec("async_jobs", SWITCH, True, "Run background jobs on workers.",
             "off: enqueue runs the actor inline in the caller after commit (for debugging)"),
    FlagSpec("redis_caching", SWITCH, True, "Cache hot read endpoints in Redis.",
             "GET /api/v1/signals/top/ and /signals/latest/ answers cached for 30 s"),
    FlagSpec("rate_limiting", SWITCH, True, "Apply plan quotas to API keys.",
             "off: API-key requests are still metered but never refused for being over the plan"),
    FlagSpec("signal_explanations", FLAG, False, "Preview: a plain-English explanation on each signal.",
             "adds `explanation` to signal API responses for the users, groups or percent targeted"),
    FlagSpec("email_digests", SWITCH, True, "Send the daily and weekly email digests.",
             "send_daily_digest, send_weekly_digest and send_digest_to end as skipped jobs when off"),
    FlagSpec("slack_alerts", SWITCH, True, "Post strong signals to Slack (NT_SLACK_WEBHOOK_URL).",
             "off: send_slack_alert jobs end as skipped; without NT_SLACK_WEBHOOK_URL none are queued"),
    FlagSpec("webhook_notifications", SWITCH, True, "Deliver events to the webhook endpoints.",
             "off: no deliveries are queued and queued ones end as skipped"),
    FlagSpec("alert_stream", FLAG, False, "Live alert stream (server-sent events) at /api/v1/alerts/stream.",
             "the users, groups or percent targeted may connect; others get 403"),
    FlagSpec("finbert_sentiment", SWITCH, False, "Analyse with the FinBERT model at NT_FINBERT_PATH when no LLM is used.",
             "on with NT_FINBERT_PATH set: analyses made without an LLM take their stance from the model "
             "(provider finbert); off: the offline rules"),
    FlagSpec("ml_predictions", SWITCH, False, "Predict each new signal's chance of beating the benchmark.",
             "on with an active model (manage.py train_signal_model): new signals carry predicted_up and "
             "model_version; off: both stay empty"),
    FlagSpec("advanced_ml", SWITCH, False, "Let gradient boosting compete with the logistic model.",
             "on: train_signal_model also fits HistGradientBoosting walk-forward and keeps it only if its "
             "out-of-sample AUC is higher; off: logistic only"),
    FlagSpec("time_series_forecasting", SWITCH, False, "Per-symbol volatility forecast (EWMA).",
             "on: new signals carry expected_move (1-session 1-sigma, %) and new outcomes excess_sigma; "
             "off: both stay empty"),
    FlagSpec("reddit_integration", SWITCH, False, "Poll Reddit sources (subreddits, searches) through Reddit's API.",
             "on: sources of kind reddit are polled (NT_REDDIT_CLIENT_ID, NT_REDDIT_CLIENT_SECRET, NT_REDDIT_USER_AGENT); "
             "off: they are never queued"),
    FlagSpec("twitter_integration", SWITCH, False, "Poll X sources (recent searches, lists) through the X API v2.",
             "on: sources of kind x are polled (NT_X_BEARER_TOKEN); off: they are never queued"),
    FlagSpec("insider_trading", SWITCH, False, "Read SEC EDGAR Form 4 filings; insider trades make signals.",
             "on: sources of kind sec_form4 are polled (NT_SEC_USER_AGENT), each filing's transactions stored and "
             "open-market trades by officers and directors past the policy's minimum make INSIDER signals; "
             "off: they are never queued"),
    FlagSpec("social_sentiment", SWITCH, False, "A symbol's abnormal burst of social posts moves its signals.",
             "on: a signal whose symbol has a social spike in its hour gets a social component and reason "
             "(weights in the scoring policy); off: social posts are counted but never move a score"),
    FlagSpec("graphql_api", SWITCH, False, "The read-only GraphQL API at /api/graphql/.",
             "on: POST /api/graphql/ answers (API key or session, roles, metering and quotas as REST); off: 404"),
    FlagSpec("websocket_v2", FLAG, False, "The WebSocket alert stream at ws://NT_WS_BIND/ws/v2/alerts/.",
             "the users, groups or percent targeted may connect; others are told so and closed (4403)"),
]}

