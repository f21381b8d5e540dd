"""The few S3 calls a model download needs (HEAD, GET with a range,
ListObjectsV2), over urllib, signed with SigV4 or unsigned for public objects."""
import collections
import datetime
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from . import aws_sigv4

ObjectInfo = collections.namedtuple("ObjectInfo", "key size etag")

# Virtual-hosted style needs a name that is one DNS label set without dots
# (a dot breaks the *.s3 TLS certificate); others go path-style.
_VIRTUAL_HOST_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_TIMEOUT_S = 60


class S3Error(Exception):
    def __init__(self, url, status, code, message, hint=""):
        self.url = url
        self.status = status
        self.code = code
        detail = "HTTP %s" % status + (" %s" % code if code else "") + (": %s" % message if message else "")
        super().__init__("%s: %s%s" % (url, detail, hint))


def parse_s3_uri(uri):
    match = re.match(r"^s3://([^/]+)/(.*)$", uri)
    if match is None or not match.group(2):
        raise ValueError("%r is not an S3 path such as s3://bucket/key" % uri)
    return match.group(1), match.group(2)


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _etag(headers):
    return (headers.get("ETag") or "").strip('"')


class S3Client:
    def __init__(self, settings, clock=_utcnow):
        self.credentials = settings.credentials
        self.endpoint = settings.endpoint.rstrip("/") if settings.endpoint else None
        self._default_region = settings.region
        self._bucket_regions = {}
        self._clock = clock
        self._opener = urllib.request.build_opener()

    def describe(self):
        where = self.endpoint or "AWS S3"
        how = "signed with the keys of %s" % self.credentials.source if self.credentials else "unsigned (no AWS credentials found)"
        return "%s, %s" % (where, how)

    def _address(self, bucket, key, region):
        """(url base, host, encoded path) of an object, or of the bucket when key is ''."""
        if self.endpoint is not None:
            parts = urlsplit(self.endpoint)
            path = aws_sigv4.encode_path("%s/%s/%s" % (parts.path.rstrip("/"), bucket, key))
            return "%s://%s" % (parts.scheme, parts.netloc), parts.netloc, path
        if _VIRTUAL_HOST_BUCKET.match(bucket):
            host = "%s.s3.%s.amazonaws.com" % (bucket, region)
            return "https://" + host, host, aws_sigv4.encode_path("/" + key)
        host = "s3.%s.amazonaws.com" % region
        return "https://" + host, host, aws_sigv4.encode_path("/%s/%s" % (bucket, key))

    def _open(self, method, bucket, key, params=None, headers=None, redirected=False):
        region = self._bucket_regions.get(bucket, self._default_region)
        base, host, path = self._address(bucket, key, region)
        query = aws_sigv4.encode_query(params or {})
        sent = dict(headers or {})
        if self.credentials is not None:
            sent = aws_sigv4.sign(method, path, query, dict(sent, host=host), self.credentials, region, self._clock())
            del sent["host"]
        url = base + path + ("?" + query if query else "")
        request = urllib.request.Request(url, method=method, headers=sent)
        try:
            return self._opener.open(request, timeout=_TIMEOUT_S)
        except urllib.error.HTTPError as e:
            # S3 answers a request sent to the wrong region with the bucket's region.
            actual = e.headers.get("x-amz-bucket-region")
            if self.endpoint is None and not redirected and actual and actual != region:
                self._bucket_regions[bucket] = actual
                return self._open(method, bucket, key, params, headers, redirected=True)
            raise self._error(e, bucket, key) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise S3Error("s3://%s/%s" % (bucket, key), "-", "", "cannot reach %s: %s" % (base, reason)) from None

    def _error(self, e, bucket, key):
        code, message = "", ""
        try:
            body = e.read()
            root = ET.fromstring(body) if body else None
        except (OSError, ET.ParseError):
            root = None
        if root is not None:
            code = root.findtext("Code") or ""
            message = root.findtext("Message") or ""
        if not code and e.code == 404:
            code = "NotFound"
        hint = ""
        if e.code == 403 and self.credentials is None:
            hint = (
                " (the request was unsigned because no AWS credentials were found: the object is not public; "
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            )
        elif e.code == 403:
            hint = " (signed with the keys of %s)" % self.credentials.source
        return S3Error("s3://%s/%s" % (bucket, key), e.code, code, message, hint)

    def head_object(self, bucket, key):
        try:
            with self._open("HEAD", bucket, key) as response:
                return ObjectInfo(key, int(response.headers.get("Content-Length", "0")), _etag(response.headers))
        except S3Error as e:
            if not isinstance(e.status, int) or e.code not in ("", "NotFound"):
                raise
            failed = e
        # An error answer to HEAD has no body: the same request as a one-byte
        # GET brings S3's error code and message (SignatureDoesNotMatch, ...).
        with self.open_object(bucket, key, byte_range="bytes=0-0"):
            pass
        raise failed

    def open_object(self, bucket, key, byte_range=None, etag=None):
        """An open response streaming the object, or `byte_range` of it
        ("bytes=N-"); with `etag`, S3 refuses (412) if the object changed since."""
        headers = {}
        if byte_range:
            headers["Range"] = byte_range
        if etag:
            headers["If-Match"] = '"%s"' % etag
        return self._open("GET", bucket, key, headers=headers)


    def list_objects(self, bucket, prefix):
        objects = []
        params = {"list-type": "2", "prefix": prefix}
        while True:
            with self._open("GET", bucket, "", params=params) as response:
                root = ET.fromstring(response.read())
            for item in root.iterfind("{*}Contents"):
                objects.append(
                    ObjectInfo(
                        item.findtext("{*}Key"),
                        int(item.findtext("{*}Size") or 0),
                        (item.findtext("{*}ETag") or "").strip('"'),
                    )
                )
            token = root.findtext("{*}NextContinuationToken")
            if root.findtext("{*}IsTruncated") != "true" or not token:
                return objects
            params = {"list-type": "2", "prefix": prefix, "continuation-token": token}
