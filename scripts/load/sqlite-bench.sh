# Sourced by the SQLite benchmark scripts (dataset-export.sh, backtest.sh) from the repository
# root, with the script's arguments: BIN (the vigie binary: $1, default the debug binary of
# CARGO_TARGET_DIR), N (comments, default 100,000), the shipped model, and a temporary working
# folder (removed on exit) holding vigie.db with the site `bench` and an admin key.
BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/vigie}"); N=${N:-100000}
export VIGIE_MODEL_DIR=$(pwd)/models VIGIE_LOG_LEVEL=error
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed" >&2; exit 1; }
dir=$(mktemp -d); cd "$dir"
trap 'rm -rf "$dir"' EXIT
"$BIN" keys create --site bench --role admin --quiet >/dev/null
