#!/usr/bin/env bash
# The test suite: set up the environment if needed, then run pytest (arguments pass through).
# It includes executing every catalogued notebook at the `smoke` profile.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
export HESSIAN_SPECTRA_DATA="${HESSIAN_SPECTRA_DATA:-$(pwd)/../shared/data}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
exec python -m pytest "$@"
