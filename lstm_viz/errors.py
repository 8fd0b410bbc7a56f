"""The project's own error type: a message a person can act on, shown in the UI as it is."""


class InputError(ValueError):
    """Bad user input (a sequence or model file, a parameter).

    The message says what is wrong and how to fix it.
    """
