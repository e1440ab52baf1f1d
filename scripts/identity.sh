#!/usr/bin/env bash
# Byte identity of clearsim's outputs across a refactor.
#
#   scripts/identity.sh record BIN DIR   run the fixed command set with BIN,
#                                        every output file into DIR
#   scripts/identity.sh check [BASE]     build BASE (a git revision; default
#                                        the last commit whose message starts
#                                        "identity-base:", else HEAD) in a
#                                        worktree, record it and this tree's
#                                        build, and compare file by file
#   EXCEPT=REGEX scripts/identity.sh check   the same, but files whose path
#                                        (relative to the recording) matches
#                                        REGEX may differ: they are listed,
#                                        and every other file must be
#                                        identical. For a step that changes
#                                        some outputs on purpose.
#
# The set (issue 22): every bundled config through `run` for 2 and 20 days,
# replications, shocks and per-payment settlements; `compare` (whole and in
# shards, then `merge`), `sweep`, `plan`, `optimise`; a 1 M-row `replay` of
# every strategy on a scarce day; `replay --channels`; `report` of a replay;
# `journal export` of one service day (the day is recorded once, by the
# base binary, and exported by both: a live day depends on the wall clock);
# `bench --quick`'s settled counts; and the messages and exit codes of a set
# of bad inputs. Only the clearsim version string and wall-clock figures
# (seconds, payments per second) are masked before comparing.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"

# One command: its stdout, stderr and exit code are recorded as files.
# Usage: step NAME CMD...
step() {
  local name="$1"
  shift
  local code=0
  "$@" >"$OUT/stdout/$name.out" 2>"$OUT/stdout/$name.err" || code=$?
  echo "$code" >"$OUT/stdout/$name.code"
}

record() {
  BIN="$(realpath "$1")"
  OUT="$(realpath -m "$2")"
  rm -rf "$OUT"
  mkdir -p "$OUT/stdout" "$OUT/files" "$OUT/work"
  local f="$OUT/files" w="$OUT/work" c="$here/configs"
  cd "$here"

