"""Where the endpoints ``pulumi up`` depends on lie: a state backend, a secrets provider, a mirror URL.

Each URL is read as the Pulumi CLI reads it (pkg/backend/diy, pkg/secrets/cloud: go-cloud's URL openers), and what
it names is placed with the catalog (``policies.framework.destinations``): a host by the jurisdiction's domains
and networks or a provider's regional endpoint, a region by the provider family the scheme belongs to. Anything
that does not say where it is (a ``gs://`` bucket, a Vault whose address is in the environment, a KMS URL
without a region or with two) cannot be placed: ``Place(None, why)``, which the rule reports (fail closed).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from policies.framework.context import RuleContext
from policies.framework.destinations import Place, place_endpoint, place_region

DIY_SCHEMES = ("file", "s3", "gs", "azblob", "postgres", "mem")
"""The backend URL schemes of the Pulumi CLI's DIY backend (go-cloud's blob openers it links, plus postgres); any
other scheme but http(s) is refused by the CLI (``IsDIYBackendURL``)."""
SERVICE_SCHEMES = ("https", "http")
"""Pulumi Cloud or a self-hosted Pulumi service."""
CLOUD_SECRETS_SCHEMES = ("awskms", "azurekeyvault", "gcpkms", "hashivault")
"""The secrets providers ``pkg/secrets/cloud`` opens by URL; ``passphrase`` and ``default`` are names."""
PASSPHRASE = "passphrase"
DEFAULT = "default"

_UNSAFE = frozenset("\\ \t\r\n\x00")
"""Characters on which URL parsers disagree about where the host ends (``https://evil.example\\@good.example``):
a URL holding one cannot be placed."""


def _one(query: dict[str, list[str]], name: str) -> tuple[str | None, str | None]:
    """(value, problem) of a query parameter that must appear at most once: readers disagree about which of two
    values wins, so a repeated one is a problem, never a choice."""
    values = query.get(name, [])
    if len(values) > 1:
        return None, f"the parameter {name} is given {len(values)} times ({', '.join(values)})"
    return (values[0] if values else None), None


def _split(url: str) -> tuple[str, str, dict[str, list[str]]] | Place:
    """(scheme, host, query) of ``url``, or the Place saying why it cannot be read."""
    if any(c in _UNSAFE for c in url) or any(ord(c) < 0x20 for c in url):
        return Place(None, "the URL holds a backslash, space or control character, on which URL parsers "
                           "disagree about the host")
    if "://" not in url:
        return Place(None, "not a URL (no scheme://)")
    parts = urlsplit(url)
    if parts.netloc.count("@") > 1:
        return Place(None, "the URL's authority holds more than one '@'")
    try:
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        return Place(None, f"the URL's host cannot be read ({exc})")
    return parts.scheme.lower(), host, parse_qs(parts.query, keep_blank_values=True)


def place_network_url(ctx: RuleContext, url: str) -> Place:
    """An http(s) URL (a mirror, a Pulumi service): by its host."""
    split = _split(url)
    if isinstance(split, Place):
        return split
    scheme, host, _query = split
    if scheme not in SERVICE_SCHEMES:
        return Place(None, f"a {scheme}:// URL: a mirror is reached over https:// (or http://)")
    if not host:
        return Place(None, "the URL names no host")
    return place_endpoint(ctx, host)


def _place_s3(ctx: RuleContext, query: dict[str, list[str]]) -> Place:
    """``s3://bucket?region=..&endpoint=..`` (go-cloud s3blob): the endpoint, when given, is the host the CLI talks
    to (an S3-compatible store such as OSS or MinIO); else the region, of the AWS partitions."""
    endpoint, problem = _one(query, "endpoint")
    region, region_problem = _one(query, "region")
    problem = problem or region_problem
    if problem:
        return Place(None, problem)
    if endpoint:
        host = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint).hostname or ""
        return place_endpoint(ctx, host) if host else Place(None, f"the endpoint {endpoint!r} names no host")
    if not region:
        return Place(None, "an s3:// URL without region= (the AWS SDK would take the region from the operator's "
                           "environment or profile)")
    return place_region(ctx, region, "aws")


def place_backend(ctx: RuleContext, url: str) -> Place:
    """A Pulumi backend URL (``pulumi login <url>``)."""
    split = _split(url)
    if isinstance(split, Place):
        return split
    scheme, host, query = split
    if scheme == "file":
        return Place(True, "a directory on the machine that runs pulumi")
    if scheme == "mem":
        return Place(True, "the memory of the pulumi process")
    if scheme == "s3":
        return _place_s3(ctx, query)
    if scheme == "gs":
        return Place(None, "a gs:// bucket: the URL does not say where the bucket is")
    if scheme == "azblob":
        account, problem = _one(query, "storage_account")
        domain, domain_problem = _one(query, "domain")
        if problem or domain_problem:
            return Place(None, problem or domain_problem or "")
        if not account or not domain:
            return Place(None, "an azblob:// container without storage_account= and domain= (the storage account "
                               "comes from the operator's environment, and its region is not in the URL)")
        return place_endpoint(ctx, f"{account}.{domain}")
    if scheme == "postgres":
        return place_endpoint(ctx, host) if host else Place(None, "a postgres:// URL without a host")
    if scheme in SERVICE_SCHEMES:
        return place_endpoint(ctx, host) if host else Place(None, "the URL names no host")
    return Place(None, f"{scheme}:// is not a backend the Pulumi CLI accepts (DIY: {', '.join(DIY_SCHEMES)}; "
                       f"or an https:// service)")


def _place_awskms(ctx: RuleContext, url: str, query: dict[str, list[str]]) -> Place:
    """``awskms://<key id, alias or ARN>?region=R`` (go-cloud awskms): the client's region decides which KMS
    holds the key; a key ARN names a region too, and the two must agree."""
    region, problem = _one(query, "region")
    endpoint, endpoint_problem = _one(query, "endpoint")
    if problem or endpoint_problem:
        return Place(None, problem or endpoint_problem or "")
    if endpoint:
        host = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint).hostname or ""
        return place_endpoint(ctx, host) if host else Place(None, f"the endpoint {endpoint!r} names no host")
    key = url.split("://", 1)[1].split("?", 1)[0].lstrip("/")
    arn_region = key.split(":")[3] if key.startswith("arn:") and key.count(":") >= 5 else None
    if not region:
        return Place(None, "an awskms:// key without region= (the AWS SDK would take the region from the "
                           "operator's environment or profile)")
    if arn_region is not None and arn_region != region:
        return Place(None, f"the key ARN names region {arn_region} but region= is {region}")
    return place_region(ctx, region, "aws")


def _place_gcpkms(ctx: RuleContext, url: str) -> Place:
    """``gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K``: the key ring's location."""
    parts = url.split("://", 1)[1].split("?", 1)[0].strip("/").split("/")
    if len(parts) != 8 or parts[0] != "projects" or parts[2] != "locations" or parts[4] != "keyRings" \
            or parts[6] != "cryptoKeys":
        return Place(None, "not projects/<p>/locations/<location>/keyRings/<r>/cryptoKeys/<k>")
    location = parts[3]
    if location == "global":
        return Place(None, "a global key ring: Google may serve it from anywhere")
    return place_region(ctx, location, "gcp")


def place_secrets_provider(ctx: RuleContext, provider: str, backend: Place, backend_scheme: str) -> Place:
    """A stack file's ``secretsprovider:``. ``passphrase`` keeps the key with the operators; ``default`` (or
    none) is the backend's default: a passphrase on a DIY backend, the service's own key on a Pulumi service,
    which lies wherever that service does."""
    if provider == PASSPHRASE:
        return Place(True, "a passphrase the operators hold")
    if provider == DEFAULT:
        if backend_scheme in SERVICE_SCHEMES:
            return Place(backend.inside, f"the Pulumi service's own key ({backend.where})")
        if backend_scheme in DIY_SCHEMES:
            return Place(True, "a passphrase the operators hold (the DIY backend's default)")
        return Place(None, "the backend's default, and the backend is not known")
    split = _split(provider)
    if isinstance(split, Place):
        return split
    scheme, host, query = split
    if scheme == "awskms":
        return _place_awskms(ctx, provider, query)
    if scheme == "gcpkms":
        return _place_gcpkms(ctx, provider)
    if scheme == "azurekeyvault":
        return place_endpoint(ctx, host) if host else Place(None, "the URL names no key vault")
    if scheme == "hashivault":
        return Place(None, "a hashivault:// key: the URL does not name the Vault server (the operator's "
                           "environment does)")
    return Place(None, f"{scheme}:// is not a secrets provider the Pulumi CLI accepts (passphrase, default, "
                       f"{', '.join(s + '://' for s in CLOUD_SECRETS_SCHEMES)})")


def scheme_of(url: str) -> str:
    return urlsplit(url).scheme.lower() if "://" in url else ""
