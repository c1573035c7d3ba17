"""The REST half of the facade: python-kraken-sdk's ``request()`` over ``httpx``.

python-kraken-sdk's ``SpotWSClient`` inherits a whole REST client (aiohttp) only to fetch the
WebSocket token, and users reach it through ``request()``. This module keeps that surface with
``httpx``: the same signature, Kraken's ``API-Sign`` for ``auth=True``, ``result`` unwrapped,
errors raised as exceptions. The ``httpx.AsyncClient`` opens on the first request (so a client
that never calls REST leaves nothing to close, unlike pks's eager aiohttp session).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

from ..auth import NONCE_UNITS_PER_SECOND, TokenProvider, http_client, sign
from ..exceptions import AuthenticationError, KrakenAPIError, api_error_for
from .exceptions import KrakenAuthenticationError

__all__ = ["FacadeTokens", "RestSession"]

# Errors that mean "these credentials will not work": raised as KrakenAuthenticationError.
_AUTH_ERRORS = ("EAPI:Invalid key", "EAPI:Invalid signature", "EAPI:Invalid nonce")


class RestSession:
    """Signed and unsigned Kraken REST calls, shaped like python-kraken-sdk's ``request``.

    Args:
        key: API key.
        secret: API secret (base64).
        url: REST base URL.
        headers: Headers sent with every request.
        timeout: Default timeout in seconds (python-kraken-sdk's ``TIMEOUT``).
    """

    def __init__(
        self, key: str, secret: str, url: str, headers: dict[str, str], timeout: float
    ) -> None:
        self.url = url
        self.timeout = timeout
        self._key = key
        self._secret = secret
        self._headers = dict(headers)
        self._http: httpx.AsyncClient | None = None
        self._last_nonce = 0

    def get_nonce(self) -> str:
        """A new nonce: python-kraken-sdk's scale (10 ns units), strictly increasing.

        Returns:
            The nonce as a string.
        """
        # pks can repeat a nonce when called twice within 10 ns of clock resolution; Kraken
        # rejects a nonce that is not larger than the last one, so never repeat.
        self._last_nonce = max(int(time.time() * NONCE_UNITS_PER_SECOND), self._last_nonce + 1)
        return str(self._last_nonce)

    @staticmethod
    def unique_id() -> str:
        """A uuid1 as 32 hex digits (python-kraken-sdk's ``return_unique_id``)."""
        return uuid.uuid1().hex

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, Any] | None = None,
        timeout: float = 10,
        *,
        auth: bool = True,
        do_json: bool = False,
        return_raw: bool = False,
        query_str: str | None = None,
        extra_params: str | dict[str, Any] | None = None,
    ) -> Any:
        """Send one REST request (see ``SpotWSClient.request`` for the arguments).

        Returns:
            ``result`` of Kraken's envelope, the whole JSON body when it has no ``error`` key, or
            the ``httpx.Response`` itself with ``return_raw``.

        Raises:
            KrakenAuthenticationError: No credentials for ``auth=True``, or Kraken refused them.
            KrakenAPIError: Kraken answered with another error, or with a non-200 status.
            httpx.HTTPError: The request failed in transit.
        """
        method = method.upper()
        url = urljoin(self.url, uri)
        # A copy: adding the nonce must not change the caller's dict.
        body: dict[str, Any] = dict(params or {})
        if extra_params is not None:
            body |= json.loads(extra_params) if isinstance(extra_params, str) else extra_params
        query = urlencode(body, doseq=True) if method in {"GET", "DELETE"} and body else ""
        if query_str:
            query = f"{query}&{query_str}" if query else query_str
        headers = dict(self._headers)
        data = ""
        if auth:
            if not self._key or not self._secret:
                raise KrakenAuthenticationError("Missing credentials.")
            body["nonce"] = self.get_nonce()
            if do_json:
                headers["Content-Type"] = "application/json; charset=utf-8"
                data = json.dumps(body)
            else:
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
                data = urlencode(body, doseq=True)
            path = uri + (f"?{query}" if query else "")
            headers["API-Key"] = self._key
            headers["API-Sign"] = sign(path, body["nonce"], data, self._secret)
        elif method not in {"GET", "DELETE"}:
            data = json.dumps(body) if do_json else urlencode(body, doseq=True)
            if do_json:
                headers["Content-Type"] = "application/json; charset=utf-8"
            elif data:
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        # pks semantics: the default 10 means "the client's TIMEOUT".
        seconds = self.timeout if timeout == 10 else timeout
        http = self._http or await self._open_http()
        response = await http.request(
            method,
            f"{url}?{query}" if query else url,
            content=data.encode() if method not in {"GET", "DELETE"} else None,
            headers=headers,
            timeout=seconds,
        )
        return self._check(response, uri, return_raw=return_raw)

    async def _open_http(self) -> httpx.AsyncClient:
        client = await http_client()
        # Another request may have opened one while we awaited: keep a single client.
        if self._http is None:
            self._http = client
            return client
        await client.aclose()
        return self._http

    @staticmethod
    def _check(response: httpx.Response, uri: str, *, return_raw: bool) -> Any:
        if response.status_code != 200:
            raise KrakenAPIError(f"HTTP {response.status_code}: {response.text[:200]}", method=uri)
        if return_raw:
            return response
        data = response.json()
        if not isinstance(data, dict) or "error" not in data:
            return data
        errors = data["error"]
        if not errors and "result" in data:
            return data["result"]
        error = str(errors[0]) if isinstance(errors, list) and errors else str(errors)
        if error.startswith(_AUTH_ERRORS):
            raise KrakenAuthenticationError(f"{uri}: {error}", error=error)
        raise api_error_for(error, method=uri, response=data)

    async def aclose(self) -> None:
        """Close the HTTP connection pool (idempotent)."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()


class FacadeTokens(TokenProvider):
    """Token fetches through the facade's ``get_ws_token``.

    One nonce source for every signed request of the key (REST calls and token fetches alike):
    Kraken rejects a nonce that is not larger than the last one it saw, so two independent
    sources would refuse each other's requests. It also honours a subclass's ``get_ws_token``.

    Args:
        key: API key.
        secret: API secret (base64).
        rest_url: REST base URL.
        get_ws_token: The facade's ``get_ws_token`` (``{"token": ..., "expires": ...}``).
    """

    def __init__(
        self,
        key: str,
        secret: str,
        rest_url: str,
        get_ws_token: Callable[[], Awaitable[dict[str, Any]]],
    ) -> None:
        super().__init__(key, secret, rest_url=rest_url)
        self._get_ws_token = get_ws_token

    async def _fetch(self) -> str:
        if not self.has_credentials:
            raise KrakenAuthenticationError("an API key and secret are required")
        self.fetch_count += 1
        try:
            result = await self._get_ws_token()
        except AuthenticationError:
            raise  # refused credentials: terminal for the reconnect policy
        except KrakenAPIError as exc:
            if exc.error.startswith("HTTP "):
                # A server-side hiccup, not a verdict on the credentials: retried.
                raise AuthenticationError(f"token request failed: {exc.error}") from exc
            raise AuthenticationError(
                f"token request refused: {exc.error}", error=exc.error
            ) from exc
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise AuthenticationError(f"token request failed: {type(exc).__name__}") from exc
        token = result.get("token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("token endpoint answered without a token")
        return token
