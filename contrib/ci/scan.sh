#!/usr/bin/env bash
# The scan step of the GitHub Action (action.yml), usable from any CI: scan once to JSON, render SARIF, JUnit and
# Markdown from that report, and tell the runner. It exits 0 once the reports are written, whatever was found: the
# scan's exit code (0 pass, 1 findings at or above fail-on, 2 not fully scanned) is in the output `exit-code`, and
# the action's last step exits with it after the SARIF upload. It exits 2 at once if the scan wrote no report.
#
# Inputs, from the environment: AUDITOR_TARGETS (whitespace-separated paths, default .), AUDITOR_FAIL_ON,
# AUDITOR_PACKS (whitespace-separated pack ids), AUDITOR_WAIVERS, AUDITOR_STRICT (true/false, default true),
# AUDITOR_OUTPUT_DIR (default auditor-report). GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are used when set.
set -uo pipefail

out="${AUDITOR_OUTPUT_DIR:-auditor-report}"
mkdir -p -- "$out" || exit 2
set -f  # the targets are paths, not patterns
# shellcheck disable=SC2206
targets=(${AUDITOR_TARGETS:-.})
# shellcheck disable=SC2206
packs=(${AUDITOR_PACKS:-})
set +f

scan=(scan "${targets[@]}" --format json -o "$out/auditor.json" --quiet)
[ -n "${AUDITOR_FAIL_ON:-}" ] && scan+=(--fail-on "$AUDITOR_FAIL_ON")
[ -n "${AUDITOR_WAIVERS:-}" ] && scan+=(--waivers "$AUDITOR_WAIVERS")
[ "${AUDITOR_STRICT:-true}" = "true" ] && scan+=(--strict)
for pack in ${packs[@]+"${packs[@]}"}; do scan+=(--pack "$pack"); done

rm -f -- "$out/auditor.json"
auditor "${scan[@]}"
status=$?
if [ ! -s "$out/auditor.json" ]; then
    echo "::error title=auditor::the scan wrote no report (exit $status); its message is above"
    exit 2
fi

# A rendering exits 1 when the report has findings at or above fail-on, like the scan: only 2 is a failure here.
render() {
    auditor report render "$out/auditor.json" --quiet "$@"
    local code=$?
    [ "$code" -le 1 ] || { echo "::error title=auditor::report render $* failed (exit $code)"; exit 2; }
}
render --format sarif -o "$out/auditor.sarif"
render --format junit -o "$out/auditor.xml"
render --format markdown -o "$out/auditor.md"

case "$status" in
    0) echo "::notice title=auditor::passed: nothing at or above fail-on" ;;
    1) echo "::error title=auditor::findings at or above fail-on: see the SARIF results or $out/auditor.md" ;;
    *) echo "::error title=auditor::not everything could be scanned (exit $status): see $out/auditor.md" ;;
esac
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat -- "$out/auditor.md" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "exit-code=$status"
        echo "report=$out/auditor.json"
        echo "sarif=$out/auditor.sarif"
        echo "junit=$out/auditor.xml"
    } >> "$GITHUB_OUTPUT"
fi
exit 0
