#!/usr/bin/env python3
"""Adapt a Kokkos 4.5 source tree to the CUDA 13 runtime API (our own edit, applied by
scripts/setup-deps.sh to a copy of the registry source; nothing of Kokkos lives in this repo).

CUDA 13 changed three runtime signatures that Kokkos 4.5's CUDA backend calls:
  cudaGraphAddDependencies(graph, from, to, edgeData, n)            (edgeData added)
  cudaMemAdvise(ptr, count, advice, cudaMemLocation)                 (int device -> location)
  cudaMemPrefetchAsync(ptr, count, cudaMemLocation, flags, stream)   (int device -> location, flags)
Each call is replaced by a version guarded on CUDART_VERSION >= 13000, so the tree still
builds with older toolkits. Idempotent: a tree already patched is left alone.
"""
import pathlib
import sys

MARK = "/* mlpot: CUDA 13 */"

EDITS = {
    "core/src/Cuda/Kokkos_Cuda_Instance.hpp": [
        (
            "    return cudaGraphAddDependencies(graph, from, to, numDependencies);",
            "#if CUDART_VERSION >= 13000 " + MARK + "\n"
            "    return cudaGraphAddDependencies(graph, from, to, nullptr, numDependencies);\n"
            "#else\n"
            "    return cudaGraphAddDependencies(graph, from, to, numDependencies);\n"
            "#endif",
        ),
        (
            "    return cudaMemAdvise(devPtr, count, advice, device);",
            "#if CUDART_VERSION >= 13000 " + MARK + "\n"
            "    cudaMemLocation loc{};\n"
            "    loc.type = device == cudaCpuDeviceId ? cudaMemLocationTypeHost : cudaMemLocationTypeDevice;\n"
            "    loc.id = device == cudaCpuDeviceId ? 0 : device;\n"
            "    return cudaMemAdvise(devPtr, count, advice, loc);\n"
            "#else\n"
            "    return cudaMemAdvise(devPtr, count, advice, device);\n"
            "#endif",
        ),
        (
            "    return cudaMemPrefetchAsync(devPtr, count, dstDevice,\n"
            "                                get_input_stream(stream));",
            "#if CUDART_VERSION >= 13000 " + MARK + "\n"
            "    cudaMemLocation loc{};\n"
            "    loc.type = dstDevice == cudaCpuDeviceId ? cudaMemLocationTypeHost : cudaMemLocationTypeDevice;\n"
            "    loc.id = dstDevice == cudaCpuDeviceId ? 0 : dstDevice;\n"
            "    return cudaMemPrefetchAsync(devPtr, count, loc, 0, get_input_stream(stream));\n"
            "#else\n"
            "    return cudaMemPrefetchAsync(devPtr, count, dstDevice,\n"
            "                                get_input_stream(stream));\n"
            "#endif",
        ),
    ],
    "core/src/Cuda/Kokkos_CudaSpace.cpp": [
        (
            "          cudaMemAdvise(ptr, arg_alloc_size, cudaMemAdviseSetPreferredLocation,\n"
            "                        cudaCpuDeviceId));",
            "          cudaMemAdvise(ptr, arg_alloc_size, cudaMemAdviseSetPreferredLocation,\n"
            "#if CUDART_VERSION >= 13000 " + MARK + "\n"
            "                        cudaMemLocation{cudaMemLocationTypeHost, 0}));\n"
            "#else\n"
            "                        cudaCpuDeviceId));\n"
            "#endif",
        ),
    ],
}


def main(root: str) -> None:
    for rel, edits in EDITS.items():
        path = pathlib.Path(root) / rel
        text = path.read_text()
        for old, new in edits:
            if new in text:
                continue
            if text.count(old) != 1:
                sys.exit(f"patch-kokkos-cuda13: expected one occurrence in {rel} of:\n{old}")
            text = text.replace(old, new)
        path.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1])
