#!/usr/bin/env bash
# Builds a separate virtual environment for Nixtla's mlforecast, which needs pandas < 3 and so can
# never share govml's environment. Usage: benchmarks/mlforecast/setup_venv.sh [VENV_DIR]
set -euo pipefail
VENV="${1:-/tmp/govml-mlforecast-venv}"
PY="${PYTHON:-python3.11}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "mlforecast==1.1.0" "lightgbm>=4.5,<5" "pandas<3" pyarrow
"$VENV/bin/python" -c "import mlforecast, pandas, lightgbm; print('mlforecast', mlforecast.__version__, 'pandas', pandas.__version__, 'lightgbm', lightgbm.__version__)"
