"""Base parts of the Word pieces (styles, numbering, settings) and annex models.

Package data only: found with importlib.resources so that a plain
``pip install .`` works without the source checkout.
"""
