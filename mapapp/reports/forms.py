"""Reading a submission's form body: multipart parsed as it streams, with our limits and our errors.

Starlette's form parser answered its own plain 400 for too many files, a big field or a missing
boundary, skipped a zero-byte photo, spooled files to disk and decoded text that is not UTF-8 as
Latin-1 (stored garbled). Here each of those is an error in our shape; photos stay in memory (the whole
body is already limited by mapapp.core.bodylimit), and text is decoded strictly: UTF-8, or the charset
the part declares.
"""

import codecs
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from mapapp.core.bodylimit import PayloadTooLarge
from mapapp.core.errors import InvalidInput, InvalidRequest
from mapapp.core.requests import storable
from mapapp.core.settings import get_settings
from mapapp.photos import PhotoTooLarge
from mapapp.reports.service import TooManyPhotos

PHOTO_FIELD = "photos"
MAX_FIELDS = 50


class InvalidEncoding(InvalidInput):
    code = "invalid_encoding"


class EmptyPhoto(InvalidInput):
    code = "empty_photo"


def _decode(raw: bytes, charset: str, what: str, field: str) -> str:
    try:
        text = raw.decode(charset)
    except UnicodeDecodeError:
        raise InvalidEncoding(
            f"the {what} is not valid {charset}; send UTF-8 or declare the charset", field=field
        ) from None
    if not storable(text):
        raise InvalidRequest(f"the {what} contains a NUL character", field=field)
    return text


def _charset(params: dict[bytes, bytes], default: str = "utf-8") -> str:
    raw = params.get(b"charset")
    if raw is None:
        return default
    try:
        return codecs.lookup(raw.decode("latin-1")).name
    except LookupError:
        raise InvalidEncoding(f"the charset {raw.decode('latin-1')!r} is not known") from None


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.filename: str | None = None
        self.charset = "utf-8"
        self.data = bytearray()


class _MultipartReader:
    """Callbacks for python-multipart's streaming parser; every limit is checked as the bytes come."""

    def __init__(self, default_charset: str) -> None:
        settings = get_settings()
        self.max_photos = settings.photos_max_count
        self.max_photo_bytes = settings.photo_max_bytes
        self.max_field_bytes = settings.form_field_max_bytes
        self.default_charset = default_charset
        self.fields: dict[str, str] = {}
        self.files: list[tuple[str | None, bytes]] = []
        self.parts = 0
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_FIELDS:
            raise InvalidRequest(f"the form has more than {MAX_FIELDS} parts")
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        part = self._part
        _, disposition = parse_options_header(part.headers.get(b"content-disposition"))
        if b"name" not in disposition:
            raise InvalidRequest("a form part has no name (Content-Disposition: form-data; name=...)")
        part.name = _decode(disposition[b"name"], "utf-8", "field name", "")
        if b"filename" in disposition:
            part.filename = disposition[b"filename"].decode("utf-8", "replace")
            if part.name == PHOTO_FIELD and len(self.files) >= self.max_photos:
                raise TooManyPhotos(f"at most {self.max_photos} photos per report", field=PHOTO_FIELD)
        else:
            _, params = parse_options_header(part.headers.get(b"content-type"))
            part.charset = _charset(params, self.default_charset)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        part.data += data[start:end]
        if part.filename is not None and len(part.data) > self.max_photo_bytes:
            mb = self.max_photo_bytes // (1024 * 1024)
            raise PhotoTooLarge(f"a photo may be at most {mb} MB", field=part.name, filename=part.filename)
        if part.filename is None and len(part.data) > self.max_field_bytes:
            raise PayloadTooLarge(
                f"the field '{part.name}' is larger than {self.max_field_bytes // 1024} KB", field=part.name
            )

    def on_part_end(self) -> None:
        part = self._part
        if part.filename is not None:
            if part.name != PHOTO_FIELD:
                return  # a file under another name is not ours to keep
            if not part.data:
                if part.filename == "":
                    return  # a file input left empty: the browser sends an empty, nameless part
                raise EmptyPhoto(f"the photo {part.filename!r} is empty (0 bytes)", field=PHOTO_FIELD)
            self.files.append((part.filename, bytes(part.data)))
        elif part.name == "_charset_":  # what browsers send to name the form's encoding
            self.default_charset = _charset({b"charset": bytes(part.data)})
        else:
            self.fields.setdefault(
                part.name, _decode(bytes(part.data), part.charset, f"field '{part.name}'", part.name)
            )


async def read_multipart(request: Request) -> tuple[dict[str, str], list[bytes]]:
    """The text fields and photos of a multipart body, or an error in our shape; nothing touches disk."""
    _, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidRequest("the multipart body has no boundary (Content-Type: multipart/form-data; boundary=...)")
    reader = _MultipartReader(_charset(params))
    callbacks: Any = {name: getattr(reader, name) for name in dir(reader) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise InvalidRequest(f"the multipart body cannot be read: {exc}") from None
    return reader.fields, [data for _, data in reader.files]


def read_urlencoded(body: bytes) -> dict[str, str]:
    """The fields of an application/x-www-form-urlencoded body; text must be UTF-8."""
    text = _decode(body, "utf-8", "form", "")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise InvalidEncoding("the form is not valid UTF-8 once percent-decoded") from None
    except ValueError as exc:
        raise InvalidRequest(f"the form cannot be read: {exc}") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if not storable(name) or not storable(value):
            raise InvalidRequest("the form contains a NUL character", field=name)
        fields.setdefault(name, value)
    return fields
