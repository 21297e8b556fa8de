"""CDS client authentication: a Bearer JWT signed by a trusted issuer (CDS Hooks 2.0 §Trusting).

Checks, with PyJWT: `alg` in an allowlist of asymmetric algorithms (never `none` or HMAC); the
key chosen by `kid` from the issuer's JWKS (static in config, or fetched from its allowlisted
`jku`, cached, refetched on an unknown `kid` at most once per 5 minutes with one fetch in flight,
see `KeyStore`); `iss` in TRUSTED_ISSUERS; `aud` equal to the exact URL called (PUBLIC_BASE_URL +
path); `exp`, `iat`, `nbf` with a small leeway; `jti` not seen before within the token's lifetime
(in the embedded database, shared by every worker and kept across restarts, or in Redis when
REDIS_URL is set so that several machines share it); optional per-issuer `tenant`. Every failure
is a 401 with no detail; the log line says why, never the token.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import jwt
import requests
import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import request

from service import config as cfg
from service import database
from service.errors import Unauthorized


log = logging.getLogger("b12cds")
ALGORITHMS = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
LEEWAY_S = 60
JWKS_TTL_S = 3600
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")


JWKS_TIMEOUT_S = 2.0  # default of the JWKS_TIMEOUT_S setting: short, unlike FHIR_TIMEOUT_S
REFETCH_INTERVAL_S = 300  # an unknown kid refetches a cached JWKS at most this often per URL
RETRY_AFTER_FAILURE_S = 10  # a JWKS that could not be fetched is not asked again sooner


class _KeySet:
    """One allowlisted JWKS URL: its keys, when they were fetched and whether a fetch runs."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] | None = None
        self.fetched_at = 0.0  # monotonic time of the last successful fetch
        self.attempted_at: float | None = None  # monotonic time of the last fetch started
        self.failed = False  # whether that fetch failed
        self.in_flight = False
        self.lock = threading.Lock()


