"""The media bucket on S3 (moto's S3 locally): private objects, short-lived signed URLs.

Downloads are signed GETs that force the sniffed type and, for anything but an image, audio or
video, ``Content-Disposition: attachment`` -- a file a contact sent is never rendered as a page.
Uploads are signed POST forms whose policy caps the size (a signed PUT cannot).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from ponte.ports.media import ObjectStore, SignedUpload

_INLINE = ("image/", "audio/", "video/")


class S3ObjectStore(ObjectStore):
    def __init__(self, client: Any, bucket: str, *, public_client: Any | None = None) -> None:
        self._client = client
        self._bucket = bucket
        # the client whose endpoint a browser reaches (locally the same moto URL)
        self._public = public_client or client

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str, max_bytes: int) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "InvalidRange"):
                return None
            raise
        data: bytes = response["Body"].read(max_bytes + 1)
        return data

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            self._client.delete_objects(
                Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return found

    def signed_get(self, key: str, *, content_type: str, filename: str | None, seconds: int) -> str:
        disposition = "inline" if content_type.startswith(_INLINE) else "attachment"
        if filename:
            disposition += f"; filename*=UTF-8''{quote(filename[:200], safe='')}"
        url: str = self._public.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=seconds,
        )
        return url

    def signed_post(self, key: str, *, max_bytes: int, seconds: int) -> SignedUpload:
        form = self._public.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=seconds,
        )
        return SignedUpload(
            url=form["url"],
            fields={str(k): str(v) for k, v in form["fields"].items()},
            expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
        )
