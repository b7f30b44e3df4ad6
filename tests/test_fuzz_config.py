"""Property tests of the config and environment parsers (the INI reader of ~/.aws/config and ~/.boto, the
trust settings read from them, env files, the trust settings in code and scripts) and of redact().

Whatever the bytes, a parser gives a result or an error entry (EnvFileError for an env file): never another
exception or a message that quotes the input. The raw-bytes properties run the fuzz targets of
fuzz/targets_config.py, so the checks of what is acceptable live in one place; the structured strategies
write files the way `aws configure`, boto users, Docker and systemd write them, and check that the parser
reads exactly what they say and that no secret written beside a setting comes out of it.
"""

import configparser
import re
import string
from pathlib import Path

import pytest
from hypothesis import assume, example, given, strategies as st

from auditor.collect.config.ini import settings
from auditor.collect.config.trust_config.python_code import python_settings
from auditor.collect.config.trust_settings import read_trust_settings
from auditor.collect.config.environ import Environ, EnvFileError, parse_env_file
from auditor.fs import View
from auditor.redact import redact
from auditor.rule_data import rules_dir
import tomli
from fuzz_targets import MODULES
from fuzzing import fuzz

targets_config = MODULES["config"]
TARGETS = targets_config.TARGETS

# Pieces of the formats these parsers read, for text that gets past their first checks.
FRAGMENTS = ("[default]", "[profile prod]", "[ profile  x ]", "[Boto]", "[Credentials]", "[", "]", "ca_bundle = /etc/pki/corp.pem",
             "ca_bundle=", "  s3 =", "    addressing_style = path", "aws_secret_access_key = ", "ca_certificates_file = system",
             "https_validate_certificates = False", "export ", "AWS_CA_BUNDLE=", "NAME", "=", ":", '"', "'", "#", ";", "\\",
             "\\n", "$", " ", "\t", "import boto3", "boto3.client('s3', verify=False)", "verify=", "aws s3 ls --ca-bundle ",
             "--no-verify-ssl", "aws configure set ca_bundle ", "\u00e9", "\x00", "\ufeff")
LINE_ENDS = ("\n", "\r\n", "\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028")
config_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).flatmap(
    lambda parts: st.lists(st.sampled_from(LINE_ENDS + ("",)), min_size=len(parts), max_size=len(parts)).map(
        lambda ends: "".join(p + e for p, e in zip(parts, ends))))


@pytest.mark.parametrize("name", TARGETS)
@fuzz
@given(data=st.binary(max_size=4096))
@example(data=b"")
@example(data=b"\xff\xfe[default]\n")
@example(data=b"import boto3\nc = " + b"a." * 1200 + b"client('s3', verify=False)\n")  # deeper than Python's recursion
@example(data=b"import boto3\n\r\r\rddb = boto3.resource('dynamodb', verify='/opt/certs/ddb.pem')\n")  # atheris: CR ends a line
def test_every_target_takes_any_bytes(name, data):
    TARGETS[name](data)


@pytest.mark.parametrize("name", TARGETS)
@fuzz
@given(text=config_text)
def test_every_target_takes_text_made_of_its_formats(name, text):
    TARGETS[name](text.encode("utf-8", "surrogatepass"))


def test_the_targets_file_is_importable_on_its_own():
    """The fuzz runner imports it without pytest: nothing in it may come from the tests."""
    source = (Path(__file__).parents[1] / "fuzz" / "targets_config.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+(pytest|hypothesis|conftest|fuzzing)\b", source, re.MULTILINE)
    assert all(callable(target) for target in TARGETS.values()) and len(TARGETS) >= 6


# -- INI: ~/.aws/config, ~/.aws/credentials, ~/.boto ----------------------------------------------------------

ini_name = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
# A value as a file holds it on one line: no \r or \n, no whitespace at either end (configparser strips it). The
# characters str.splitlines would also end a line at are in it: configparser does not, nor may our reader.
VALUE_CHARS = list(string.ascii_letters + string.digits + string.punctuation + " \t") + ["é", "Σ", "\x0c", "\x1c", "\x85", "\u2028"]
ini_value = st.text(st.sampled_from(VALUE_CHARS), max_size=24).map(str.strip)
section = st.tuples(st.one_of(st.just("default"), ini_name.map("profile {}".format), st.sampled_from(["Boto", "Credentials"])),
                    st.lists(st.tuples(ini_name, st.sampled_from(["=", " = ", ":", " : "]), ini_value), max_size=4,
                             unique_by=lambda option: option[0]),
                    st.booleans())


