"""AWS CLI version 2 as its installer lays it out: <install-dir>/v2/<version>/dist.

The installer ships a frozen interpreter and no Python metadata; the version is
the name of the directory it installed into, and v2/current links to the one in use.
"""

from __future__ import annotations

import os

from auditor.facts.package import PackageFacts
from auditor.fs import View
from auditor.model import Component


def collect_cli_v2(view: View, dist_dir: str, target: str) -> Component:
    version_dir = os.path.dirname(dist_dir)
    version = os.path.basename(version_dir)
    # Only the link's text is read (through the view: an image's links are in its layers); the installer writes it
    # absolute, pointing at the version directory.
    current = view.link_text(os.path.join(os.path.dirname(version_dir), "current"))
    active: bool | None = None if current is None else os.path.basename(current.rstrip("/")) == version
    facts = PackageFacts(distribution="AWS CLI version 2 (bundled interpreter and botocore)", active=active)
    return Component("python-package", "awscli", version, view.display(version_dir),
                     "AWS CLI v2 installer directory (v2/<version>/dist)", target, facts=facts)
