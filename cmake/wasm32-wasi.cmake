# CMake toolchain for WebAssembly guests (wasm32-wasi) with Debian's clang 16:
#   apt-get install clang-16 lld-16 llvm-16 wasi-libc libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 \
#                   libclang-rt-16-dev-wasm32
#   cmake -S guest -B build-guest -DCMAKE_TOOLCHAIN_FILE=cmake/wasm32-wasi.cmake
# Guests are reactors (no main; the host calls their exports) and link as `.wasm`.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)

find_program(TROUPE_WASM_CC NAMES clang-16 REQUIRED)
find_program(TROUPE_WASM_CXX NAMES clang++-16 REQUIRED)
# GNU ar cannot index wasm objects (wasm-ld then refuses the archive): use LLVM's.
find_program(TROUPE_WASM_AR NAMES llvm-ar-16 REQUIRED)
find_program(TROUPE_WASM_RANLIB NAMES llvm-ranlib-16 REQUIRED)
set(CMAKE_AR ${TROUPE_WASM_AR} CACHE FILEPATH "" FORCE)
set(CMAKE_RANLIB ${TROUPE_WASM_RANLIB} CACHE FILEPATH "" FORCE)
set(CMAKE_C_COMPILER ${TROUPE_WASM_CC})
set(CMAKE_CXX_COMPILER ${TROUPE_WASM_CXX})
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_CXX_COMPILER_TARGET wasm32-wasi)

# Debian puts wasi-libc's headers in /usr/include/wasm32-wasi (on clang's default path for
# this target) and libc++'s in /usr/include/wasm32-wasi/c++/v1 (not on it).
set(CMAKE_CXX_FLAGS_INIT "-isystem /usr/include/wasm32-wasi/c++/v1 -fno-exceptions")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mexec-model=reactor -Wl,--strip-debug")
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_EXECUTABLE_SUFFIX_C ".wasm")
set(CMAKE_EXECUTABLE_SUFFIX_CXX ".wasm")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
