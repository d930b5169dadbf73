# Sourced by run_all.sh and run_tests.sh: make sure a Python environment with this package exists.
#
# - If a virtual environment or conda environment is active, install into it.
# - Otherwise create .venv/ (Python 3.11 if available) and activate it.
# Installation is skipped when pyproject.toml has not changed since the last install.
# TORCH_SPEC chooses the PyTorch build (default: the releases this project is tested with).
set -euo pipefail
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${VIRTUAL_ENV:-}" && -z "${CONDA_PREFIX:-}" ]]; then
    if [[ ! -x "$_root/.venv/bin/python" ]]; then
        _py="$(command -v python3.11 || command -v python3)"
        echo "setup: creating $_root/.venv with $_py" >&2
        "$_py" -m venv "$_root/.venv"
    fi
    # shellcheck disable=SC1091
    source "$_root/.venv/bin/activate"
fi
_stamp_dir="$(python -c 'import sys; print(sys.prefix)')"
_hash="$( (cat "$_root/pyproject.toml"; echo "${TORCH_SPEC:-}") | sha256sum | cut -c1-16)"
_stamp="$_stamp_dir/.hessian_spectra_installed_$_hash"
if [[ ! -f "$_stamp" ]] || ! python -c 'import hessian_spectra' 2>/dev/null; then
    echo "setup: installing dependencies into $_stamp_dir (first run takes a few minutes)" >&2
    # (the filter drops pip's warnings about this machine's absent local index folders)
    _quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }
    # shellcheck disable=SC2086
    _quiet python -m pip install -q ${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
    _quiet python -m pip install -q -e "$_root[test]"
    python -m ipykernel install --sys-prefix --name python3 >/dev/null
    touch "$_stamp"
fi
