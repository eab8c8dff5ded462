"""Package layout (everything else is in setup.cfg).

The folder ``channels/`` installs under the import name ``commsldr_channels``: a top-level
``channels`` would collide with Django Channels, a widely used distribution of that name.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["commsldr", "commsldr.*"]) + ["commsldr_channels"],
    package_dir={"commsldr_channels": "channels"},
)
