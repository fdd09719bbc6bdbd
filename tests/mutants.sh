#!/bin/sh
# mutants.sh - mutation testing: does the test suite notice the bugs that
# matter?  Each mutant in the list (tests/mutants) is one small edit of the
# library, made in a scratch copy of the source tree (never in the real
# one); the suites it names are built and run there, and at least one must
# fail.  Prints each verdict, the kill rate and the survivors.
#
# Usage (from the build directory; `make check-mutants` does this):
#   sh tests/mutants.sh LIST BUILDDIR
# Environment:
#   MUTANTS_FILTER   only the mutants whose line matches this extended
#                    regular expression (e.g. 'trainer|rdp_')
#   MUTANTS_JOBS     make -j for the builds (2)
#   MUTANTS_TIMEOUT  seconds a suite may run before it counts as failed (600)
#   MUTANTS_KEEP     1: keep the scratch directory
#
# Verdicts: KILLED (a named suite failed), SURVIVED (all passed), HARMLESS
# (survived, and the list says why that is harmless), STALE (the pattern is
# not in the file exactly once: the list needs updating), STILLBORN (the
# mutant does not compile).  The kill rate is killed / (killed + survived +
# harmless).  Exit status 1 when a mutant survived without being listed as
# harmless, or is stale or stillborn; 2 when the set-up failed.
set -u

list=${1:?usage: mutants.sh LIST BUILDDIR}
builddir=${2:?usage: mutants.sh LIST BUILDDIR}
jobs=${MUTANTS_JOBS:-2}
limit=${MUTANTS_TIMEOUT:-600}
filter=${MUTANTS_FILTER:-}
tab=$(printf '\t')

