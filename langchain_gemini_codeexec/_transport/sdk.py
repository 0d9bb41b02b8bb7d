"""The one seam to google-genai's private API: every access to it is in this module.

We keep the SDK for what it does well (auth, Vertex and Developer endpoints and URLs,
the httpx/httpx2/aiohttp clients and their TLS setup, typed HTTP errors, SSE framing), but
send the request body we built and read the body it got back ourselves: the SDK's typed
response models drop fields they do not know and re-encode every base64 payload. Its
public `should_return_http_response` only exists on the typed methods (which would parse
our contents into its models first), so it covers none of our paths.

Everything private used here is listed in `PRIVATE_SURFACE`, and
`tests/protocol/test_sdk_seam.py` checks that it exists with these signatures, so an SDK
release that moves it fails one clear test instead of every call.

We call `_request_once` / `_async_request_once` (one HTTP attempt) instead of the SDK's
retrying wrappers: retries are ours, and `implicit_retry=False` turns off the hidden
aiohttp reconnect (1-10 s of sleep and a second attempt) even on a client the user built.
Responses are always requested streamed, so that we read the body (and its status and
headers) ourselves: a deadline can stop a trickling body, and SSE events are parsed once.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any


class _LazyModule:
    """A module imported on first attribute access.

    `import google.genai` takes about as long as all of LangChain's chat model machinery
    (pydantic models, httpx, aiohttp): it is loaded when a client is built (or an SDK
    error is classified), not when this package is imported.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = sys.modules.get(self._name) or importlib.import_module(self._name)
        return getattr(module, attr)


if TYPE_CHECKING:
    from google.genai import Client
    from google.genai import errors as errors
    from google.genai import types as types
else:
    errors = _LazyModule("google.genai.errors")
    types = _LazyModule("google.genai.types")

# (module, qualified name, parameter names) of everything private this module uses.
PRIVATE_SURFACE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("google.genai.client", "Client._api_client", ()),
    (
        "google.genai._api_client",
        "BaseApiClient._build_request",
        ("self", "http_method", "path", "request_dict", "http_options"),
    ),
    ("google.genai._api_client", "BaseApiClient._request_once", ("self", "http_request", "stream")),
    (
        "google.genai._api_client",
        "BaseApiClient._async_request_once",
        ("self", "http_request", "stream", "implicit_retry"),
    ),
    ("google.genai._api_client", "BaseApiClient._use_aiohttp", ("self",)),
    ("google.genai._api_client", "BaseApiClient._http_options", ()),
    ("google.genai._api_client", "BaseApiClient._httpx_client", ()),
    ("google.genai._api_client", "BaseApiClient._async_httpx_client", ()),
    ("google.genai._api_client", "BaseApiClient._async_client_session_request_args", ()),
    ("google.genai._api_client", "BaseApiClient._aiohttp_sessions", ()),
    ("google.genai._api_client", "BaseApiClient.vertexai", ()),
    ("google.genai._api_client", "BaseApiClient.project", ()),
    ("google.genai._api_client", "BaseApiClient.location", ()),
    ("google.genai._api_client", "HttpResponse.response_stream", ()),
    ("google.genai._api_client", "HttpResponse._iter_response_stream", ("self",)),
    ("google.genai._api_client", "HttpResponse._aiter_response_stream", ("self",)),
    ("google.genai._api_client", "has_aiohttp", ()),
)


def _api(client: Client) -> Any:
    return client._api_client


def http_options(client: Client) -> types.HttpOptions:
    """The client's own HttpOptions (base URL, API version, headers)."""
    options: types.HttpOptions = _api(client)._http_options
    return options


def files_base(client: Client) -> str:
    """Prefix that turns a Files API name (`files/abc`) into its URI."""
    options = http_options(client)
    base = (options.base_url or "https://generativelanguage.googleapis.com/").rstrip("/")
    return f"{base}/{options.api_version or 'v1beta'}"


def vertex_prefix(client: Client) -> str | None:
    """`projects/P/locations/L` that the SDK puts before Vertex AI paths, else None."""
    api = _api(client)
    if api.vertexai and (api.project or api.location):
        return f"projects/{api.project}/locations/{api.location}"
    return None


