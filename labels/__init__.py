"""Label rendering: bytes in, bytes out."""

from labels.pdf import LabelData, render_return_label

__all__ = ["LabelData", "render_return_label"]
