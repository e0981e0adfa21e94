"""fastmf.kernels: array-in/array-out Numba kernels (CPU and CUDA) and composable building blocks.

This package imports nothing else from fastmf, so other simulators can use it alone.

Layout: one module per model family and backend, ``<family>_<backend>.py``, with the per-site logic that
the backends share in ``<family>_logic.py`` (compiled by each backend with its own decorator):

* ``lattice``: ``lattice_logic``, ``lattice_cpu``, ``lattice_cuda`` (Numba-CUDA), ``lattice_cupy`` (the
  CUDA C kernels of ``cuda/*.cu`` through CuPy, plus their host emulation for tests); the GPU modules export
  the checkerboard sweeps of ``lattice_cpu`` under the same names and signatures (plus ``block_size``; the
  per-bond model has no CUDA C kernel);
* ``meanfield`` (low rank, mean-field Potts, spin glasses on graphs): ``meanfield_logic``, ``meanfield_cpu``
  (with ``lowrank_packed_cpu``), ``meanfield_cuda``;
* ``maier_saupe``: ``maier_saupe_logic``, ``maier_saupe_cpu``, ``maier_saupe_cuda``;
* ``vae`` (decoder likelihoods): ``vae_logic``, ``vae_cpu``, ``vae_cuda``;
* CPU only: ``multispin_cpu``, ``wolff_cpu``, ``tempering_cpu``, ``enumerate_cpu`` and ``lattice_enum_cpu``
  (exact enumeration), ``info_cpu`` (information measures), ``latent_cpu`` (latent samplers), ``kpairwise_cpu``
  (heat-bath sweeps of the K-pairwise maximum-entropy model and its annealing path);
* shared: ``philox`` (random numbers, CPU and CUDA) and ``validation``
  (:func:`~fastmf.kernels.validation.check_real`, :func:`~fastmf.kernels.validation.check_int`, used by the
  whole of fastmf).

Private modules, imported by their siblings only: ``_checks`` (the argument checks that several families
share, CPU work splitting and GPU launch sizes; family-specific checks are in the ``*_logic`` modules),
``_cuda_launch`` (Numba-CUDA helpers and the block reduction), ``_cuda_c`` (CUDA C sources, host-emulation
build, ``nvcc``), ``_fastmath`` and ``_opaque`` (Numba intrinsics). The ``*_cuda`` modules import
``numba.cuda`` and ``lattice_cupy`` imports CuPy when called: import them on demand.

Array-in/array-out kernels (CPU; spins updated in place, the number of accepted moves returned):

* :func:`checkerboard_sweep` -- Ising Metropolis / heat-bath, uniform J and h;
* :func:`quenched_checkerboard_sweep` -- Ising with per-bond couplings (spin glasses);
* :func:`potts_checkerboard_sweep` -- q-state Potts;
* :func:`sequential_sweep` -- raster-order sweeps for any lattice size;
* :func:`multispin_sweep` -- 64 replicas per uint64 word, independent randomness per spin;
* :func:`wolff_step` -- Wolff cluster flips (Ising, h = 0);
* :func:`lowrank_sweep`, :func:`potts_mf_sweep`, :func:`glass_sweep` -- fully connected Hopfield / Curie-Weiss
  (overlaps maintained: O(P) per update), mean-field Potts (counts maintained) and spin glasses on a graph
  (local fields maintained), sequential sweeps, many chains per call;
* :func:`ms_rotation_sweep`, :func:`ms_axes_sweep` -- Maier-Saupe rotation moves / discrete axes;
* ``tempering_cpu`` -- parallel tempering over these kernels.

Building blocks callable from a user's own ``@njit`` code: :func:`philox4x32`, :func:`philox_word`,
:func:`uniform_from_u32`, :func:`uniform_open_from_u32`, :func:`bounded_from_u32` (random numbers),
:func:`neighbour_sum` (local field), :func:`ising_site` (threshold acceptance of one site),
:func:`wolff_cluster`. Numba-CUDA device versions: :func:`philox.cuda_device_functions` and the
``*_group`` / ``*_site`` functions of the ``*_cuda`` modules. CUDA C sources: ``cuda/*.cu``, ``cuda/*.cuh``.
"""
from .lattice_cpu import (checkerboard_sweep, ising_flip_table, ising_site, neighbour_sum,
                          potts_checkerboard_sweep, potts_heatbath_weights, potts_metropolis_table,
                          quenched_checkerboard_sweep, sequential_sweep)
from .maier_saupe_cpu import ms_axes_sweep, ms_rotation_sweep, ms_tensor
from .meanfield_cpu import (compute_counts, compute_local_fields, compute_overlaps, glass_sweep, lowrank_sweep,
                            potts_mf_sweep)
from .multispin_cpu import multispin_sweep, pack_replicas, unpack_replicas
from .philox import (bounded_from_u32, check_seed, philox4x32, philox4x32_array, philox_word,
                     uniform_from_u32, uniform_open_from_u32)
from .wolff_cpu import wolff_cluster, wolff_step

__all__ = [
    "checkerboard_sweep", "quenched_checkerboard_sweep", "potts_checkerboard_sweep", "sequential_sweep",
    "multispin_sweep", "pack_replicas", "unpack_replicas", "wolff_step", "wolff_cluster",
    "ising_flip_table", "potts_metropolis_table", "potts_heatbath_weights", "ising_site", "neighbour_sum",
    "philox4x32", "philox_word", "philox4x32_array", "uniform_from_u32", "uniform_open_from_u32",
    "bounded_from_u32", "check_seed", "lowrank_sweep", "potts_mf_sweep", "glass_sweep", "compute_overlaps",
    "compute_counts", "compute_local_fields", "ms_rotation_sweep", "ms_axes_sweep", "ms_tensor",
]
