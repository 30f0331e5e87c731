# The view tests' English client, throwaway media root and matter builder serve these tests too.
from tests.views.conftest import client, matter_at, media_root  # noqa: F401
