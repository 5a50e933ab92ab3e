"""Training the built-in generator: discriminator, loop and CLI commands."""
