"""cuDNN's switches, accepted and unused: deepnum is deterministic on the CPU anyway."""

enabled = False
benchmark = False
deterministic = True
allow_tf32 = False


def is_available() -> bool:
    return False
