"""Quota refunds: what a request took from its account's quotas is given back when the API then refuses it
(a 404, a 400 ...): only accepted requests count."""


def on_refusal(request, undo) -> None:
    """Call undo() if the view then answers this request with an error (e.g. give back a quota it took)."""
    request._request.__dict__.setdefault("nt_on_refusal", []).append(undo)


def refund(request) -> None:
    """Run the request's refunds (the API's exception handler calls this for every error it answers)."""
    for undo in getattr(getattr(request, "_request", None), "nt_on_refusal", ()):
        undo()
