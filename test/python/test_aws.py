"""SigV4 signing and the AWS settings chain (python/cortex_local_worker/aws_*.py)."""
import datetime
import os
import shutil
import tempfile
import unittest

from cortex_local_worker import aws_config, aws_sigv4
from cortex_local_worker.aws_config import AwsConfigError, Credentials

# The examples of https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
EXAMPLE_KEYS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, "example")
EXAMPLE_TIME = datetime.datetime(2013, 5, 24)
EXAMPLE_HOST = "examplebucket.s3.amazonaws.com"


class SigV4(unittest.TestCase):
    def test_get_object_example(self):
        headers = aws_sigv4.sign("GET", "/test.txt", "", {"Host": EXAMPLE_HOST, "Range": "bytes=0-9"}, EXAMPLE_KEYS, "us-east-1", EXAMPLE_TIME)
        self.assertEqual(
            headers["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        )
        self.assertEqual(headers["x-amz-date"], "20130524T000000Z")
        self.assertEqual(headers["x-amz-content-sha256"], aws_sigv4.EMPTY_SHA256)

    def test_list_objects_example(self):
        query = aws_sigv4.encode_query({"prefix": "J", "max-keys": "2"})
        self.assertEqual(query, "max-keys=2&prefix=J")
        headers = aws_sigv4.sign("GET", "/", query, {"host": EXAMPLE_HOST}, EXAMPLE_KEYS, "us-east-1", EXAMPLE_TIME)
        self.assertTrue(headers["authorization"].endswith("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))

    def test_a_session_token_is_sent_and_signed(self):
        keys = EXAMPLE_KEYS._replace(token="TOKEN")
        headers = aws_sigv4.sign("GET", "/test.txt", "", {"host": EXAMPLE_HOST}, keys, "us-east-1", EXAMPLE_TIME)
        self.assertEqual(headers["x-amz-security-token"], "TOKEN")
        self.assertIn("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,", headers["authorization"])

    def test_keys_and_paths_are_encoded_as_s3_wants(self):
        self.assertEqual(aws_sigv4.encode_path("/models/a b+c/ü~.onnx"), "/models/a%20b%2Bc/%C3%BC~.onnx")
        self.assertEqual(aws_sigv4.encode_query({"prefix": "tf/1/", "list-type": "2"}), "list-type=2&prefix=tf%2F1%2F")


class Settings(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.home)
        os.makedirs(os.path.join(self.home, ".aws"))

    def write(self, name, text):
        with open(os.path.join(self.home, ".aws", name), "w") as f:
            f.write(text)

    def resolve(self, **env):
        return aws_config.resolve(dict(env, HOME=self.home))

    def test_nothing_set_means_unsigned_in_us_east_1_on_aws(self):
        self.assertEqual(self.resolve(), aws_config.Settings(None, "us-east-1", None))

    def test_environment_keys_come_first(self):
        self.write("credentials", "[default]\naws_access_key_id = file\naws_secret_access_key = file\n")
        settings = self.resolve(AWS_ACCESS_KEY_ID="env", AWS_SECRET_ACCESS_KEY="secret", AWS_SESSION_TOKEN="tok")
        self.assertEqual(settings.credentials[:3], ("env", "secret", "tok"))

    def test_half_a_key_pair_is_an_error(self):
        with self.assertRaisesRegex(AwsConfigError, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"):
            self.resolve(AWS_ACCESS_KEY_ID="env")

    def test_profiles_from_the_credentials_and_config_files(self):
        self.write("credentials", "[default]\naws_access_key_id = d\naws_secret_access_key = ds\n[dev]\naws_access_key_id = k\naws_secret_access_key = s\n")
        self.write("config", "[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-south-1\n[profile cfg]\naws_access_key_id = c\naws_secret_access_key = cs\n")
        self.assertEqual(self.resolve().credentials.access_key, "d")
        self.assertEqual(self.resolve().region, "eu-west-3")
        dev = self.resolve(AWS_PROFILE="dev")
        self.assertEqual((dev.credentials.access_key, dev.region), ("k", "ap-south-1"))
        self.assertIn("profile 'dev' in %s" % os.path.join(self.home, ".aws", "credentials"), dev.credentials.source)
        self.assertEqual(self.resolve(AWS_DEFAULT_PROFILE="cfg").credentials.access_key, "c")

    def test_region_and_endpoint_overrides(self):
        self.write("config", "[default]\nregion = eu-west-3\n")
        self.assertEqual(self.resolve(AWS_DEFAULT_REGION="us-west-2").region, "us-west-2")
        self.assertEqual(self.resolve(AWS_REGION="eu-central-1", AWS_DEFAULT_REGION="us-west-2").region, "eu-central-1")
        self.assertEqual(self.resolve(AWS_ENDPOINT_URL="http://a:1").endpoint, "http://a:1")
        self.assertEqual(self.resolve(AWS_ENDPOINT_URL="http://a:1", AWS_ENDPOINT_URL_S3="http://b:2").endpoint, "http://b:2")

    def test_files_named_by_the_environment(self):
        path = os.path.join(self.home, "elsewhere")
        with open(path, "w") as f:
            f.write("[default]\naws_access_key_id = x\naws_secret_access_key = y\n")
        self.assertEqual(self.resolve(AWS_SHARED_CREDENTIALS_FILE=path).credentials.access_key, "x")

    def test_a_named_profile_that_does_not_exist_is_an_error(self):
        with self.assertRaisesRegex(AwsConfigError, "the AWS profile 'prod' .* is in neither"):
            self.resolve(AWS_PROFILE="prod")

    def test_profiles_with_keys_from_elsewhere_say_what_to_do(self):
        self.write("config", "[profile sso]\nsso_session = corp\n[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n")
        with self.assertRaisesRegex(AwsConfigError, "through sso_session, which cortex-local does not support: export AWS_ACCESS_KEY_ID"):
            self.resolve(AWS_PROFILE="sso")
        with self.assertRaisesRegex(AwsConfigError, "through role_arn"):
            self.resolve(AWS_PROFILE="role")

    def test_a_malformed_file_is_reported_with_its_path(self):
        self.write("credentials", "aws_access_key_id = no section\n")
        with self.assertRaisesRegex(AwsConfigError, "cannot read .*credentials"):
            self.resolve()


if __name__ == "__main__":
    unittest.main()
