"""Read and write the x86 MXCSR register (SSE/AVX floating-point control) from Python: two LLVM
intrinsics wrapped in compiled functions, cached on disk like the kernels (compiling them took
0.45 s at every first ``Trainer.fit`` of a process). Imported only by
:mod:`deepnum.fast.denormals`, on x86 with Numba, since it imports Numba."""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_BYTE_POINTER = ir.PointerType(ir.IntType(8))


def _call(builder, name, pointer):
    fn = builder.module.declare_intrinsic(
        name, fnty=ir.FunctionType(ir.VoidType(), [_BYTE_POINTER]))
    builder.call(fn, [builder.bitcast(pointer, _BYTE_POINTER)])


@intrinsic
def _read(typingctx):
    def codegen(context, builder, signature, args):
        slot = builder.alloca(ir.IntType(32))
        _call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)
    return types.uint32(), codegen


@intrinsic
def _write(typingctx, value):
    def codegen(context, builder, signature, args):
        slot = builder.alloca(ir.IntType(32))
        builder.store(args[0], slot)
        _call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()
    return types.void(types.uint32), codegen


@numba.njit(cache=True)
def get():
    return _read()


@numba.njit(cache=True)
def set_(value):
    _write(value)
