# cmake/layers.cmake — one static library per layer of src/, and the rule
# that a layer sees only the headers of the layers below it.
#
# cls_layer(NAME [USES lower...] [PUBLIC_HEADERS h...] [LIBS external...]
#           [SOURCES extra.c...])
#   builds src/NAME/*.c into the static library cls_NAME, linked PUBLIC to
#   cls_<lower> for each layer it uses (so it sees them and, through them,
#   everything they use) and to the external libraries it calls.
#   PUBLIC_HEADERS: the headers of include/clscale/ this layer implements.
#
# How "sees" is enforced: a layer's headers are included as "NAME/x.h". The
# folder src/ is never on any include path; instead each layer exports the
# folder ${CLS_LAYER_INCLUDE}/NAME, which holds NAME/ with a link to each of
# its headers, except those named *_internal.h (private to the layer, which
# includes them by relative name from its own folder). A layer's include path
# is then its own export plus those of the layers it links, so including a
# header of a layer above, or of a layer not linked, or another layer's
# private header, is a compile error ("No such file"), not a review comment.
# The public headers (include/clscale/, installed) are owned the same way:
# each is exported, as "clscale/x.h", by the layer that implements it, so the
# device layer cannot include clscale/ops.h either. include/ itself is on the
# path of programs outside the library only.
set(CLS_LAYER_INCLUDE ${PROJECT_BINARY_DIR}/layers)

function(cls_layer name)
  cmake_parse_arguments(L "" "" "USES;PUBLIC_HEADERS;LIBS;SOURCES" ${ARGN})
  set(dir ${PROJECT_SOURCE_DIR}/src/${name})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.c)
  file(GLOB headers CONFIGURE_DEPENDS ${dir}/*.h)

  # The export folder is made anew at each configure, so a removed or
  # renamed header disappears from it.
  set(export ${CLS_LAYER_INCLUDE}/${name})
  file(REMOVE_RECURSE ${export})
  file(MAKE_DIRECTORY ${export}/${name} ${export}/clscale)
  foreach(h ${L_PUBLIC_HEADERS})
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/include/clscale/${h})
      message(FATAL_ERROR "layer ${name}: no public header include/clscale/${h}")
    endif()
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/include/clscale/${h} ${export}/clscale/${h} SYMBOLIC)
  endforeach()
  foreach(h ${headers})
    get_filename_component(base ${h} NAME)
    if(NOT base MATCHES "(^|_)internal\\.h$")
      file(CREATE_LINK ${h} ${export}/${name}/${base} SYMBOLIC)
    endif()
  endforeach()

  add_library(cls_${name} STATIC ${sources} ${L_SOURCES})
  target_include_directories(cls_${name} PUBLIC ${export})
  foreach(lower ${L_USES})
    if(NOT TARGET cls_${lower})
      message(FATAL_ERROR "layer ${name} uses ${lower}, which is not declared below it")
    endif()
    target_link_libraries(cls_${name} PUBLIC cls_${lower})
  endforeach()
  if(L_LIBS)
    target_link_libraries(cls_${name} PUBLIC ${L_LIBS})
  endif()
  set_property(GLOBAL APPEND PROPERTY CLS_LAYERS cls_${name})
endfunction()
