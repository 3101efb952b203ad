"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict against torch's: the same
edits give the same names, order, reprs and errors; edits re-plan Sequential's fusion; models
built from them save and load."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import assert_close


def _layers(lib, n=4):
    return [lib.Linear(2, 2) if i % 2 == 0 else lib.ReLU() for i in range(n)]


def _shape(container):
    """Names and kinds of the children: what must agree with torch after each edit."""
    return [(name, type(m).__name__) for name, m in container.named_children()], repr(container)


SEQUENTIAL_EDITS = [
    lambda s, lib: s.insert(1, lib.Tanh()),
    lambda s, lib: s.insert(-1, lib.Tanh()),
    lambda s, lib: s.insert(4, lib.Tanh()),
    lambda s, lib: s.extend([lib.Tanh(), lib.Sigmoid()]),
    lambda s, lib: s.append(lib.Tanh()),
    lambda s, lib: s.pop(1),
    lambda s, lib: s.__delitem__(0),
    lambda s, lib: s.__delitem__(slice(1, 3)),
    lambda s, lib: s.__delitem__(-1),
    lambda s, lib: s.__setitem__(2, lib.Tanh()),
    lambda s, lib: s.__setitem__(-1, lib.Tanh()),
    lambda s, lib: s.__iadd__(lib.Sequential(lib.Tanh())),
    lambda s, lib: s.__imul__(2),
]


@pytest.mark.parametrize("edit", SEQUENTIAL_EDITS, ids=range(len(SEQUENTIAL_EDITS)))
def test_sequential_edits_match_torch(edit):
    ours, theirs = nn.Sequential(*_layers(nn)), torch.nn.Sequential(*_layers(torch.nn))
    a, b = edit(ours, nn), edit(theirs, torch.nn)
    assert _shape(ours) == _shape(theirs)
    if isinstance(b, torch.nn.Module):
        assert repr(a) == repr(b)
    assert getattr(ours, next(iter(ours._modules))) is ours[0]  # attributes follow the renaming


def test_sequential_indexing_slicing_and_operators_match_torch():
    ours = nn.Sequential(OrderedDict(a=nn.Linear(2, 2), b=nn.ReLU(), c=nn.Tanh()))
    theirs = torch.nn.Sequential(OrderedDict(a=torch.nn.Linear(2, 2), b=torch.nn.ReLU(),
                                             c=torch.nn.Tanh()))
    assert _shape(ours[1:]) == _shape(theirs[1:])  # slicing keeps the keys
    assert _shape(ours[::-1]) == _shape(theirs[::-1])
    assert ours[-1] is ours.c and isinstance(ours[0], nn.Linear)
    assert _shape(ours + ours) == _shape(theirs + theirs)
    assert _shape(ours * 2) == _shape(theirs * 2) and _shape(2 * ours) == _shape(2 * theirs)
    for bad in (3, -4):
        with pytest.raises(IndexError, match=f"index {bad} is out of range"):
            ours[bad]
        with pytest.raises(IndexError, match=f"index {bad} is out of range"):
            theirs[bad]
    with pytest.raises(IndexError, match="Index out of range: 5"):
        ours.insert(5, nn.ReLU())
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        ours + nn.ModuleList()
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        ours * 0
    with pytest.raises(TypeError, match="unsupported operand type"):
        ours * 1.5
    assert "0" not in dir(nn.Sequential(nn.ReLU())) and "append" in dir(ours)


def test_edits_re_make_the_fusion_plan(rng):
    # Linear + ReLU runs as one fused op; inserting or deleting must change what runs
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.ReLU(),
                          nn.Linear(4, 2, dtype=np.float64))
    x = dn.tensor(rng.standard_normal((5, 3)))

    def by_hand(m):
        out = x
        for layer in m:
            out = layer(out)
        return out

    model(x)
    model.insert(1, nn.Tanh())
    assert_close(model(x), by_hand(model).numpy())
    del model[2]  # the ReLU: now Linear, Tanh, Linear
    assert_close(model(x), by_hand(model).numpy())
    model[1] = nn.ReLU()
    assert_close(model(x), by_hand(model).numpy())
    model.pop(1)
    assert_close(model(x), by_hand(model).numpy())
    model.append(nn.ReLU())
    assert_close(model(x), by_hand(model).numpy())
    assert model(x).numpy().min() >= 0


MODULELIST_EDITS = [
    lambda m, lib: m.insert(1, lib.Tanh()),
    lambda m, lib: m.insert(0, lib.Tanh()),
    lambda m, lib: m.extend([lib.Tanh()]),
    lambda m, lib: m.__iadd__([lib.Tanh(), lib.ReLU()]),
    lambda m, lib: m.pop(0),
    lambda m, lib: m.__delitem__(slice(0, None, 2)),
    lambda m, lib: m.__delitem__(-2),
    lambda m, lib: m.__setitem__(1, lib.Tanh()),
]


