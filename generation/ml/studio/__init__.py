"""Studio stages after generation: resolution, lighting, colour and background, in plain
NumPy/OpenCV/PyTorch (no Django). ``pipeline`` names and runs them; ``base`` holds what they share.
See docs/studio.md."""
