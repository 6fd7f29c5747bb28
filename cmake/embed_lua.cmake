# embed_lua.cmake -- turn the coordinator's Lua scripts into a C header.
# cmake -DDIR=<dir with *.lua> -DOUT=<header> -P embed_lua.cmake
# Every <name>.lua but lib.lua becomes `static const char mp__lua_<name>[]`,
# lib.lua (the prelude) followed by the script, NUL-terminated.
file(GLOB scripts ${DIR}/*.lua)
list(SORT scripts)
file(READ ${DIR}/lib.lua prelude HEX)
set(text "/* Generated from the .lua files of ${DIR} by cmake/embed_lua.cmake: do not edit. */\n")
foreach(f ${scripts})
  get_filename_component(name ${f} NAME_WE)
  if(name STREQUAL "lib")
    continue()
  endif()
  file(READ ${f} body HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${prelude}${body}")
  string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
  string(APPEND text "static const char mp__lua_${name}[] = {\n${bytes}0x00};\n")
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
