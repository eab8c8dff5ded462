"""Channel models for commsldr (installable top-level package ``channels``).

Imports torch / numpy / sionna, never ``commsldr``.
"""
