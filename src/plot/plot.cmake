# The plotter's text is drawn with Hershey stroke fonts (public domain, Debian
# package hershey-fonts-data). The glyph files are read at build time and
# embedded as byte arrays, so the clscale binary needs no font files at run time.
# Included by the top-level CMakeLists.txt; the plot layer compiles CLS_FONT_C.
set(CLS_HERSHEY_DIR "/usr/share/hershey-fonts" CACHE PATH "Directory holding the Hershey .jhf font files")
set(CLS_HERSHEY_FILES ${CLS_HERSHEY_DIR}/futural.jhf ${CLS_HERSHEY_DIR}/greek.jhf)
foreach(f ${CLS_HERSHEY_FILES})
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "${f} not found: install the Debian package hershey-fonts-data (or set CLS_HERSHEY_DIR)")
  endif()
endforeach()

set(CLS_FONT_C ${PROJECT_BINARY_DIR}/generated/cls_plot_font_data.c)
add_custom_command(
  OUTPUT ${CLS_FONT_C}
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${CLS_FONT_C} "-DINPUTS=${CLS_HERSHEY_FILES}" -P
          ${PROJECT_SOURCE_DIR}/src/plot/embed_font.cmake
  DEPENDS ${CLS_HERSHEY_FILES} ${PROJECT_SOURCE_DIR}/src/plot/embed_font.cmake
  COMMENT "Embedding Hershey stroke fonts for the plotter"
  VERBATIM)

