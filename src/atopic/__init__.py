"""atopic: atopic dermatitis care and cell-therapy trials, from the bedside to the trial report."""

from atopic.errors import InvalidInput

__all__ = ["InvalidInput", "__version__"]
__version__ = "0.1.0"