@pytest.mark.parametrize("edit", MODULELIST_EDITS, ids=range(len(MODULELIST_EDITS)))
def test_modulelist_edits_match_torch(edit):
    ours, theirs = nn.ModuleList(_layers(nn, 5)), torch.nn.ModuleList(_layers(torch.nn, 5))
    edit(ours, nn), edit(theirs, torch.nn)
    assert _shape(ours) == _shape(theirs)


def test_modulelist_add_slice_repr_and_errors():
    ours, theirs = nn.ModuleList(_layers(nn)), torch.nn.ModuleList(_layers(torch.nn))
    assert _shape(ours + [nn.Tanh()]) == _shape(theirs + [torch.nn.Tanh()])
    assert _shape(ours[1:3]) == _shape(theirs[1:3]) and isinstance(ours[1:3], nn.ModuleList)
    same = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
    assert repr(same) == repr(torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(3)))
    assert repr(nn.ModuleList()) == "ModuleList()"
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, "
                                        "but got int"):
        ours.extend(3)
    with pytest.raises(IndexError, match="index 9 is out of range"):
        ours[9]


def test_moduledict_matches_torch():
    def build(lib):
        heads = lib.ModuleDict({"b": lib.Linear(2, 2), "a": lib.ReLU()})
        heads["c"] = lib.Tanh()
        heads.update([("d", lib.Sigmoid())])
        heads.update(OrderedDict(e=lib.ReLU()))
        del heads["a"]
        popped = heads.pop("e")
        return heads, popped

    (ours, popped), (theirs, _) = build(nn), build(torch.nn)
    assert _shape(ours) == _shape(theirs) and isinstance(popped, nn.ReLU)
    assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys())
    assert "b" in ours and "a" not in ours and len(ours) == 3
    assert [type(v).__name__ for v in ours.values()] == ["Linear", "Tanh", "Sigmoid"]
    assert [k for k, _ in ours.items()] == ["b", "c", "d"]
    assert [n for n, _ in ours.named_parameters()] == ["b.weight", "b.bias"]
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        ours.update([("x", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        ours.update(3)
    with pytest.raises(KeyError):
        del ours["zz"]
    ours.clear()
    assert len(ours) == 0 and not hasattr(ours, "b")


def test_parameterlist_matches_torch():
    def build(lib, tensor):
        values = lib.ParameterList([lib.Parameter(tensor(3)), tensor(2, 2)])
        values.append(tensor(1))
        values.extend([lib.Parameter(tensor(4))])
        values += [tensor(5)]
        values[0] = tensor(6)
        return values

    ours, theirs = build(nn, dn.ones), build(torch.nn, torch.ones)
    assert repr(ours) == repr(theirs).replace("torch.", "deepnum.")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in ours)  # tensors are made parameters
    assert len(ours) == 5 and ours[-1].shape == (5,) and ours[0].shape == (6,)
    assert [p.shape for p in ours[1:3]] == [(2, 2), (1,)]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        ours.extend(dn.ones(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        ours(1)


def test_parameterdict_matches_torch():
    def build(lib, tensor):
        values = lib.ParameterDict({"z": lib.Parameter(tensor(1)), "a": tensor(2)})
        values["m"] = tensor(3)
        values.update([("b", tensor(4))])
        values.setdefault("c", tensor(5))
        popped = values.pop("m")
        return values, popped

    (ours, popped), (theirs, _) = build(nn, dn.ones), build(torch.nn, torch.ones)
    assert repr(ours) == repr(theirs).replace("torch.", "deepnum.")
    assert list(ours) == list(theirs) == ["a", "z", "b", "c"]  # a plain dict is sorted
    assert isinstance(popped, nn.Parameter) and ours.get("nope", 7) == 7
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list((ours | nn.ParameterDict({"q": dn.ones(1)})).keys())[-1] == "q"
    key, value = ours.popitem()
    assert key == "c" and value.shape == (5,) and "c" not in ours
    with pytest.raises(TypeError, match="not a string"):
        ours[3] = dn.ones(1)


def test_models_built_from_every_container_save_and_load(tmp_path):
    dn.manual_seed(0)
    model = nn.Sequential(OrderedDict(
        stem=nn.Sequential(nn.Linear(3, 4), nn.ReLU()),
        blocks=nn.ModuleList([nn.Linear(4, 4), nn.Tanh()]),
        heads=nn.ModuleDict({"a": nn.Linear(4, 2)}),
        gains=nn.ParameterList([nn.Parameter(dn.randn(4))]),
        bias=nn.ParameterDict({"x": nn.Parameter(dn.randn(2, dtype=dn.float64))})))
    model.stem.append(nn.Linear(4, 4))  # edited after construction: still saves
    model.blocks.insert(0, nn.Tanh())
    dn.save(model, tmp_path / "m.safetensors")
    loaded = dn.load(tmp_path / "m.safetensors")
    assert repr(loaded) == repr(model)
    for (k, a), (j, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == j and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
