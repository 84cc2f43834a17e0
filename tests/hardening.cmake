# Command-line tests of issue 14's input checks: what a hostile or careless
# user gives every command (names that would be paths, wrong types in the
# run directory, malformed INI, CSV and JSON) is refused with a message that
# says what to do, or read the same way by every command that reads it.
set(CLS_HARD_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_HARD_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
set(CLS_HARD_DIR ${PROJECT_BINARY_DIR}/hardening-cli)
file(MAKE_DIRECTORY ${CLS_HARD_DIR})

function(cls_hard_cli name code pattern)
  add_test(NAME cli_hard_${name} COMMAND ${CLS_HARD_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> ${ARGN})
  set_tests_properties(cli_hard_${name} PROPERTIES ENVIRONMENT "${CLS_HARD_ENV}" WORKING_DIRECTORY ${CLS_HARD_DIR})
endfunction()

# A sweep's name becomes runs/NAME: one folder name, never a path.
file(WRITE ${CLS_HARD_DIR}/escape.json [=[
{"name": "../../x", "task": "spectra", "mode": "isoflop", "widths": [8], "depth": 1, "heads": 2,
 "budgets_flops": [2e8], "batch": 4, "pixels": 32, "n_train": 64, "n_test": 16, "n_pixels": 400}
]=])
cls_hard_cli(name_escape 2 "'name' '\\.\\./\\.\\./x' \\(7 characters\\): use 1 to 120 letters" sweep escape.json --dry-run)
file(WRITE ${CLS_HARD_DIR}/slash.ini "name = a/b\ntask = spectra\nmode = isoflop\nwidths = 8\ndepth = 1\nheads = 2\nbudgets_flops = 2e8\n")
cls_hard_cli(name_slash 2 "'name' 'a/b'" sweep slash.ini --dry-run)
# A megabyte name is refused, not cut to a shorter one.
add_test(NAME cli_hard_name_huge
         COMMAND sh -c "printf '{\"name\": \"%s\", \"task\": \"spectra\", \"mode\": \"isoflop\", \"widths\": [8], \"depth\": 1, \"heads\": 2, \"budgets_flops\": [2e8]}' \"$(yes a | head -c 2000000 | tr -d '[:space:]')\" > huge.json && ${CLS_HARD_EXPECT} 2 \"'name' 'a{40}\\\\.\\\\.\\\\.' \\\\(1000000 characters\\\\)\" $<TARGET_FILE:clscale> sweep huge.json --dry-run")
set_tests_properties(cli_hard_name_huge PROPERTIES ENVIRONMENT "${CLS_HARD_ENV}" WORKING_DIRECTORY ${CLS_HARD_DIR})
# A data path is never cut to a shorter one (that would be another file).
add_test(NAME cli_hard_data_path_huge
         COMMAND sh -c "printf '{\"name\": \"d\", \"task\": \"text\", \"mode\": \"isoflop\", \"widths\": [32], \"depth\": 1, \"heads\": 2, \"context\": 16, \"budgets_flops\": [1e9], \"data\": \"%s\"}' \"$(yes a | head -c 4000 | tr -d '[:space:]')\" > data.json && ${CLS_HARD_EXPECT} 2 \"'data' is a path of 2000 characters\" $<TARGET_FILE:clscale> sweep data.json --dry-run")
set_tests_properties(cli_hard_data_path_huge PROPERTIES ENVIRONMENT "${CLS_HARD_ENV}" WORKING_DIRECTORY ${CLS_HARD_DIR})
# A task text value joins the point ids: the same characters only.
file(WRITE ${CLS_HARD_DIR}/source.json [=[
{"name": "src", "task": "zipf", "vocab": 2000, "beta": 1.5, "budgets_tokens": [2000], "source": "../../etc"}
]=])
cls_hard_cli(text_value_escape 2 "'source' wants a name of 1 to 31 letters, digits" sweep source.json --dry-run)
cls_hard_cli(train_id_escape 2 "--id '\\.\\./x'.*use 1 to 120 letters" train --out run --budget-steps 1 --id ../x)

# One reader of the run directory: fit and plot refuse the same wrong
# summaries with the same message (a status of the wrong type was counted
# as ok by fit; a negative loss that fit refused, plot dropped silently).
set(CLS_HARD_STATUS ${CLS_HARD_DIR}/status7)
file(WRITE ${CLS_HARD_STATUS}/points/a.json
     "{\"status\": 7, \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, \"final_eval_loss\": 3}\n")
foreach(cmd fit plot)
  cls_hard_cli(${cmd}_status_type 1 "points/a.json: \"status\" is a number; it must be a string" ${cmd} ${CLS_HARD_STATUS})
  cls_hard_cli(${cmd}_negative_loss 1 "points/a.json: \"final_eval_loss\" is -0.5; it must be a finite number >= 0"
               ${cmd} ${CMAKE_CURRENT_SOURCE_DIR}/data/fit/neg_loss)
endforeach()

# CSV: a column named twice (or two names of one quantity) is refused; a
# UTF-8 byte order mark before the header is skipped; positions are lines
# of the file (blank lines count).
file(WRITE ${CLS_HARD_DIR}/dup.csv "N,N,D,loss\n1e7,1e7,2e8,3.1\n")
cls_hard_cli(csv_duplicate_column 1 "dup.csv line 1: the column 'N' is named twice \\(columns 1 and 2\\)" fit --csv dup.csv)
file(WRITE ${CLS_HARD_DIR}/alias.csv "N,n_params,D,loss\n1e7,1e7,2e8,3.1\n")
cls_hard_cli(csv_alias_twice 1 "the columns 'N' and 'n_params' both give N" fit --csv alias.csv)
cls_hard_cli(csv_bom 1 "parametric: needs at least 5 runs" fit --csv ${CMAKE_CURRENT_SOURCE_DIR}/data/fit/bom.csv)
file(WRITE ${CLS_HARD_DIR}/blank.csv "N,D,loss\n\n1e7,2e8,3.1\n\n2e7,1e8,-1\n")
cls_hard_cli(csv_line_numbers 1 "blank.csv line 5: loss = '-1'" fit --csv blank.csv)

# Spec files: INI reads numbers as JSON does (no 0x10, inf, nan); a quote
# that is not closed is an error, not part of the value; JSON's "\uZZZZ" is
# invalid JSON, not an empty string.
set(CLS_HARD_INI "task = spectra\nmode = isoflop\nwidths = 8\ndepth = 1\nheads = 2\nbudgets_flops = 2e8\n")
file(WRITE ${CLS_HARD_DIR}/hex.ini "${CLS_HARD_INI}batch = 0x10\n")
cls_hard_cli(ini_hex 2 "'batch' wants a whole number" sweep hex.ini --dry-run)
file(WRITE ${CLS_HARD_DIR}/quote.ini "${CLS_HARD_INI}name = \"tiny\n")
cls_hard_cli(ini_unclosed_quote 2 "quote.ini:7: 'name' opens a quote it does not close" sweep quote.ini --dry-run)
file(WRITE ${CLS_HARD_DIR}/uescape.json "{\"name\": \"a\",\n \"task\": \"\\uZZZZ\"}\n")
cls_hard_cli(json_bad_u_escape 2 "uescape.json:2:11: not valid JSON: \".uZZZZ\" is not an escape" sweep uescape.json --dry-run)
file(WRITE ${CLS_HARD_DIR}/points_u/points/a.json "{\"status\": \"\\uZZZZ\", \"n_params\": 1}\n")
cls_hard_cli(summary_bad_u_escape 1 "a.json is not valid JSON \\(a .u escape at byte 12" fit points_u)

# A summary's unknown keys are kept as "name=value" lines: a key or value
# with a line break would read back as other settings (found by fuzz_summary).
file(WRITE ${CLS_HARD_DIR}/points_nl/points/a.json
     "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, \"final_eval_loss\": 3, \"x\\nwidth\": 5}\n")
cls_hard_cli(summary_key_line_break 1 "a.json: the setting \"x.nwidth\" has a line break or '=' in its name" fit points_nl)
