"""Where S3 requests go and how they are signed, from the usual AWS settings.

Credentials, in the order the AWS CLI and boto3 look: AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), then the profile (AWS_PROFILE,
AWS_DEFAULT_PROFILE or "default") in ~/.aws/credentials
(AWS_SHARED_CREDENTIALS_FILE), then in ~/.aws/config (AWS_CONFIG_FILE). None
found: requests go unsigned, which is how public objects are read. Region:
AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1.
Endpoint: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for S3-compatible stores.
"""
import collections
import configparser
import os

Credentials = collections.namedtuple("Credentials", "access_key secret_key token source")
Settings = collections.namedtuple("Settings", "credentials region endpoint")

DEFAULT_REGION = "us-east-1"

# Profiles that get their keys from elsewhere; named in the error so the user
# knows why a profile that works with the AWS CLI does not work here.
_INDIRECT_KEYS = ("role_arn", "sso_start_url", "sso_session", "credential_process", "web_identity_token_file")


class AwsConfigError(Exception):
    pass


def _read_ini(path):
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except FileNotFoundError:
        return None
    except (OSError, configparser.Error) as e:
        raise AwsConfigError("cannot read %s: %s" % (path, e)) from None
    return parser


def _section(parser, name):
    if parser is not None and parser.has_section(name):
        return dict(parser.items(name))
    return None


def resolve(environ=os.environ):
    home = environ.get("HOME") or os.path.expanduser("~")
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    credentials_path = environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials")
    config_path = environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")
    from_credentials = _section(_read_ini(credentials_path), profile)
    # In the config file every profile but "default" is written [profile NAME].
    config = _read_ini(config_path)
    from_config = _section(config, profile if profile == "default" else "profile " + profile)
    if from_config is None and profile != "default":
        from_config = _section(config, profile)

    region = (
        environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or (from_config or {}).get("region")
        or DEFAULT_REGION
    )
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None
    return Settings(_credentials(environ, profile, [(credentials_path, from_credentials), (config_path, from_config)]), region, endpoint)


def _credentials(environ, profile, sections):
    key_id = environ.get("AWS_ACCESS_KEY_ID")
    secret = environ.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret:
        return Credentials(key_id, secret, environ.get("AWS_SESSION_TOKEN") or None, "the AWS_ACCESS_KEY_ID environment variable")
    if key_id or secret:
        present, missing = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if key_id else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
        raise AwsConfigError("%s is set but %s is not: set both, or neither to use a profile" % (present, missing))
    found_profile = False
    for path, section in sections:
        if section is None:
            continue
        found_profile = True
        key_id = section.get("aws_access_key_id")
        secret = section.get("aws_secret_access_key")
        if key_id and secret:
            return Credentials(key_id, secret, section.get("aws_session_token") or None, "profile %r in %s" % (profile, path))
        indirect = [k for k in _INDIRECT_KEYS if section.get(k)]
        if indirect:
            raise AwsConfigError(
                "profile %r in %s gets its keys through %s, which cortex-local does not support: "
                "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), "
                "e.g. from `aws configure export-credentials --format env`" % (profile, path, indirect[0])
            )
    explicit = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
    if explicit and not found_profile:
        raise AwsConfigError(
            "the AWS profile %r (from AWS_PROFILE) is in neither %s nor %s" % (explicit, sections[0][0], sections[1][0])
        )
    return None
