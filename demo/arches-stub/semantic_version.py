"""Stand-in for semantic_version (project settings call Version(major=, minor=, patch=))."""


class Version:
    def __init__(self, *args, **kwargs):
        self.parts = (args, kwargs)
