"""A DCGAN training step (pytorch/examples ``dcgan``: 64x64 images, batch 64, nz=100,
ngf=ndf=64, three colour channels) in deepnum and PyTorch from the same weights.

Generator: ConvTranspose2d 100->512 (4x4), then three ConvTranspose2d(4, stride 2, padding 1)
doubling the size, each with BatchNorm2d and ReLU(inplace), and a last one to 3 channels with
Tanh. Discriminator: the mirror image with Conv2d, BatchNorm2d and LeakyReLU(0.2, inplace).
One step is the example's: D on real images and on G's fakes (detached), D's Adam step, then D
on the fakes again for G's loss and G's Adam step (lr 2e-4, betas (0.5, 0.999)), BCELoss.

    python -m benchmarks.dcgan --steps 3 --repeats 3      # the ratio alone
    python -m benchmarks.bench --cases dcgan              # as a row of the suite
"""

from __future__ import annotations

import argparse

import numpy as np

NZ, NGF, NDF, NC, SIZE = 100, 64, 64, 3, 64
LR, BETAS = 2e-4, (0.5, 0.999)


def _layers(nn):
    """The example's Generator and Discriminator, in deepnum's or PyTorch's ``nn``."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 8),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(NC, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 8),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    return generator, discriminator


def deepnum_models(seed: int = 0):
    """deepnum's pair, initialised as the example's ``weights_init``: conv weights N(0, 0.02),
    batch-norm weights N(1, 0.02) and biases 0."""
    import deepnum as dn
    from deepnum import nn

    dn.manual_seed(seed)
    models = _layers(nn)
    for model in models:
        for module in model.modules():
            name = type(module).__name__
            if name.startswith("Conv"):
                nn.init.normal_(module.weight, 0.0, 0.02)
            elif name.startswith("BatchNorm"):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)
    return models


def torch_models(dn_models):
    """PyTorch's pair with deepnum's weights (the same names and layouts)."""
    import torch

    models = _layers(torch.nn)
    for ours, theirs in zip(dn_models, models):
        theirs.load_state_dict({k: torch.from_numpy(np.array(v.array if hasattr(v, "array")
                                                             else v))
                                for k, v in ours.state_dict().items()})
    return models


def data(batch: int, steps: int, seed: int = 0):
    """Real images in [-1, 1] and the noise of every step, drawn once for both contenders."""
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (batch, NC, SIZE, SIZE)).astype(np.float32)
    noise = rng.standard_normal((steps, batch, NZ, 1, 1)).astype(np.float32)
    return real, noise


def deepnum_training(batch: int = 64, steps: int = 1, losses: list | None = None):
    """A callable that runs ``steps`` DCGAN steps in deepnum (appending (errD, errG))."""
    import deepnum as dn
    from deepnum import nn

    generator, discriminator = deepnum_models()
    return _training(dn, nn, generator, discriminator, batch, steps, losses,
                     lambda a: dn.Tensor._wrap(a))


def torch_training(batch: int = 64, steps: int = 1, losses: list | None = None):
    """The same steps in PyTorch, from the same weights."""
    import torch

    generator, discriminator = torch_models(deepnum_models())
    return _training(torch, torch.nn, generator, discriminator, batch, steps, losses,
                     torch.from_numpy)


def _training(lib, nn, generator, discriminator, batch, steps, losses, wrap):
    """The example's loop body, written once for both libraries (same names, same calls)."""
    criterion = nn.BCELoss()
    optimizer_d = lib.optim.Adam(discriminator.parameters(), lr=LR, betas=BETAS)
    optimizer_g = lib.optim.Adam(generator.parameters(), lr=LR, betas=BETAS)
    real_images, noises = data(batch, steps)
    real, noise = wrap(real_images), [wrap(n) for n in noises]
    label_real = lib.full((batch,), 1.0)
    label_fake = lib.full((batch,), 0.0)

    def run() -> None:
        for step in range(steps):
            discriminator.zero_grad()
            err_real = criterion(discriminator(real).view(-1), label_real)
            err_real.backward()
            fake = generator(noise[step])
            err_fake = criterion(discriminator(fake.detach()).view(-1), label_fake)
            err_fake.backward()
            optimizer_d.step()
            generator.zero_grad()
            err_g = criterion(discriminator(fake).view(-1), label_real)
            err_g.backward()
            optimizer_g.step()
            if losses is not None:
                losses.append((err_real.item() + err_fake.item(), err_g.item()))

    return run


def main(argv=None) -> dict:
    """Time both contenders interleaved in one process (see benchmarks.harness) and print the
    ratio deepnum / PyTorch."""
    import os

    from benchmarks import harness

    p = argparse.ArgumentParser(prog="python -m benchmarks.dcgan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=2, help="training steps per timed round")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args(argv)
    threads = harness.set_threads(args.threads)
    contenders = {"deepnum": deepnum_training(args.batch, args.steps),
                  "pytorch": torch_training(args.batch, args.steps)}
    timings = harness.interleave(contenders, args.repeats, warmup=1)
    ratio = timings["deepnum"]["median_s"] / timings["pytorch"]["median_s"]
    cpu_ratio = timings["deepnum"]["cpu_median_s"] / timings["pytorch"]["cpu_median_s"]
    for name, t in timings.items():
        print(f"{name}: {t['median_s'] / args.steps:.3f} s/step wall, "
              f"{t['cpu_median_s'] / args.steps:.3f} s/step CPU (medians of {args.repeats} "
              f"rounds of {args.steps} steps; wall min {t['min_s'] / args.steps:.3f})")
    print(f"ratio deepnum / PyTorch: {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target <= 1.5); "
          f"threads {threads['requested']}, load {harness.load_average()}")
    return {"timings": timings, "ratio": ratio, "cpu_ratio": cpu_ratio}


if __name__ == "__main__":
    main()
