"""The AWS SDK for Go (`github.com/aws/aws-sdk-go` v1, `github.com/aws/aws-sdk-go-v2` and its modules) in go.mod."""

from __future__ import annotations

import re

from auditor.collect.sdks import MAX_SDK_PACKAGES, Capped, ManifestError, SdkRef
from auditor.collect.sdks.text import decode, split_lines

_REQUIREMENT = re.compile(r"^(\S+)\s+(v\S+)\s*(//.*)?$")
_REPLACE = re.compile(r"^(\S+)(?:\s+v\S+)?\s+=>\s+(.+)$")


def is_sdk(path: str) -> bool:
    return path in ("github.com/aws/aws-sdk-go", "github.com/aws/aws-sdk-go-v2") or path.startswith("github.com/aws/aws-sdk-go-v2/")


def parse_go_mod(data: bytes) -> list[SdkRef]:
    text = decode(data)
    refs, replaced, block, seen_module = [], {}, "", False
    for number, raw in enumerate(split_lines(text), 1):
        line = raw.strip()
        if block:
            if line == ")":
                block = ""
                continue
            statement, rest = block, line
        else:
            statement, _, rest = line.partition(" ")
            rest = rest.strip()
            if rest == "(":
                block = statement
                continue
        seen_module = seen_module or statement == "module"
        if statement == "require" and (match := _REQUIREMENT.match(rest)) and is_sdk(match.group(1)):
            indirect = "// indirect" in (match.group(3) or "")
            refs.append((match.group(1), match.group(2), number, not indirect))
        elif statement == "replace" and (match := _REPLACE.match(rest)):
            replaced[match.group(1)] = match.group(2).strip()
    if not seen_module:
        raise ManifestError("no module directive: not a go.mod")
    return Capped([SdkRef(path, version, version, number, direct=direct,
                          notes=(f"replaced by {replaced[path]}",) if path in replaced else ())
                   for path, version, number, direct in refs[:MAX_SDK_PACKAGES]], len(refs))
