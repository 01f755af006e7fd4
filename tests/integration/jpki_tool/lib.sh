# SPDX-License-Identifier: MIT
# Helpers for the jpki-tool integration tests (sourced; each test runs inside the harness).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
T=${JPKI_TOOL:?JPKI_TOOL must name the jpki-tool program}
cd "${JPKI_WORK:?run inside tests/harness/pcsc-harness.sh}"

# expect_rc CODE DESCRIPTION -- CMD…: runs CMD (stdout → out.txt, stderr → err.txt) and checks
# its exit code.
expect_rc() {
  local want=$1 what=$2 rc=0
  shift 3
  "$@" >out.txt 2>err.txt || rc=$?
  if [[ $rc != "$want" ]]; then
    echo "--- stdout" >&2; cat out.txt >&2; echo "--- stderr" >&2; cat err.txt >&2
    fail "$what: exit code $rc, expected $want"
  fi
  pass "$what (exit $rc)"
}
