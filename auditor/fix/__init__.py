"""`auditor fix`: the changes a scan's findings call for, shown as a diff (dry run) or written (--apply).

It runs the scan in process and fixes only what its findings name, at the file and line they name: AWS pins in
requirements files and declared dependencies raised, custom PEM bundles given the ATS anchors. What it cannot do
itself it prints: the locker command after a declared requirement changed, the keytool command for a keystore,
the line of code that turns validation off. docs/fix.md says what it changes and what it never changes.
"""
