try:
    from .demo_heritage.settings import *
except ImportError:
    pass
# >>> arches-storage: managed by generator-arches-storage, re-run it to change >>>
# Secrets for the storage backend. This file must stay out of version control.
AZURE_ACCOUNT_KEY = "QXp1cmVGaXh0dXJlQWNjb3VudEtleQ=="
# <<< arches-storage <<<
