# concur::mpi — MPIPoolExecutor on MPI (optional: -DCONCUR_WITH_MPI=ON; the release preset sets it).
# Found through CMake's FindMPI (Open MPI or MPICH). Included by the top-level CMakeLists after
# src/, tests/, bench/ and examples/.
find_package(MPI REQUIRED COMPONENTS CXX)

if(NOT "process" IN_LIST CONCUR_MODULES OR NOT "futures" IN_LIST CONCUR_MODULES)
  message(FATAL_ERROR "concur::mpi needs the futures and process modules (CONCUR_MODULES)")
endif()

add_subdirectory(${PROJECT_SOURCE_DIR}/src/mpi ${PROJECT_BINARY_DIR}/src/mpi)

# Launching MPI test programs: mpiexec through a small script that brings the loopback interface
# up when a sandbox left it down, with Open MPI's environment for single-node runs (MPICH ignores
# the OMPI_ variables).
set(CONCUR_MPI_RUN ${PROJECT_SOURCE_DIR}/tests/mpi/mpirun.sh)
set(CONCUR_MPI_ENV
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1
    OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_pml=ob1
    MPIEXEC=${MPIEXEC_EXECUTABLE})

# concur_add_mpi_test(<name> NP <n> COMMAND <target> [ARGS ...] [ENV ...] [TIMEOUT s] [LABELS ...]
#                     [OTHER <target> OTHER_NP <m>])
# OTHER launches one MPI job of two executables (MPMD: `mpiexec -n n cmd args : -n m other`), the
# other one taking ranks n..n+m-1 — for the handshake test with two different builds.
function(concur_add_mpi_test name)
  cmake_parse_arguments(T "" "NP;COMMAND;TIMEOUT;OTHER;OTHER_NP" "ARGS;ENV;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set(other)
  if(T_OTHER)
    set(other : -n ${T_OTHER_NP} $<TARGET_FILE:${T_OTHER}>)
  endif()
  add_test(NAME ${name} COMMAND ${CONCUR_MPI_RUN} ${T_NP} $<TARGET_FILE:${T_COMMAND}> ${T_ARGS} ${other})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${T_TIMEOUT} RESOURCE_LOCK mpi LABELS "mpi;${T_LABELS}"
    ENVIRONMENT "${CONCUR_MPI_ENV};${T_ENV}")
endfunction()

if(CONCUR_BUILD_TESTS AND EXISTS ${PROJECT_SOURCE_DIR}/tests/mpi/CMakeLists.txt)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/mpi ${PROJECT_BINARY_DIR}/tests/mpi)
endif()
if(CONCUR_BUILD_EXAMPLES AND EXISTS ${PROJECT_SOURCE_DIR}/examples/mpi/CMakeLists.txt)
  add_subdirectory(${PROJECT_SOURCE_DIR}/examples/mpi ${PROJECT_BINARY_DIR}/examples/mpi)
endif()
if(CONCUR_BUILD_BENCH AND EXISTS ${PROJECT_SOURCE_DIR}/bench/mpi/CMakeLists.txt)
  add_subdirectory(${PROJECT_SOURCE_DIR}/bench/mpi ${PROJECT_BINARY_DIR}/bench/mpi)
endif()

# The "every public header compiles alone" check (tests/CMakeLists.txt) includes concur/mpi/*.hpp
# when CONCUR_WITH_MPI is on; those need mpi.h.
if(TARGET concur_headers_self_contained)
  target_link_libraries(concur_headers_self_contained PRIVATE MPI::MPI_CXX)
endif()
