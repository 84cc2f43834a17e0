# Command-line tests of generations (docs/sweep.md, "Generations"): bad
# settings exit 2 with a message naming the setting; tiny two-generation
# gcd and text sweeps whose generation 1 is worse on real data than
# generation 0 at the largest D; a sweep killed with SIGKILL while it writes
# a corpus and re-run ends with the same corpora (byte for byte) and losses
# as an uninterrupted one, which also shows that the same seed gives the
# same corpus and losses in another process; shards 0/2 and 1/2 at once
# equal the unsharded sweep. Every run pins the matmul backend (bitwise
# comparisons).
set(CLS_GEN_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_GEN_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
set(CLS_GEN_DIR ${PROJECT_BINARY_DIR}/generations-cli)
set(CLS_GEN_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-generations)
file(MAKE_DIRECTORY ${CLS_GEN_DIR})

# Two chains (seeds 1 and 2) of two generations, pi 0 and 0.5, two budgets: 10 points,
# corpora of 6400 sequences; a few seconds on a 2-core CPU. Temperature 2 makes the
# teacher's answers noisy enough that generation 1 is clearly worse.
set(CLS_GEN_BASE "\"task\": \"gcd\", \"mode\": \"curves\", \"base\": 10, \"bound\": 30, \"context\": 10, \"widths\": [16], \"depth\": 1, \"heads\": 2, \"batch\": 32, \"lr\": 3e-3, \"budgets_steps\": [60, 200], \"eval_pairs\": 512, \"evals\": 4, \"eval_batches\": 4")
file(WRITE ${CLS_GEN_DIR}/tiny.json
     "{\"name\": \"tinygen\", ${CLS_GEN_BASE}, \"seeds\": [1, 2], \"generations\": 2, \"real_fraction\": [0, 0.5], \"sample_temperature\": 2}\n")

# A spec of base's settings and settings, refused with exit code 2 and pattern: the test
# cli_generations_<prefix>bad_<name>.
function(cls_gen_bad_of prefix base name pattern settings)
  file(WRITE ${CLS_GEN_DIR}/bad_${prefix}${name}.json "{${base}, ${settings}}\n")
  add_test(NAME cli_generations_${prefix}bad_${name}
           COMMAND ${CLS_GEN_EXPECT} 2 "${pattern}" $<TARGET_FILE:clscale> sweep
                   ${CLS_GEN_DIR}/bad_${prefix}${name}.json --out ${CLS_GEN_TMP}/bad)
  set_tests_properties(cli_generations_${prefix}bad_${name} PROPERTIES ENVIRONMENT "${CLS_GEN_ENV}")
endfunction()
function(cls_gen_bad name pattern settings)
  cls_gen_bad_of("" "${CLS_GEN_BASE}" ${name} "${pattern}" "${settings}")
endfunction()
cls_gen_bad(pi_high "'real_fraction' is pi, the share of real data .* want numbers in \\[0, 1\\] \\(found 1.5\\)"
            "\"generations\": 2, \"real_fraction\": [0, 1.5]")
cls_gen_bad(synthetic_high "'synthetic_fraction' is 1 - pi, the share of the model's corpus .* \\(found 1.5\\)"
            "\"generations\": 2, \"synthetic_fraction\": 1.5")
cls_gen_bad(pi_both "give 'real_fraction' \\(pi, the share of real data .*\\) or 'synthetic_fraction' \\(1 - pi"
            "\"generations\": 2, \"real_fraction\": 0.2, \"synthetic_fraction\": 0.8")
cls_gen_bad(pi_alone "'real_fraction' is a setting of generations: give 'generations'" "\"real_fraction\": 0.2")
cls_gen_bad(pi_low "want numbers in \\[0, 1\\] \\(found -0.1\\)" "\"generations\": 2, \"real_fraction\": -0.1")
cls_gen_bad(temperature "'sample_temperature' wants a number in \\(0, 100\\]"
            "\"generations\": 2, \"sample_temperature\": 0")
cls_gen_bad(top_p_zero "'top_p' wants a number in \\(0, 1\\]" "\"generations\": 2, \"top_p\": 0")
cls_gen_bad(top_p_high "'top_p' wants a number in \\(0, 1\\]" "\"generations\": 2, \"top_p\": 1.2")
cls_gen_bad(top_k "'top_k' wants a whole number from 1" "\"generations\": 2, \"top_k\": 0")
cls_gen_bad(generations "'generations' wants a whole number from 1 to 100" "\"generations\": 0")
cls_gen_bad(pairs "'synthetic_pairs' 1000: the largest budget trains on 6400 examples"
            "\"generations\": 2, \"synthetic_pairs\": 1000")
cls_gen_bad(lone_setting "'top_p' is a setting of generations: give 'generations'" "\"top_p\": 0.9")
cls_gen_bad(pi_one_generation "with 'generations' 1 there are none" "\"generations\": 1, \"real_fraction\": 0.1")
cls_gen_bad(train_pairs "leave out train_pairs" "\"generations\": 2, \"train_pairs\": 500")
file(WRITE ${CLS_GEN_DIR}/bad_context.json
     "{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 9, \"widths\": [16], \"depth\": 1, \"heads\": 2, \"budgets_steps\": [5], \"generations\": 2}\n")
file(WRITE ${CLS_GEN_DIR}/bad_base.json
     "{\"task\": \"gcd\", \"mode\": \"curves\", \"base\": 1, \"widths\": [16], \"depth\": 1, \"heads\": 2, \"budgets_steps\": [5], \"generations\": 2}\n")
file(WRITE ${CLS_GEN_DIR}/bad_task.json
     "{\"task\": \"linreg\", \"mode\": \"curves\", \"widths\": [4], \"depth\": 1, \"budgets_steps\": [5], \"generations\": 2}\n")
file(WRITE ${CLS_GEN_DIR}/bad_flops.json
     "{\"task\": \"gcd\", \"mode\": \"isoflop\", \"bound\": 30, \"context\": 10, \"widths\": [16], \"depth\": 1, \"heads\": 2, \"budgets_flops\": [1e9], \"generations\": 2}\n")
foreach(c "context|writes whole sequences of 10 tokens .* raise context to 10" "base|'base' wants a whole number from 2"
        "task|the linreg task cannot train on a model's samples" "flops|'generations' needs mode \"curves\"")
  string(REPLACE "|" ";" parts "${c}")
  list(GET parts 0 name)
  list(GET parts 1 pattern)
  add_test(NAME cli_generations_bad_${name}
           COMMAND ${CLS_GEN_EXPECT} 2 "${pattern}" $<TARGET_FILE:clscale> sweep ${CLS_GEN_DIR}/bad_${name}.json
                   --out ${CLS_GEN_TMP}/bad)
  set_tests_properties(cli_generations_bad_${name} PROPERTIES ENVIRONMENT "${CLS_GEN_ENV}")
endforeach()

# Helpers: the final eval loss of a point; the corpora of two run directories equal.
file(WRITE ${CLS_GEN_DIR}/lib.sh [=[
loss() { sed -n 's/.*"final_eval_loss":[[:space:]]*\([^,]*\),*$/\1/p' "$1/points/$2.json"; }
same_corpora() {
  n=0
  for f in "$1"/corpora/*.bin; do
    cmp "$f" "$2/corpora/$(basename "$f")" || { echo "corpus $(basename "$f") differs"; return 1; }
    n=$((n + 1))
  done
  [ "$n" -eq "$(ls "$2"/corpora/*.bin | wc -l)" ] || { echo "the corpora differ in number"; return 1; }
  echo "same $n corpora in $1 and $2"
}
]=])

# End to end, then SIGKILL while the last corpus is being written, and the re-run. The
# arguments after the spec: the points, the shape of the ids ("w16_d1"), the chains' seeds,
# how much worse generation 1 must be (a factor), the kill threshold (sequences of a corpus
# written) and a field of the corpus's meta file.
file(WRITE ${CLS_GEN_DIR}/kill.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; sweeplib=$5; npoints=$6; shape=$7; seeds=$8; worse=$9; kill_at=${10}
meta=${11}; shift 11
. "$sweeplib"
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$expect" 0 "$npoints of $npoints points finished" "$clscale" sweep "$spec" --out "$dir/ref" "$@" || exit 1
# Generation 1 learns from a noisy teacher: worse on real data at the largest D.
for s in $seeds; do
  g0=$(loss "$dir/ref" n200_${shape}_s${s}_g0); g1=$(loss "$dir/ref" n200_${shape}_s${s}_g1_pi0)
  echo "seed $s: generation 0 loss $g0, generation 1 (pi 0) loss $g1"
  awk -v a="$g0" -v b="$g1" -v f="$worse" 'BEGIN { exit !(b > a * f) }' || { echo "generation 1 is not worse"; exit 1; }
done
for f in '"generation":	1' '"real_fraction":	0.5' "\"teacher\":	\"n200_${shape}_s1_g0\"" '"corpus_checksum":'; do
  grep -qF "$f" "$dir/ref/points/n60_${shape}_s1_g1_pi0.5.json" || { echo "the summary lacks $f"; exit 1; }
done
grep -qF '"real_fraction":	1' "$dir/ref/points/n60_${shape}_s1_g0.json" || exit 1
grep -qF "\"$meta\":" "$dir/ref/corpora/n200_${shape}_s1_g0.json" || { echo "the meta file lacks $meta"; exit 1; }
# The collapse fits and figures of it: two D per generation are too few for
# the laws (named), not for the cells and the recovered gap. The accuracy
# (fit.json's cells, the printed table, collapse-accuracy-d) and
# gcd-outcomes only for gcd: the text task measures no accuracy.
"$expect" 0 "model collapse along tokens D" "$clscale" fit "$dir/ref" > "$dir/fit.log" || { cat "$dir/fit.log"; exit 1; }
grep -qF '"collapse":' "$dir/ref/fit.json" || { echo "fit.json has no collapse section"; exit 1; }
grep -qF '"gap_closed":' "$dir/ref/fit.json" || { echo "fit.json has no recovered gap"; exit 1; }
"$expect" 0 "wrote .*collapse-real-fraction.png" "$clscale" plot "$dir/ref" -o "$dir/plots" || exit 1
kinds="collapse-loss-d collapse-generation collapse-real-fraction"
if [ "$meta" = teacher_accuracy ]; then
  kinds="$kinds collapse-accuracy-d gcd-outcomes"
  grep -qF '"accuracy":' "$dir/ref/fit.json" || { echo "fit.json has no accuracy"; exit 1; }
  grep -q "sd  *accuracy  *last step" "$dir/fit.log" || { echo "clscale fit printed no accuracy"; exit 1; }
else
  ! grep -qF '"accuracy":' "$dir/ref/fit.json" || { echo "a text sweep's fit.json has an accuracy"; exit 1; }
  [ ! -e "$dir/plots/collapse-accuracy-d.png" ] || { echo "a text sweep drew collapse-accuracy-d"; exit 1; }
fi
for k in $kinds; do
  [ -s "$dir/plots/$k.png" ] || { echo "no $k.png"; exit 1; }
done
[ ! -e "$dir/plots/loss-flops.png" ] || { echo "a sweep with generations drew loss-flops"; exit 1; }
# Killed (the test hook) once the last corpus has kill_at of its sequences written.
CLSCALE_TEST_KILL_CORPUS=$kill_at "$clscale" sweep "$spec" --out "$dir/run" --quiet "$@" > "$dir/killed.log" 2>&1
rc=$?
[ $rc -eq 137 ] || { echo "the sweep was not killed (exit $rc)"; cat "$dir/killed.log"; exit 1; }
ls "$dir"/run/corpora/*.bin.tmp.* > /dev/null 2>&1 || { echo "no half-written corpus"; ls -R "$dir/run"; exit 1; }
"$expect" 0 "$npoints of $npoints points finished" "$clscale" sweep "$spec" --out "$dir/run" "$@" || exit 1
same_results "$dir/ref" "$dir/run" || exit 1
same_corpora "$dir/ref" "$dir/run" || exit 1
no_leftovers "$dir/run" || exit 1
# A damaged corpus is named, not silently made again.
printf 'x' | dd of="$dir/run/corpora/n200_${shape}_s1_g0.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
rm "$dir/run/points/n60_${shape}_s1_g1_pi0.json"
"$expect" 1 "corpus .*n200_${shape}_s1_g0.bin is damaged \(its checksum does not match\)" \
  "$clscale" sweep "$spec" --out "$dir/run" "$@" || exit 1
]=])
# gcd: the second corpus of 6400 sequences killed at 3000.
add_test(NAME cli_generations_kill COMMAND sh ${CLS_GEN_DIR}/kill.sh $<TARGET_FILE:clscale> ${CLS_GEN_EXPECT}
                                           ${CLS_GEN_TMP}/kill ${CLS_GEN_DIR}/tiny.json
                                           ${PROJECT_BINARY_DIR}/sweep-cli/lib.sh 12 w16_d1 "1 2" 1.1 3000
                                           teacher_accuracy --matmul-backend own)

# Shards 0/2 and 1/2 at once into one folder: each takes whole chains, and the results equal the unsharded sweep's.
file(WRITE ${CLS_GEN_DIR}/shards.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; sweeplib=$5; shift 5
. "$sweeplib"
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }
"$clscale" sweep "$spec" --out "$dir/sharded" --shard 0/2 "$@" > "$dir/shard0.log" 2>&1 &
p0=$!
"$clscale" sweep "$spec" --out "$dir/sharded" --shard 1/2 "$@" > "$dir/shard1.log" 2>&1 &
p1=$!
wait $p0; r0=$?
wait $p1; r1=$?
cat "$dir/shard0.log" "$dir/shard1.log"
[ $r0 -eq 0 ] && [ $r1 -eq 0 ] || { echo "shard exit codes $r0 $r1"; exit 1; }
grep -q "s1_g0" "$dir/shard0.log" && ! grep -q "s2_g0" "$dir/shard0.log" || { echo "shard 0 did not take chain 0 whole"; exit 1; }
same_results "$dir/ref" "$dir/sharded" || exit 1
same_corpora "$dir/ref" "$dir/sharded" || exit 1
no_leftovers "$dir/sharded" || exit 1
]=])
add_test(NAME cli_generations_shards COMMAND sh ${CLS_GEN_DIR}/shards.sh $<TARGET_FILE:clscale> ${CLS_GEN_EXPECT}
                                             ${CLS_GEN_TMP}/shards ${CLS_GEN_DIR}/tiny.json
                                             ${PROJECT_BINARY_DIR}/sweep-cli/lib.sh --matmul-backend own)
set_tests_properties(cli_generations_kill cli_generations_shards PROPERTIES ENVIRONMENT "${CLS_GEN_ENV}")

# The preset plans: 2 seeds x 4 budgets x (generation 0 + 2 generations x 3 pi) = 56 points.
add_test(NAME cli_generations_preset_plans
         COMMAND ${CLS_GEN_EXPECT} 0 "collapse-gcd.*56 points" $<TARGET_FILE:clscale> sweep
                 ${PROJECT_SOURCE_DIR}/sweeps/collapse-gcd.json --dry-run --out ${CLS_GEN_TMP}/preset)
set_tests_properties(cli_generations_preset_plans PROPERTIES ENVIRONMENT "${CLS_GEN_ENV}")

# ---------------------------------------------------------------- text
# One chain of two generations, pi 0 and 0.5, two budgets: 6 points and a corpus of 3200
# windows of 33 bytes (prompts of 8 real bytes); a few seconds. Temperature 2 makes the
# teacher's continuations noisy: generation 1 is about 6 % worse on real text (3.29 against
# 3.10 for seeds 1 to 3), so 3 % is a safe margin.
set(CLS_GEN_TEXT "\"task\": \"text\", \"mode\": \"curves\", \"zipf_bytes\": 200000, \"context\": 32, \"widths\": [32], \"depth\": 1, \"heads\": 2, \"batch\": 16, \"lr\": 3e-3, \"budgets_steps\": [60, 200], \"evals\": 4, \"eval_batches\": 4")
file(WRITE ${CLS_GEN_DIR}/tiny_text.json
     "{\"name\": \"tinytext\", ${CLS_GEN_TEXT}, \"seeds\": [1], \"generations\": 2, \"real_fraction\": [0, 0.5], \"sample_temperature\": 2}\n")
function(cls_gen_text_bad name pattern settings)
  cls_gen_bad_of(text_ "${CLS_GEN_TEXT}" ${name} "${pattern}" "${settings}")
endfunction()
cls_gen_text_bad(prompt_long "prompt_bytes 33: a teacher continues a prompt within a window of context \\+ 1 = 33 bytes"
                 "\"generations\": 2, \"prompt_bytes\": 33")
cls_gen_text_bad(prompt_zero "'prompt_bytes' wants a whole number from 1" "\"generations\": 2, \"prompt_bytes\": 0")
cls_gen_text_bad(pi "want numbers in \\[0, 1\\] \\(found 2\\)" "\"generations\": 2, \"real_fraction\": [0, 2]")
cls_gen_text_bad(temperature "'sample_temperature' wants a number in \\(0, 100\\]"
                 "\"generations\": 2, \"sample_temperature\": -1")
cls_gen_text_bad(top_p "'top_p' wants a number in \\(0, 1\\]" "\"generations\": 2, \"top_p\": 0")
cls_gen_text_bad(top_k "'top_k' wants a whole number from 1" "\"generations\": 2, \"top_k\": 0")
cls_gen_text_bad(pairs "'synthetic_pairs' 1000: the largest budget trains on 3200 examples"
                 "\"generations\": 2, \"synthetic_pairs\": 1000")
cls_gen_bad(gcd_prompt "'prompt_bytes' is a setting of the text task, not of \"gcd\""
            "\"generations\": 2, \"prompt_bytes\": 4")

# The corpus of 3200 windows killed at 1000 (the hook sees it every 256).
add_test(NAME cli_generations_text_kill
         COMMAND sh ${CLS_GEN_DIR}/kill.sh $<TARGET_FILE:clscale> ${CLS_GEN_EXPECT} ${CLS_GEN_TMP}/text-kill
                 ${CLS_GEN_DIR}/tiny_text.json ${PROJECT_BINARY_DIR}/sweep-cli/lib.sh 6 w32_d1 1 1.03 1000
                 teacher_nll_generated --matmul-backend own)
set_tests_properties(cli_generations_text_kill PROPERTIES ENVIRONMENT "${CLS_GEN_ENV}")

# The preset plans: 4 budgets x (generation 0 + 2 generations x 2 pi) = 20 points.
add_test(NAME cli_generations_text_preset_plans
         COMMAND ${CLS_GEN_EXPECT} 0 "collapse-text.*20 points" $<TARGET_FILE:clscale> sweep
                 ${PROJECT_SOURCE_DIR}/sweeps/collapse-text.json --dry-run --out ${CLS_GEN_TMP}/preset-text)
set_tests_properties(cli_generations_text_preset_plans PROPERTIES ENVIRONMENT "${CLS_GEN_ENV}")
