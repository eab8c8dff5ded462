"""commsldr: task-oriented communication with split autoencoders, MCR² (LDR) training,
entropy-coded latents and a link-level simulator over time-varying wireless channels.

Implements Qi, Wijesinghe, Chamain, Ding, "A principled hierarchical deep learning approach to
joint image compression and classification". See ``docs/`` for the user guide.
"""

__version__ = "0.1.0"
