#!/usr/bin/env bash
# The whole check, as CI runs it (`npm test`): system packages, build, type-check, lint, format, then every
# test under coverage on this machine's Node, then every test again on Node 22 and 24 (the lines the cloud SDKs
# support; real binaries from the npm registry's node-linux-<arch> packages, cached in .cache/). Skipped or
# exclusive tests fail the run. ARCHES_STORAGE_NODES="" skips the extra Node lines (for a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
log=$(mktemp)
status=0
total_passed=0
total_failed=0
count() {
  local label=$1
  local passed failed pending
  passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | grep -Eo '[0-9]+' || echo 0)
  failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | grep -Eo '[0-9]+' || echo 0)
  pending=$(grep -Eo '^ +[0-9]+ pending' "$log" | grep -Eo '[0-9]+' || echo 0)
  if [ "$pending" != 0 ]; then echo "$label: $pending tests were skipped: every test must run"; status=1; fi
  if [ "$passed" = 0 ]; then echo "$label: no test ran"; status=1; fi
  echo "$label: $passed passed, $failed failed"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
}
npx c8 mocha --forbid-only --forbid-pending 'test/**/*.test.ts' 2>&1 | tee "$log" || status=$?
count "node $(node --version)"
arch=$(node -p process.arch)
for v in ${ARCHES_STORAGE_NODES-22 24}; do
  dir=".cache/node-$v"
  bin="$dir/node_modules/node-linux-$arch/bin/node"
  if [ ! -x "$bin" ]; then
    npm install --silent --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@$v" >/dev/null
  fi
  echo "== every test again on node $("$bin" --version)"
  "$bin" node_modules/mocha/bin/mocha.js --forbid-only --forbid-pending --reporter dot 'test/**/*.test.ts' 2>&1 |
    tee "$log" || status=$?
  count "node $("$bin" --version)"
done
rm -f "$log"
echo "tests: $total_passed passed, $total_failed failed"
exit "$status"
