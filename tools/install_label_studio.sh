#!/usr/bin/env bash
# Install Label Studio (from PyPI) into its own virtual environment, apart from
# the project's .venv: it brings Django and about 1 GB of packages that
# allsh_sklearn must not depend on. tests/test_labelstudio_integration.py starts
# it from there; so does the guide (docs/user_guide/labelstudio.md).
# On a fresh machine it installs (2.5 to 6 minutes, 1 GB) and applies Label
# Studio's database migrations once to a template database; when both are
# there with the pinned version it only checks.
#
#   ALLSH_LABEL_STUDIO_VENV=DIR      where the environment goes
#                                    (default ~/.cache/allsh_sklearn/label-studio-venv)
#   ALLSH_LABEL_STUDIO_VERSION=X.Y.Z the version to install (default 1.23.2)
#   PYTHON=python3.11                the interpreter the environment is made from
#
# Prints the path of the `label-studio` executable on its last line.
set -euo pipefail
VENV=${ALLSH_LABEL_STUDIO_VENV:-${HOME}/.cache/allsh_sklearn/label-studio-venv}
VERSION=${ALLSH_LABEL_STUDIO_VERSION:-1.23.2}
PY="$VENV/bin/python"
# Label Studio asks for sentry-sdk>=2.16 without an upper bound, but sentry-sdk
# 3.0 no longer takes an option Label Studio 1.23 passes at start-up (it stops
# with "TypeError: Unknown option 'send_default_pii'"): keep it below 3.
CONSTRAINTS=("sentry-sdk<3")
WANTED="$VERSION sentry-2"

# "<label-studio version> sentry-<sentry-sdk major version>" of the environment.
installed() {
    "$PY" -c 'from importlib.metadata import version as v
print(v("label-studio"), "sentry-" + v("sentry-sdk").split(".")[0])' 2>/dev/null
}

if [ -x "$VENV/bin/label-studio" ] && [ "$(installed)" = "$WANTED" ]; then
    echo "label-studio $VERSION already installed in $VENV" >&2
else
    if [ ! -x "$PY" ]; then
        mkdir -p "$(dirname "$VENV")"
        "${PYTHON:-python3}" -m venv "$VENV"
    fi
    echo "installing label-studio $VERSION into $VENV (2.5 to 6 minutes, 1 GB)" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check \
        "label-studio==$VERSION" "${CONSTRAINTS[@]}"
    got=$(installed || true)
    if [ "$got" != "$WANTED" ]; then
        echo "error: expected label-studio $VERSION with sentry-sdk 2.x in $VENV," \
            "found '${got:-nothing}'" >&2
        exit 1
    fi
fi

# A database with Label Studio's migrations applied, which the integration test
# copies so that each Label Studio it starts is up in about 20 s instead of
# migrating a fresh database for 1 to 3 minutes. `label-studio version` applies
# the migrations and exits.
TEMPLATE="$VENV/allsh-migrated-data"
if [ ! -f "$TEMPLATE/label_studio.sqlite3" ]; then
    echo "applying Label Studio's database migrations once (1 to 3 minutes)" >&2
    rm -rf "$TEMPLATE.tmp"
    env -u HOST LABEL_STUDIO_BASE_DATA_DIR="$TEMPLATE.tmp" LATEST_VERSION_CHECK=false \
        SENTRY_DSN= FRONTEND_SENTRY_DSN= COLLECT_ANALYTICS=false \
        "$VENV/bin/label-studio" version >"$VENV/allsh-migrate.log" 2>&1 || {
        echo "error: Label Studio's migrations failed; see $VENV/allsh-migrate.log" >&2
        exit 1
    }
    mkdir -p "$TEMPLATE"
    mv "$TEMPLATE.tmp/label_studio.sqlite3" "$TEMPLATE/label_studio.sqlite3"
    rm -rf "$TEMPLATE.tmp"
fi
echo "$VENV/bin/label-studio"
