# Per-target build settings. Sanitizer and warning flags are attached to each target through
# concur_target_options(), never through global variables, so a flag reaches every target that
# asks for it whatever the order of definition (libcoro's CMake loses flags that way).

add_library(concur_warnings INTERFACE)
target_compile_options(concur_warnings INTERFACE -Wall -Wextra -Werror -Wno-interference-size)

add_library(concur_sanitizers INTERFACE)
if(CONCUR_SANITIZE)
  list(JOIN CONCUR_SANITIZE "," _concur_san)
  target_compile_options(concur_sanitizers INTERFACE -fsanitize=${_concur_san} -fno-omit-frame-pointer -g)
  target_link_options(concur_sanitizers INTERFACE -fsanitize=${_concur_san})
  if("undefined" IN_LIST CONCUR_SANITIZE)
    target_compile_options(concur_sanitizers INTERFACE -fno-sanitize-recover=undefined)
  endif()
endif()

# concur_target_options(<target>): warnings-as-errors and the chosen sanitizers for our own code.
function(concur_target_options target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:concur_warnings> $<BUILD_INTERFACE:concur_sanitizers>)
endfunction()
