"""AWS Signature Version 4 for S3 requests, with the standard library only.

https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
"""
import hashlib
import hmac
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ALGORITHM = "AWS4-HMAC-SHA256"

# S3 encodes every byte but the unreserved ones, and keeps '/' in paths.
_UNRESERVED = "-_.~"


def encode_path(path):
    return quote(path, safe="/" + _UNRESERVED)


def encode_query(params):
    """The canonical query string, which is also the one sent: keys sorted, both sides encoded."""
    pairs = sorted((quote(k, safe=_UNRESERVED), quote(v, safe=_UNRESERVED)) for k, v in params.items())
    return "&".join("%s=%s" % kv for kv in pairs)


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key, date, region, service="s3"):
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def sign(method, path, query, headers, credentials, region, now, payload_hash=EMPTY_SHA256, service="s3"):
    """Returns the headers to send: `headers` (names lowercased) plus x-amz-date,
    x-amz-content-sha256, x-amz-security-token when there is a session token,
    and Authorization. `path` is the encoded path, as encode_path() makes it;
    `query` the encoded query, as encode_query() makes it; every header given is signed."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed["x-amz-date"] = amz_date
    signed["x-amz-content-sha256"] = payload_hash
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical_request = "\n".join(
        [
            method,
            path,
            query,
            "".join("%s:%s\n" % (name, signed[name]) for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    signature = hmac.new(
        signing_key(credentials.secret_key, date, region, service), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    signed["authorization"] = "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM,
        credentials.access_key,
        scope,
        ";".join(names),
        signature,
    )
    return signed
