"""A small client for the parts of Label Studio's REST API the backend uses.

Standard library only (``urllib``): projects, task import, predictions,
model versions, ML backends, webhooks and the next task of a project. The
token is sent in the ``Authorization`` header and nowhere else: it is kept
out of ``repr``, of error messages and of logs.

Label Studio 1.23 takes two kinds of tokens: a legacy token (``Authorization:
Token <key>``, what ``LABEL_STUDIO_USER_TOKEN`` sets when Label Studio
starts, with legacy tokens enabled), and a personal access token (a JWT
refresh token, exchanged at ``/api/token/refresh`` for an access token sent
as ``Bearer``). The client tells them apart by their form.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["LabelStudioClient", "LabelStudioError"]

#: Tasks (and predictions) sent per import request.
IMPORT_CHUNK = 1000
#: Tasks read per page.
PAGE_SIZE = 500


class LabelStudioError(RuntimeError):
    """Label Studio refused a request or could not be reached.

    Attributes
    ----------
    status : int or None
        The HTTP status (None when Label Studio was not reached).
    method, path : str
        The request (the path without the host or any token).
    """

    def __init__(self, message, *, status=None, method="", path=""):
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path


def _is_jwt(token):
    parts = token.split(".")
    return len(parts) == 3 and all(parts) and token.startswith("eyJ")


class LabelStudioClient:
    """Label Studio's REST API at ``url``, with the token of one user.

    Parameters
    ----------
    url : str
        Label Studio's address, such as ``http://127.0.0.1:8080``.
    token : str
        The user's API token (legacy token or personal access token).
    timeout : float, default=60.0
        Seconds per request.

    Examples
    --------
    >>> client = LabelStudioClient("http://127.0.0.1:8080", "secret-token")
    >>> client
    LabelStudioClient('http://127.0.0.1:8080')
    """

    def __init__(self, url, token, *, timeout=60.0):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(
                "The 'url' parameter must be Label Studio's address starting with "
                f"http:// or https:// (such as http://127.0.0.1:8080). Got {url!r} "
                "instead."
            )
        if not isinstance(token, str) or not token.strip():
            raise ValueError(
                "The 'token' parameter must be a Label Studio API token (Account & "
                "Settings > Access Token). Got an empty value instead."
            )
        self.url = url.rstrip("/")
        self._token = token.strip()
        self._access = None
        self.timeout = float(timeout)

    def __repr__(self):
        return f"LabelStudioClient({self.url!r})"

    # Transport -----------------------------------------------------------------

    def _authorization(self, refresh=False):
        if not _is_jwt(self._token):
            return f"Token {self._token}"
        if self._access is None or refresh:
            answer = self._send(
                "POST",
                "/api/token/refresh/",
                {"refresh": self._token},
                authorization=None,
            )
            self._access = answer.get("access") if isinstance(answer, dict) else None
            if not self._access:
                raise LabelStudioError(
                    "Label Studio did not exchange the personal access token for an "
                    "access token (/api/token/refresh/).",
                    method="POST",
                    path="/api/token/refresh/",
                )
        return f"Bearer {self._access}"

    def _send(self, method, path, body=None, *, params=None, authorization=""):
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if authorization:
            headers["Authorization"] = authorization
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:2000].decode("utf-8", "replace")
            try:
                parsed = json.loads(detail)
                if isinstance(parsed, dict):
                    detail = (
                        parsed.get("detail")
                        or parsed.get("validation_errors")
                        or parsed.get("message")
                        or parsed
                    )
            except ValueError:
                pass
            hint = ""
            if error.code in (401, 403):
                hint = (
                    " The API token was refused: check the token (Account & Settings "
                    "> Access Token; a legacy token needs legacy tokens enabled in "
                    "the organization)."
                )
            raise LabelStudioError(
                f"Label Studio answered {error.code} to {method} {path}: "
                f"{detail}.{hint}",
                status=error.code,
                method=method,
                path=path,
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise LabelStudioError(
                f"Label Studio at {self.url} could not be reached ({reason}) for "
                f"{method} {path}. Is it running? Start it with 'label-studio start'.",
                method=method,
                path=path,
            ) from None
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise LabelStudioError(
                f"Label Studio answered {method} {path} with something that is not "
                "JSON: is the URL Label Studio's?",
                method=method,
                path=path,
            ) from None

    def request(self, method, path, body=None, *, params=None):
        """Send one API request and return its JSON answer.

        Parameters
        ----------
        method : str
        path : str
            Starting with ``/api/``.
        body : object or None, default=None
            Sent as JSON.
        params : dict or None, default=None
            The query string.

        Returns
        -------
        answer : object or None
            The parsed JSON (None for an empty answer).

        Raises
        ------
        LabelStudioError
        """
        try:
            return self._send(
                method, path, body, params=params, authorization=self._authorization()
            )
        except LabelStudioError as error:
            if error.status != 401 or not _is_jwt(self._token):
                raise
            # The short-lived access token expired: get a fresh one, once.
            return self._send(
                method,
                path,
                body,
                params=params,
                authorization=self._authorization(refresh=True),
            )

    # Projects ------------------------------------------------------------------

    def whoami(self):
        """The user the token belongs to (``/api/current-user/whoami``)."""
        return self.request("GET", "/api/current-user/whoami")

    def projects(self):
        """Every project the user sees, as a list of dicts."""
        out, page = [], 1
        while True:
            answer = self.request(
                "GET", "/api/projects/", params={"page": page, "page_size": 100}
            )
            if isinstance(answer, list):
                return answer
            out += answer.get("results", [])
            if not answer.get("next"):
                return out
            page += 1

    def project(self, project_id):
        """One project."""
        return self.request("GET", f"/api/projects/{int(project_id)}/")

    def create_project(self, **fields):
        """Create a project; returns it."""
        return self.request("POST", "/api/projects/", fields)

    def update_project(self, project_id, **fields):
        """Change a project's fields (``PATCH``); returns it."""
        return self.request("PATCH", f"/api/projects/{int(project_id)}/", fields)

    # Tasks and predictions -----------------------------------------------------

    def tasks(self, project_id):
        """Every task of a project with its annotations, page by page.

        Yields
        ------
        task : dict
            ``id``, ``data`` and ``annotations`` (each with ``id``,
            ``result``, ``was_cancelled``, ``completed_by``, ``updated_at``).
        """
        page = 1
        while True:
            try:
                answer = self.request(
                    "GET",
                    "/api/tasks/",
                    params={
                        "project": int(project_id),
                        "page": page,
                        "page_size": PAGE_SIZE,
                        "fields": "all",
                    },
                )
            except LabelStudioError as error:
                if error.status == 404 and page > 1:
                    return  # past the last page
                raise
            tasks = answer.get("tasks", []) if isinstance(answer, dict) else answer
            yield from tasks
            total = answer.get("total") if isinstance(answer, dict) else None
            if (
                not tasks
                or len(tasks) < PAGE_SIZE
                or (total is not None and page * PAGE_SIZE >= total)
            ):
                return
            page += 1

    def import_tasks(self, project_id, tasks):
        """Import tasks (JSON objects with ``data``) into a project.

        Returns
        -------
        n_imported : int
        """
        count = 0
        for start in range(0, len(tasks), IMPORT_CHUNK):
            chunk = tasks[start : start + IMPORT_CHUNK]
            answer = self.request(
                "POST",
                f"/api/projects/{int(project_id)}/import",
                chunk,
                params={"return_task_ids": "true"},
            )
            count += (answer or {}).get("task_count", len(chunk))
        return count

    def import_predictions(self, project_id, predictions):
        """Add predictions (``task``, ``result``, ``score``, ``model_version``).

        Returns
        -------
        n_created : int
        """
        count = 0
        path = f"/api/projects/{int(project_id)}/import/predictions"
        for start in range(0, len(predictions), IMPORT_CHUNK):
            chunk = predictions[start : start + IMPORT_CHUNK]
            answer = self.request("POST", path, chunk)
            created = (answer or {}).get("created", len(chunk))
            if created != len(chunk):
                # Label Studio 1.23 drops the predictions it finds invalid
                # (a score outside [0, 1], a label not in the configuration)
                # and says why in its own log only.
                raise LabelStudioError(
                    f"Label Studio kept {created} of {len(chunk)} predictions sent to "
                    f"POST {path}; its log names the ones it refused (a score "
                    "outside [0, 1], a label its configuration lacks).",
                    status=201,
                    method="POST",
                    path=path,
                )
            count += created
        return count

    def model_versions(self, project_id):
        """The prediction model versions of a project with their counts.

        Returns
        -------
        versions : dict of {str: int}
        """
        answer = self.request("GET", f"/api/projects/{int(project_id)}/model-versions/")
        return dict(answer or {})

    def delete_model_version(self, project_id, model_version):
        """Delete the predictions of one model version."""
        return self.request(
            "DELETE",
            f"/api/projects/{int(project_id)}/model-versions/",
            {"model_version": model_version},
        )

    def next_task(self, project_id):
        """The task Label Studio serves the user next (None when none is left)."""
        try:
            return self.request("GET", f"/api/projects/{int(project_id)}/next/")
        except LabelStudioError as error:
            if error.status == 404:
                return None
            raise

    def create_annotation(self, task_id, result, *, was_cancelled=False):
        """Annotate a task as the token's user (what the labeling UI does)."""
        return self.request(
            "POST",
            f"/api/tasks/{int(task_id)}/annotations/",
            {"result": result, "was_cancelled": bool(was_cancelled)},
        )

    # ML backends and webhooks --------------------------------------------------

    def ml_backends(self, project_id):
        """The ML backends of a project."""
        return self.request("GET", "/api/ml/", params={"project": int(project_id)})

    def add_ml_backend(self, **fields):
        """Register an ML backend (Label Studio calls its /health and /setup)."""
        return self.request("POST", "/api/ml/", fields)

    def update_ml_backend(self, backend_id, **fields):
        """Change an ML backend's fields."""
        return self.request("PATCH", f"/api/ml/{int(backend_id)}", fields)

    def delete_ml_backend(self, backend_id):
        """Remove an ML backend from its project."""
        return self.request("DELETE", f"/api/ml/{int(backend_id)}")

    def webhooks(self, project_id):
        """The webhooks of a project."""
        return self.request(
            "GET", "/api/webhooks/", params={"project": int(project_id)}
        )

    def add_webhook(self, **fields):
        """Create a webhook."""
        return self.request("POST", "/api/webhooks/", fields)

    def update_webhook(self, webhook_id, **fields):
        """Change a webhook's fields."""
        return self.request("PATCH", f"/api/webhooks/{int(webhook_id)}/", fields)

    def delete_webhook(self, webhook_id):
        """Delete a webhook."""
        return self.request("DELETE", f"/api/webhooks/{int(webhook_id)}/")
