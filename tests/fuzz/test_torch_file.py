"""Read mutated PyTorch checkpoints: every mutant gives a state dict or a deepnum error, and no
mutant runs anything (the reader never calls a global outside weights_only's set).

Raw mutants change the zip's bytes; structured ones change the pickle inside (a byte, an
opcode, a number) and re-zip it with correct checksums, as an attacker would."""

import io
import os
import pickletools
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepnum.errors import DeepnumError
from deepnum.torch_checkpoint import load_torch_state_dict
from tests.fuzz import cases
from tests.fuzz.mutate import raw_mutant

OPCODES = [op.code.encode("latin1") for op in pickletools.opcodes]


@pytest.fixture(scope="module")
def pt_bytes():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 2))
    buffer = io.BytesIO()
    state = model.state_dict()
    state["view"] = model[0].weight.data[:, 1]
    torch.save(state, buffer)
    return buffer.getvalue()


@st.composite
def pickle_mutant(draw, raw: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(raw))
    name = next(n for n in source.namelist() if n.endswith("data.pkl"))
    data = bytearray(source.read(name))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["byte", "opcode", "number", "cut", "global"]))
        if how == "byte":
            data[at] = draw(st.integers(0, 255))
        elif how == "opcode":
            data[at:at + 1] = draw(st.sampled_from(OPCODES))
        elif how == "number":  # BININT1 n -> another small number (sizes, offsets, numels)
            spots = [i for i in range(len(data) - 1) if data[i] == ord("K")]
            if spots:
                data[draw(st.sampled_from(spots)) + 1] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            data[at:at] = b"c" + draw(st.sampled_from([b"os\nsystem\n", b"builtins\neval\n",
                                                       b"torch\nFloatStorage\n",
                                                       b"collections\nOrderedDict\n"]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in source.infolist():
            z.writestr(info.filename, bytes(data) if info.filename == name
                       else source.read(info.filename))
    return out.getvalue()


@settings(max_examples=cases(80), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_mutant_reads_or_raises_a_deepnum_error(pt_bytes, data, tmp_path_factory,
                                                     monkeypatch):
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))  # a canary, never called
    mutant = data.draw(st.one_of(raw_mutant(pt_bytes), pickle_mutant(pt_bytes),
                                 pickle_mutant(pt_bytes)))
    path = tmp_path_factory.mktemp("p") / "m.pt"
    path.write_bytes(mutant)
    try:
        state = load_torch_state_dict(path)
    except DeepnumError:
        state = None
    assert not called
    if state is not None:
        assert all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in state.items())
