"""A synthetic site-packages of 2,000 distributions (dist-info and egg-info mixed).

auditor scan DIR --format json, against
- 'importlib.metadata': a fresh interpreter listing name and version of every distribution (target: within 1.5x);
- 'pip list --path DIR --format json' (target: auditor at least 3x faster).
"""

import os
import sys
import tempfile

from _common import AUDITOR, PYTHON, best_of, report

DESCRIPTION = "A library that does useful things.\n\n" + "Long description paragraph. " * 200
LISTING = ("import importlib.metadata as m, sys\n"
           "print(len([(d.metadata['Name'], d.version) for d in m.distributions(path=[sys.argv[1]])]))")


def make_site_packages(root: str, count: int = 2000) -> str:
    site = os.path.join(root, "lib", "python3.11", "site-packages")
    os.makedirs(site)
    names = [f"package-{i:04d}" for i in range(count - 3)] + ["boto", "botocore", "awscli"]
    versions = {"boto": "2.9.0", "botocore": "0.21.0", "awscli": "1.2.1"}
    for i, name in enumerate(names):
        version = versions.get(name, f"1.{i % 50}.{i % 7}")
        module = name.replace("-", "_")
        metadata = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: package {i}\n"
                    f"Home-page: https://example.org/{name}\nAuthor: Someone\nLicense: MIT\n"
                    f"Requires-Python: >=3.8\nRequires-Dist: requests (>=2.0)\nClassifier: Programming Language :: Python :: 3\n\n{DESCRIPTION}")
        if i % 2:
            info = os.path.join(site, f"{module}-{version}.dist-info")
            os.makedirs(info)
            files = {"METADATA": metadata, "WHEEL": "Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
                     "INSTALLER": "pip\n", "top_level.txt": module + "\n",
                     "RECORD": f"{module}/__init__.py,sha256=abc,10\n{module}-{version}.dist-info/METADATA,,\n"}
        else:
            info = os.path.join(site, f"{module}-{version}-py3.11.egg-info")
            os.makedirs(info)
            files = {"PKG-INFO": metadata, "SOURCES.txt": "setup.py\n", "top_level.txt": module + "\n",
                     "dependency_links.txt": "\n"}
        for file_name, content in files.items():
            with open(os.path.join(info, file_name), "w") as handle:
                handle.write(content)
        os.makedirs(os.path.join(site, module))
        with open(os.path.join(site, module, "__init__.py"), "w") as handle:
            handle.write(f'__version__ = "{version}"\n')
    return site


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as root:
        site = make_site_packages(root)
        auditor = best_of(AUDITOR + ["scan", site, "--format", "json", "-q"], runs)
        baseline = best_of([PYTHON, "-c", LISTING, site], runs)
        pip_list = best_of([PYTHON, "-m", "pip", "list", "--path", site, "--format", "json", "--disable-pip-version-check"], max(2, runs // 2))
        report("scan of 2,000 distributions", auditor, "importlib.metadata listing", baseline, "<= 1.5x")
        print(f"  pip list --path: {pip_list * 1000:.1f} ms; auditor is {pip_list / auditor:.1f}x faster (target >= 3x)")


if __name__ == "__main__":
    sys.exit(main())
