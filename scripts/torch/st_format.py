"""safetensors read/write using only torch + struct + json, following the format's rules.

Used where the `safetensors` Python package is unavailable (Debian bookworm has no
python3-safetensors and PyPI is unreachable here). It mirrors the reference serializer
(huggingface/safetensors, safetensors/src/tensor.rs `prepare`):
  * tensors sorted by dtype in *descending* order of the reference's Dtype enum
    (which is ascending alignment), then by name (byte-wise on UTF-8);
  * compact JSON (serde_json style: no spaces, non-ASCII written raw), "__metadata__" first,
    each tensor as {"dtype","shape","data_offsets"} in that field order;
  * header padded with spaces to a multiple of 8; data contiguous, little-endian.
The reference metadata map is a hash map (no defined order); we sort its keys, as wgml does.

Run with /usr/bin/python3 (the Debian Python that has torch).
"""
import json
import struct
import sys

import torch

if sys.byteorder != "little":  # the format is little-endian; we write raw host bytes
    raise SystemExit("st_format.py assumes a little-endian host")

# Reference Dtype enum order (ascending alignment). Only the ones torch 1.13 can hold are mapped.
DTYPE_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16",
               "I32", "U32", "F32", "F64", "I64", "U64"]
TORCH_OF = {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16,
    "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32, "F32": torch.float32,
    "F64": torch.float64, "I64": torch.int64,
}
NAME_OF = {v: k for k, v in TORCH_OF.items()}
ITEM_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "I16": 2, "U16": 2,
             "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
# Same-size integer views, so .numpy() works for bfloat16 too.
RAW_VIEW = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _utf8(s):
    return s.encode("utf-8")


def tensor_bytes(t):
    name = NAME_OF[t.dtype]
    t = t.detach().contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.view(RAW_VIEW[ITEM_SIZE[name]]).numpy().tobytes()


def encode(tensors, metadata=None):
    """dict name -> torch.Tensor (+ optional dict str -> str) -> safetensors bytes."""
    items = sorted(tensors.items(),
                   key=lambda kv: (-DTYPE_ORDER.index(NAME_OF[kv[1].dtype]), _utf8(kv[0])))
    parts = []
    if metadata is not None:
        meta = {k: metadata[k] for k in sorted(metadata, key=_utf8)}
        parts.append(("__metadata__", meta))
    blobs = []
    offset = 0
    for name, t in items:
        b = tensor_bytes(t)
        parts.append((name, {"dtype": NAME_OF[t.dtype], "shape": list(t.shape),
                             "data_offsets": [offset, offset + len(b)]}))
        blobs.append(b)
        offset += len(b)
    # Build the object by hand to keep our key order (json.dumps of a dict keeps insertion order too).
    header = json.dumps(dict(parts), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)


def save(tensors, path, metadata=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def decode(buf):
    """safetensors bytes -> (tensors, metadata, report). Strict: raises ValueError on any violation.

    report holds format observations: header_length, header_padding ('spaces' / 'none' / 'other'),
    canonical_order (header order == reference writer order, and data laid out in that order).
    """
    if len(buf) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > 100_000_000 or 8 + n > len(buf):
        raise ValueError(f"bad header length {n} for a {len(buf)}-byte file")
    raw = buf[8:8 + n]
    text = raw.decode("utf-8")
    stripped = text.rstrip(" ")
    padding = "none" if stripped == text else "spaces"
    pairs = json.loads(text, object_pairs_hook=list)
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate keys in header")
    header = dict(pairs)
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        metadata = dict(metadata)
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise ValueError(f"metadata {k!r} is not a string")
    infos = [(k, dict(v)) for k, v in pairs if k != "__metadata__"]
    data = buf[8 + n:]
    by_offset = sorted(infos, key=lambda kv: tuple(kv[1]["data_offsets"]))
    pos = 0
    tensors = {}
    for name, info in by_offset:
        b, e = info["data_offsets"]
        dt = info["dtype"]
        shape = info["shape"]
        numel = 1
        for d in shape:
            numel *= d
        if b != pos or e < b:
            raise ValueError(f"{name}: offsets {b},{e} not contiguous (expected start {pos})")
        if e - b != numel * ITEM_SIZE[dt]:
            raise ValueError(f"{name}: {e - b} bytes for shape {shape} {dt}")
        if e > len(data):
            raise ValueError(f"{name}: runs past the end of the file")
        pos = e
        tdt = TORCH_OF[dt]
        if numel == 0:
            t = torch.empty(shape, dtype=tdt)
        else:
            chunk = bytearray(data[b:e])
            if tdt == torch.bool:
                t = torch.frombuffer(chunk, dtype=torch.uint8).to(torch.bool)
            else:
                t = torch.frombuffer(chunk, dtype=tdt)
            t = t.reshape(shape)
        tensors[name] = t
    if pos != len(data):
        raise ValueError(f"{len(data) - pos} trailing bytes")
    expected_order = [k for k, _ in sorted(
        infos, key=lambda kv: (-DTYPE_ORDER.index(kv[1]["dtype"]), _utf8(kv[0])))]
    header_order = [k for k, _ in infos]
    report = {
        "header_length": n,
        "header_padding": padding,
        "header_length_multiple_of_8": n % 8 == 0,
        "metadata_first": bool(pairs) and (metadata is None or pairs[0][0] == "__metadata__"),
        "canonical_order": header_order == expected_order and [k for k, _ in by_offset] == expected_order,
        "header_order": header_order,
    }
    return tensors, metadata, report


def load(path):
    with open(path, "rb") as f:
        return decode(f.read())
