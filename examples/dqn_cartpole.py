"""Deep Q-network on CartPole: learn a policy from rewards alone (Mnih et al. 2015).

The agent sees the cart's state s (position, velocity, angle, angular velocity), pushes left or
right, and gets +1 for every step the pole stays up (at most 500). A network estimates Q(s, a), the
return of taking a in s and acting well afterwards, and is trained towards the Bellman target

    y = r + gamma * max_a' Q_target(s', a')      (y = r when the episode ended)

with the Huber loss. Three ingredients make this stable: experience replay (train on random past
transitions, not on the strongly correlated last few), a target network (a slowly moving copy of Q,
theta_target <- 0.005 theta + 0.995 theta_target after every step, or a hard copy every N steps
with --tau 1 --target-every N, so the target does not chase itself), and epsilon-greedy
exploration (a random action with probability epsilon, decaying from 1 to 0.05). By default the
target is Double DQN's (the online net picks a', the target net scores it: less overestimation);
--no-double gives the original max. The policy is
pi(s) = argmax_a Q(s, a). Needs Gymnasium: ``pip install gymnasium`` (extra ``deepnum[rl]``).

    python examples/dqn_cartpole.py --out runs/dqn               # full run, a few CPU minutes
    python examples/dqn_cartpole.py --fast --out /tmp/dqn_fast   # seconds
    python examples/dqn_cartpole.py --out runs/dqn --render      # also writes agent.gif
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


class ReplayBuffer:
    """A ring buffer of transitions (s, a, r, s', done); sampled uniformly at random."""

    def __init__(self, capacity: int, state_size: int, rng: np.random.Generator):
        self.states = np.zeros((capacity, state_size), dtype=np.float32)
        self.next_states = np.zeros((capacity, state_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=np.float32)
        self.capacity, self.size, self.next, self.rng = capacity, 0, 0, rng

    def add(self, s, a, r, s_next, done) -> None:
        i = self.next
        self.states[i], self.actions[i], self.rewards[i] = s, a, r
        self.next_states[i], self.done[i] = s_next, done
        self.next, self.size = (i + 1) % self.capacity, min(self.size + 1, self.capacity)

    def sample(self, batch: int):
        i = self.rng.integers(0, self.size, batch)
        return self.states[i], self.actions[i], self.rewards[i], self.next_states[i], self.done[i]


def greedy(q_net, state) -> int:
    with dn.no_grad():
        return int(q_net(dn.tensor(np.asarray(state, dtype=np.float32)[None])).numpy()[0].argmax())


def evaluate(q_net, env, episodes: int, seed: int) -> list[float]:
    """Returns of ``episodes`` greedy episodes (no exploration), each from its own seeded start."""
    returns = []
    for k in range(episodes):
        state, _ = env.reset(seed=seed + k)
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(greedy(q_net, state))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return returns


def train_step(q_net, target_net, optimizer, buffer, batch: int, gamma: float,
               double: bool) -> float:
    s, a, r, s_next, done = buffer.sample(batch)
    with dn.no_grad():
        q_next = target_net(dn.tensor(s_next)).numpy()
        if double:   # Double DQN: the online net picks a', the target net scores it
            best = q_net(dn.tensor(s_next)).numpy().argmax(axis=1)
            q_next = q_next[np.arange(batch), best]
        else:        # the original DQN: max over the target net's own estimates
            q_next = q_next.max(axis=1)
    target = r + gamma * (1.0 - done) * q_next                   # the Bellman target y
    q_taken = q_net(dn.tensor(s))[np.arange(batch), a]           # Q(s, a) of the actions taken
    loss = F.huber_loss(q_taken, dn.tensor(target.astype(np.float32)))
    optimizer.zero_grad()
    loss.backward()
    dn.nn.utils.clip_grad_norm_(q_net.parameters(), 10.0)
    optimizer.step()
    return loss.item()


def update_target(target_net, q_net, tau: float) -> None:
    """theta_target <- tau theta + (1 - tau) theta_target (tau = 1: a plain copy)."""
    with dn.no_grad():
        for t, p in zip(target_net.parameters(), q_net.parameters()):
            t.data *= 1 - tau
            t.data += tau * p.numpy()


def draw_cartpole(state, x_limit: float = 2.4, size=(300, 200)):
    """A frame drawn from the state with Pillow (gymnasium's own renderer needs pygame)."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    scale = width / (2 * x_limit)
    x, angle = state[0], state[2]
    cart_x, cart_y = width / 2 + x * scale, height * 0.7
    draw.line([(0, cart_y + 10), (width, cart_y + 10)], fill="black")
    draw.rectangle([cart_x - 20, cart_y - 10, cart_x + 20, cart_y + 10], fill="black")
    pole = 1.0 * scale                            # the pole is 1 m long (2 x half-length 0.5)
    tip = (cart_x + pole * np.sin(angle), cart_y - pole * np.cos(angle))
    draw.line([(cart_x, cart_y), tip], fill=(202, 152, 101), width=6)
    draw.ellipse([cart_x - 3, cart_y - 3, cart_x + 3, cart_y + 3], fill=(129, 132, 203))
    return image


def write_gif(q_net, path, seed: int, max_frames: int = 300) -> int:
    """A GIF of one greedy episode: gymnasium's rgb_array frames if pygame is installed, else
    frames drawn from the state with Pillow."""
    import importlib.util

    import gymnasium as gym
    from PIL import Image

    has_pygame = importlib.util.find_spec("pygame") is not None
    env = gym.make("CartPole-v1", render_mode="rgb_array" if has_pygame else None)
    state, _ = env.reset(seed=seed)
    frames, done = [], False
    while not done and len(frames) < max_frames:
        frame = Image.fromarray(env.render()).resize((300, 200)) if has_pygame else \
            draw_cartpole(state)
        frames.append(frame)
        state, _, terminated, truncated, _ = env.step(greedy(q_net, state))
        done = terminated or truncated
    env.close()
    frames = frames[::2]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=40, loop=0)
    return len(frames)


def main(argv=None) -> dict:
    p = _common.parser(__doc__.splitlines()[0], "runs/dqn_cartpole")
    p.add_argument("--steps", type=int, default=60_000, help="environment steps of training")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--tau", type=float, default=0.005,
                   help="soft target update per step (1.0 with --target-every N: hard copies)")
    p.add_argument("--target-every", type=int, default=1, help="steps between target updates")
    p.add_argument("--no-double", dest="double", action="store_false",
                   help="the original DQN target (max over the target net) instead of Double DQN")
    p.add_argument("--eval-every", type=int, default=2000, help="steps between greedy checks")
    p.add_argument("--stop-at", type=float, default=495.0,
                   help="stop training once a 10-episode greedy check averages this much")
    p.add_argument("--render", action="store_true", help="write agent.gif of the trained agent")
    args = p.parse_args(argv)
    try:
        import gymnasium as gym
    except ImportError:
        raise SystemExit("this example needs Gymnasium: pip install gymnasium  "
                         "(or pip install 'deepnum[rl]')") from None
    out = _common.setup(args)
    timer = _common.Timer()
    warmup, decay, final_eval = 1000, 10_000, 100
    if args.fast:
        args.steps, warmup, decay, args.eval_every, final_eval = 2000, 300, 1500, 1000, 5

    env, eval_env = gym.make("CartPole-v1"), gym.make("CartPole-v1")
    env.action_space.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    q_net, target_net = build("dqn-mlp"), build("dqn-mlp")
    target_net.load_state_dict(q_net.state_dict())
    optimizer = _common.adam(q_net.parameters(), lr=args.lr)
    buffer = ReplayBuffer(50_000, 4, rng)

    episode_returns, checks, losses = [], [], []
    best = (-1.0, None)
    state, _ = env.reset(seed=args.seed)
    total = 0.0
    for step in range(1, args.steps + 1):
        epsilon = max(0.05, 1.0 - 0.95 * step / decay)
        action = int(rng.integers(2)) if rng.random() < epsilon else greedy(q_net, state)
        s_next, reward, terminated, truncated, _ = env.step(action)
        # only a real failure ends the return; hitting the 500-step limit is not the state's fault
        buffer.add(state, action, reward, s_next, float(terminated))
        state, total = s_next, total + reward
        if terminated or truncated:
            episode_returns.append(total)
            state, total = env.reset()[0], 0.0
        if step >= warmup:
            losses.append(train_step(q_net, target_net, optimizer, buffer, args.batch_size,
                                     args.gamma, args.double))
        if step % args.target_every == 0:
            update_target(target_net, q_net, args.tau)
        if step % args.eval_every == 0:
            score = float(np.mean(evaluate(q_net, eval_env, 10, seed=10_000 + step)))
            checks.append((step, score))
            if score >= best[0]:
                best = (score, {k: np.array(v, copy=True) for k, v in q_net.state_dict().items()})
            recent = np.mean(episode_returns[-10:]) if episode_returns else 0.0
            print(f"step {step:6d}  episodes {len(episode_returns):4d}  recent return "
                  f"{recent:6.1f}  greedy check {score:6.1f}  epsilon {epsilon:.2f}  "
                  f"({timer.seconds}s)")
            if score >= args.stop_at:
                break

    if best[1] is not None:
        q_net.load_state_dict(best[1])            # the best greedy check's weights
    final = evaluate(q_net, eval_env, final_eval, seed=1_000_000)
    _common.save_model(q_net, out / "q_network.safetensors", {"example": "dqn_cartpole"})

    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(episode_returns, lw=0.6, alpha=0.5, label="training episode return")
    if len(episode_returns) >= 20:
        smooth = np.convolve(episode_returns, np.ones(20) / 20, mode="valid")
        ax.plot(np.arange(19, len(episode_returns)), smooth, label="moving average (20)")
    ax.axhline(475, color="k", ls=":", lw=1, label="solved (475)")
    ax.set(xlabel="episode", ylabel="return", title="DQN on CartPole-v1")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=100)
    plt.close(fig)
    frames = write_gif(q_net, out / "agent.gif", seed=args.seed) if args.render else 0

    half = max(1, len(episode_returns) // 2)
    results = {"steps": step, "episodes": len(episode_returns),
               "first_episodes_mean_return": float(np.mean(episode_returns[:10])),
               "last_episodes_mean_return": float(np.mean(episode_returns[-10:])),
               "second_half_mean_return": float(np.mean(episode_returns[half:])),
               "greedy_checks": checks, "eval_episodes": final_eval,
               "eval_mean_return": float(np.mean(final)), "eval_min_return": float(np.min(final)),
               "gif_frames": frames, "seconds": timer.seconds,
               "cpu_seconds": timer.cpu_seconds}
    print(f"greedy policy: mean return {results['eval_mean_return']:.1f} "
          f"(min {results['eval_min_return']:.0f}) over {final_eval} evaluation episodes; "
          f"{step} training steps in {timer.seconds}s ({timer.cpu_seconds} CPU s); "
          f"results in {out}")
    return _common.write_results(out, results)


if __name__ == "__main__":
    main()