def ini_file(sections, line_end="\n", noise=True):
    """The file's text, and the settings the reader must give: (section, key, value, line)."""
    lines, expected = ["# written by aws configure"] if noise else [], []
    for name, options, nested in sections:
        lines += [f"[{name}]"]
        for key, delimiter, value in options:
            lines.append(f"{key}{delimiter}{value}")
            expected.append((name, key, value, len(lines)))
        if nested and noise:  # a nested block, as `s3 =` has: its lines continue the value, none is a setting
            lines += ["s3 =", "    addressing_style = path", "", "; a comment", "\tmax_concurrent_requests = 20"]
            expected.append((name, "s3", "", len(lines) - 4))
    return line_end.join(lines) + line_end, expected


@fuzz
@given(sections=st.lists(section, max_size=4, unique_by=lambda s: s[0]), line_end=st.sampled_from(["\n", "\r\n", "\r"]))
def test_ini_reads_each_setting_at_its_line(sections, line_end):
    text, expected = ini_file(sections, line_end)
    assert [(s.section, s.key, s.value, s.line) for s in settings(text)] == expected


@fuzz
@given(sections=st.lists(section, max_size=4, unique_by=lambda s: s[0]))
def test_ini_agrees_with_configparser_as_botocore_reads_the_file(sections):
    text, expected = ini_file(sections, noise=False)
    parser = configparser.RawConfigParser()  # botocore.configloader.raw_config_parse
    parser.read_string(text)
    ours = {(s.section, s.key): s.value for s in settings(text)}
    theirs = {(name, key): value for name in parser.sections() for key, value in parser.items(name)}
    assert ours == theirs


# -- what a scan takes from those files: CA settings, never a secret -----------------------------------------

secret = st.text(string.ascii_letters + string.digits + "/+", min_size=24, max_size=40).map("S3c".__add__)
SECRET_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token", "proxy_pass")


@fuzz
@given(profiles=st.lists(st.tuples(st.one_of(st.just("default"), ini_name), st.sampled_from(SECRET_KEYS), secret,
                                   st.booleans(), st.from_regex(r"/etc/pki/[a-z]{1,8}\.pem", fullmatch=True)),
                         min_size=1, max_size=4, unique_by=lambda p: p[0]),
       malformed=st.sampled_from(["{key} {secret}", "{secret}", "[profile {secret}", "{key}\t{secret}", "  {key} = {secret}"]),
       active=st.integers(0, 3))
def test_aws_and_boto_config_give_their_ca_settings_and_no_secret(tmp_path_factory, profiles, malformed, active):
    root = tmp_path_factory.mktemp("image")
    config, credentials, boto = [], [], ["[Credentials]"]
    bundles, secrets = {}, []
    for name, key, value, has_bundle, bundle in profiles:
        config.append("[default]" if name == "default" else f"[profile {name}]")
        credentials += [f"[{name}]", f"{key} = {value}", malformed.format(key=key, secret=value + "x")]
        config += [f"{key}={value}", malformed.format(key=key, secret=value + "y")]
        boto += [f"{key} = {value}"]
        secrets += [value, value + "x", value + "y"]
        if has_bundle:
            config.append(f"ca_bundle = {bundle}")
            bundles[name] = (bundle, len(config))
    boto += ["[Boto]", f"proxy_pass = {profiles[0][2]}", "ca_certificates_file = /etc/pki/boto.pem"]
    for path, lines in (("root/.aws/config", config), ("root/.aws/credentials", credentials), ("root/.boto", boto)):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("\n".join(lines) + "\n")
    profile = profiles[active % len(profiles)][0]
    environ = Environ({"HOME": "/root", "AWS_PROFILE": profile})
    found = read_trust_settings(View(str(root), image=True, display_top="/"), environ)
    assert found.errors == []
    assert {name: (o.value, o.line) for name, o in found.aws_ca_bundles.items()} == bundles
    assert found.aws_ca_bundle() == found.aws_ca_bundles.get(profile)
    assert (found.boto_ca_file.value, found.boto_ca_file.line) == ("/etc/pki/boto.pem", len(boto))
    shown = [o.describe(environ) for o in (*found.aws_ca_bundles.values(), found.boto_ca_file)]
    assert not [s for s in secrets if any(s in text for text in shown + [repr(found)])]


# -- env files ------------------------------------------------------------------------------------------------

env_name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
env_value = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30)


