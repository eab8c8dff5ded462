"""commsldr: task-oriented communication with split autoencoders, MCR² (LDR) training,
entropy-coded latents and a link-level simulator over time-varying wireless channels.

Implements Qi, Wijesinghe, Chamain, Ding, "A principled hierarchical deep learning approach to
joint image compression and classification". See ``docs/`` for the user guide.
"""

import os as _os

# PyTorch's CPU build spins its OpenMP workers while they wait for work ("active" wait policy).
# With any other process on the cores (a second training run, the test workers, a browser) the
# spinning threads starve each other: we measured a 2-thread training step of the quickstart model
# go from 0.26 s to 3.3 s on a 2-core machine with one other busy process. Passive waiting costs
# nothing measurable when the machine is idle. It must be set before torch is first imported;
# a value the user set is kept.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
