#!/usr/bin/env bash
# The whole check, as CI runs it (`npm test`): system packages, build, type-check, lint, format, then every
# test under coverage. Skipped or exclusive tests fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
log=$(mktemp)
status=0
npx c8 mocha --forbid-only --forbid-pending 'test/**/*.test.ts' 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | grep -Eo '[0-9]+' || echo 0)
pending=$(grep -Eo '^ +[0-9]+ pending' "$log" | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
if [ "$pending" != 0 ]; then echo "$pending tests were skipped: every test must run"; status=1; fi
if [ "$passed" = 0 ]; then echo "no test ran"; status=1; fi
echo "tests: $passed passed, $failed failed"
exit "$status"