def env_line(name, value, style, export):
    """`name` set to `value` in one of the forms Docker, systemd and dotenv files use; None if the form cannot
    hold the value."""
    lead = "export " if export else ""
    if style == "plain":
        if value != value.strip() or value[:1] in "'\"" or re.search(r"\s#", value):
            return None
        return f"{lead}{name}={value}"
    if style == "single":
        return f"{lead}{name}='{value}'" if "'" not in value[-1:] else None
    escaped = "".join({"\\": "\\\\", '"': '\\"', "$": "\\$", "\t": "\\t"}.get(c, c) for c in value)
    return f'{lead}{name} = "{escaped}"  # {style}'


@fuzz
@given(assignments=st.lists(st.tuples(env_name, env_value, st.sampled_from(["plain", "single", "double"]), st.booleans()),
                            max_size=12),
       noise=st.lists(st.sampled_from(["", "# a comment", "   ", "PATH", "  # indented comment"]), max_size=4))
def test_env_file_reads_what_each_line_assigns(assignments, noise):
    lines, expected = list(noise), {}
    for name, value, style, export in assignments:
        line = env_line(name, value, style, export)
        if line is not None:
            lines.append(line)
            expected[name] = value
    assert parse_env_file("\r\n".join(lines) + "\n", "svc.env") == expected


@fuzz
@given(before=st.lists(st.sampled_from(["HOME=/srv/app", "# comment", "", "export AWS_PROFILE=prod"]), max_size=4),
       name=env_name, value=secret, form=st.sampled_from(["{name}: {value}", "{value}", "{name} {value}",
                                                          "export {name} {value}", "-{name}={value}", "{name}-x={value}"]))
def test_env_file_errors_name_the_line_and_never_quote_it(before, name, value, form):
    line = form.format(name=name, value=value)
    assume(not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", line))  # NAME alone is Docker's "copy it from the host"
    with pytest.raises(EnvFileError) as error:
        parse_env_file("\n".join([*before, line, "AWS_CA_BUNDLE=/etc/pki/corp.pem"]), "/etc/app/app.env")
    assert str(error.value) == f"/etc/app/app.env:{len(before) + 1}: not a NAME=value line"


def test_a_value_with_a_unicode_line_separator_stays_whole():
    """str.splitlines would end the line at U+2028 or \\x85, and keep only the start of the value."""
    assert parse_env_file("A=one\u2028two\nB='x\x85y'\n") == {"A": "one\u2028two", "B": "x\x85y"}
    assert [(s.key, s.value, s.line) for s in settings("[default]\nregion = a\x0cb\nca_bundle = /x\n")] == [
        ("region", "a\x0cb", 2), ("ca_bundle", "/x", 3)]


# -- trust settings in code ---------------------------------------------------------------------------------

@fuzz
@given(depth=st.integers(1, 3000), kwargs=st.lists(st.tuples(ini_name, secret), max_size=3, unique_by=lambda k: k[0]))
def test_a_client_call_is_found_however_deep_its_receiver(depth, kwargs):
    assume(all(name != "verify" for name, _ in kwargs))
    arguments = "".join(f"{name}='{value}', " for name, value in kwargs)
    source = f"import boto3\n\nclient = {'session.' * depth}client('s3', {arguments}verify=False)\n"
    code = python_settings(source.encode(), "app/deep.py")
    assert [(s.line, s.name, s.effect, s.value) for s in code.settings] == [(3, "verify", "disabled", "False")]
    assert code.how == "python ast" or len(code.errors) == 1


# -- redact -------------------------------------------------------------------------------------------------

# RFC 3986 userinfo characters (unreserved, sub-delims, percent-encoded), and an unencoded @ as people write it.
userinfo_char = st.sampled_from(list(string.ascii_letters + string.digits + "-._~!$&'()*+,;=") + ["%40", "%2F", "%3A", "@"])
credential = st.lists(userinfo_char, min_size=10, max_size=40).map("".join).filter(lambda s: not s.startswith("@"))
host = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,10}){1,3}", fullmatch=True)
path = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True), max_size=4).map(lambda p: "/" + "/".join(p))
SECRET_PARAMETERS = ("token", "access_token", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig",
                     "Signature", "AWSAccessKeyId", "api_key", "password", "secret", "auth", "key", "private_token")
query_value = st.text(string.ascii_letters + string.digits + "-._~%/+=", min_size=10, max_size=60)
PLAIN_PARAMETERS = ("page", "rev", "tag", "ref", "subdirectory", "egg", "X-Amz-Date", "X-Amz-Expires", "versionId")
CONTEXTS = ("{url}", "--index-url {url}", "--extra-index-url={url}", "botocore @ {url}", '"{url}"', "'{url}'",
            "include {url} is remote; not fetched", "url = \"{url}\"", "- observed: {url} (line 3)", "<{url}>", "{url}, {url}")


