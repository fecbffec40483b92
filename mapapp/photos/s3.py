"""Photos in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, moto): the same interface as the local store.

Keys are content hashes, so an object never changes once written. Writes go to a temporary key and are
copied into place, so a reader never sees a half-written object and a failed upload leaves only a temporary
key, which the cleanup removes like any other unreferenced object.

The cleanup must never delete an object that a submission has just written again (same photo, same key)
and is about to commit. The local store does that with a rename; S3 has no rename, so the bucket must have
versioning on: rewriting an object makes a new version, and the cleanup deletes only the version it judged
old. A rewrite between its look and its delete survives as the current version.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TMP_PREFIX = ".tmp/"


class BucketNotVersioned(RuntimeError):
    """The bucket would let the cleanup delete a photo that a submission has just written again."""


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion", "NotFound")


def make_client(*, endpoint_url: str, region: str) -> Any:
    """A boto3 S3 client; credentials come from the environment (AWS_ACCESS_KEY_ID, ...), as boto3 reads them."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def ensure_bucket(client: Any, bucket: str) -> None:
    """Create `bucket` if absent and turn versioning on (what `mapapp stack up` and the tests need)."""
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


class S3PhotoStorage:
    """A bucket, its objects named by content hash; served under /media by the app (see photos/router.py)."""

    def __init__(self, client: Any, bucket: str, url_prefix: str = "/media") -> None:
        self.client = client
        self.bucket = bucket
        self.url_prefix = url_prefix.rstrip("/")
        self._versioning_checked = False

    def _check_versioning(self) -> None:
        if self._versioning_checked:
            return
        status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        if status != "Enabled":
            raise BucketNotVersioned(
                f"bucket {self.bucket} must have versioning enabled (aws s3api put-bucket-versioning --bucket "
                f"{self.bucket} --versioning-configuration Status=Enabled): without it the photo cleanup could "
                "delete a photo that a submission has just written again"
            )
        self._versioning_checked = True

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
            return head
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def put(self, key: str, data: bytes) -> None:
        self._check_versioning()
        head = self._head(key)
        if head is not None:
            # Same name, same bytes: refresh it (a server-side copy makes a new version dated now), so that
            # the cleanup sees it as just written and leaves it to the transaction about to name it.
            try:
                self._copy_into_place(key, source_key=key, source_version=head.get("VersionId"))
                self._forget_version(key, head.get("VersionId"))
                return
            except ClientError as exc:
                if not _missing(exc):
                    raise  # else the cleanup removed it meanwhile: write it anew
        tmp = f"{TMP_PREFIX}{uuid.uuid4().hex}"
        self.client.put_object(Bucket=self.bucket, Key=tmp, Body=data, ContentType="image/jpeg")
        try:
            self._copy_into_place(key, source_key=tmp, source_version=None)
        finally:
            self._delete_all_versions(tmp)

    def _copy_into_place(self, key: str, *, source_key: str, source_version: str | None) -> None:
        source = {"Bucket": self.bucket, "Key": source_key} | ({"VersionId": source_version} if source_version else {})
        self.client.copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource=source,
            MetadataDirective="REPLACE",
            ContentType="image/jpeg",
        )

    def _forget_version(self, key: str, version: str | None) -> None:
        """Drop a superseded version (the content is the same; keeping it would only cost storage)."""
        if version and version != "null":
            self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version)

    def _delete_all_versions(self, key: str) -> None:
        listing = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        for entry in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
            if entry["Key"] == key:
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=entry["VersionId"])

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when absent."""
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return body
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def delete(self, key: str) -> None:
        self._delete_all_versions(key)

    def delete_if_older(self, key: str, cutoff: float) -> bool:
        self._check_versioning()
        head = self._head(key)
        if head is None or head["LastModified"].timestamp() > cutoff:
            return False
        # Only the version judged old: a put since then made a newer one, which stays.
        self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=head["VersionId"])
        return True

    def stored_keys(self) -> list[str]:
        # Temporary keys are listed too: one left by a failed upload is unreferenced and goes after the grace.
        return list(self.iter_keys())

    def iter_keys(self) -> Iterator[str]:
        """Every current key in the bucket, page by page."""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for entry in page.get("Contents", []):
                yield entry["Key"]

    def url(self, key: str) -> str:
        return f"{self.url_prefix}/{key}"


@dataclass(frozen=True)
class MigrationSummary:
    copied: int
    already_there: int
    seconds: float


def migrate_local_to_s3(
    local_root: Path,
    storage: S3PhotoStorage,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> MigrationSummary:
    """Copy every photo file under `local_root` into the bucket; keys already there are skipped, so a run that
    was interrupted simply continues (content-addressed: a key present is the same bytes)."""
    started = time.monotonic()
    files = sorted(p for p in local_root.rglob("*.jpg") if p.is_file() and not p.name.startswith((".tmp-", ".del-")))
    present = set(storage.iter_keys())
    copied = skipped = 0
    for done, path in enumerate(files, start=1):
        key = str(path.relative_to(local_root))
        if key in present:
            skipped += 1
        else:
            storage.put(key, path.read_bytes())
            copied += 1
        if progress:
            progress(done, len(files))
    return MigrationSummary(copied=copied, already_there=skipped, seconds=time.monotonic() - started)
