"""How the S3 client addresses buckets and follows a bucket to its region
(python/cortex_local_worker/s3_client.py). Real S3 cannot be reached from the
tests: the HTTP opener is the seam; test/models/s3.test.ts covers real HTTP."""
import email.message
import io
import unittest
import urllib.error

from cortex_local_worker.aws_config import Credentials, Settings
from cortex_local_worker.s3_client import S3Client, S3Error, parse_s3_uri

KEYS = Credentials("AKID", "SECRET", None, "the test")


class FakeResponse(io.BytesIO):
    def __init__(self, body=b"", headers=None):
        super().__init__(body)
        self.headers = email.message.Message()
        for k, v in (headers or {}).items():
            self.headers[k] = v


class Opener:
    """Answers each request with the next of `answers` (a response or an HTTPError to raise)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def open(self, request, timeout):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def http_error(url, code, body=b"", headers=None):
    message = email.message.Message()
    for k, v in (headers or {}).items():
        message[k] = v
    return urllib.error.HTTPError(url, code, "error", message, io.BytesIO(body))


class Addressing(unittest.TestCase):
    def test_aws_virtual_hosted_unless_the_name_has_dots(self):
        client = S3Client(Settings(None, "eu-west-1", None))
        self.assertEqual(client._address("models", "a b/m.onnx", "eu-west-1"), ("https://models.s3.eu-west-1.amazonaws.com", "models.s3.eu-west-1.amazonaws.com", "/a%20b/m.onnx"))
        self.assertEqual(client._address("my.models", "m.onnx", "eu-west-1"), ("https://s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com", "/my.models/m.onnx"))

    def test_a_custom_endpoint_is_path_style(self):
        client = S3Client(Settings(None, "us-east-1", "http://minio:9000/s3/"))
        self.assertEqual(client._address("models", "m.onnx", "us-east-1"), ("http://minio:9000", "minio:9000", "/s3/models/m.onnx"))

    def test_s3_uris(self):
        self.assertEqual(parse_s3_uri("s3://b/k/m.onnx"), ("b", "k/m.onnx"))
        with self.assertRaises(ValueError):
            parse_s3_uri("s3://b/")


class Regions(unittest.TestCase):
    def test_a_bucket_in_another_region_is_asked_again_there_and_remembered(self):
        client = S3Client(Settings(KEYS, "us-east-1", None))
        client._opener = Opener(
            [
                http_error("u", 301, b"<Error><Code>PermanentRedirect</Code></Error>", {"x-amz-bucket-region": "ap-south-1"}),
                FakeResponse(b"", {"Content-Length": "12", "ETag": '"abc"'}),
                FakeResponse(b"", {"Content-Length": "12", "ETag": '"abc"'}),
            ]
        )
        self.assertEqual(client.head_object("models", "m.onnx"), ("m.onnx", 12, "abc"))
        client.head_object("models", "m.onnx")
        hosts = [r.host for r in client._opener.requests]
        self.assertEqual(hosts, ["models.s3.us-east-1.amazonaws.com", "models.s3.ap-south-1.amazonaws.com", "models.s3.ap-south-1.amazonaws.com"])
        self.assertIn("/ap-south-1/s3/aws4_request", client._opener.requests[1].get_header("Authorization"))

    def test_errors_carry_s3s_code_and_message(self):
        client = S3Client(Settings(KEYS, "us-east-1", None))
        client._opener = Opener([http_error("u", 404, b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>")])
        with self.assertRaisesRegex(S3Error, r"^s3://nope/: HTTP 404 NoSuchBucket: The specified bucket does not exist$"):
            client.list_objects("nope", "m/")

    def test_listings_follow_continuation_tokens(self):
        page = '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>%s</IsTruncated>%s<Contents><Key>%s</Key><Size>%d</Size><ETag>"%s"</ETag></Contents></ListBucketResult>'
        client = S3Client(Settings(None, "us-east-1", "http://s3.local"))
        client._opener = Opener(
            [
                FakeResponse((page % ("true", "<NextContinuationToken>t/1</NextContinuationToken>", "m/a", 1, "e1")).encode()),
                FakeResponse((page % ("false", "", "m/b", 2, "e2")).encode()),
            ]
        )
        self.assertEqual(client.list_objects("b", "m/"), [("m/a", 1, "e1"), ("m/b", 2, "e2")])
        self.assertEqual(client._opener.requests[1].full_url, "http://s3.local/b/?continuation-token=t%2F1&list-type=2&prefix=m%2F")


if __name__ == "__main__":
    unittest.main()