def forbid_redirects(client: Client) -> None:
    """Make every HTTP path of `client` answer a 3xx as an error instead of following it.

    A redirect would carry `x-goog-api-key` (and for 307/308 the whole request) to
    wherever the server points. The SDK's httpx clients follow redirects by default and
    aiohttp does too; this turns that off for the sync and async httpx clients (and the
    per-event-loop clients the SDK derives from the async one) and for aiohttp requests.
    """
    api = _api(client)
    for httpx_client in (api._httpx_client, api._async_httpx_client):
        if httpx_client is None:
            continue
        if hasattr(httpx_client, "follow_redirects"):
            httpx_client.follow_redirects = False
        kwargs = getattr(httpx_client, "_client_kwargs", None)  # the per-loop template
        if isinstance(kwargs, dict):
            kwargs["follow_redirects"] = False
        for inner in list(getattr(httpx_client, "_loop_clients", {}).values()):
            inner.follow_redirects = False
    request_args = getattr(api, "_async_client_session_request_args", None)
    if isinstance(request_args, dict):
        request_args["allow_redirects"] = False


def build_request(
    client: Client,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    options: types.HttpOptions | None,
) -> Any:
    """The SDK's HttpRequest for `path` (URL, auth-free headers, timeout)."""
    # The SDK deletes keys starting with "_" from the dict it is given: pass a copy.
    return _api(client)._build_request(method, path, dict(body or {}), options)


def send(client: Client, request: Any) -> Any:
    """One sync attempt; the SDK raises APIError for a non-200 status."""
    return _api(client)._request_once(request, True)


async def asend(client: Client, request: Any) -> Any:
    """One async attempt (no hidden aiohttp reconnect)."""
    return await _api(client)._async_request_once(request, True, implicit_retry=False)


def raw_response(response: Any) -> Any:
    """The HTTP library's own response object (httpx / httpx2 / aiohttp)."""
    return response.response_stream


def events(response: Any) -> Iterator[str]:
    """The `data:` payloads of an SSE answer, as strings (not parsed)."""
    return response._iter_response_stream()  # type: ignore[no-any-return]


def aevents(response: Any) -> AsyncIterator[str]:
    """`events` for an async answer."""
    return response._aiter_response_stream()  # type: ignore[no-any-return]


def uses_aiohttp(client: Client) -> bool:
    """Whether async calls of `client` go through aiohttp (else through httpx/httpx2)."""
    return bool(_api(client)._use_aiohttp())


def http_library(client: Client, *, is_async: bool) -> str:
    """`"aiohttp"`, `"httpx"` or `"httpx2"`: which library carries `client`'s calls."""
    api = _api(client)
    if is_async and api._use_aiohttp():
        return "aiohttp"
    http_client = api._async_httpx_client if is_async else api._httpx_client
    for cls in type(http_client).__mro__:
        package = cls.__module__.split(".")[0]
        if package in ("httpx", "httpx2"):
            return package
    raise RuntimeError(f"unknown HTTP client {http_client!r}")


def async_path_used(client: Client) -> bool:
    """True once an async request went through `client` (an aiohttp session or httpx pool)."""
    api = _api(client)
    if api._use_aiohttp():
        return bool(api._aiohttp_sessions)
    clients = getattr(api._async_httpx_client, "_loop_clients", None)
    if clients is not None:  # google-genai >= 3.1: one httpx client per event loop
        return bool(clients)
    # google-genai 3.0: one AsyncClient; used once its pool has opened a connection.
    pool = getattr(getattr(api._async_httpx_client, "_transport", None), "_pool", None)
    return bool(getattr(pool, "connections", None))


def set_aiohttp_available(monkeypatch: Any, available: bool) -> None:
    """Tests: make clients built from now on use (or not use) aiohttp for async calls."""
    module = importlib.import_module("google.genai._api_client")
    monkeypatch.setattr(module, "has_aiohttp", available)


def missing_private_surface() -> list[str]:
    """What of `PRIVATE_SURFACE` this google-genai lacks (empty when all is there)."""
    missing = []
    for module_name, qualname, params in PRIVATE_SURFACE:
        module = importlib.import_module(module_name)
        owner_name, _, attr = qualname.rpartition(".")
        owner: Any = getattr(module, owner_name, None) if owner_name else module
        if owner is None:
            missing.append(f"{module_name}.{qualname}")
            continue
        target = getattr(owner, attr, None)
        if target is None:
            # Instance attributes are set in __init__: look for the assignment there.
            source = inspect.getsource(owner.__init__) if inspect.isclass(owner) else ""
            if f"self.{attr}" not in source:
                missing.append(f"{module_name}.{qualname}")
            continue
        if params and list(inspect.signature(target).parameters)[: len(params)] != list(params):
            missing.append(f"{module_name}.{qualname}{tuple(params)}")
    return missing
