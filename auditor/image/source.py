"""One image out of an OCI image layout (a folder, or a tar of one) or a `docker save` / `skopeo copy …
docker-archive:` tar: its manifest, its config and its layers, found as skopeo finds them.

`PATH:REF` chooses the image as skopeo's `oci:PATH:REF` does: REF is the `org.opencontainers.image.ref.name`
annotation of the layout's index, or one of an archive's `RepoTags`. A multi-platform index gives the image of the
platform asked for (`os/arch[/variant]`, by default this machine's). Whatever makes the image unusable as a whole
is an ImageError, which the command line reports; the JSON documents read are capped, the digests of manifests and
configs checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform as host_platform
import posixpath
import re
import tarfile
from typing import Any

from auditor.image.layers import TAR_ERRORS, Layer, forget_headers
from auditor.image.streams import Region
from auditor.records import field, mutable_record

JSON_CAP = 4 * 1024 * 1024
REF_NAME = "org.opencontainers.image.ref.name"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
_DIGEST = re.compile(r"^(sha256|sha512):([0-9a-f]{64}|[0-9a-f]{128})$")
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm/v7",
             "armv6l": "arm/v6", "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x",
             "riscv64": "riscv64"}


class ImageError(Exception):
    """The image cannot be read at all; the message says why."""


@mutable_record
class Image:
    """The image chosen: how the report names it, its config, and its layers, lowest first."""

    name: str
    layout: str  # "oci" or "docker-archive"
    config_digest: str
    manifest_digest: str | None = None  # a docker-archive holds no manifest: its image is named by its config's digest
    tags: list[str] = field(default_factory=list)
    platform: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # the config's "config": Env, User, WorkingDir …
    layers: list[Layer] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """The config's Env as variables (a later repeat wins, as a runtime reads it)."""
        variables: dict[str, str] = {}
        for item in self.config.get("Env") or []:
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                variables[name] = value
        return variables

    def details(self) -> dict[str, Any]:
        """What the report's image target says of it."""
        found: dict[str, Any] = {"layout": self.layout}
        if self.manifest_digest:
            found["manifest_digest"] = self.manifest_digest
        found["config_digest"] = self.config_digest
        found["tags"] = list(self.tags)
        found["platform"] = self.platform
        found["layers"] = len(self.layers)
        for key, label in (("User", "user"), ("WorkingDir", "working_dir")):
            if isinstance(self.config.get(key), str) and self.config[key]:
                found[label] = self.config[key]
        return found


def machine_platform() -> str:
    """This machine's platform as an image index names it (linux/amd64, linux/arm/v7)."""
    machine = host_platform.machine().lower()
    return "linux/" + _MACHINES.get(machine, machine)


def open_image(spec: str, platform: str | None = None) -> Image:
    """The image `spec` (PATH or PATH:REF) names."""
    path, ref = _split(spec)
    files = _Files.of(path)
    if files.has("oci-layout"):
        return _oci_image(files, spec, ref, platform or machine_platform())
    if files.has("manifest.json"):
        return _archive_image(files, spec, ref)
    raise ImageError(f"{path}: neither an OCI image layout (no oci-layout file) nor a docker-archive (no manifest.json)")


def _split(spec: str) -> tuple[str, str | None]:
    """PATH and REF: the first prefix before a ':' that exists is the path (a tag holds ':' itself: file.tar:name:tag)."""
    if os.path.exists(spec):
        return spec, None
    for index, char in enumerate(spec):
        if char == ":" and index and os.path.exists(spec[:index]):
            return spec[:index], spec[index + 1:] or None
    raise ImageError(f"{spec}: no such file or directory")


