"""Training data: the procedural faces set and folders of user images."""
