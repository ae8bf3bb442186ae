#!/usr/bin/env bash
# Run the unit and end-to-end suites with the clock set to other days (libfaketime), so no test
# depends on today's calendar date. Usage: scripts/date_sweep.sh [DATE ...]
#
# Default days: the EU spring DST change (clocks jump 02:00→03:00 CET at 01:00 UTC, the run
# starts half an hour before), the autumn change (03:00→02:00 CEST, likewise), a summer day, and
# a new year. The clock runs on from each start. The integration tests (real pretix, PostgreSQL,
# TimescaleDB, LibreBooking, Chromium) measure real servers' clocks and certificates and are left
# out. Needs Debian's `faketime` (bash .ci/run installs it) and the project venv (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."

dates=("$@")
[ ${#dates[@]} -gt 0 ] || dates=(
  "2027-03-28 00:30:00"
  "2027-10-31 00:30:00"
  "2027-07-15 12:00:00"
  "2030-01-01 00:00:00"
)
command -v faketime >/dev/null || { echo "faketime not found: apt-get install faketime"; exit 2; }
[ -x .venv/bin/python ] || { echo "no .venv: run make setup first"; exit 2; }

failed=()
for day in "${dates[@]}"; do
  echo "== $day (UTC) =="
  if ! TZ=UTC faketime "$day" .venv/bin/python -m pytest tests/unit tests/e2e -q -p no:randomly \
      ${SWEEP_PYTEST_ARGS:-}; then
    failed+=("$day")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'date sweep failed on: %s\n' "${failed[@]}"
  exit 1
fi
echo "date sweep passed on ${#dates[@]} days"
