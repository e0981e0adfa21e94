// Checkerboard updates of 2D lattice models in CUDA C, step for step the logic of kernels/lattice_logic.py.
//
// One thread per (replica, group): a group is four consecutive sites k = 4g .. 4g+3 of one colour
// (k = (row * M + col) / 2 within the colour sublattice), and one Philox call per draw serves the group:
// word w of Philox((g, replica, sweep, 2 * draw + colour), (seed, stream)) belongs to site 4g + w.
// Moves are accepted when the uint32 draw u < T for precomputed uint64 thresholds T (2**32: always), so the
// trajectories equal the CPU and Numba-CUDA kernels bit for bit. Accepted moves are added to *accepted.
//
// Layout: spins[replica][row][col], C-contiguous, L and M even (checked by the Python wrappers).
// Compiled by NVRTC through CuPy (RawModule; kernels/lattice_cupy.py), by nvcc --ptx in the tests, and by the
// host C++ compiler together with host_emulation.h (the emulated launcher runs blocks and threads as loops).
#include "philox.cuh"

__device__ __forceinline__ int fastmf_up(int i, int n) { return i == 0 ? n - 1 : i - 1; }
__device__ __forceinline__ int fastmf_down(int i, int n) { return i == n - 1 ? 0 : i + 1; }

__device__ __forceinline__ fastmf_u32 fastmf_select_word(const fastmf_u32 x[4], int w)
{
    // Branches instead of x[w] keep the four words in registers on the GPU.
    return w == 0 ? x[0] : (w == 1 ? x[1] : (w == 2 ? x[2] : x[3]));
}

// Known-answer helper: out[4 i .. 4 i + 3] = Philox4x32-10(counters[4 i ..], keys[2 i ..]).
extern "C" __global__ void fastmf_philox4x32_kernel(const fastmf_u32* __restrict__ counters,
                                                    const fastmf_u32* __restrict__ keys,
                                                    fastmf_u32* __restrict__ out, long long n)
{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    fastmf_u32 x[4];
    fastmf_philox4x32(counters[4 * i], counters[4 * i + 1], counters[4 * i + 2], counters[4 * i + 3],
                      keys[2 * i], keys[2 * i + 1], x);
    for (int w = 0; w < 4; ++w) out[4 * i + w] = x[w];
}

// Ising model, Metropolis or heat-bath: both are a 10-entry threshold table indexed by
// 5 * (s + 1) / 2 + (S + 4) / 2, S the sum of the four neighbours (lattice_logic.ising_flip_table).
extern "C" __global__ void fastmf_ising_checkerboard(signed char* __restrict__ spins,
                                                     const fastmf_u64* __restrict__ table,
                                                     int n_rep, int L, int M,
                                                     fastmf_u32 seed, fastmf_u32 stream, fastmf_u32 sweep,
                                                     int colour, fastmf_u64* accepted)
{
    const long long n_half = (long long)L * M / 2;
    const long long n_groups = (n_half + 3) / 4;
    const long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (tid >= (long long)n_rep * n_groups) return;
    const long long r = tid / n_groups;
    const long long g = tid - r * n_groups;
    const int half = M / 2;
    int row = (int)((4 * g) / half);  // first site of the group (lattice_logic.group_site)
    int j = (int)((4 * g) % half);
    fastmf_u32 x[4];
    fastmf_philox4x32((fastmf_u32)g, (fastmf_u32)r, sweep, (fastmf_u32)colour, seed, stream, x);
    signed char* lat = spins + r * L * M;
    unsigned int acc = 0;
    for (int w = 0; w < 4; ++w) {
        if (4 * g + w >= n_half) break;
        const int col = 2 * j + ((row + colour) & 1);
        const signed char s = lat[(long long)row * M + col];
        const int nsum = lat[(long long)fastmf_up(row, L) * M + col] + lat[(long long)fastmf_down(row, L) * M + col]
                         + lat[(long long)row * M + fastmf_up(col, M)] + lat[(long long)row * M + fastmf_down(col, M)];
        const int index = 5 * ((s + 1) >> 1) + ((nsum + 4) >> 1);
        if ((fastmf_u64)fastmf_select_word(x, w) < table[index]) {
            lat[(long long)row * M + col] = (signed char)(-s);
            ++acc;
        }
        if (++j == half) {
            j = 0;
            ++row;
        }
    }
    if (acc) atomicAdd(accepted, (fastmf_u64)acc);
}

