# Command-line tests of `clscale sample` (generation itself is tested by
# test_gpt_infer, the sampler by test_sample): bad parameters exit 2 with a
# clear message; a tiny trained model samples reproducibly, the same with
# and without the cache; bad checkpoints are refused.
set(CLS_SAMPLE_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_SAMPLE_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
set(CLS_SAMPLE_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-sample)

function(cls_sample_cli name code pattern)
  add_test(NAME cli_sample_${name} COMMAND ${CLS_SAMPLE_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> sample
                                           ${ARGN})
  set_tests_properties(cli_sample_${name} PROPERTIES ENVIRONMENT "${CLS_SAMPLE_ENV}")
endfunction()

# Usage errors: exit 2, before any device work.
cls_sample_cli(help 0 "usage: clscale sample" --help)
cls_sample_cli(no_checkpoint 2 "give the CHECKPOINT")
cls_sample_cli(zero_temperature 2 "--temperature '0': wants a positive number \\(for the most likely token, use --greedy"
               x.ckpt --temperature 0)
cls_sample_cli(negative_temperature 2 "--temperature '-1': wants a positive number" x.ckpt --temperature -1)
cls_sample_cli(zero_top_p 2 "--top-p '0': wants a number in \\(0, 1\\]" x.ckpt --top-p 0)
cls_sample_cli(big_top_p 2 "--top-p '1.5': wants a number in \\(0, 1\\]" x.ckpt --top-p 1.5)
cls_sample_cli(zero_top_k 2 "--top-k '0': wants a whole number >= 1" x.ckpt --top-k 0)
cls_sample_cli(zero_length 2 "--length '0': wants a whole number of tokens >= 1" x.ckpt --length 0)
cls_sample_cli(zero_batch 2 "--batch '0': wants a whole number >= 1" x.ckpt --batch 0)
cls_sample_cli(greedy_and_temperature 2 "--greedy takes no --temperature" x.ckpt --greedy --temperature 0.5)
cls_sample_cli(missing_checkpoint 2 "cannot open checkpoint /no/such.ckpt" /no/such.ckpt)

# The scenarios need a trained model: a script written into the build tree
# trains one (a second) and samples from it.
set(CLS_SAMPLE_SCRIPTS ${PROJECT_BINARY_DIR}/sample-cli)
file(MAKE_DIRECTORY ${CLS_SAMPLE_SCRIPTS})
file(WRITE ${CLS_SAMPLE_SCRIPTS}/sample.sh [=[
set -eu
clscale=$1; expect=$2; dir=$3
rm -rf "$dir"
mkdir -p "$dir"
"$clscale" train --quiet --out "$dir/run" --id t --budget-steps 20 --width 32 --depth 1 --heads 2 --context 16 \
  --batch 8 --zipf-bytes 50000 --lr 3e-3
ck="$dir/run/checkpoints/t.ckpt"
# Reproducible: the same seed, the same text; another seed, another text.
"$expect" 0 "3 x 10 tokens" "$clscale" sample "$ck" --prompt ab --length 10 --batch 3 --seed 7 -o "$dir/a.txt"
"$clscale" sample "$ck" --prompt ab --length 10 --batch 3 --seed 7 --quiet -o "$dir/b.txt"
cmp "$dir/a.txt" "$dir/b.txt" || { echo "same seed, different text"; exit 1; }
"$clscale" sample "$ck" --prompt ab --length 10 --batch 3 --seed 8 --quiet -o "$dir/c.txt"
if cmp -s "$dir/a.txt" "$dir/c.txt"; then echo "another seed, the same text"; exit 1; fi
test "$(grep -c '^=== sample' "$dir/a.txt")" -eq 3
# Without the cache: the same text.
"$expect" 0 "without the cache" "$clscale" sample "$ck" --prompt ab --length 10 --batch 3 --seed 7 --no-cache \
  -o "$dir/d.txt"
cmp "$dir/a.txt" "$dir/d.txt" || { echo "the cache changed the text"; exit 1; }
# Greedy is top-k 1; token ids, a line per sequence; a stop token ends them.
"$clscale" sample "$ck" --greedy --tokens --batch 2 --quiet -o "$dir/g.txt"
"$clscale" sample "$ck" --top-k 1 --temperature 3 --tokens --batch 2 --quiet -o "$dir/k.txt"
cmp "$dir/g.txt" "$dir/k.txt" || { echo "greedy differs from top-k 1"; exit 1; }
test "$(wc -l < "$dir/g.txt")" -eq 2
test "$(head -1 "$dir/g.txt" | wc -w)" -eq 15
stop=$(head -1 "$dir/g.txt" | cut -d' ' -f3)
"$clscale" sample "$ck" --greedy --tokens --quiet --stop "$stop" -o "$dir/s.txt"
test "$(head -1 "$dir/s.txt" | wc -w)" -le 3
# The output is written under a temporary name and renamed: none is left.
if ls "$dir" | grep -q '\.tmp\.'; then echo "a temporary file was left"; exit 1; fi
"$expect" 1 "cannot write /proc/no/such/dir/x.txt" "$clscale" sample "$ck" -o /proc/no/such/dir/x.txt
# Bad requests on this model: exit 2.
"$expect" 2 "the prompt has 20 tokens, and the model's context is 16" "$clscale" sample "$ck" \
  --prompt 01234567890123456789
"$expect" 2 "--length 15 with a prompt of 3 tokens is beyond the model's context of 16: ask for at most 14" \
  "$clscale" sample "$ck" --prompt abc --length 15
"$expect" 2 "--stop 256 is not a token" "$clscale" sample "$ck" --stop 256
"$expect" 2 "give one of --prompt, --prompt-file and --prompt-tokens" "$clscale" sample "$ck" --prompt a \
  --prompt-tokens 1
"$expect" 2 "'x' is not a token id" "$clscale" sample "$ck" --prompt-tokens 1,x
# Bad checkpoints: exit 2.
head -c 3000 "$ck" > "$dir/cut.ckpt"
"$expect" 2 "is truncated" "$clscale" sample "$dir/cut.ckpt"
echo "not a checkpoint" > "$dir/text.ckpt"
"$expect" 2 "is not a clscale checkpoint" "$clscale" sample "$dir/text.ckpt"
cp "$ck" "$dir/flip.ckpt"
printf 'X' | dd of="$dir/flip.ckpt" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$expect" 2 "is corrupt \(checksum mismatch\)" "$clscale" sample "$dir/flip.ckpt"
"$clscale" train --quiet --task linreg --out "$dir/lin" --id l --budget-steps 3 --depth 1 --width 8
"$expect" 2 "holds the model 'linear' \(task linreg\), not a GPT" "$clscale" sample "$dir/lin/checkpoints/l.ckpt"
]=])
add_test(NAME cli_sample_scenarios COMMAND sh ${CLS_SAMPLE_SCRIPTS}/sample.sh $<TARGET_FILE:clscale>
                                           ${CLS_SAMPLE_EXPECT} ${CLS_SAMPLE_TMP}/scenarios)
set_tests_properties(cli_sample_scenarios PROPERTIES ENVIRONMENT "${CLS_SAMPLE_ENV}")
