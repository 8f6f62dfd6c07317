# Small per-target helpers, applied to our own targets only so that third-party
# headers never decide whether the build passes.

function(lug_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough)
  if(LUG_WARNINGS_AS_ERRORS)
    # -Wnull-dereference stays a warning: with optimisation, GCC 12 reports false positives
    # from inlined Boost.Asio and libstdc++ code (scheduler.ipp, shared_ptr_base.h), which
    # would break only the release build.
    target_compile_options(${target} PRIVATE -Werror -Wno-error=null-dereference)
  endif()
endfunction()

function(lug_enable_sanitizers target)
  if(LUG_SANITIZE OR LUG_FUZZ)
    target_compile_options(${target} PRIVATE
      -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # With clang 14 (Debian bookworm's), -fsanitize=function (part of `undefined`) emits
      # prologue data that the coroutine splitter moves into another section, and every
      # file with a coroutine fails to assemble ("Cannot represent a difference across
      # sections"). The check it drops (calls through mistyped function pointers) is one
      # no code here makes.
      target_compile_options(${target} PRIVATE -fno-sanitize=function)
    endif()
  endif()
  if(LUG_FUZZ)
    # Coverage instrumentation for libFuzzer, without its main(): only the fuzz targets
    # link the fuzzer itself (lug_add_fuzzer in fuzz/CMakeLists.txt).
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

function(lug_configure_target target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  lug_set_warnings(${target})
  lug_enable_sanitizers(${target})
endfunction()
