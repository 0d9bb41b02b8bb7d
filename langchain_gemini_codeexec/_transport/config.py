"""Client configuration: a google-genai client built the way the SDK documents it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_gemini_codeexec._transport.sdk import types

if TYPE_CHECKING:
    from google.genai import Client


def build_client(
    *,
    api_key: str | None,
    vertexai: bool,
    project: str | None,
    location: str | None,
    credentials: Any,
    base_url: str | None,
    api_version: str | None,
    headers: dict[str, str] | None = None,
    client_args: dict[str, Any] | None = None,
    async_client_args: dict[str, Any] | None = None,
) -> Client:
    """A google-genai client for a model's settings.

    It has no default timeout: `Transport` applies the model's timeout per request.
    `client_args` / `async_client_args` go to the SDK's HTTP clients (an httpx transport
    in `async_client_args` makes async calls use httpx instead of aiohttp).
    """
    from google.genai import Client  # here, not at the top: see _sdk._LazyModule

    http_options = types.HttpOptions(
        base_url=base_url,
        # Code execution, thinking and JSON-schema answers are documented on v1beta; the
        # SDK 3.x default for the Developer API is v1, so pin v1beta unless told otherwise.
        api_version=api_version or (None if vertexai else "v1beta"),
        headers=headers,
        client_args=client_args,
        async_client_args=async_client_args,
        # One attempt inside the SDK: retries are ours (see _retry).
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    if vertexai:
        if api_key and not project:
            return Client(vertexai=True, api_key=api_key, http_options=http_options)
        return Client(
            vertexai=True,
            project=project,
            location=location,
            credentials=credentials,
            http_options=http_options,
        )
    # vertexai=False said outright: else the SDK reads GOOGLE_GENAI_USE_VERTEXAI itself.
    return Client(vertexai=False, api_key=api_key, http_options=http_options)


def check_api_key(key: str) -> None:
    """Refuse a key that cannot go into an HTTP header, without ever echoing it.

    httpx's error for such a header value quotes the value, so without this check a key
    pasted with a newline or a non-ASCII character would end up in an error message.
    """
    for position, char in enumerate(key):
        if not (0x21 <= ord(char) <= 0x7E):
            raise ValueError(
                f"api_key: character {position + 1} of {len(key)} is not allowed (a space, "
                "control character or non-ASCII character); an API key is printable ASCII "
                "only. The key itself is not shown."
            )


def model_path(client: Client, model: str) -> str:
    """The resource path of a model, as the SDK would build it."""
    if "/" in model and model.startswith(("models/", "tunedModels/", "projects/", "publishers/")):
        return model
    if client.vertexai:
        if "/" in model:
            publisher, name = model.split("/", 1)
            return f"publishers/{publisher}/models/{name}"
        return f"publishers/google/models/{model}"
    return f"models/{model}"
