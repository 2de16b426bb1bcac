#!/usr/bin/env bash
# Install panorama-xl in .venv and, when missing, LibreOffice Calc and python3-uno.
#
#   scripts/install.sh          the tool, for the demo and real campaigns
#   scripts/install.sh --test   the tool and the test dependencies
#
# LibreOffice comes from the Debian packages libreoffice-calc-nogui and
# python3-uno, installed with apt-get as root or through sudo. Without them
# the tool still works; the demo then writes every return in Python and the
# tests that need LibreOffice are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [ "${1:-}" = "--test" ]; then
    extras="[test]"
fi

have_libreoffice() {
    command -v soffice >/dev/null 2>&1 && /usr/bin/python3 -c "import uno" >/dev/null 2>&1
}

if ! have_libreoffice; then
    if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = "0" ]; then
            sudo=""
        elif command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            sudo="none"
        fi
        if [ "$sudo" != "none" ]; then
            echo "Installing LibreOffice Calc (libreoffice-calc-nogui, python3-uno)..."
            $sudo apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
                libreoffice-calc-nogui python3-uno >/dev/null
        else
            echo "warning: LibreOffice is missing and neither root nor sudo is available;" >&2
            echo "         install libreoffice-calc-nogui and python3-uno to use it." >&2
        fi
    else
        echo "warning: LibreOffice is missing and apt-get is not available;" >&2
        echo "         install LibreOffice Calc and its Python UNO bridge by hand." >&2
    fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet -e ".${extras}"
echo "panorama-xl installed in .venv ($(.venv/bin/panorama --version))."
if have_libreoffice; then
    echo "LibreOffice: $(soffice --version | head -n 1)"
else
    echo "LibreOffice: not installed (the demo writes returns in Python, LibreOffice tests are skipped)."
fi
