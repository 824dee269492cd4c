"""The bundled clause library: data, not code (fragments, parameters, sectors).

This package only exists so that the library ships as package data and is found
with importlib.resources, whether clausier is installed editable or not.
"""
