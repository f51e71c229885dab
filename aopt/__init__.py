"""paola: a conversational optimization workbench.

Layers (each imports only those below it): cli -> agent -> tools -> runs ->
optimize -> problems -> sandbox -> storage. Heavy dependencies (SciPy,
LangChain) are imported where they are used, so the shell starts fast.
"""

__version__ = "0.1.0"
