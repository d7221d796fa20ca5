"""Active learning inside Label Studio: a labeling session as its ML backend.

``allsh-label labelstudio PROJECT --connect http://127.0.0.1:8080`` serves a
:class:`~allsh_sklearn.session.LabelingSession` to Label Studio as an ML
backend and sets Label Studio up in one step: Label Studio's uncertainty
sampling (lowest prediction score first) then serves the texts in the order
of the session's batches (ALLSH, or the session's strategy), and every
annotation comes back as a label through a webhook. See the user guide's
"Active learning in Label Studio".

- :class:`LabelStudioBackend`: predictions, webhooks, pulling labels and
  pushing predictions;
- :func:`create_app`: its Starlette application (``/health``, ``/setup``,
  ``/predict``, ``/webhook``), guarded by a shared secret;
- :func:`serve` and :class:`BackgroundBackend`: run it;
- :func:`connect`: make the Label Studio project, import the texts,
  register the backend, set uncertainty sampling;
- :class:`LabelStudioClient`: the small REST client all this uses.

Needs the ``web`` extra (Starlette, uvicorn); Label Studio itself runs in
its own environment (``tools/install_label_studio.sh``).
"""

from ._app import create_app
from ._backend import LabelStudioBackend, Link
from ._client import LabelStudioClient, LabelStudioError
from ._connect import ConnectReport, connect
from ._payloads import PayloadError
from ._serve import BackgroundBackend, check_backend_address, serve

__all__ = [
    "BackgroundBackend",
    "ConnectReport",
    "LabelStudioBackend",
    "LabelStudioClient",
    "LabelStudioError",
    "Link",
    "PayloadError",
    "check_backend_address",
    "connect",
    "create_app",
    "serve",
]
