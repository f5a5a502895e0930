"""The `.keras` zip read with bounded memory and time: only ``config.json`` (and ``metadata.json``) leave it.

A `.keras` file is a zip that Keras writes uncompressed (``config.json``, ``metadata.json``,
``model.weights.h5``, sometimes ``assets/``). Before anything is decompressed, the end-of-central-
directory record is checked (zip64 included), because ``zipfile`` reads the whole central directory
into memory; then the declared sizes and compression ratios; then the JSON nesting depth (the standard
library's decoder recurses; its RecursionError becomes the same refusal). Every refusal names the
file and the limit.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from convcalc.errors import ConvCalcError

# config.json of a real model is a few KB per layer: a 1000-layer model is about 2 MB.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024
# zipfile parses every central-directory entry (a few hundred bytes of objects each).
MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 2 * 1024 * 1024
# Keras stores members uncompressed (ratio 1); deflated JSON reaches about 15. A member that inflates
# more than this (beyond a small size) is a zip bomb; so are members declaring in total more than
# MAX_TOTAL_RATIO times the archive (and at least MAX_TOTAL_FLOOR bytes).
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
MAX_TOTAL_RATIO = 200
MAX_TOTAL_FLOOR = 256 * 1024 * 1024
# Real Keras configs nest about 10 levels per nested model.
MAX_JSON_DEPTH = 100

LIMITS = (
    f"config.json at most {MAX_CONFIG_BYTES // 2**20} MiB, compression ratio at most {MAX_RATIO} "
    f"(members over {RATIO_FLOOR // 2**20} MiB), at most {MAX_MEMBERS} members, JSON nesting depth at "
    f"most {MAX_JSON_DEPTH}"
)

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def read_config(path: Path) -> tuple[Any, Any]:
    """The parsed ``config.json`` and ``metadata.json`` (None when absent) of a `.keras` file."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ConvCalcError(f"{path}: not a file", parameter="model")
        with path.open("rb") as fp:
            _check_head(path, fp.read(8))
            _check_directory(path, fp, size)
            fp.seek(0)
            with zipfile.ZipFile(fp) as archive:
                config = _member(path, archive, size, "config.json", MAX_CONFIG_BYTES, required=True)
                metadata = _member(path, archive, size, "metadata.json", MAX_METADATA_BYTES, required=False)
    except ConvCalcError:
        raise
    except OSError as error:
        raise ConvCalcError(
            f"{path}: cannot read the file ({error.strerror or error})", parameter="model"
        ) from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        zlib.error,
        NotImplementedError,
        ValueError,
    ) as error:
        raise ConvCalcError(
            f"{path}: not a readable zip archive, so not a `.keras` file ({error})", parameter="model"
        ) from None
    except RuntimeError:  # zipfile refuses an encrypted member without a password
        raise ConvCalcError(
            f"{path}: config.json is encrypted (password-protected); `.keras` files are not",
            parameter="model",
        ) from None
    assert config is not None
    parsed_metadata = None if metadata is None else _parse(path, "metadata.json", metadata)
    return _parse(path, "config.json", config), parsed_metadata


def _check_head(path: Path, head: bytes) -> None:
    if head.startswith(_HDF5_MAGIC):
        raise ConvCalcError(
            f"{path}: an HDF5 file (a Keras 2 `.h5` model?), not a `.keras` zip; load it in Keras and "
            "re-save it with model.save('model.keras')",
            parameter="model",
        )
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ConvCalcError(
            f"{path}: not a zip archive (it starts with {head[:4]!r}, a zip with b'PK\\x03\\x04'), so not a "
            "`.keras` file",
            parameter="model",
        )


