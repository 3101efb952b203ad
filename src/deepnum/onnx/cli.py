"""``deepnum export`` and ``deepnum convert``: models out as ONNX, checkpoints in as deepnum files.

    deepnum export runs/lenet --format onnx                 # -> runs/lenet/model.onnx
    deepnum export runs/lenet --format onnx --out lenet.onnx --opset 17
    deepnum convert model.pt model.safetensors              # PyTorch state dict -> weights file
    deepnum convert model.onnx model.safetensors            # ONNX graph -> deepnum model file
"""

from __future__ import annotations

from pathlib import Path

from deepnum.errors import DeepnumError


def configure_export(p) -> None:
    p.add_argument("model_dir", help="a training output folder (or its model.safetensors)")
    p.add_argument("--format", choices=["onnx"], default="onnx", help="the file format")
    p.add_argument("--out", default=None, help="where to write (default: MODEL_DIR/model.onnx)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset version (default 17)")
    p.add_argument("--static-batch", action="store_true",
                   help="fix the batch size to 1 instead of leaving it free")


def run_export(args) -> int:
    import numpy as np

    import deepnum as dn
    from deepnum.onnx import DEFAULT_OPSET

    source = Path(args.model_dir)
    model_file = source / "model.safetensors" if source.is_dir() else source
    model, info = dn.load(model_file, return_metadata=True)
    shape = info.get("config", {}).get("input_shape")
    if not isinstance(shape, list) or not all(isinstance(s, int) and 0 < s < 2**16
                                              for s in shape):
        raise DeepnumError(f"{model_file}: its metadata has no input shape (config.input_shape); "
                           f"export it from Python with dn.onnx.export(model, example, path)")
    out = Path(args.out) if args.out else model_file.with_suffix(".onnx")
    example = dn.tensor(np.random.default_rng(0).standard_normal([1, *shape]).astype(np.float32))
    dn.onnx.export(model, example, out, opset_version=args.opset or DEFAULT_OPSET,
                   dynamic_batch=not args.static_batch)
    print(f"wrote {out} (ONNX opset {args.opset or DEFAULT_OPSET}, input 'input' of shape "
          f"{['batch' if not args.static_batch else 1, *shape]}, output 'output')")
    return 0


def configure_convert(p) -> None:
    p.add_argument("source", help="a PyTorch checkpoint (.pt, .pth) or an ONNX file (.onnx)")
    p.add_argument("target", help="the .safetensors file to write")
    p.add_argument("--key", default=None,
                   help="the entry holding the state dict in a checkpoint dict (e.g. model)")


def run_convert(args) -> int:
    import deepnum as dn
    from deepnum.serialization import save_state_dict
    from deepnum.torch_checkpoint import load_torch_state_dict

    source, target = Path(args.source), Path(args.target)
    if source.suffix == ".onnx":
        graph = dn.onnx.load(source)
        dn.save(graph, target, metadata={"source": source.name})
        print(f"wrote {target}: the ONNX graph as a deepnum model ({len(graph.graph['nodes'])} "
              f"nodes, {graph.num_parameters():,} parameters); dn.load({str(target)!r})")
        return 0
    state = load_torch_state_dict(source, key=args.key)
    save_state_dict(state, target, metadata={"source": source.name})
    count = sum(a.size for a in state.values())
    print(f"wrote {target}: {len(state)} tensors, {count:,} numbers; "
          f"model.load_state_dict(deepnum.serialization.load_state_dict({str(target)!r}))")
    return 0
