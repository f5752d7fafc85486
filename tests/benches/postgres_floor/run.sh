#!/usr/bin/env bash
# What PostgreSQL alone costs for a submission's statements, against the
# load benchmark's baseline, with no HTTP server in the way
# (BENCHMARKS.md §2, "PostgreSQL's own floor").
#
# Usage: tests/benches/postgres_floor/run.sh [ROUNDS] [SCRIPT...]
#   ROUNDS   rounds of every script, interleaved (default 3)
#   SCRIPT   pgbench scripts of this directory, without `.sql`
#            (default: submission filing baseline)
# Environment: GUICHET_TEST_POSTGRES, the server's admin URL (default
# postgres://postgres@127.0.0.1:5432/postgres); FLOOR_SKIP_MIGRATIONS,
# numbers of migrations to leave out (e.g. "0014"), to measure the schema
# before them. A database guichet_floor_<pid> is created there with
# Guichet's PostgreSQL migrations, and dropped at the end.
#
# Each round empties the tables, writes 4,000 drafts per client, then runs
# pgbench for 10 s with 16 clients on 2 threads, prepared statements. The
# median transactions per second of each script is printed, and its ratio
# to the baseline's when the baseline ran.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
migrations="$here/../../../host/store/migrations/postgres"
admin=${GUICHET_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
rounds=${1:-3}
shift || true
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=(submission filing baseline)
db="guichet_floor_$$"
url="${admin%/*}/$db"

psql -q "$admin" -c "CREATE DATABASE $db"
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for migration in "$migrations"/*.sql; do
  number=$(basename "$migration" | cut -d_ -f1)
  [[ " ${FLOOR_SKIP_MIGRATIONS:-} " == *" $number "* ]] && continue
  psql -q -v ON_ERROR_STOP=1 "$url" -f "$migration" >/dev/null
done
psql -q -v ON_ERROR_STOP=1 "$url" -f "$here/seed.sql" >/dev/null

declare -A results
for ((round = 1; round <= rounds; round++)); do
  for script in "${scripts[@]}"; do
    psql -q -v ON_ERROR_STOP=1 "$url" -f "$here/reset.sql" -f "$here/drafts.sql" -c CHECKPOINT >/dev/null
    out=$(pgbench -n -M prepared -c 16 -j 2 -T 10 -D i=0 -f "$here/$script.sql" "$url" 2>&1)
    if grep -q "aborted" <<<"$out"; then
      echo "$script: pgbench aborted:" >&2
      grep -m3 "error" <<<"$out" >&2
      exit 1
    fi
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
    echo "round $round, $script: $tps transactions/s"
    results[$script]+="$tps "
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
base=""
[ -n "${results[baseline]:-}" ] && base=$(median "${results[baseline]}")
echo "median transactions/s over $rounds rounds:"
for script in "${scripts[@]}"; do
  m=$(median "${results[$script]}")
  if [ -n "$base" ]; then
    printf '  %-28s %8.0f  (%.2f× the baseline)\n' "$script" "$m" "$(echo "$m / $base" | bc -l)"
  else
    printf '  %-28s %8.0f\n' "$script" "$m"
  fi
done
