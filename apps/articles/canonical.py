"""Identity of an article: canonical URL (and its hash) and a title fingerprint for cross-source dupes."""

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref", "ref_src",
    "cmpid", "ncid", "ito", "spm", "soc_src", "soc_trk", "cid", "mbid", "sr_share",
}
_WORD = re.compile(r"[a-z0-9]+")
# Words too common to tell two headlines apart.
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the this to was were will with".split()
)


def canonical_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
    ]
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(sorted(query)), ""))


def url_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def title_words(title: str) -> list[str]:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return [word for word in _WORD.findall(text) if word not in _STOPWORDS]


def title_fingerprint(title: str) -> str:
    """Same for headlines that differ only in case, punctuation, accents, stopwords or word order."""
    return hashlib.sha256(" ".join(sorted(set(title_words(title)))).encode()).hexdigest()
