"""The ``tinygrad-memo`` command-line application, built on the library.

Nothing in the library imports from here: ``cli`` dispatches to one module per
subcommand (``demo``, ``graph``, ``memo``, ``bench``); ``train`` and ``plots`` serve the demo.
"""
