# The layer graph (docs/design.md) is enforced by the build: these tests
# compile tests/layers/probe.c as a file of one layer including one header,
# and check that what the layer may use compiles and what it may not use
# fails with "No such file" (cmake/layers.cmake: a layer's include path holds
# only its own headers and those of the layers it links).
#
# cls_layer_probe(NAME LAYER HEADER ALLOWED) — ALLOWED 1: must build; 0: must
# fail because the header is not visible.
function(cls_layer_probe name layer header allowed)
  set(target cls_probe_${name})
  add_library(${target} OBJECT EXCLUDE_FROM_ALL ${CMAKE_CURRENT_SOURCE_DIR}/layers/probe.c)
  target_compile_definitions(${target} PRIVATE PROBE_HEADER=${header})
  target_link_libraries(${target} PRIVATE cls_${layer})
  add_test(NAME layers_${name} COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target ${target})
  if(allowed)
    set_tests_properties(layers_${name} PROPERTIES LABELS layers RESOURCE_LOCK build_tree)
  else()
    string(REPLACE "." "\\." pattern "${header}")
    set_tests_properties(layers_${name} PROPERTIES LABELS layers RESOURCE_LOCK build_tree
                                                   PASS_REGULAR_EXPRESSION "${pattern}: No such file")
  endif()
endfunction()

# What each layer may see (these must build) ...
cls_layer_probe(fit_sees_rundir fit rundir/rundir.h 1)
cls_layer_probe(plot_sees_fit plot fit/fit.h 1)
cls_layer_probe(ops_sees_device ops device/layer.h 1)
cls_layer_probe(train_sees_data train data/spectra.h 1)
# ... and the arrows it may not draw (these must fail to compile).
cls_layer_probe(device_not_ops device clscale/ops.h 0)
cls_layer_probe(device_not_ops_layer device ops/matmul.h 0)
cls_layer_probe(fit_not_plot fit plot/plot.h 0)
cls_layer_probe(fit_not_device fit clscale/device.h 0)
cls_layer_probe(plot_not_device plot device/layer.h 0)
cls_layer_probe(data_not_nn data nn/gpt.h 0)
cls_layer_probe(nn_not_train nn train/task.h 0)
cls_layer_probe(rundir_not_train rundir train/loop.h 0)
cls_layer_probe(core_not_device core clscale/device.h 0)
# A private header (*_internal.h) is not exported even to the layers above.
cls_layer_probe(train_not_data_private train data/spectra_internal.h 0)
