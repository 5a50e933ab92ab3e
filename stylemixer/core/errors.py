"""Errors a user can cause (bad file, bad recipe). Their message is shown as is; no traceback."""


class StyleMixerError(Exception):
    """Base class: a problem with the user's input, explained in one line."""


class RecipeError(StyleMixerError, ValueError):
    pass


class ModelFileError(StyleMixerError):
    pass