__device__ __forceinline__ int fastmf_potts_count(const unsigned char* lat, int row, int col, int L, int M, int state)
{
    return (lat[(long long)fastmf_up(row, L) * M + col] == state) + (lat[(long long)fastmf_down(row, L) * M + col] == state)
           + (lat[(long long)row * M + fastmf_up(col, M)] == state) + (lat[(long long)row * M + fastmf_down(col, M)] == state);
}

// q-state Potts model. Metropolis (heatbath == 0): propose one of the q - 1 other states with draw 0
// (multiply-shift), accept with draw 1 against the 27-entry table indexed by
// 3 * (n_old - n_new + 4) + (d_old - d_new + 1). Heat-bath: draw 0 picks the new state from the conditional
// distribution with Boltzmann factors weights[2 n + d] (double arithmetic in the same order as the CPU:
// compile without FMA contraction, e.g. --fmad=false, to keep it bit-identical).
extern "C" __global__ void fastmf_potts_checkerboard(unsigned char* __restrict__ states,
                                                     const fastmf_u64* __restrict__ table,
                                                     const double* __restrict__ weights,
                                                     int n_rep, int L, int M, int q, int heatbath,
                                                     fastmf_u32 seed, fastmf_u32 stream, fastmf_u32 sweep,
                                                     int colour, fastmf_u64* accepted)
{
    const long long n_half = (long long)L * M / 2;
    const long long n_groups = (n_half + 3) / 4;
    const long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (tid >= (long long)n_rep * n_groups) return;
    const long long r = tid / n_groups;
    const long long g = tid - r * n_groups;
    const int half = M / 2;
    int row = (int)((4 * g) / half);
    int j = (int)((4 * g) % half);
    fastmf_u32 x[4], y[4];
    fastmf_philox4x32((fastmf_u32)g, (fastmf_u32)r, sweep, (fastmf_u32)colour, seed, stream, x);      // draw 0
    fastmf_philox4x32((fastmf_u32)g, (fastmf_u32)r, sweep, 2u + (fastmf_u32)colour, seed, stream, y);  // draw 1
    unsigned char* lat = states + r * L * M;
    unsigned int acc = 0;
    for (int w = 0; w < 4; ++w) {
        if (4 * g + w >= n_half) break;
        const int col = 2 * j + ((row + colour) & 1);
        const long long site = (long long)row * M + col;
        const int old = lat[site];
        const fastmf_u32 u0 = fastmf_select_word(x, w);
        if (heatbath) {
            double total = 0.0;
            for (int state = 0; state < q; ++state)
                total += weights[2 * fastmf_potts_count(lat, row, col, L, M, state) + (state == 0)];
            const double target = ((double)u0 * (1.0 / 4294967296.0)) * total;
            double cum = 0.0;
            int chosen = q - 1;
            for (int state = 0; state < q; ++state) {
                cum += weights[2 * fastmf_potts_count(lat, row, col, L, M, state) + (state == 0)];
                if (target < cum) {
                    chosen = state;
                    break;
                }
            }
            lat[site] = (unsigned char)chosen;
            acc += (chosen != old);
        } else {
            const int proposed = (old + 1 + (int)(((fastmf_u64)u0 * (fastmf_u64)(q - 1)) >> 32)) % q;
            const int n_old = fastmf_potts_count(lat, row, col, L, M, old);
            const int n_new = fastmf_potts_count(lat, row, col, L, M, proposed);
            const int index = 3 * (n_old - n_new + 4) + ((old == 0) - (proposed == 0) + 1);
            if ((fastmf_u64)fastmf_select_word(y, w) < table[index]) {
                lat[site] = (unsigned char)proposed;
                ++acc;
            }
        }
        if (++j == half) {
            j = 0;
            ++row;
        }
    }
    if (acc) atomicAdd(accepted, (fastmf_u64)acc);
}
