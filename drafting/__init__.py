"""clausier's drafting engine.

Data flows one way: questionnaire -> validated model -> plan -> composed pieces ->
writers -> files + manifest. Each step is its own module so that the pure parts
(model, hours, decisions) can be tested without any file being written.
"""

__version__ = "0.1.0"
