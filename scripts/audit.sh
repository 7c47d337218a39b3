#!/bin/sh
# Dependency vulnerability check (issue 10, MLPS 2.0 "恶意代码防范/漏洞管理"): every package pinned
# in requirements.lock against the PyPI advisory data, with pip-audit (docs/security.md).
#
# Exit 0: no known vulnerability, or the check could not run here (no network, no advisory
#         data, pip-audit missing) -- said loudly on stderr; AUDIT_STRICT=1 makes that exit 3.
# Exit 1: a known vulnerability in a pinned package (pip-audit lists it and its fixed versions).
set -u
cd "$(dirname "$0")/.."
LOCK=${AUDIT_LOCK:-requirements.lock}
PY=${PY:-.venv/bin/python}
PIP_AUDIT=${PIP_AUDIT:-}
[ -n "$PIP_AUDIT" ] || PIP_AUDIT=$(command -v .venv/bin/pip-audit || command -v pip-audit || true)

skip() {
    echo "audit: SKIPPED: $1" >&2
    if [ "${AUDIT_STRICT:-0}" = "1" ]; then exit 3; fi
    exit 0
}

[ -n "$PIP_AUDIT" ] || skip "pip-audit is not installed (add pip-audit to the dev extras)"

# pip-audit's PyPI service reads /pypi/<name>/<version>/json; a mirror without that endpoint
# would make every package "not found" and the run pass without checking anything.
DJANGO_VERSION=$(sed -n 's/^django==//p' "$LOCK" | head -n 1)
"$PY" - "$DJANGO_VERSION" <<'PYEOF' || skip "the PyPI advisory data is unreachable from here"
import json, sys, urllib.request
url = f"https://pypi.org/pypi/django/{sys.argv[1]}/json"
try:
    with urllib.request.urlopen(url, timeout=15) as answer:
        sys.exit(0 if "vulnerabilities" in json.load(answer) else 1)
except Exception:
    sys.exit(1)
PYEOF

"$PIP_AUDIT" --requirement "$LOCK" --no-deps --disable-pip --strict --progress-spinner off \
    --vulnerability-service pypi --desc off
status=$?
case $status in
    0) echo "audit: no known vulnerabilities in $LOCK" ;;
    *) echo "audit: pip-audit exited $status: see above" >&2 ;;
esac
exit $status