class _Files:
    """The files of a layout or an archive, by their names in it: in a folder, or members of a tar."""

    def __init__(self, path: str, members: dict[str, tuple[int, int, str]] | None):
        self.path, self._members = path, members  # members: name -> (offset, size, link text or "")

    @classmethod
    def of(cls, path: str) -> "_Files":
        if os.path.isdir(path):
            return cls(os.path.realpath(path), None)
        members: dict[str, tuple[int, int, str]] = {}
        try:
            with tarfile.open(path, mode="r:") as tar:
                while (info := tar.next()) is not None:
                    forget_headers(tar)
                    name = posixpath.normpath(info.name.lstrip("/"))
                    if info.isreg():
                        members[name] = (info.offset_data, info.size, "")
                    elif info.issym() or info.islnk():  # docker save links a repeated layer to its first copy
                        target = info.linkname if info.islnk() else posixpath.join(posixpath.dirname(name), info.linkname)
                        members[name] = (0, 0, posixpath.normpath(target.lstrip("/")))
        except TAR_ERRORS as exc:
            raise ImageError(f"{path}: not an image layout folder nor a readable tar ({exc})") from exc
        return cls(os.path.realpath(path), members)

    def has(self, name: str) -> bool:
        if self._members is not None:
            return name in self._members
        return os.path.isfile(os.path.join(self.path, name))

    def region(self, name: str) -> Region:
        if name.startswith("/") or ".." in name.split("/"):
            raise ImageError(f"{self.path}: the file name {name!r} leaves the layout; not read")
        if self._members is None:
            host = os.path.realpath(os.path.join(self.path, name))
            if not host.startswith(self.path + os.sep) or not os.path.isfile(host):
                raise ImageError(f"{self.path}: {name} is missing or not a file of the layout")
            return Region(host, 0, os.path.getsize(host))
        for _ in range(8):
            member = self._members.get(posixpath.normpath(name))
            if member is None:
                raise ImageError(f"{self.path}: {name} is not in the archive")
            offset, size, link = member
            if not link:
                return Region(self.path, offset, size)
            name = link
        raise ImageError(f"{self.path}: {name}: too many links in the archive")

    def read_json(self, name: str, digest: str | None = None) -> Any:
        region = self.region(name)
        if region.size > JSON_CAP:
            raise ImageError(f"{self.path}: {name} is {region.size} bytes, over the {JSON_CAP}-byte limit")
        with region.open() as file:
            data = file.read(region.size)
        if digest is not None:
            algorithm, _, expected = digest.partition(":")
            if hashlib.new(algorithm, data).hexdigest() != expected:
                raise ImageError(f"{self.path}: {name} does not match its digest {digest}")
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImageError(f"{self.path}: {name} is not valid JSON ({exc})") from exc

    def blob(self, digest: Any) -> str:
        match = _DIGEST.match(digest) if isinstance(digest, str) else None
        if match is None:
            raise ImageError(f"{self.path}: {digest!r} is not a digest this reader knows")
        return f"blobs/{match.group(1)}/{match.group(2)}"


def _oci_image(files: _Files, spec: str, ref: str | None, wanted: str) -> Image:
    layout = files.read_json("oci-layout")
    if not isinstance(layout, dict) or not str(layout.get("imageLayoutVersion", "")).startswith("1."):
        raise ImageError(f"{files.path}: oci-layout names no image layout version 1.x")
    descriptors = _descriptors(files.read_json("index.json"), files.path)
    if ref is not None:
        chosen = [d for d in descriptors if _ref(d) == ref]
        if not chosen:
            raise ImageError(f"{files.path}: no image named {ref!r}; it holds {_names(descriptors)}")
    else:
        chosen = descriptors
        if len({_ref(d) for d in chosen}) > 1:
            raise ImageError(f"{files.path} holds several images: name one as {files.path}:REF, REF one of {_names(chosen)}")
    descriptor = _platform_choice(files, chosen, wanted)
    # its names: the ref chosen (which may name a multi-platform index), and every ref naming its manifest itself
    tags = sorted({_ref(d) for d in descriptors if d.get("digest") == descriptor.get("digest")} | {ref or ""} - {""})
    manifest = files.read_json(files.blob(descriptor.get("digest")), descriptor.get("digest"))
    return _from_manifest(files, spec, "oci", manifest, descriptor["digest"], tags)


