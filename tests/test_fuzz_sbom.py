"""Property tests of the SBOM reader (auditor/collect/sbom.py): whatever the bytes, components from inside the
target and one-line error entries, never an exception; a generated CycloneDX or SPDX document gives exactly the
watched packages and AWS SDKs its purls name, each at its own reference and the line of its purl."""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import example, given, strategies as st
from packageurl import PackageURL

from auditor import names
from auditor.checks.rules import ReleaseDates
from auditor.collect.python.lockfiles import text_of
from auditor.collect.sbom import collect_sbom
from auditor.fs import View
from conftest import FIXTURES
from fuzzing import fuzz
from test_fuzz_python import json_values, mutated, surrogates

WATCHED = ReleaseDates.load().tracked()
SBOM_FIXTURES = [p.read_bytes() for p in sorted((FIXTURES / "sbom").iterdir())]
# purl -> the (kind, name) it is judged as; None: a package that is not judged
PURLS = {
    "pkg:pypi/boto@2.9.0": ("python-package", "boto"), "pkg:pypi/Boto_Core@1.0": None,
    "pkg:pypi/BotoCore@0.21.0": ("python-package", "botocore"), "pkg:pypi/awscli": ("python-package", "awscli"),
    "pkg:npm/%40aws-sdk/client-s3@3.540.0": ("sdk-manifest", "@aws-sdk/client-s3"),
    "pkg:npm/aws-sdk@2.1500.0": ("sdk-manifest", "aws-sdk"), "pkg:npm/left-pad@1.3.0": None,
    "pkg:maven/software.amazon.awssdk/s3@2.20.0?type=jar": ("sdk-manifest", "software.amazon.awssdk:s3"),
    "pkg:maven/com.amazonaws/aws-java-sdk-core@1.12.500": ("sdk-manifest", "com.amazonaws:aws-java-sdk-core"),
    "pkg:maven/com.amazonaws/jmespath-java@1.12.500": None,
    "pkg:gem/aws-sdk-core@3.190.0": ("sdk-manifest", "aws-sdk-core"), "pkg:gem/aws-sdk-s3@1.142.0": None,
    "pkg:golang/github.com/aws/aws-sdk-go-v2/service/s3@v1.40.0": ("sdk-manifest", "github.com/aws/aws-sdk-go-v2/service/s3"),
    "pkg:nuget/AWSSDK.Core@3.7.300": ("sdk-manifest", "AWSSDK.Core"),
    "pkg:composer/aws/aws-sdk-php@3.300.0": ("sdk-manifest", "aws/aws-sdk-php"),
    "pkg:deb/debian/python3-boto@2.49.0-4": None,
}
purls = st.sampled_from(sorted(PURLS))
bad_purls = st.one_of(st.sampled_from(["pkg:pypi", "boto@2.9.0", "pkg:/x@1", "", "pkg:pypi/@"]), surrogates,
                      st.text(max_size=12))
refs = st.one_of(st.text(max_size=12), st.just("pkg:pypi/boto@2.9.0?package-id=1"), surrogates)


def read(data: bytes, name: str = "bom.json"):
    with tempfile.TemporaryDirectory() as top:
        with open(os.path.join(top, name), "wb") as out:
            out.write(data)
        view = View(top, display_top=top)
        result = collect_sbom(view, os.path.join(view.top, name), top, WATCHED)
        lines = max(1, data.count(b"\n") + 1)
        for component in result.components:
            assert component.kind in ("python-package", "sdk-manifest")
            assert component.location.startswith(os.path.join(top, name) + "#")
            json.dumps([component.name, component.version, component.details, component.location],
                       ensure_ascii=False).encode("utf-8")
            assert component.line is None or 1 <= component.line <= lines
        for error in result.errors:
            assert error.location == top or error.location.startswith(top + os.sep)
            assert error.message and "\n" not in error.message, error.message
            error.message.encode("utf-8")
        assert result.target is not None and result.target.kind == "sbom"
        return result


@st.composite
def cyclonedx_components(draw, depth: int = 0):
    component = {"type": "library", "name": draw(st.text(max_size=8))}
    if draw(st.booleans()):
        component["bom-ref"] = draw(refs)
    choice = draw(st.integers(0, 9))
    if choice < 6:
        component["purl"] = draw(purls)
    elif choice < 8:
        component["purl"] = draw(bad_purls | json_values)
    if depth < 3 and draw(st.integers(0, 4)) == 0:
        component["components"] = draw(st.lists(cyclonedx_components(depth + 1), max_size=3))
    return component


@st.composite
def cyclonedx_documents(draw):
    document = {"bomFormat": "CycloneDX", "specVersion": draw(st.sampled_from(["1.4", "1.5", "1.6", "1.3"])), "version": 1,
                "components": draw(st.lists(cyclonedx_components(), max_size=8))}
    indent = draw(st.sampled_from([2, None]))
    return json.dumps(document, indent=indent), document


def expected(purl_values: list[tuple[str, object]]) -> list[tuple[str, str]]:
    found = []
    for purl in (value for _, value in purl_values if isinstance(value, str) and value in PURLS):
        judged = PURLS[purl]
        if judged is not None and (judged[0] != "python-package" or judged[1] in WATCHED):
            found.append(judged)
    return found


def flatten(components: list) -> list[tuple[str, object]]:
    listed = []
    for component in components:
        listed.append((component.get("bom-ref", ""), component.get("purl")))
        listed += flatten(component.get("components", []))
    return listed


@fuzz
@given(cyclonedx_documents())
def test_a_cyclonedx_document_gives_each_aws_sdk_its_purls_name(case):
    text, _ = case
    document = json.loads(text)  # as the reader sees it: "\\udbff\\udfff" is one character (a pair)
    result = read(text.encode("utf-8"))
    listed = flatten(document["components"])
    assert sorted((c.kind, c.name) for c in result.components) == sorted(expected(listed))
    refs_written = {text_of(ref) for ref, _ in listed}  # a lone surrogate is kept as its escape
    for component in result.components:
        ref = component.details.get("bom_ref")
        assert ref is None or ref in refs_written
        if component.kind == "python-package":
            assert component.name == names.normalize(component.name)
    malformed = [text_of(value) for _, value in listed if value is not None and not (isinstance(value, str) and value in PURLS)]
    for value in malformed:
        try:
            PackageURL.from_string(value)  # a text the purl library reads is read (and, here, is no AWS SDK)
        except ValueError:
            assert any("malformed purl" in e.message for e in result.errors)


@fuzz
@given(st.one_of(st.binary(max_size=200), st.sampled_from(SBOM_FIXTURES).flatmap(mutated)))
@example(b"[" * 100000)
@example(b'{"bomFormat": "CycloneDX", "components": [{"purl": "pkg:pypi/boto@2.9.0\\ud800", "bom-ref": "\\udc00"}]}')
@example(b'{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": 1, "externalRefs": [{"referenceType": "purl", '
         b'"referenceLocator": ["pkg:pypi/boto@2.9.0"]}]}]}')
def test_an_sbom_of_any_bytes(data):
    read(data)