  # run: every bundled config, 2 and 20 days.
  for config in "$c"/*.toml "$c"/games/*.toml; do
    local name
    name="$(basename "$config" .toml)"
    step "run-$name-2" "$BIN" run "$config" --days 2 --out "$f/run-$name-2"
    step "run-$name-20" "$BIN" run "$config" --days 20 --out "$f/run-$name-20"
  done
  step run-replications "$BIN" run "$c/chengdu-2005.toml" --replications 3 --out "$f/run-replications"
  step run-shocks "$BIN" run "$c/chengdu-2005.toml" --days 2 --replications 2 \
    --shock "outage:CCB@10:00-11:30" --shock "liquidity:ICBC@10:00=5e8yuan" --out "$f/run-shocks"
  step run-default "$BIN" run "$c/chengdu-2005.toml" --default "BOC@11:00" --out "$f/run-default"
  step run-system "$BIN" run "$c/netting-compare.toml" --shock "system:10:00-10:30" --out "$f/run-system"
  step run-settlements "$BIN" run "$c/chengdu-2005.toml" --days 1 --settlements --out "$f/run-settlements"
  step run-volume "$BIN" run "$c/large-city.toml" --volume 0.5 --seed 7 --out "$f/run-volume"

  # compare, in one go and in shards merged.
  local designs="design; rtgs; rtgs+gridlock:5m; rtgs+bypass+gridlock:5m; rtgs+offset; chips; dns:hourly; dns+latest:12:00,17:00; dns+fund=5e7yuan:hourly; bilateral:hourly"
  step compare "$BIN" compare "$c/chengdu-2005.toml" --strategies "$designs" --replications 3 --quiet --out "$f/compare"
  step compare-table "$BIN" compare "$c/netting-compare.toml" --replications 2 --out "$f/compare-table"
  step compare-limits "$BIN" compare "$c/netting-compare.toml" --strategies "design; rtgs+limits; rtgs+limits+gridlock:1m" --out "$f/compare-limits"
  step compare-shock "$BIN" compare "$c/chengdu-2005.toml" --strategies "design; rtgs" --replications 2 --default "ICBC@10:00" --out "$f/compare-shock"
  step shard-1 "$BIN" compare "$c/chengdu-2005.toml" --strategies "design; dns:hourly" --replications 3 --shard 1/2 --out "$w/shard-1"
  step shard-2 "$BIN" compare "$c/chengdu-2005.toml" --strategies "design; dns:hourly" --replications 3 --shard 2/2 --out "$w/shard-2"
  step merge "$BIN" merge "$w/shard-1" "$w/shard-2" --out "$f/merge"
  cp -r "$w/shard-1" "$f/shard-1"

  # sweep, plan, optimise.
  step sweep "$BIN" sweep "$c/chengdu-2005.toml" --steps 5 --replications 2 --out "$f/sweep"
  step sweep-designs "$BIN" sweep "$c/netting-compare.toml" --strategies "rtgs; dns:hourly" --steps 4 --out "$f/sweep-designs"
  step plan "$BIN" plan "$c/chengdu-2005.toml" "$c/chengdu-2010.toml" --replications 2 --out "$f/plan"
  step optimise "$BIN" optimise "$c/chengdu-2005.toml" --quiet --out "$f/optimise"
  step optimise-game "$BIN" optimise "$c/games/bech-garratt-late.toml" --policies "immediate;deadline:13:00" --out "$f/optimise-game"
  step optimise-cycle "$BIN" optimise "$c/games/three-bank-cycle.toml" --strategies "rtgs,dns:hourly" --out "$f/optimise-cycle"

  # replay: a 1 M-row day with scarce liquidity (a tenth of the openings,
  # no credit), through every strategy.
  step generate "$BIN" generate "$c/throughput.toml" --volume 0.1 --out "$w/day"
  awk -F, 'BEGIN{OFS=","} NR==1{print; next} {$4=int($4/10); $5=0; print}' \
    "$w/day/participants.csv" >"$w/day/scarce.csv"
  local first second
  first="$(sed -n 2p "$w/day/scarce.csv" | cut -d, -f1)"
  second="$(sed -n 3p "$w/day/scarce.csv" | cut -d, -f1)"
  printf '[[limit]]\nparticipant = "*"\nlimit_yuan = 2000\n\n[[limit]]\nparticipant = "%s"\ncounterparty = "%s"\nlimit_yuan = 500\n' \
    "$first" "$second" >"$w/limits.toml"
  local strategies=(
    "rtgs|rtgs|"
    "rtgs-gridlock|rtgs|--gridlock-every 5m"
    "rtgs+bypass|rtgs+bypass|--gridlock-every 1m"
    "rtgs+offset|rtgs+offset|"
    "rtgs+limits|rtgs+limits|--limits $w/limits.toml --gridlock-every 5m"
    "chips|chips|--max-position-pct 300"
    "dns|dns|--cycles hourly"
    "dns-latest|dns|--cycles 10:00,13:00,17:00 --unwind latest"
    "dns-fund|dns|--cycles hourly --guarantee-fund 5e6yuan"
    "bilateral|bilateral|--cycles hourly"
  )
  local entry label strategy flags
  for entry in "${strategies[@]}"; do
    IFS='|' read -r label strategy flags <<<"$entry"
    # shellcheck disable=SC2086
    step "replay-$label" "$BIN" replay --participants "$w/day/scarce.csv" --payments "$w/day/payments.csv" \
      --strategy "$strategy" $flags --out "$f/replay-$label"
  done
  step report-replay "$BIN" report "$f/replay-rtgs-gridlock"

  # replay --channels of a generated Chengdu day, and the example day.
  step generate-chengdu "$BIN" generate "$c/chengdu-2005.toml" --out "$w/chengdu"
  cp "$w/chengdu/payments.csv" "$f/generated-chengdu-payments.csv"
  step replay-channels "$BIN" replay --participants "$w/chengdu/participants.csv" \
    --payments "$w/chengdu/payments.csv" --channels "$c/chengdu-2005.toml" --out "$f/replay-channels"
  step replay-example "$BIN" replay --participants "$c/examples/chengdu-day/participants.csv" \
    --payments "$c/examples/chengdu-day/payments.csv" --strategy rtgs --gridlock-every 5m --out "$f/replay-example"

  # journal export of one service day (see the header).
  if [ -n "${JOURNAL:-}" ]; then
    step journal-export "$BIN" journal export "$JOURNAL" --out "$f/journal/payments.csv" \
      --participants "$f/journal/participants.csv"
    step journal-replay "$BIN" replay --participants "$f/journal/participants.csv" \
      --payments "$f/journal/payments.csv" --gridlock-every 1s --day-end 23:59:59.999 --out "$f/journal-replay"
  fi

  # bench --quick: its settled counts (its speeds are not outputs).
  step bench "$BIN" bench --quick --out "$w/bench"
  mv "$OUT/stdout/bench.out" "$OUT/stdout/bench.err" "$w/"
  if [ -f "$w/bench/bench.json" ]; then
    python3 -c 'import json,sys
for row in json.load(open(sys.argv[1]))["rows"]:
    if row["group"] == "replay":
        print(row["name"], "|", row["detail"])' "$w/bench/bench.json" >"$f/bench-counts.txt"
  fi

  # Bad inputs: messages and exit codes.
  printf 'id,name,category,opening_balance,credit_limit\nA,,,100,0\nA,,,5,0\n' >"$w/dup.csv"
  printf 'id,submit,sender,receiver,amount\n1,09:00,A,B,5\n' >"$w/badtime.csv"
  printf 'id,name,category,opening_balance,credit_limit\nA,,,100,0\nB,,,5,0\n' >"$w/ab.csv"
  printf 'id,submit,sender,receiver,amount\n1,09:00:00,A,C,5\n' >"$w/unknown.csv"
  step err-duplicate "$BIN" replay --participants "$w/dup.csv" --payments "$w/badtime.csv" --out "$w/e1"
  step err-time "$BIN" replay --participants "$w/ab.csv" --payments "$w/badtime.csv" --out "$w/e2"
  step err-unknown "$BIN" replay --participants "$w/ab.csv" --payments "$w/unknown.csv" --out "$w/e3"
  step err-strategy "$BIN" compare "$c/chengdu-2005.toml" --strategies "rtgs+nothing" --out "$w/e4"
  step err-config "$BIN" run "$w/ab.csv" --out "$w/e5"
  step err-shock "$BIN" run "$c/chengdu-2005.toml" --shock "outage:NOBODY@10:00-11:00" --out "$w/e6"
  step err-out "$BIN" run "$c/chengdu-2005.toml" --out "$c/chengdu-2005.toml"
  step err-merge "$BIN" merge "$f/merge" "$f/plan" --out "$w/e7"
  # Paths of this record's own tree are not outputs.
  find "$OUT/stdout" "$OUT/files" -type f ! -name '*.parquet' -exec sed -i -e "s#$OUT#OUT#g" -e "s#$here#REPO#g" {} +
}

# A journal of one service day: `serve` with a journal, `load` against it
# for a second, then a clean stop (the day closes).
make_journal() {
  local bin="$1" dir="$2" port=17893
  rm -rf "$dir"
  mkdir -p "$dir"
  "$bin" serve "$here/configs/chengdu-2005.toml" --issue-tokens "$dir/tokens" >/dev/null
  "$bin" serve "$here/configs/chengdu-2005.toml" --tokens "$dir/tokens" --journal "$dir/journal" \
    --listen "127.0.0.1:$port" --duration 5s >"$dir/serve.log" 2>&1 &
  local pid=$!
  sleep 1
  "$bin" load "$here/configs/chengdu-2005.toml" --tokens "$dir/tokens" --connect "127.0.0.1:$port" \
    --duration 2s --rate 100000 >"$dir/load.log" 2>&1 || true
  wait "$pid" || true
}

# Masks what may differ by design: the version string and wall-clock figures.
normalise() {
  local dir="$1"
  find "$dir" -type f \( -name '*.json' -o -name '*.md' -o -name '*.html' -o -name '*.out' -o -name '*.err' -o -name '*.txt' \) \
    -exec sed -i -E \
      -e 's/clearsim(_version"?:? "?| )[0-9]+\.[0-9]+\.[0-9]+( \(invariants checked\))?/clearsim VERSION/g' \
      -e 's/[0-9.]+ (M |k )?payments\/s/RATE payments\/s/g' \
      -e 's/ in [0-9.]+ (s|ms)/ in T/g' \
      -e 's/\([0-9.]+ ?(s|ms)\)/(T)/g' \
      -e 's/engine +[0-9.]+ ms/engine T ms/' \
      -e 's/^[0-9.]+ s on /T s on /' {} +
}

check() {
  local base="${1:-}"
  if [ -z "$base" ]; then
    base="$(git -C "$here" log --format=%H --grep='^identity-base:' -n 1)"
    base="${base:-HEAD}"
  fi
  local root="$here/target/identity"
  mkdir -p "$root"
  echo "== base $(git -C "$here" rev-parse --short "$base"): building in a worktree"
  # The base's tree lies outside this one: inside it, cargo would take it
  # for a member of this workspace.
  local tree
  tree="$(mktemp -d)/base"
  git -C "$here" worktree prune
  git -C "$here" worktree add --detach "$tree" "$base" >/dev/null
  (cd "$tree" && CARGO_TARGET_DIR="$root/base-target" cargo build --release --quiet)
  echo "== this tree: building"
  (cd "$here" && cargo build --release --quiet)
  local base_bin="$root/base-target/release/clearsim" new_bin="$here/target/release/clearsim"
  echo "== one service day, journaled by the base binary"
  make_journal "$base_bin" "$root/service"
  export JOURNAL="$root/service/journal"
  echo "== recording the base"
  record "$base_bin" "$root/base"
  echo "== recording this tree"
  record "$new_bin" "$root/new"
  git -C "$here" worktree remove --force "$tree"
  normalise "$root/base"
  normalise "$root/new"
  local files
  files="$(find "$root/base/files" "$root/base/stdout" -type f | wc -l)"
  if [ -n "${EXCEPT:-}" ]; then
    except "$root" "$files"
    return
  fi
  if diff -r "$root/base/files" "$root/new/files" >"$root/diff.txt" &&
    diff -r "$root/base/stdout" "$root/new/stdout" >>"$root/diff.txt"; then
    echo "identical: $files files (outputs, stdout, stderr, exit codes)"
  else
    head -60 "$root/diff.txt"
    echo "DIFFERENT: the full diff is in $root/diff.txt" >&2
    exit 1
  fi
}

# The comparison when EXCEPT names files that may differ.
except() {
  local root="$1" files="$2" changed
  changed="$( (cd "$root/base" && find files stdout -type f; cd "$root/new" && find files stdout -type f) |
    sort -u | while read -r rel; do
      cmp -s "$root/base/$rel" "$root/new/$rel" || echo "$rel"
    done)"
  local unexpected
  unexpected="$(printf '%s\n' "$changed" | grep -v -E -e "$EXCEPT" | grep -v '^$' || true)"
  echo "changed as allowed (${EXCEPT}): $(printf '%s\n' "$changed" | grep -c -E -e "$EXCEPT" || true) files"
  if [ -n "$unexpected" ]; then
    printf '%s\n' "$unexpected" | head -60
    echo "DIFFERENT beyond EXCEPT: the files above" >&2
    exit 1
  fi
  echo "identical: every other file of $files (outputs, stdout, stderr, exit codes)"
}

case "${1:-}" in
  record) record "$2" "$3" ;;
  check) check "${2:-}" ;;
  *)
    sed -n '2,9p' "$0"
    exit 2
    ;;
esac
