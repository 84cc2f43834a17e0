# The slurm test (label slurm): a real one-node Slurm, started without
# systemd in a temporary folder (tests/slurm/cluster.sh), runs a tiny sweep
# submitted with `clscale sweep --slurm` (tests/slurm/sweep.sh). Slurm is
# installed with apt-get when missing and this user may (root, or sudo
# without a password); otherwise the test is skipped with the reason.
# Uses lib.sh of sweep.cmake (included before this file).
file(WRITE ${CLS_SWEEP_DIR}/slurm4.ini [=[
# four points (two sizes x two budgets), checkpointing every 10 steps
name = slurm4
task = spectra
mode = isoflop
widths = 8, 16
depth = 1
heads = 2
budgets_flops = 1e9, 3e9
batch = 4
pixels = 32
n_train = 64
n_test = 16
n_pixels = 400
param = mup
base_width = 16
lr = 0.01
evals = 8
eval_batches = 2
checkpoint_steps = 10
]=])
add_test(NAME slurm_sweep COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/slurm/sweep.sh $<TARGET_FILE:clscale>
                                 ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh ${CLS_SWEEP_DIR}/slurm4.ini
                                 ${CLS_SWEEP_DIR}/lib.sh --matmul-backend own)
set_tests_properties(slurm_sweep PROPERTIES LABELS slurm SKIP_RETURN_CODE 77 TIMEOUT 300
                                            ENVIRONMENT "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