@fuzz
@given(scheme=st.sampled_from(["http", "https", "git+https", "git+ssh", "svn+https", "socks5h", "s3"]),
       user=credential, password=st.none() | credential, where=host, port=st.none() | st.integers(1, 65535), at=path,
       query=st.lists(st.tuples(st.sampled_from(SECRET_PARAMETERS + PLAIN_PARAMETERS), query_value), max_size=4),
       context=st.sampled_from(CONTEXTS))
@example(scheme="https", user="x-access-token", password="ghp_0123456789abcdefghijABCDEFGHIJ012345", where="github.com",
         port=None, at="/corp/boto", query=[], context="{url}")
@example(scheme="http", user="alice", password="p@ss@word-1234", where="proxy.corp.example", port=3128, at="/",
         query=[("X-Amz-Signature", "0123456789abcdef")], context="{url}")
def test_redact_masks_url_credentials_and_secret_query_values(scheme, user, password, where, port, at, query, context):
    userinfo = user + (f":{password}" if password is not None else "")
    query_text = "&".join(f"{name}={value}" for name, value in query)
    url = f"{scheme}://{userinfo}@{where}{f':{port}' if port else ''}{at}" + (f"?{query_text}" if query else "")
    text = context.format(url=url)
    secrets = [userinfo] + [value for name, value in query if name in SECRET_PARAMETERS]
    public = f"{where}{at}" + "".join(f"{name}={value}" for name, value in query if name in PLAIN_PARAMETERS)
    assume(not any(s in public or s in context for s in secrets))
    shown = redact(text)
    assert not [s for s in secrets if s in shown], shown
    assert f"{scheme}://***@{where}" in shown
    assert all(f"{name}={value}" in shown for name, value in query if name in PLAIN_PARAMETERS)


SECRET_SETTINGS = ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "aws_session_token", "AWS_SESSION_TOKEN",
                   "aws_access_key_id", "SecretAccessKey", "SessionToken", "-Djavax.net.ssl.trustStorePassword",
                   "--storepass", "GITHUB_TOKEN", "db_password")


@fuzz
@given(name=st.sampled_from(SECRET_SETTINGS), value=query_value,
       form=st.sampled_from(["{name}={value}", "{name} = {value}", '{name}="{value}"', "{name}='{value}'",
                             '"{name}": "{value}"', "{name}: {value}", "export {name}={value}", "{name} := {value}"]),
       before=st.sampled_from(["", "boto3.client('s3', ", "aws s3 ls; ", "ENV "]), after=st.sampled_from(["", ")", " # x", ", verify=False)"]))
def test_redact_masks_the_value_of_a_secret_setting(name, value, form, before, after):
    shown = redact(before + form.format(name=name, value=value) + after)
    assert value not in shown and name in shown


@fuzz
@given(text=st.text(max_size=200) | config_text)
def test_redact_is_idempotent(text):
    """A report is redacted when written and again when read back and rendered: nothing may change then (ids
    derived from redacted fields must match)."""
    once = redact(text)
    assert redact(once) == once


@fuzz
@given(scheme=st.sampled_from(["https", "git+https", "file"]), where=host, at=path,
       query=st.lists(st.tuples(st.sampled_from(PLAIN_PARAMETERS), st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)),
                      max_size=3))
def test_redact_leaves_a_url_without_secrets_alone(scheme, where, at, query):
    url = f"{scheme}://{where}{at}" + ("?" + "&".join(f"{n}={v}" for n, v in query) if query else "")
    for text in (url, f"botocore @ {url}", f"found at {url} (dist-info METADATA)", "python-package:boto@2.9.0:b09cb5a39cb6"):
        assert redact(text) == text


def test_redact_leaves_the_auditors_own_texts_alone():
    """Titles, evidence and remediation of every rule pack, and hints that name a secret's option or word."""
    texts = []

    def collect(value):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, (dict, list)):
            for item in value.values() if isinstance(value, dict) else value:
                collect(item)

    for path in sorted(rules_dir().rglob("*.toml")):
        collect(tomli.loads(path.read_text(encoding="utf-8")))
    texts += ["this PKCS#12 store is password-protected: give its password with --storepass (Java's default is changeit)",
              "--storepass-env: the variable KS_PASS is not set", "Starfield Services Root Certificate Authority - G2",
              "@aws-sdk/credential-provider-env 3.600.0", "-Djavax.net.ssl.trustStorePassword=*** in JAVA_TOOL_OPTIONS"]
    assert len(texts) > 400
    assert [text for text in texts if redact(text) != text] == []
