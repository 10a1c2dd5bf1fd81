try:
    from .demo_heritage.settings import *
except ImportError:
    pass
# >>> arches-storage: managed by generator-arches-storage, re-run it to change >>>
# Secrets for the storage backend. This file must stay out of version control.
AWS_ACCESS_KEY_ID = "AKIAFIXTURE7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFIXTURESECRET"
# <<< arches-storage <<<
