// Host emulation of the CUDA C kernels: compile a .cu file with the system C++ compiler, e.g.
//
//     // emulation.cpp
//     #include "host_emulation.h"
//     #include "lattice.cu"
//     FASTMF_EMULATE(fastmf_ising_checkerboard)
//
//     g++ -std=c++14 -O2 -shared -fPIC -ffp-contract=off emulation.cpp -o libemu.so
//
// The CUDA qualifiers become no-ops, threadIdx/blockIdx/blockDim/gridDim become host variables, and
// FASTMF_EMULATE(kernel) exports
//
//     extern "C" int fastmf_emu_<kernel>(unsigned grid, unsigned block, void** args)
//
// which runs the kernel for every (block, thread) in turn; args[i] points at the i-th kernel argument, as
// in cuLaunchKernel, so ctypes can call it. Sequential execution is faithful only for kernels without
// intra-block communication (no __syncthreads, shared memory or warp intrinsics), which is the case for
// the checkerboard kernels: the sites a launch updates are independent of one another.
#ifndef FASTMF_HOST_EMULATION_H
#define FASTMF_HOST_EMULATION_H

#include <cstddef>
#include <type_traits>
#include <utility>

static_assert(sizeof(unsigned int) == 4 && sizeof(unsigned long long) == 8,
              "the kernels assume 32-bit unsigned int and 64-bit unsigned long long");

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// __restrict__ is understood by g++, clang++ and MSVC (as an extension) already.

struct fastmf_emu_dim3 {
    unsigned int x, y, z;
};

// One emulated thread runs at a time on each host thread; thread_local keeps concurrent launches from
// different host threads apart.
static thread_local fastmf_emu_dim3 threadIdx = {0, 0, 0};
static thread_local fastmf_emu_dim3 blockIdx = {0, 0, 0};
static thread_local fastmf_emu_dim3 blockDim = {1, 1, 1};
static thread_local fastmf_emu_dim3 gridDim = {1, 1, 1};

static inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value)
{
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}

static inline unsigned int atomicAdd(unsigned int* address, unsigned int value)
{
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}

namespace fastmf_emu {

template <class... A, std::size_t... I>
inline void call(void (*kernel)(A...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<typename std::remove_reference<A>::type*>(args[I])...);
}

// Run a 1D launch <<<grid, block>>>: blocks, then threads within a block, in order.
template <class... A>
inline int launch(void (*kernel)(A...), unsigned int grid, unsigned int block, void** args)
{
    if (block == 0 || block > 1024) return 1;  // what a real launch would reject
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    for (unsigned int b = 0; b < grid; ++b) {
        blockIdx = {b, 0, 0};
        for (unsigned int t = 0; t < block; ++t) {
            threadIdx = {t, 0, 0};
            call(kernel, args, std::index_sequence_for<A...>{});
        }
    }
    return 0;
}

}  // namespace fastmf_emu

// Export an extern "C" launcher for one kernel (place after the kernel's definition).
#define FASTMF_EMULATE(kernel)                                                                  \
    extern "C" int fastmf_emu_##kernel(unsigned int grid, unsigned int block, void** args)      \
    {                                                                                           \
        return fastmf_emu::launch(&kernel, grid, block, args);                                  \
    }

#endif  // FASTMF_HOST_EMULATION_H
