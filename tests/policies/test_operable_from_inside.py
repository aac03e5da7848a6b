"""operable-from-inside: the parts its samples cannot vary (they all run as stack cn-prod, whose secrets provider is
read from stacks/Pulumi.cn-prod.yaml): secrets-provider URLs with their red-team vectors and compliant twins, the
backend's default key, where the Pulumi CLI's own facts are read, and the one-source-of-truth error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.framework.context import ClusterView, RuleContext, StackView
from policies.framework.destinations import Place
from policies.rules.operable_from_inside.endpoints import (
    place_backend,
    place_network_url,
    place_secrets_provider,
)
from policies.rules.operable_from_inside.rule import check
from sovereign.catalog import default_catalog
from sovereign.core import paths
from sovereign.core.errors import InputError
from sovereign.stackconfig.loader import load_stack, load_stack_file
from sovereign.stackconfig.model import PulumiFacts
from sovereign.stackconfig.pulumi_files import BACKEND_URL_ENV, read_pulumi_facts


@pytest.fixture(autouse=True)
def _no_ambient_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BACKEND_URL_ENV, raising=False)


def _ctx(stack: str = "cn-prod") -> RuleContext:
    catalog = default_catalog()
    cfg = load_stack(stack, catalog=catalog)
    jur = catalog.jurisdiction(cfg.jurisdiction)
    assert jur is not None
    cl = cfg.cluster
    view = StackView(stack, jur, catalog, ClusterView(provider=cl.provider, regions=cl.regions, zones=cl.zones,
                                                       cidrs=cl.pod_cidrs + cl.service_cidrs, cni=cl.cni), cfg)
    return RuleContext(view)


DIY = Place(True, "a bucket")

# (leak, twin): the twin is the compliant form of the same key.
SECRETS_VECTORS = [
    ("awskms://alias/pulumi?region=cn-north-1&region=us-east-1", "awskms://alias/pulumi?region=cn-north-1",
     "given 2 times"),
    ("awskms://arn:aws-cn:kms:us-east-1:111122223333:key/abcd?region=cn-north-1",
     "awskms://arn:aws-cn:kms:cn-north-1:111122223333:key/abcd?region=cn-north-1", "the key ARN names region"),
    ("awskms://alias/pulumi", "awskms://alias/pulumi?region=cn-northwest-1", "without region="),
    ("awskms://alias/pulumi?region=us-east-1", "awskms://alias/pulumi?region=cn-north-1", "region us-east-1"),
    ("awskms://alias/pulumi?region=cn-north-1&endpoint=https://kms.cn-north-1.amazonaws.com.cn.evil.com",
     "awskms://alias/pulumi?region=cn-north-1&endpoint=https://kms.cn-north-1.amazonaws.com.cn",
     "a domain no catalog jurisdiction owns"),
    ("gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k",
     "passphrase", "global key ring"),  # Google has no region in cn: the twin is a passphrase
    ("hashivault://pulumi", "passphrase", "does not name the Vault server"),
    ("azurekeyvault://automaker.vault.azure.net/keys/pulumi", "passphrase", "a domain no catalog jurisdiction owns"),
    ("oss://kms/pulumi", "passphrase", "not a secrets provider the Pulumi CLI accepts"),
]


@pytest.mark.parametrize(("leak", "twin", "why"), SECRETS_VECTORS, ids=[v[0] for v in SECRETS_VECTORS])
def test_secrets_provider_vectors_and_twins(leak: str, twin: str, why: str) -> None:
    ctx = _ctx()
    bad = place_secrets_provider(ctx, leak, DIY, "s3")
    assert bad.inside is not True and why in bad.where
    good = place_secrets_provider(ctx, twin, DIY, "s3")
    assert good.inside is True, good.where


def test_gcpkms_location_is_placed_in_its_jurisdiction() -> None:
    ctx = _ctx("us-prod")
    assert place_secrets_provider(ctx, "gcpkms://projects/p/locations/us-central1/keyRings/r/cryptoKeys/k",
                                  DIY, "s3").inside is True
    abroad = place_secrets_provider(ctx, "gcpkms://projects/p/locations/europe-west3/keyRings/r/cryptoKeys/k",
                                    DIY, "s3")
    assert abroad.inside is False and "europe-west3" in abroad.where


def test_default_key_follows_the_backend() -> None:
    ctx = _ctx()
    assert place_secrets_provider(ctx, "default", DIY, "file").inside is True  # DIY: a passphrase
    cloud = place_backend(ctx, "https://api.pulumi.com")
    assert cloud.inside is False
    key = place_secrets_provider(ctx, "default", cloud, "https")
    assert key.inside is False and "the Pulumi service's own key" in key.where
    own = place_backend(ctx, "https://api.pulumi.automaker.cn")
    assert place_secrets_provider(ctx, "default", own, "https").inside is True


@pytest.mark.parametrize("url", ["gs://automaker-state", "azblob://state", "azblob://state?storage_account=a",
                                 "s3://state", "s3://state?endpoint=a.example&endpoint=oss-cn-beijing.aliyuncs.com"])
def test_backends_that_do_not_say_where_they_are_cannot_be_placed(url: str) -> None:
    assert place_backend(_ctx(), url).inside is None


@given(st.sampled_from(["evil.com", "example.org", "amazonaws.com", "aliyuncs.com.attacker.net"]),
       st.sampled_from(["pypi.automaker.cn", "s3.cn-north-1.amazonaws.com.cn", "oss-cn-beijing.aliyuncs.com"]))
def test_a_cn_name_followed_by_another_domain_is_never_inside(suffix: str, cn_name: str) -> None:
    ctx = _ctx()
    assert place_network_url(ctx, f"https://{cn_name}/simple/").inside is True
    assert place_network_url(ctx, f"https://{cn_name}.{suffix}/simple/").inside is not True
    assert place_network_url(ctx, f"https://{cn_name}@{suffix}/simple/").inside is not True


def test_the_example_stacks_are_operable_from_inside() -> None:
    for stack in ("cn-prod", "eu-prod", "us-prod"):
        assert list(check(_ctx(stack), [])) == [], stack


def test_the_cli_facts_are_read_where_the_cli_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    path = paths.stack_file("cn-prod")
    facts = read_pulumi_facts(path)
    assert facts.secrets_provider == "awskms://alias/automaker-cn-prod-pulumi?region=cn-north-1"
    assert facts.backend_url is None and facts.project_backend_url is None  # Pulumi.yaml names no backend
    monkeypatch.setenv(BACKEND_URL_ENV, "s3://elsewhere?region=us-east-1")
    cfg = load_stack_file(path)
    assert cfg.pulumi is not None and cfg.pulumi.backend_url == "s3://elsewhere?region=us-east-1"
    ctx = _ctx()
    ctx = dataclasses.replace(ctx, stack=dataclasses.replace(ctx.stack, config=cfg))
    (finding,) = check(ctx, [])
    assert "$PULUMI_BACKEND_URL" in finding.message and "region us-east-1" in finding.message


def _project(tmp_path: Path, backend: str | None, stack_text: str) -> Path:
    project = "name: p\nruntime: python\n" + (f"backend:\n  url: {backend}\n" if backend else "")
    (tmp_path / "Pulumi.yaml").write_text(project, encoding="utf-8")
    (tmp_path / "stacks").mkdir()
    stack = tmp_path / "stacks" / "Pulumi.cn-prod.yaml"
    stack.write_text(stack_text, encoding="utf-8")
    return stack


def test_a_backend_in_pulumi_yaml_and_in_the_stack_is_bad_input(tmp_path: Path) -> None:
    text = paths.stack_file("cn-prod").read_text(encoding="utf-8")
    stack = _project(tmp_path, "file://~/state", text)
    with pytest.raises(InputError) as err:
        load_stack_file(stack)
    assert err.value.key_path == ("sovereign-clusters:operations", "stateBackend")
    assert "Pulumi.yaml's backend.url (file://~/state)" in err.value.expected


def test_without_secretsprovider_the_backend_default_applies(tmp_path: Path) -> None:
    text = paths.stack_file("cn-prod").read_text(encoding="utf-8").replace("secretsprovider:", "# secretsprovider:")
    stack = _project(tmp_path, None, text)
    facts = read_pulumi_facts(stack)
    assert facts == PulumiFacts(backend_url=None, backend_source=facts.backend_source, secrets_provider=None,
                                stack_file=str(stack), project_backend_url=None)


def test_a_bad_backend_in_pulumi_yaml_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nbackend: s3://x\n", encoding="utf-8")
    (tmp_path / "stacks").mkdir()
    stack = tmp_path / "stacks" / "Pulumi.cn-prod.yaml"
    stack.write_text("config: {}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_pulumi_facts(stack)
    assert err.value.key_path == ("backend",) and "a mapping with a `url:` key" in err.value.expected
