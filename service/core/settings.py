"""One settings object for the whole service, read from ANONSCRIBE_* variables and `.env`."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.voiceprint import DEFAULT_THRESHOLD as VOICE_THRESHOLD

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(value: object) -> object:
    """Seconds ("0", "3600"), a number with a unit ("30d", "12h", "2w"), or ISO 8601 ("P30D")."""
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", value.lower())
        if m:
            return timedelta(seconds=float(m[1]) * _UNITS[m[2]])
    return value


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses or networks, separated by commas or spaces ("127.0.0.1, 172.16.0.0/12"); a bare address is a
    one-address network. Host names are refused: the check is against the connecting socket's address."""
    out = []
    for item in re.split(r"[\s,]+", value.strip()):
        if item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ValueError(f"not an IP address or network: {item!r}") from exc
    return out


def _networks(value: str | None) -> str | None:
    parse_networks(value or "")
    return value


def _roles(value: str) -> str:
    known = {"admin", "uploader", "reviewer", "researcher"}
    names = {r for r in re.split(r"[\s,]+", value.strip()) if r}
    if names - known:
        raise ValueError(f"unknown roles: {sorted(names - known)}; roles are {sorted(known)}")
    return ",".join(sorted(names))


Duration = Annotated[timedelta, BeforeValidator(_duration), Field(ge=timedelta(0))]
PositiveDuration = Annotated[timedelta, BeforeValidator(_duration), Field(gt=timedelta(0))]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANONSCRIBE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./anonscribe-data")
    database_url: str | None = None
    # The DB password from a file (a Docker secret), never from the URL in an env literal.
    database_password_file: Path | None = None
    # Unset means the embedded default: a key file in the data dir, created on first `serve`.
    master_key_file: Path | None = None
    blob_dir: Path | None = None

    # Where sealed blobs live: a local directory (one host) or S3-compatible object storage, so API and workers
    # on different machines share them. Either way the store only ever sees ciphertext.
    storage: Literal["local", "s3"] = "local"
    # Unset = AWS S3; e.g. http://storage:8333 (SeaweedFS), http://minio:9000.
    s3_endpoint_url: str | None = None
    s3_bucket: str = "anonscribe"
    # Keys are PREFIX + blob id, so several deployments can share a bucket.
    s3_prefix: str = "blobs/"
    s3_region: str = "us-east-1"
    # Credentials: the access key from here or a file, the secret only from a file (a Docker secret). With none
    # of them set, boto3's own chain applies (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).
    s3_access_key: str | None = None
    s3_access_key_file: Path | None = None
    s3_secret_key_file: Path | None = None
    # Multipart part size: the ciphertext buffered per in-flight part (S3's minimum part is 5 MiB).
    s3_part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024, le=512 * 1024 * 1024)

    queue: Literal["inline", "celery"] | None = None
    broker_url: str | None = None
    # Longer than any job: Redis redelivers an unacked task after this, and our own lease reaper
    # is the faster path for a dead worker.
    broker_visibility_timeout_s: int = 6 * 3600

    whisper_model: str = "base"
    model_cache_dir: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str | None = None
    cpu_threads: int = 0
    language: str = "en"
    batched: bool = True
    # 4 is as fast as 8 on CPU and holds ~270 MB less (encoder attention is ~70 MB per item); try 16 on a GPU.
    batch_size: int = 4
    beam_size: int = 5
    # Decode again, sequentially with temperature fallback, the segments the first pass is unsure of, keeping the
    # new words (pipeline/asr.py: the rule that won in bench/joined_cv.py). Off: after a batched pass it loses.
    second_pass: bool = False
    # Transcribe and diarise at the same time, each on half the CPU threads: 1.39-1.58x faster end to end on 2
    # cores (bench/end_to_end.py, 30 min), for the memory of both stages at once.
    overlap_stages: bool = True
    # With overlap_stages: once diarisation (which finishes first) is done, a second thread decodes the pieces ASR
    # has not started, on the freed CPU (pipeline/pieces.py). Costs one more model worker and a piece's memory.
    asr_handoff: bool = True

    diarise: bool = True
    # A local pyannote pipeline directory (config.yaml + weights), e.g. your copy of community-1.
    diarisation_pipeline: Path | None = None
    # Segmentation window step (x 10 s). Unset: 0.1 (pyannote's default) up to 90 min, 0.2 for longer recordings.
    diarisation_step: float | None = Field(default=None, gt=0.0, le=1.0)
    diarisation_threshold: float = 0.7
    diarisation_batch_size: int = 16
    default_min_speakers: int = 1
    default_max_speakers: int = 4
    # Label a new recording's slot Interviewer when its voice matches one of the study's enrolled staff voice
    # profiles at this cosine score or above (bench/voice_profile.py on the shared AMI clips); below it, or with no
    # profile, the heuristic decides.
    voice_profiles: bool = True
    voice_match_threshold: float = Field(default=VOICE_THRESHOLD, ge=-1.0, le=1.0)

    # Give Whisper the recording's known names (and Teams speaker names) as hotwords on every segment. Off: the bias
    # also rewrites speech that names nobody ("Neither did I" -> "Needs a design"); name_respelling keeps the gain.
    asr_name_hints: bool = False
    # After plain decoding, heard words that sound like a known name (or a police force's area) take its spelling,
    # and segments still unsure get a second listen with the names as hotwords, kept only where the plain hearing
    # sounds like the name (pipeline/redact/respell.py, pipeline/name_pass.py; bench/name_hints.py).
    name_respelling: bool = True
    # Approve transcripts with no uncertain span without a reviewer (admin opt-in; off by default).
    auto_approve: bool = False
    study: str = "default"
    # The researcher library shows participant pseudonyms ("VIC-03"), never the study's participant codes, unless
    # an admin turns this on (codes then appear in listings and manifests and can be filtered by; never in text).
    library_show_participant_codes: bool = False

    # Web UI sessions: an absolute lifetime and an idle timeout. The cookie is `Secure` when this is true, or when
    # unset and the request came over HTTPS (set it true behind a TLS-terminating proxy that speaks plain HTTP).
    web_session_max_age_s: int = Field(default=8 * 3600, ge=60)
    web_session_idle_s: int = Field(default=3600, ge=60)
    web_cookie_secure: bool | None = None

    # Reverse proxies whose X-Forwarded-For (the client's address) and X-Forwarded-Proto are believed: addresses
    # or networks, comma-separated. Empty = none: the client address is the connecting socket's, because a
    # client that may name its own address chooses what the sign-in throttle counts and the audit log records.
    trusted_proxies: Annotated[str | None, AfterValidator(_networks)] = None

    # Failed sign-ins (API token or web form) from one client address: after this many within the window its
    # failures get 429 until the window has passed and are not audited (a valid token still works). 0 = off.
    # Behind a reverse proxy set TRUSTED_PROXIES to the proxy's address, or every client shares its count.
    login_failure_limit: int = Field(default=20, ge=0)
    login_failure_window_s: int = Field(default=600, ge=1)

    # Single sign-on with an OpenID provider (README "Single sign-on"); on when an issuer is set. The client secret
    # only from a file (a Docker secret); without one the client is public and PKCE alone binds the code.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret_file: Path | None = None
    oidc_scopes: str = "openid email profile"
    # Which claim finds the user: the provider's stable `sub` (default), or a verified `email` an admin bound.
    oidc_user_claim: Literal["sub", "email"] = "sub"
    # Roles from a group claim: {"group as the provider sends it": "role"}, as JSON; the first listed group the
    # user is in decides. Unset: roles are the admin's, on the Users page.
    oidc_groups_claim: str | None = None
    oidc_group_roles: dict[str, Literal["admin", "uploader", "reviewer", "researcher"]] = Field(default_factory=dict)
    # Someone the provider knows but no admin bound: refused (default), or made an inactive user for approval.
    oidc_unknown_users: Literal["refuse", "pending"] = "refuse"
    # The redirect URI registered at the provider. Unset: this site's /signin/sso/callback as the request saw it.
    oidc_redirect_uri: str | None = None
    oidc_button_label: str = Field(default="Sign in with your organisation", max_length=80)
    oidc_login_timeout_s: int = Field(default=600, ge=60, le=3600)
    oidc_clock_skew_s: int = Field(default=60, ge=0, le=600)
    oidc_http_timeout_s: float = Field(default=10, gt=0, le=120)

    # Local accounts (README "Identity"). Password sign-ins that fail this many times in a row lock the account for
    # `account_lock_s` (0 = off); the per-address throttle above still applies on top.
    account_failure_limit: int = Field(default=10, ge=0)
    account_lock_s: int = Field(default=900, ge=1)
    # Roles that must use a TOTP second factor with a password (comma-separated); others may enrol by choice.
    totp_required_roles: Annotated[str, AfterValidator(_roles)] = "admin,reviewer"
    # The issuer name an authenticator app shows next to the account.
    totp_issuer: str = Field(default="anonscribe", min_length=1, max_length=64)
    # How long an admin's set-up or reset link stays usable (it works once).
    account_link_ttl_s: int = Field(default=72 * 3600, ge=300)
    # The sign-in page also takes an API token (exchanged for a session, no second factor). Tokens are for
    # scripts: turn this off once people have passwords or SSO.
    web_token_signin: bool = True
    # API tokens a user may hold at once (live ones: not revoked or expired), and the longest expiry one may get.
    api_token_limit: int = Field(default=20, ge=1, le=1000)
    api_token_max_days: int = Field(default=365, ge=1, le=3650)
    # A revoked or expired API token is deleted this many days after it stopped working (until then its owner and
    # the admins still see it, marked, in the lists); the audit entries about it stay.
    api_token_purge_after_days: int = Field(default=90, ge=1, le=3650)

    max_upload_bytes: int = 4 * 1024**3
    # An upload that sends nothing for this long is abandoned (408) and its partial blob removed.
    upload_idle_timeout_s: float = Field(default=60, gt=0)
    min_duration_s: float = 1.0
    # Decoded audio is held in memory (16 kHz float32: 230 MB per hour); longer files are refused.
    max_duration_s: float = 6 * 3600
    segment_bytes: int = Field(default=1024 * 1024, ge=4096, le=16 * 1024 * 1024)

    lease_seconds: int = 120
    heartbeat_seconds: int = 20
    max_attempts: int = 3
    # A queued job nobody has leased for this long is dispatched again (a broker may forget it).
    redispatch_after_s: int = 600
    reaper_interval_s: int = 30
    inline_workers: int = 1

    # Data lifecycle (README "Data lifecycle"). Audio goes this long after its transcript is approved (0: at the
    # next sweep), and in any case `audio_max_age` after upload, with a warning event `audio_deletion_warning` before.
    audio_retention_after_approval: Duration = timedelta(0)
    audio_max_age: PositiveDuration = timedelta(days=30)
    audio_deletion_warning: Duration = timedelta(days=3)
    # The unredacted transcript (and the redaction spans that point into it) identifies people; the anonymised
    # transcript is what the study keeps.
    raw_transcript_retention_after_approval: Duration = timedelta(days=30)
    raw_transcript_max_age: PositiveDuration = timedelta(days=90)
    # The study's pseudonym map forgets its entities once no transcript has been approved for this long
    # (the tag numbering is kept, so a later "[Person 4]" is never an earlier person's tag).
    pseudonym_map_retention: PositiveDuration = timedelta(days=365)
    retention_interval_s: int = Field(default=300, ge=1)
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)

    @property
    def totp_roles(self) -> frozenset[str]:
        return frozenset(r for r in self.totp_required_roles.split(",") if r)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            if self.database_password_file is not None:
                from sqlalchemy.engine import make_url

                password = self.database_password_file.read_text().strip()
                return make_url(self.database_url).set(password=password).render_as_string(hide_password=False)
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'anonscribe.db').resolve()}"

    @property
    def resolved_queue(self) -> Literal["inline", "celery"]:
        if self.queue:
            return self.queue
        return "celery" if self.broker_url else "inline"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or (self.data_dir / "keys" / "master-keyset.json")

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir or (self.data_dir / "blobs")

    def s3_credentials(self) -> tuple[str | None, str | None]:
        """(access key, secret key) from the settings and secret files; (None, None) = boto3's default chain."""
        access = self.s3_access_key
        if self.s3_access_key_file is not None:
            access = _read_secret(self.s3_access_key_file, "S3 access key file")
        secret = _read_secret(self.s3_secret_key_file, "S3 secret key file") if self.s3_secret_key_file else None
        if (access is None) != (secret is None):
            raise ValueError(
                "S3 credentials are incomplete: set both ANONSCRIBE_S3_ACCESS_KEY(_FILE) and "
                "ANONSCRIBE_S3_SECRET_KEY_FILE, or neither (boto3's default credential chain)"
            )
        return access, secret

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            raise ValueError("single sign-on needs both ANONSCRIBE_OIDC_ISSUER and ANONSCRIBE_OIDC_CLIENT_ID")
        if self.oidc_issuer:
            from urllib.parse import urlsplit

            url = urlsplit(self.oidc_issuer)
            # Discovery, keys and the code exchange travel to this URL: TLS except on this machine (tests, a
            # provider on the same host).
            if url.scheme != "https" and not (url.scheme == "http" and url.hostname in ("localhost", "127.0.0.1",
                                                                                         "::1")):
                raise ValueError("ANONSCRIBE_OIDC_ISSUER must be an https:// URL")
        return self

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    def oidc_client_secret(self) -> str | None:
        if self.oidc_client_secret_file is None:
            return None
        return _read_secret(self.oidc_client_secret_file, "OIDC client secret file")

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or (self.data_dir / "models")


def _read_secret(path: Path, what: str) -> str:
    try:
        value = path.read_text().strip()
    except OSError as exc:
        # The path is configuration, not a secret; the file's content never appears in a message.
        raise ValueError(f"{what} {path} is unreadable ({exc.strerror})") from exc
    if not value:
        raise ValueError(f"{what} {path} is empty")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