case $list in /*) ;; *) list=$(pwd)/$list ;; esac
case $builddir in /*) ;; *) builddir=$(pwd)/$builddir ;; esac
[ -r "$list" ] || { echo "mutants.sh: cannot read $list" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/dpacct-mutants-XXXXXX") || exit 2
if [ "${MUTANTS_KEEP:-0}" = 1 ]; then
  echo "scratch directory: $scratch"
else
  trap 'rm -rf "$scratch"' EXIT
  trap 'exit 2' HUP INT TERM
fi
src=$scratch/src
build=$scratch/build
log=$scratch/log
mkdir -p "$build" "$scratch/orig" || exit 2

# The mutants to run, as file, pattern, replacement, suites, comment.
grep -v '^#' "$list" | grep -v '^[[:space:]]*$' >"$scratch/all"
if [ -n "$filter" ]; then
  grep -E -- "$filter" "$scratch/all" >"$scratch/mutants"
else
  cp "$scratch/all" "$scratch/mutants"
fi
total=$(wc -l <"$scratch/mutants")
[ "$total" -gt 0 ] || { echo "mutants.sh: no mutant matches" >&2; exit 2; }

# A clean copy of the sources (what `make dist` would ship), configured
# without the shared library: only the named suites are ever built.
echo "== copying the sources and configuring in $scratch"
(cd "$builddir" && make distdir distdir="$src") >"$log" 2>&1 \
  || { cat "$log"; echo "mutants.sh: make distdir failed" >&2; exit 2; }
(cd "$build" && "$src/configure" -q --disable-shared) >"$log" 2>&1 \
  || { cat "$log"; echo "mutants.sh: configure failed" >&2; exit 2; }

# The targets a suite needs, and how to run it.  A suite is a Check
# program (check_pld, or check_pld:CASE for one test case) or a script
# test (cli.test), which runs the tool.
suite_target () {
  case $1 in
    *.test) echo tools/dpacct ;;
    *) echo "tests/${1%%:*}" ;;
  esac
}

run_suite () {
  name=$1
  case $name in
    *:*) case_name=${name#*:}; name=${name%%:*} ;;
    *) case_name= ;;
  esac
  (
    cd "$build" || exit 1
    DPACCT_TEST_DATA=$src/tests/data DPACCT=$build/tools/dpacct
    DPACCT_MAN_DIR=$src/man DPACCT_TOP_SRCDIR=$src
    DPACCT_TOP_BUILDDIR=$build DPACCT_PLOTS_DIR=$src/plots
    export DPACCT_TEST_DATA DPACCT DPACCT_MAN_DIR DPACCT_TOP_SRCDIR \
      DPACCT_TOP_BUILDDIR DPACCT_PLOTS_DIR
    if [ -n "$case_name" ]; then
      CK_RUN_CASE=$case_name
      export CK_RUN_CASE
    fi
    case $name in
      *.test) set -- sh "$src/tests/$name" ;;
      *) set -- "./tests/$name" ;;
    esac
    if command -v timeout >/dev/null 2>&1; then
      timeout "$limit" "$@"
    else
      "$@"
    fi
  )
}

# Every suite the list names must pass on the unmutated sources.
suites=$(cut -f4 "$scratch/mutants" | tr ',' '\n' | sort -u)
targets=$(for s in $suites; do suite_target "$s"; done | sort -u)
# shellcheck disable=SC2086 # word splitting puts the names on one line
echo "== building and running the unmutated suites:" $suites
# shellcheck disable=SC2086
(cd "$build" && make -j"$jobs" $targets) >"$log" 2>&1 \
  || { tail -40 "$log"; echo "mutants.sh: the build failed" >&2; exit 2; }
for s in $suites; do
  run_suite "$s" >"$log" 2>&1 \
    || { tail -20 "$log"; echo "mutants.sh: $s fails without a mutant" >&2
         exit 2; }
done

killed=0 survived=0 harmless=0 stale=0 stillborn=0 i=0
: >"$scratch/report"
while IFS=$tab read -r file pattern replacement named comment; do
  i=$((i + 1))
  start=$(date +%s)
  verdict='' by=''
  target=$src/$file
  if [ ! -f "$target" ]; then
    verdict=STALE
  else
    count=$(PAT=$pattern perl -0777 -ne '$n = () = /\Q$ENV{PAT}\E/g;
                                         print $n' "$target")
    [ "$count" = 1 ] || verdict=STALE
  fi
  if [ -z "$verdict" ]; then
    mkdir -p "$scratch/orig/$(dirname "$file")"
    cp "$target" "$scratch/orig/$file"
    PAT=$pattern REP=$replacement \
      perl -0777 -pi -e 's/\Q$ENV{PAT}\E/$ENV{REP}/' "$target"
    targets=$(for s in $(echo "$named" | tr ',' ' '); do
                suite_target "$s"; done | sort -u)
    # shellcheck disable=SC2086
    if ! (cd "$build" && make -j"$jobs" $targets) >"$log" 2>&1 </dev/null
    then
      verdict=STILLBORN
    else
      verdict=SURVIVED
      for s in $(echo "$named" | tr ',' ' '); do
        if ! run_suite "$s" >"$log" 2>&1 </dev/null; then
          verdict=KILLED
          # Which test noticed: Check's first failure, or the log's end.
          by=$(grep -m1 -E ':[FE]:' "$log" || tail -1 "$log")
          break
        fi
      done
    fi
    # A plain copy: its new time stamp makes the next build recompile it.
    cp "$scratch/orig/$file" "$target"
  fi
  case $verdict in
    KILLED) killed=$((killed + 1)) ;;
    SURVIVED)
      case $comment in
        harmless:*) verdict=HARMLESS; harmless=$((harmless + 1)) ;;
        *) survived=$((survived + 1)) ;;
      esac ;;
    STALE) stale=$((stale + 1)) ;;
    STILLBORN) stillborn=$((stillborn + 1)) ;;
  esac
  line=$(printf '[%2d/%d] %-9s %s (%s, %ss): %s' "$i" "$total" "$verdict" \
           "$file" "$named" "$(($(date +%s) - start))" "$comment")
  echo "$line"
  echo "$line" >>"$scratch/report"
  [ "$verdict" = KILLED ] && echo "        by $s: $(echo "$by" | cut -c1-150)"
done <"$scratch/mutants"

tried=$((killed + survived + harmless))
echo "== $killed of $tried mutants killed" \
     "($(awk "BEGIN { printf \"%.0f\", $tried ? 100 * $killed / $tried : 0 }") %);" \
     "$harmless harmless, $survived survived, $stale stale, $stillborn stillborn"
if [ $((survived + harmless + stale + stillborn)) -gt 0 ]; then
  echo "== survivors and broken mutants:"
  grep -E '^\[ *[0-9]+/[0-9]+\] (SURVIVED|HARMLESS|STALE|STILLBORN)' \
    "$scratch/report"
fi
[ $((survived + stale + stillborn)) -eq 0 ]