class KeyStore:
    """JWKS per issuer: static from config, or fetched from the allowlisted `jku` and cached.

    Fetches are driven by unauthenticated input (any caller can name an unknown `kid`), so they
    are bounded per URL, per process:

    - the key set is cached for JWKS_TTL_S; the first fetch for a URL is always allowed;
    - an unknown `kid` refetches the cached set at most once per REFETCH_INTERVAL_S since the
      last fetch (key rotation is picked up within that window); sooner, the call is refused;
    - after a failed fetch the URL is not asked again for RETRY_AFTER_FAILURE_S;
    - one fetch is in flight per URL (single flight), with a short timeout (JWKS_TIMEOUT_S).
      A caller that would need a fetch while one is in flight does not wait for it: it is
      refused at once (or served the stale set, when the fetch only renews an expired cache).
      Waiting would hold a server thread per unauthenticated call for up to the timeout, which
      is how a hanging JWKS endpoint queued every call, /healthz included, behind it; a
      legitimate client only loses calls made during the first fetch of a URL.

    `clock` is the monotonic clock (tests inject one to pass the refetch window).
    """

    def __init__(
        self,
        session: requests.Session,
        timeout_s: float = JWKS_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.timeout_s = timeout_s
        self.clock = clock
        self._sets: dict[str, _KeySet] = {}
        self._lock = threading.Lock()

    def _key_set(self, url: str) -> _KeySet:
        with self._lock:
            return self._sets.setdefault(url, _KeySet())

    def _fetch(self, url: str) -> dict[str, Any]:
        try:
            response = self.session.get(url, timeout=self.timeout_s)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise Unauthorized(f"jwks fetch failed: {type(exc).__name__}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise Unauthorized("jwks fetch returned no key set")
        return body

    def jwks(self, url: str, refresh: bool = False) -> dict[str, Any]:
        """Return the key set at an allowlisted URL, from cache unless stale or `refresh`
        (an unknown kid); raise Unauthorized when a fetch is needed but not allowed now."""
        entry = self._key_set(url)
        with entry.lock:
            now = self.clock()
            fresh = entry.keys is not None and now < entry.fetched_at + JWKS_TTL_S
            if entry.keys is not None and fresh and not refresh:
                return entry.keys
            if entry.in_flight:
                if entry.keys is not None and not refresh:
                    return entry.keys  # expired, being renewed: the old set meanwhile
                raise Unauthorized("jwks fetch already in flight")
            since = None if entry.attempted_at is None else now - entry.attempted_at
            if since is not None and entry.failed and since < RETRY_AFTER_FAILURE_S:
                raise Unauthorized("jwks fetch failed recently")
            if refresh and fresh and since is not None and since < REFETCH_INTERVAL_S:
                raise Unauthorized("unknown kid; jwks refetched less than 5 minutes ago")
            entry.in_flight = True
            entry.attempted_at = now
        body: dict[str, Any] | None = None
        try:
            body = self._fetch(url)
        finally:
            with entry.lock:
                entry.in_flight = False
                entry.failed = body is None
                if body is not None:
                    entry.keys = body
                    entry.fetched_at = self.clock()
        return body

    def key_for(self, url: str, kid: str | None, alg: str) -> Any:
        """Return the key for `kid` at an allowlisted URL, refetching once if it is unknown."""
        key = _find_key(self.jwks(url), kid, alg)
        if key is None:
            log.info("unknown kid: jwks refetch requested", extra={"jwks_url": url})
            key = _find_key(self.jwks(url, refresh=True), kid, alg)
        return key


def _find_key(jwks: Mapping[str, Any], kid: str | None, alg: str) -> Any:
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
    if kid is not None:
        keys = [k for k in keys if k.get("kid") == kid]
    elif len(keys) != 1:
        return None
    for key in keys:
        try:
            return jwt.PyJWK(key, algorithm=alg).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return None


class ReplayCache:
    """`jti` values seen, kept until their token expires (one process, the default)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_and_add(self, issuer: str, jti: str, exp: float) -> bool:
        """Return True for a first use of (issuer, jti), False for a replay."""
        now = time.time()
        key = f"{issuer}\x1f{jti}"
        with self._lock:
            if len(self._seen) > 10000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if self._seen.get(key, 0) > now:
                return False
            self._seen[key] = exp + LEEWAY_S
            return True

    def forget(self, issuer: str, jti: str) -> None:
        """Drop (issuer, jti): a shared store holds it now."""
        with self._lock:
            self._seen.pop(f"{issuer}\x1f{jti}", None)

    def ping(self) -> bool:
        """Return whether the cache can be used (always, in process)."""
        return True


def jti_digest(issuer: str, jti: str) -> str:
    """Return the hex SHA-256 of issuer and `jti`: what a shared replay store keeps."""
    return hashlib.sha256(f"{issuer}\x1f{jti}".encode()).hexdigest()


class DatabaseReplayCache(ReplayCache):
    """`jti` values in the embedded database (DATABASE_URL), the default without REDIS_URL.

    Every worker of one `serve` and every restart on the same database share it. A first use is
    one atomic INSERT of the key (a hash of issuer and `jti`: no token material) with its expiry
    (token `exp` plus the leeway); the primary key makes a second INSERT of the same key fail,
    in any process. A row whose expiry has passed is taken over by an UPDATE guarded by that
    expiry (atomic too), and expired rows are swept at most once per SWEEP_INTERVAL_S per
    process.

    If the database cannot be used, the replay check still runs, in this process: a `jti` is
    checked against the database's rows as they were plus an in-process cache (`ReplayCache`)
    that holds every `jti` this worker accepted during the outage. A replay to the same worker is
    refused; one to another worker during the outage is not seen (the cost of staying available
    while the database is down, issue 12: hook answers must not depend on the audit database).
    One warning is logged per outage, and `ping` reports the store unavailable (/healthz degraded)
    until the database answers again.
    """

    SWEEP_INTERVAL_S = 60.0

    def __init__(
        self,
        db: database.Database,
        clock: Callable[[], float] = time.time,
        sweep_interval_s: float = SWEEP_INTERVAL_S,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sweep_interval_s = sweep_interval_s
        self._next_sweep = time.monotonic()
        self._sweep_lock = threading.Lock()
        self._fallback = ReplayCache()  # this worker's jti during a database outage
        self._outage = False

    def check_and_add(self, issuer: str, jti: str, exp: float) -> bool:
        """Return True for a first use of (issuer, jti), False for a replay: in the database, or
        during its outage in this process (see the class docstring)."""
        if not self._fallback.check_and_add(issuer, jti, exp):
            return False  # seen by this worker during an outage
        try:
            first = self._check_in_database(issuer, jti, exp)
        except sa.exc.SQLAlchemyError as exc:
            if not self._outage:
                self._outage = True
                log.warning(
                    "replay store unavailable: checking in this process",
                    extra={"error": type(exc).__name__},
                )
            return True  # first use in this process: the fallback now holds it
        if self._outage:
            self._outage = False
            log.info("replay store available again")
        self._fallback.forget(issuer, jti)  # the database holds it now
        return first

    def _check_in_database(self, issuer: str, jti: str, exp: float) -> bool:
        key = jti_digest(issuer, jti)
        now = self._clock()
        expires_at = exp + LEEWAY_S
        table = database.JTI_SEEN
        self._db.ensure_schema()
        try:
            with self._db.engine.begin() as connection:
                connection.execute(table.insert().values(key=key, expires_at=expires_at))
            first = True
        except sa.exc.IntegrityError:
            with self._db.engine.begin() as connection:
                taken_over = connection.execute(
                    table.update()
                    .where(table.c.key == key, table.c.expires_at <= now)
                    .values(expires_at=expires_at)
                )
            first = taken_over.rowcount == 1
        self._maybe_sweep(now)
        return first

    def _maybe_sweep(self, now: float) -> None:
        tick = time.monotonic()
        if tick < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = tick + self._sweep_interval_s
            self.sweep(now)
        finally:
            self._sweep_lock.release()

    def sweep(self, now: float | None = None) -> int:
        """Delete the rows whose tokens have expired; return how many."""
        table = database.JTI_SEEN
        moment = self._clock() if now is None else now
        with self._db.engine.begin() as connection:
            result = connection.execute(table.delete().where(table.c.expires_at <= moment))
        return int(result.rowcount)

    def ping(self) -> bool:
        """Return whether the database answers."""
        return self._db.ping()


class RedisReplayCache(ReplayCache):
    """`jti` values in Redis (REDIS_URL), shared by every instance of the service.

    One atomic `SET key 1 NX EX ttl` per call: the first instance to see a `jti` stores it until
    the token expires (plus the leeway); any later use, on any instance, finds it. The key is a
    hash of issuer and `jti`, so no token material is stored. If Redis cannot be reached the call
    is refused (401, reason logged): a replay check that cannot run must not pass.
    """

    def __init__(self, url: str, timeout_s: float) -> None:
        import redis  # imported only when REDIS_URL is set

        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )

    @staticmethod
    def key(issuer: str, jti: str) -> str:
        """Return the Redis key of (issuer, jti)."""
        return f"b12cds:jti:{jti_digest(issuer, jti)}"

    def check_and_add(self, issuer: str, jti: str, exp: float) -> bool:
        """Return True for a first use of (issuer, jti) across all instances, False for a replay."""
        ttl = max(1, int(exp + LEEWAY_S - time.time()) + 1)
        try:
            return bool(self._client.set(self.key(issuer, jti), 1, nx=True, ex=ttl))
        except self._errors as exc:
            raise Unauthorized(f"replay store unavailable: {type(exc).__name__}") from exc

    def ping(self) -> bool:
        """Return whether Redis answers."""
        try:
            return bool(self._client.ping())
        except self._errors:
            return False


def verify(
    token: str,
    audience: str,
    issuers: Mapping[str, Any],
    keys: KeyStore,
    replay: ReplayCache | None = None,
) -> dict[str, Any]:
    """Return the verified claims of a client JWT, or raise Unauthorized (reason logged)."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"malformed token: {type(exc).__name__}") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise Unauthorized(f"algorithm not allowed: {alg!r}")
    issuer = unverified.get("iss")
    trusted = issuers.get(issuer) if isinstance(issuer, str) else None
    if not isinstance(trusted, Mapping):
        raise Unauthorized("issuer not trusted")
    kid = header.get("kid")
    if "jwks" in trusted:
        key = _find_key(trusted["jwks"], kid, alg)
    else:
        url = trusted.get("jku")
        if not url or header.get("jku") not in (None, url):
            raise Unauthorized("jku not allowlisted for the issuer")
        key = keys.key_for(url, kid, alg)
    if key is None:
        raise Unauthorized("no key for kid")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_S,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"token rejected: {type(exc).__name__}") from exc
    tenant = trusted.get("tenant")
    if tenant is not None and claims.get("tenant") != tenant:
        raise Unauthorized("tenant mismatch")
    if replay is not None and not replay.check_and_add(
        str(issuer), str(claims["jti"]), float(claims["exp"])
    ):
        raise Unauthorized("jti replayed")
    return claims


def audience_for(path: str) -> str:
    """Return the audience a token must carry: the exact URL called."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return str(base).rstrip("/") + path
    return request.base_url


def _check() -> None:
    if request.method == "OPTIONS" or not request.path.startswith("/cds-services"):
        return
    if not cfg.as_bool(current_app.config["REQUIRE_JWT"]):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("no bearer token")
    state = current_app.extensions["b12cds.auth"]
    claims = verify(
        token.strip(),
        audience_for(request.path),
        cfg.as_mapping(current_app.config["TRUSTED_ISSUERS"]),
        state["keys"],
        state["replay"],
    )
    request.environ["b12cds.client"] = claims.get("iss")


def init_app(app: Flask, session: requests.Session, db: database.Database) -> None:
    """Check every /cds-services call (the start-up warning when off: service.startup_warnings).

    The jti replay store is Redis when REDIS_URL is set (several machines), else the embedded
    database (every worker of one `serve`, and restarts).
    """
    timeout_s = float(app.config["FHIR_TIMEOUT_S"])
    redis_url = app.config.get("REDIS_URL")
    replay: ReplayCache = (
        RedisReplayCache(str(redis_url), timeout_s) if redis_url else DatabaseReplayCache(db)
    )
    app.extensions["b12cds.auth"] = {
        "keys": KeyStore(session, float(app.config["JWKS_TIMEOUT_S"])),
        "replay": replay,
    }
    app.before_request(_check)


def issuer_fhir_servers(issuer: str | None) -> list[str]:
    """Return the FHIR base URLs a trusted issuer may name (its `fhir_servers` entry)."""
    issuers = cfg.as_mapping(current_app.config["TRUSTED_ISSUERS"])
    trusted = issuers.get(issuer or "")
    if isinstance(trusted, Mapping):
        return cfg.as_list(trusted.get("fhir_servers"))
    return []


def describe_config(app: Flask) -> dict[str, Any]:
    """Return a secret-free summary of the auth configuration (a JSON object in the log)."""
    issuers = cfg.as_mapping(app.config["TRUSTED_ISSUERS"])
    return {
        "require_jwt": cfg.as_bool(app.config["REQUIRE_JWT"]),
        "issuers": sorted(issuers),
        "replay_cache": "redis" if app.config.get("REDIS_URL") else "database",
    }
