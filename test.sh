#!/usr/bin/env bash
# The one command that runs every test: installs what the tests need, builds, runs each test
# project and ends with the line "N passed, N failed[, N skipped]" summed over all of them.
# Exit status is non-zero when anything failed.
#
#   ./test.sh                      # everything
#   ./test.sh Mqtt.Tests Gateway   # only test projects whose name contains one of these words
#   TEST_PARALLELISM=1 ./test.sh   # one test project at a time (default: 2)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
results="$root/artifacts/test-results"
configuration="${TEST_CONFIGURATION:-Release}"
parallelism="${TEST_PARALLELISM:-2}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail_early() {
  echo "$1" >&2
  echo "0 passed, 1 failed"
  exit 1
}

eng/install-prerequisites.sh || fail_early "Installing prerequisites failed."

echo "Building Platform.sln ($configuration) ..."
dotnet build Platform.sln -c "$configuration" --nologo -v quiet -clp:"ErrorsOnly;Summary" ||
  fail_early "Build failed."

mapfile -t projects < <(find tests -name '*.Tests.csproj' | sort)
if [[ $# -gt 0 ]]; then
  selected=()
  for project in "${projects[@]}"; do
    for word in "$@"; do [[ "$project" == *"$word"* ]] && { selected+=("$project"); break; }; done
  done
  projects=("${selected[@]}")
fi
[[ ${#projects[@]} -gt 0 ]] || fail_early "No test projects found."

rm -rf "$results"
mkdir -p "$results"

run_project() {
  local project="$1" name
  name="$(basename "$project" .csproj)"
  dotnet test "$project" -c "$configuration" --no-build --nologo \
    --results-directory "$results/$name" --logger "trx;LogFileName=$name.trx" \
    --blame-hang-timeout 10m >"$results/$name.log" 2>&1
  echo $? >"$results/$name.exit"
  cat "$results/$name.log"
}

echo "Running ${#projects[@]} test project(s), $parallelism at a time ..."
for project in "${projects[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $parallelism ]]; do wait -n; done
  run_project "$project" &
done
wait

passed=0 failed=0 skipped=0
counter() { grep -o "$1=\"[0-9]*\"" <<<"$2" | head -n 1 | grep -o '[0-9]*' || echo 0; }
for project in "${projects[@]}"; do
  name="$(basename "$project" .csproj)"
  trx="$results/$name/$name.trx"
  exit_code="$(cat "$results/$name.exit" 2>/dev/null || echo 1)"
  counters="$(grep -o '<Counters [^>]*>' "$trx" 2>/dev/null || true)"
  if [[ -z "$counters" ]]; then
    echo "$name: no test results (exit $exit_code); counted as one failure. Log: $results/$name.log"
    failed=$((failed + 1))
    continue
  fi
  p=$(counter passed "$counters")
  f=$(( $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters") ))
  s=$(counter notExecuted "$counters")
  if [[ "$exit_code" != 0 && $f -eq 0 ]]; then
    echo "$name: the test run aborted (exit $exit_code) although no test failed; counted as one failure."
    f=1
  fi
  printf '%-32s %5d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

if [[ $skipped -gt 0 ]]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
