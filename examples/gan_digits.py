"""A generative adversarial network draws digits: a generator against a discriminator.

The generator G turns noise z ~ N(0, I) into a 28x28 image; the discriminator D gives the logit of
"this image is real". They play a game (Goodfellow et al. 2014):

    D step: minimise  BCE(D(x_real), 1) + BCE(D(G(z)), 0)     (tell real from generated)
    G step: minimise  BCE(D(G(z)), 1)                         (fool D; the non-saturating form)

Real images: the MNIST test digits (a seeded 80%; the other 20% is held out to test the judge).
Quality is measured, not eyeballed: a LeNet-5 trained on the real digits classifies 1000 generated
samples; we report the fraction it classifies with confidence >= 0.9 and which digits it finds.
Saves an 8x8 image grid per epoch (same noise each time), the two loss curves and both networks.

    python examples/gan_digits.py --out runs/gan
    python examples/gan_digits.py --fast --out /tmp/gan_fast
"""

from __future__ import annotations

import sys

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _common  # noqa: E402

import deepnum as dn  # noqa: E402
import deepnum.nn.functional as F  # noqa: E402
from deepnum.models import build  # noqa: E402


def train_judge(x, y, x_test, y_test, epochs: int, rng) -> tuple:
    """LeNet-5 on real digits (N, 1, 28, 28) in [0, 1]; returns it and its held-out accuracy."""
    judge = build("lenet5")
    optimizer = _common.adam(judge.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(order), 64):
            batch = order[i:i + 64]
            loss = F.cross_entropy(judge(dn.tensor(x[batch])), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    judge.eval()
    return judge, float(np.mean(classify(judge, x_test)[0] == y_test))


def classify(judge, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted digit and its softmax probability for images (N, 1, 28, 28) in [0, 1]."""
    with dn.no_grad():
        p = np.concatenate([F.softmax(judge(dn.tensor(images[i:i + 500])), dim=1).numpy()
                            for i in range(0, len(images), 500)])
    return p.argmax(1), p.max(1)


def save_grid(images: np.ndarray, path, title: str) -> None:
    """An 8x8 grid of images with pixels in [-1, 1]."""
    plt = _common.pyplot()
    tiles = images[:64].reshape(8, 8, 28, 28).transpose(0, 2, 1, 3).reshape(224, 224)
    fig, ax = plt.subplots(figsize=(4, 4.2))
    ax.imshow((tiles + 1) / 2, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> dict:
    p = _common.parser(__doc__.splitlines()[0], "runs/gan_digits")
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--ema", type=float, default=0.999,
                   help="decay of the generator's weight average used for samples (0: off)")
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--judge-epochs", type=int, default=6)
    args = p.parse_args(argv)
    out = _common.setup(args)
    timer = _common.Timer()
    rng = np.random.default_rng(args.seed)

    images, labels = _common.load_mnist_test()
    train_idx, test_idx = _common.split_80_20(len(images), args.seed)
    if args.fast:
        train_idx, test_idx = train_idx[:1000], test_idx[:300]
        args.epochs, args.judge_epochs = 4, 2
    real = images[train_idx].reshape(-1, 784) * 2 - 1          # pixels in [-1, 1], like tanh
    judge, judge_accuracy = train_judge(images[train_idx, None], labels[train_idx],
                                        images[test_idx, None], labels[test_idx],
                                        args.judge_epochs, rng)
    print(f"judge: LeNet-5 trained on {len(train_idx)} real digits, held-out accuracy "
          f"{judge_accuracy:.4f} ({timer.seconds}s)")

    generator = build("gan-generator", latent_dim=args.latent)
    discriminator = build("gan-discriminator")
    # A running average of G's weights draws cleaner digits than the last, still oscillating
    # iterate (Yazici et al. 2019); it is not trained, only averaged.
    averaged = build("gan-generator", latent_dim=args.latent)
    averaged.load_state_dict(generator.state_dict())
    opt_g = dn.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = dn.optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = dn.tensor(rng.standard_normal((64, args.latent)).astype(np.float32))
    ones, zeros = np.ones((64, 1), np.float32), np.zeros((64, 1), np.float32)
    history = {"d_loss": [], "g_loss": []}
    mean_real = real.mean(axis=0)

    def distance_to_real() -> float:
        """RMS gap between the mean generated image and the mean real one (falls as G learns)."""
        generator.eval()
        with dn.no_grad():
            gap = generator(fixed_noise).numpy().mean(axis=0) - mean_real
        generator.train()
        return float(np.sqrt(np.mean(gap ** 2)))

    distance_before = distance_to_real()
    iteration = 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(real))
        d_losses, g_losses = [], []
        for i in range(0, len(order) - 63, 64):
            x = dn.tensor(real[order[i:i + 64]])
            z = dn.tensor(rng.standard_normal((64, args.latent)).astype(np.float32))
            fake = generator(z)
            # D step: real -> 1 (smoothed to 0.9, so D stays unsure enough to teach G), fake -> 0
            d_loss = (F.binary_cross_entropy_with_logits(discriminator(x), ones * 0.9)
                      + F.binary_cross_entropy_with_logits(discriminator(fake.detach()), zeros))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            # G step: make D call the fakes real
            g_loss = F.binary_cross_entropy_with_logits(discriminator(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            iteration += 1
            decay = min(args.ema, (1 + iteration) / (10 + iteration))
            for a, w in zip(averaged.parameters(), generator.parameters()):
                a.data *= decay
                a.data += (1 - decay) * w.numpy()
            d_losses.append(d_loss.item())
            g_losses.append(g_loss.item())
        history["d_loss"].append(float(np.mean(d_losses)))
        history["g_loss"].append(float(np.mean(g_losses)))
        averaged.eval()
        with dn.no_grad():
            save_grid(averaged(fixed_noise).numpy(), out / f"samples_epoch{epoch + 1:03d}.png",
                      f"epoch {epoch + 1}")
        print(f"epoch {epoch + 1:3d}  D loss {history['d_loss'][-1]:.3f}  "
              f"G loss {history['g_loss'][-1]:.3f}  ({timer.seconds}s)")

    # Measured quality: how sure is a real-digit classifier about 1000 generated samples?
    sampler = averaged if args.ema else generator
    sampler.eval()
    with dn.no_grad():
        samples = sampler(dn.tensor(rng.standard_normal((1000, args.latent))
                                      .astype(np.float32))).numpy()
    digits, confidence = classify(judge, ((samples + 1) / 2).reshape(-1, 1, 28, 28))
    counts = np.bincount(digits, minlength=10)
    confident = float(np.mean(confidence >= 0.9))

    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(range(1, args.epochs + 1), history["d_loss"], marker=".", label="discriminator")
    ax.plot(range(1, args.epochs + 1), history["g_loss"], marker=".", label="generator")
    ax.set(xlabel="epoch", ylabel="BCE loss", title="GAN losses")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "losses.png", dpi=100)
    plt.close(fig)
    _common.save_model(sampler, out / "generator.safetensors", {"example": "gan_digits"})
    _common.save_model(discriminator, out / "discriminator.safetensors")

    results = {"epochs": args.epochs, "ema": args.ema, "judge": "lenet5",
               "judge_held_out_accuracy": judge_accuracy,
               "fraction_confident_0_9": confident, "digit_counts": counts.tolist(),
               "digits_found": int(np.sum(counts > 0)),
               "mean_image_gap_before": distance_before, "mean_image_gap_after": distance_to_real(),
               "mean_confidence": float(confidence.mean()),
               "d_loss": history["d_loss"], "g_loss": history["g_loss"],
               "seconds": timer.seconds, "cpu_seconds": timer.cpu_seconds}
    print(f"LeNet-5 is >= 90% confident on {confident:.1%} of 1000 generated digits; it finds "
          f"{results['digits_found']}/10 digits, counts {counts.tolist()}; {timer.seconds}s "
          f"({timer.cpu_seconds} CPU s); images in {out}")
    return _common.write_results(out, results)


if __name__ == "__main__":
    main()