def _check_directory(path: Path, fp: BinaryIO, size: int) -> None:
    """Refuse a central directory too large to parse before zipfile reads it into memory."""
    tail_size = min(size, _EOCD.size + 65535)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise ConvCalcError(
            f"{path}: the zip has no end-of-central-directory record (truncated or not a zip archive)",
            parameter="model",
        )
    _, _, _, _, members, directory, _, _ = _EOCD.unpack_from(tail, at)
    if members == 0xFFFF or directory == 0xFFFFFFFF:
        members, directory = _zip64_directory(path, fp, tail, at, size)
    if members > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
        raise ConvCalcError(
            f"{path}: the zip declares {members} members in a {directory}-byte central directory; a "
            f"`.keras` file has a handful (limit {MAX_MEMBERS} members, {MAX_DIRECTORY_BYTES} bytes)",
            parameter="model",
        )


def _zip64_directory(path: Path, fp: BinaryIO, tail: bytes, at: int, size: int) -> tuple[int, int]:
    locator = at - _ZIP64_LOCATOR.size
    if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
        raise ConvCalcError(f"{path}: a zip64 archive without its zip64 locator (corrupt)", parameter="model")
    _, _, offset, _ = _ZIP64_LOCATOR.unpack_from(tail, locator)
    if offset > size - _ZIP64_EOCD.size:
        raise ConvCalcError(
            f"{path}: the zip64 directory record lies outside the file (corrupt)", parameter="model"
        )
    fp.seek(offset)
    record = fp.read(_ZIP64_EOCD.size)
    if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
        raise ConvCalcError(f"{path}: the zip64 directory record is missing (corrupt)", parameter="model")
    fields = _ZIP64_EOCD.unpack(record)
    return int(fields[7]), int(fields[8])


def _member(
    path: Path, archive: zipfile.ZipFile, size: int, name: str, limit: int, required: bool
) -> bytes | None:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ConvCalcError(
            f"{path}: the zip has {len(infos)} members; limit {MAX_MEMBERS}", parameter="model"
        )
    declared = sum(info.file_size for info in infos)
    if declared > max(MAX_TOTAL_FLOOR, MAX_TOTAL_RATIO * size):
        raise ConvCalcError(
            f"{path}: the members declare {declared} bytes uncompressed from a {size}-byte archive "
            f"(more than {MAX_TOTAL_RATIO} times): a zip bomb, not a `.keras` file",
            parameter="model",
        )
    try:
        info = archive.getinfo(name)
    except KeyError:
        if not required:
            return None
        raise ConvCalcError(
            f"{path}: the zip has no {name}, so it is not a Keras 3 `.keras` file (members: "
            f"{', '.join(i.filename for i in infos[:5])}{', ...' if len(infos) > 5 else ''})",
            parameter="model",
        ) from None
    if info.file_size > limit:
        raise ConvCalcError(
            f"{path}: {name} is {info.file_size} bytes uncompressed; inspect reads it up to {limit} bytes",
            parameter="model",
        )
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ConvCalcError(
            f"{path}: {name} inflates {info.compress_size} bytes to {info.file_size} (more than {MAX_RATIO} "
            "times): a zip bomb, not a `.keras` file",
            parameter="model",
        )
    with archive.open(info) as member:
        # zipfile stops at the declared size and checks the CRC; the cap holds even if the header lies.
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ConvCalcError(f"{path}: {name} is larger than {limit} bytes uncompressed", parameter="model")
    return data


def _parse(path: Path, name: str, data: bytes) -> Any:
    too_deep = ConvCalcError(
        f"{path}: {name} nests deeper than {MAX_JSON_DEPTH} levels; a Keras config nests about 10 per model",
        parameter="model",
    )
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConvCalcError(f"{path}: {name} is not UTF-8 text ({error.reason})", parameter="model") from None
    except RecursionError:
        raise too_deep from None
    except ValueError as error:
        raise ConvCalcError(f"{path}: {name} is not valid JSON ({error})", parameter="model") from None
    # Valid JSON now, so every string is closed and the string pattern runs in linear time.
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", data))
    if max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0) > MAX_JSON_DEPTH:
        raise too_deep
    return value
