"""DCGAN (Radford et al. 2016) on real digits: the pytorch/examples ``dcgan`` networks and loop,
in deepnum, at 32x32.

The generator turns noise z (nz x 1 x 1) into an image with transposed convolutions that double
the size each time (4 -> 8 -> 16 -> 32), batch norm and ReLU, and a tanh; the discriminator is
its mirror image with strided convolutions, batch norm and LeakyReLU(0.2), and a sigmoid. One
step is the example's: D learns real -> 1 and fake -> 0 (BCELoss), then G learns to make D say 1
(the non-saturating loss); Adam(2e-4, betas (0.5, 0.999)); weights N(0, 0.02), batch-norm
weights N(1, 0.02).

The images are the 10,000 MNIST test digits (a seeded 80%; the rest tests the judge), padded
from 28x28 to 32x32 with 2 black pixels a side: a stride-2 stack needs a power of two, padding
changes no pixel (resizing would blur every digit), and 32x32 costs a quarter of the
example's 64x64. Quality is measured: a LeNet-5 trained on the real digits classifies 1000
generated ones (cropped back to 28x28); we report how many it is >= 90% sure of and which digits
it finds. Saves a sample grid per epoch (fixed noise), the loss curves and both networks.

    python examples/dcgan.py --out runs/dcgan
    python examples/dcgan.py --fast --out /tmp/dcgan_fast
"""

from __future__ import annotations

import sys

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _common  # noqa: E402
import gan_digits  # noqa: E402 - its LeNet-5 judge and classifier

import deepnum as dn  # noqa: E402
import deepnum.nn as nn  # noqa: E402


def generator(nz: int, ngf: int) -> nn.Sequential:
    """nz x 1 x 1 -> 1 x 32 x 32 in [-1, 1]."""
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),                                                   # 4 x 4
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),                                                   # 8 x 8
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
        nn.ReLU(True),                                                   # 16 x 16
        nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())     # 32 x 32


def discriminator(ndf: int) -> nn.Sequential:
    """1 x 32 x 32 -> the probability that the image is real, (N, 1, 1, 1)."""
    return nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),         # 16
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),                                                 # 8
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),                                                 # 4
        nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False), nn.Sigmoid())


