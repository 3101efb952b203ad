"""`deepnum summary --model NAME` prints the new models (at its default 1x28x28 input)."""

import warnings

import pytest

from deepnum import nn
from deepnum.cli import main
from deepnum.models import MODELS

NEW = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet20", "resnet32",
       "resnet56", "googlenet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
       "vgg19", "vgg19_bn"]


def test_every_new_model_is_registered():
    assert set(NEW) <= set(MODELS)


@pytest.mark.parametrize("name,params", [("resnet20", "269,434"), ("googlenet", "5,603,882"),
                                         ("resnet50", "23,522,250")])
def test_summary_prints_the_model(name, params, capsys):
    assert main(["summary", "--model", name]) == 0
    out = capsys.readouterr().out
    assert f"Total params: {params}" in out and "(N, 10)" in out


def test_summary_of_a_vgg_on_28x28(capsys):
    """VGG at 28x28: the ceil-mode pools reach 1x1, the adaptive pool makes it 7x7. (Its 128
    million weights are left undrawn: the table needs their shapes only.)"""
    with warnings.catch_warnings(), nn.init.skipped():
        warnings.simplefilter("ignore")  # arithmetic on whatever memory the weights were given
        assert main(["summary", "--model", "vgg11_bn"]) == 0
    out = capsys.readouterr().out
    assert "(N, 512, 1, 1)" in out and "(N, 512, 7, 7)" in out and "(N, 10)" in out
