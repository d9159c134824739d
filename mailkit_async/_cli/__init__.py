"""The `mailkit-async` command (also `python -m mailkit_async`).

Private: `import mailkit_async` never imports this package, nor what only it needs.
"""

from ._main import main

__all__ = ["main"]