def weights_init(model: nn.Module) -> None:
    """The example's: convolutions N(0, 0.02); batch norm weights N(1, 0.02), biases 0."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)


def save_grid(images: np.ndarray, path, title: str) -> None:
    """An 8x8 grid of 32x32 images with pixels in [-1, 1]."""
    plt = _common.pyplot()
    tiles = images[:64, 0].reshape(8, 8, 32, 32).transpose(0, 2, 1, 3).reshape(256, 256)
    fig, ax = plt.subplots(figsize=(4, 4.2))
    ax.imshow((tiles + 1) / 2, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def save_curves(history: dict, steps_per_epoch: int, path) -> None:
    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, label in (("d_loss", "discriminator"), ("g_loss", "generator")):
        values = np.asarray(history[name])
        window = max(1, min(25, len(values) // 10))
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(len(values)) / steps_per_epoch, values, alpha=0.25)
        ax.plot((np.arange(len(smooth)) + window - 1) / steps_per_epoch, smooth, label=label)
    ax.set(xlabel="epoch", ylabel="BCE loss", title="DCGAN losses (per step; smoothed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    p = _common.parser(__doc__.splitlines()[0], "runs/dcgan")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--nz", type=int, default=100, help="size of the noise vector")
    p.add_argument("--ngf", type=int, default=64, help="generator width")
    p.add_argument("--ndf", type=int, default=64, help="discriminator width")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--judge-epochs", type=int, default=6)
    args = p.parse_args(argv)
    out = _common.setup(args)
    timer = _common.Timer()
    rng = np.random.default_rng(args.seed)

    images, labels = _common.load_mnist_test()
    train_idx, test_idx = _common.split_80_20(len(images), args.seed)
    if args.fast:
        # a few dozen steps of small networks: a larger step size shows learning in seconds
        train_idx, test_idx = train_idx[:640], test_idx[:300]
        args.epochs, args.judge_epochs, args.ngf, args.ndf, args.lr = 3, 1, 8, 8, 2e-3
    real = np.pad(images[train_idx, None] * 2 - 1, ((0, 0), (0, 0), (2, 2), (2, 2)),
                  constant_values=-1).astype(np.float32)       # 32x32, pixels in [-1, 1]
    judge, judge_accuracy = gan_digits.train_judge(
        images[train_idx, None], labels[train_idx], images[test_idx, None], labels[test_idx],
        args.judge_epochs, rng)
    print(f"judge: LeNet-5 on {len(train_idx)} real digits, held-out accuracy "
          f"{judge_accuracy:.4f} ({timer.seconds}s)")

    net_g, net_d = generator(args.nz, args.ngf), discriminator(args.ndf)
    weights_init(net_g)
    weights_init(net_d)
    criterion = nn.BCELoss()
    optimizer_d = dn.optim.Adam(net_d.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optimizer_g = dn.optim.Adam(net_g.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = dn.tensor(rng.standard_normal((64, args.nz, 1, 1)).astype(np.float32))
    mean_real = real.mean(axis=0)

    def distance_to_real() -> float:
        """RMS gap between the mean generated image and the mean real one (falls as G learns)."""
        net_g.eval()
        with dn.no_grad():
            gap = net_g(fixed_noise).numpy().mean(axis=0) - mean_real
        net_g.train()
        return float(np.sqrt(np.mean(gap ** 2)))

    distance_before = distance_to_real()
    history = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    batch = args.batch_size
    steps = len(real) // batch
    for epoch in range(args.epochs):
        order = rng.permutation(len(real))
        for step in range(steps):
            x = dn.tensor(real[order[step * batch:(step + 1) * batch]])
            label = dn.full((batch,), 1.0)
            # (1) D: maximise log D(x) + log(1 - D(G(z)))
            net_d.zero_grad()
            output = net_d(x).view(-1)
            err_d_real = criterion(output, label)
            err_d_real.backward()
            d_x = output.mean().item()
            noise = dn.tensor(rng.standard_normal((batch, args.nz, 1, 1)).astype(np.float32))
            fake = net_g(noise)
            label.fill_(0.0)
            output = net_d(fake.detach()).view(-1)
            err_d_fake = criterion(output, label)
            err_d_fake.backward()
            optimizer_d.step()
            # (2) G: maximise log D(G(z))
            net_g.zero_grad()
            label.fill_(1.0)
            output = net_d(fake).view(-1)
            err_g = criterion(output, label)
            err_g.backward()
            optimizer_g.step()
            history["d_loss"].append(err_d_real.item() + err_d_fake.item())
            history["g_loss"].append(err_g.item())
            history["d_real"].append(d_x)
            history["d_fake"].append(output.mean().item())
        net_g.eval()
        with dn.no_grad():
            save_grid(net_g(fixed_noise).numpy(), out / f"samples_epoch{epoch + 1:03d}.png",
                      f"DCGAN, epoch {epoch + 1}")
        net_g.train()
        recent = slice(-steps, None)
        print(f"epoch {epoch + 1:3d}  Loss_D {np.mean(history['d_loss'][recent]):.3f}  "
              f"Loss_G {np.mean(history['g_loss'][recent]):.3f}  "
              f"D(x) {np.mean(history['d_real'][recent]):.3f}  "
              f"D(G(z)) {np.mean(history['d_fake'][recent]):.3f}  ({timer.seconds}s)",
              flush=True)

    net_g.eval()
    with dn.no_grad():
        noise = dn.tensor(rng.standard_normal((1000, args.nz, 1, 1)).astype(np.float32))
        samples = np.concatenate([net_g(noise[i:i + 250]).numpy() for i in range(0, 1000, 250)])
    digits, confidence = gan_digits.classify(judge, (samples[:, :, 2:30, 2:30] + 1) / 2)
    counts = np.bincount(digits, minlength=10)
    confident = float(np.mean(confidence >= 0.9))
    save_curves(history, steps, out / "losses.png")
    _common.save_model(net_g, out / "generator.safetensors", {"example": "dcgan"})
    _common.save_model(net_d, out / "discriminator.safetensors")
    results = {"epochs": args.epochs, "steps_per_epoch": steps, "ngf": args.ngf, "ndf": args.ndf,
               "judge_held_out_accuracy": judge_accuracy, "fraction_confident_0_9": confident,
               "digit_counts": counts.tolist(), "digits_found": int(np.sum(counts > 0)),
               "mean_image_gap_before": distance_before, "mean_image_gap_after": distance_to_real(),
               "d_loss": history["d_loss"], "g_loss": history["g_loss"],
               "seconds": timer.seconds, "cpu_seconds": timer.cpu_seconds}
    print(f"LeNet-5 is >= 90% confident on {confident:.1%} of 1000 generated digits; it finds "
          f"{results['digits_found']}/10 digits, counts {counts.tolist()}; {timer.seconds}s "
          f"({timer.cpu_seconds} CPU s); images in {out}")
    return _common.write_results(out, results)


if __name__ == "__main__":
    main()
