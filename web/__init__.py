"""clausier's web application (``clausier serve``): the buyer's face of the engine, beside ``cli.py``.

Built on ``drafting.api`` only, like the command line. Django for the pages, forms,
sessions and records; django-ninja for the JSON API; waitress as the server.
"""
