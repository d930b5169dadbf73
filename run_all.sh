#!/usr/bin/env bash
# The main job: set up the environment if needed, then execute every catalogued notebook with
# papermill, render HTML reports and the report site (reports/<profile>/index.html).  ./run_all.sh --help
# lists the options (--profile smoke|default|paper, --only PATTERN, --jobs N, --force, --report-only: rebuild
# the site alone from the figures as they are).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
export HESSIAN_SPECTRA_DATA="${HESSIAN_SPECTRA_DATA:-$(pwd)/../shared/data}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
exec python -m hessian_spectra.pipeline.runner "$@"