def _descriptors(index: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ImageError(f"{where}: the index lists no manifests")
    found = [d for d in index["manifests"] if isinstance(d, dict)]
    if not found:
        raise ImageError(f"{where}: the index lists no manifests")
    return found


def _ref(descriptor: dict[str, Any]) -> str:
    annotations = descriptor.get("annotations")
    return str(annotations.get(REF_NAME, "")) if isinstance(annotations, dict) else ""


def _names(descriptors: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({_ref(d) or str(d.get("digest")) for d in descriptors}))


def _platform_of(descriptor: dict[str, Any]) -> str:
    found = descriptor.get("platform")
    if not isinstance(found, dict):
        return ""
    return "/".join(str(found[k]) for k in ("os", "architecture", "variant") if found.get(k))


def _platform_choice(files: _Files, chosen: list[dict[str, Any]], wanted: str, depth: int = 0) -> dict[str, Any]:
    """The image manifest's descriptor among `chosen` (an index's entries, nested indexes opened) for `wanted`."""
    if depth > 4:
        raise ImageError(f"{files.path}: indexes nested too deep")
    manifests: list[dict[str, Any]] = []
    for descriptor in chosen:
        if descriptor.get("mediaType") in INDEX_TYPES:
            nested = files.read_json(files.blob(descriptor.get("digest")), descriptor.get("digest"))
            manifests.append(_platform_choice(files, _descriptors(nested, files.path), wanted, depth + 1))
        else:
            manifests.append(descriptor)
    if len(manifests) == 1:
        return manifests[0]
    matching = [d for d in manifests if _platform_of(d) == wanted or _platform_of(d).startswith(wanted + "/")]
    if not matching:
        offered = ", ".join(sorted({_platform_of(d) or "(no platform)" for d in manifests}))
        raise ImageError(f"{files.path}: no image for the platform {wanted}; it offers {offered} (choose with --platform)")
    return matching[0]


def _from_manifest(files: _Files, spec: str, layout: str, manifest: Any, digest: str | None, tags: list[str]) -> Image:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
        raise ImageError(f"{files.path}: the image manifest names no config")
    config_digest = manifest["config"].get("digest")
    config = files.read_json(files.blob(config_digest), config_digest)
    layers = []
    for number, descriptor in enumerate(manifest.get("layers") or [], 1):
        if not isinstance(descriptor, dict):
            raise ImageError(f"{files.path}: layer {number} of the manifest is no descriptor")
        layer_digest, size = descriptor.get("digest"), descriptor.get("size")
        layers.append(Layer(number, str(layer_digest), files.region(files.blob(layer_digest)), checks="blob",
                            size=size if isinstance(size, int) and not isinstance(size, bool) else None))
    return _image(spec, layout, config, config_digest, digest, tags, layers)


def _image(spec: str, layout: str, config: Any, config_digest: str, digest: str | None, tags: list[str],
           layers: list[Layer]) -> Image:
    if not isinstance(config, dict):
        raise ImageError(f"{spec}: the image config is not a JSON object")
    runtime: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    platform = "/".join(str(config[k]) for k in ("os", "architecture", "variant") if config.get(k))
    return Image(spec, layout, config_digest, digest, tags, platform, runtime, layers)


def _archive_image(files: _Files, spec: str, ref: str | None) -> Image:
    entries = files.read_json("manifest.json")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ImageError(f"{files.path}: manifest.json lists no images")

    def tags(entry: dict[str, Any]) -> list[str]:
        return [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]

    if ref is not None:
        chosen = [e for e in entries if any(_same_tag(ref, t) for t in tags(e))]
        if not chosen:
            raise ImageError(f"{files.path}: no image tagged {ref!r}; it holds {', '.join(t for e in entries for t in tags(e))}")
    elif len(entries) > 1:
        listed = ", ".join(", ".join(tags(e)) or str(e.get("Config")) for e in entries)
        raise ImageError(f"{files.path} holds several images: name one as {files.path}:TAG, TAG one of {listed}")
    else:
        chosen = entries
    entry = chosen[0]
    config_name = str(entry.get("Config", ""))
    config_region = files.region(config_name)
    if config_region.size > JSON_CAP:
        raise ImageError(f"{files.path}: {config_name} is over the {JSON_CAP}-byte limit")
    with config_region.open() as file:
        config_digest = "sha256:" + hashlib.sha256(file.read(config_region.size)).hexdigest()
    config = files.read_json(config_name)
    names = entry.get("Layers") or []
    if not isinstance(names, list):
        raise ImageError(f"{files.path}: manifest.json lists no layers for the image")
    diff_ids = _diff_ids(config, len(names), files.path)
    layers = [Layer(number, diff_id, files.region(str(name)), checks="tar")
              for number, (name, diff_id) in enumerate(zip(names, diff_ids), 1)]
    return _image(spec, "docker-archive", config, config_digest, None, tags(entry), layers)


def _diff_ids(config: Any, layers: int, where: str) -> list[str]:
    """The digests of an archive's uncompressed layer tars, as its config lists them (`rootfs.diff_ids`): what
    docker load checks each layer against, since an archive has no manifest naming them."""
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    found = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(found, list) or len(found) != layers:
        listed = len(found) if isinstance(found, list) else "no"
        raise ImageError(f"{where}: the image config lists {listed} layer digests (rootfs.diff_ids) for {layers} "
                         "layers; its layers cannot be checked")
    for digest in found:
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise ImageError(f"{where}: the image config lists {digest!r} as a layer digest")
    return found


def _same_tag(ref: str, tag: str) -> bool:
    """REF names the tag as written, or without the registry and library prefix docker adds (name:tag for
    docker.io/library/name:tag)."""
    return tag in (ref, f"docker.io/{ref}", f"docker.io/library/{ref}")
