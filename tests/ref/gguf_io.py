"""A small GGUF v3 reader and writer for the test reference.

Metadata: every scalar type, strings and (nested) arrays, each value kept with its
GGUF type so a file's keys can be copied to a new file unchanged. Tensors: F32 and
F16 are read (as numpy arrays with the ggml shape reversed, so ne [cols, rows] gives
an array [rows, cols]); only F32 is written. Data alignment is `general.alignment`
or 32.
"""
import struct

import numpy as np

# value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)

_SCALAR = {
    UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
    FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d",
}

# tensor types
GGML_F32, GGML_F16 = 0, 1

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32


class Value:
    """A metadata value with its GGUF type; arrays also carry their element type."""

    def __init__(self, vtype, value, elem_type=None):
        self.vtype = vtype
        self.value = value
        self.elem_type = elem_type

    def __repr__(self):
        return "Value(%d, %r)" % (self.vtype, self.value)


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out[0] if len(out) == 1 else out

    def string(self):
        n = self.take("<Q")
        s = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return s.decode("utf-8", errors="surrogateescape")

    def value(self, vtype):
        if vtype in _SCALAR:
            return self.take(_SCALAR[vtype])
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            elem = self.take("<I")
            n = self.take("<Q")
            return Value(ARRAY, [self.value(elem) for _ in range(n)], elem)
        raise ValueError("gguf: unknown value type %d" % vtype)


class GGUF:
    """A parsed file: kv (dict key -> Value, in file order) and tensors (dict name ->
    numpy array), plus tensor_info (name -> (ne list, ggml type))."""

    def __init__(self):
        self.kv = {}
        self.tensors = {}
        self.tensor_info = {}

    def get(self, key, default=None):
        v = self.kv.get(key)
        if v is None:
            return default
        if v.vtype == ARRAY:
            return [x.value if isinstance(x, Value) else x for x in v.value]
        return v.value


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if data[:4] != MAGIC:
        raise ValueError("%s: not a GGUF file" % path)
    r.pos = 4
    version = r.take("<I")
    if version not in (2, 3):
        raise ValueError("%s: GGUF version %d is not supported" % (path, version))
    n_tensors = r.take("<Q")
    n_kv = r.take("<Q")
    g = GGUF()
    for _ in range(n_kv):
        key = r.string()
        vtype = r.take("<I")
        val = r.value(vtype)
        g.kv[key] = val if isinstance(val, Value) else Value(vtype, val)
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.take("<I")
        ne = [r.take("<Q") for _ in range(n_dims)]
        ttype = r.take("<I")
        offset = r.take("<Q")
        infos.append((name, ne, ttype, offset))
    alignment = g.get("general.alignment", DEFAULT_ALIGNMENT)
    start = (r.pos + alignment - 1) // alignment * alignment
    for name, ne, ttype, offset in infos:
        count = int(np.prod(ne)) if ne else 1
        shape = tuple(reversed(ne))
        if ttype == GGML_F32:
            arr = np.frombuffer(data, dtype="<f4", count=count, offset=start + offset)
        elif ttype == GGML_F16:
            arr = np.frombuffer(data, dtype="<f2", count=count, offset=start + offset).astype(np.float32)
        else:
            arr = None  # quantised tensors are not needed by the reference
        g.tensor_info[name] = (ne, ttype)
        g.tensors[name] = None if arr is None else arr.reshape(shape)
    return g


# ---- writing ----

def _pack_string(s):
    b = s.encode("utf-8", errors="surrogateescape")
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype, value, elem_type=None):
    if vtype in _SCALAR:
        return struct.pack(_SCALAR[vtype], value)
    if vtype == STRING:
        return _pack_string(value)
    if vtype == ARRAY:
        if isinstance(value, Value):
            elem_type, value = value.elem_type, value.value
        out = [struct.pack("<IQ", elem_type, len(value))]
        for x in value:
            if isinstance(x, Value):
                out.append(_pack_value(x.vtype, x.value, x.elem_type))
            else:
                out.append(_pack_value(elem_type, x))
        return b"".join(out)
    raise ValueError("gguf: unknown value type %d" % vtype)


def write(path, kv, tensors, alignment=DEFAULT_ALIGNMENT):
    """kv: ordered dict key -> Value; tensors: ordered dict name -> numpy array
    (written as F32, ggml ne = reversed numpy shape)."""
    out = [MAGIC, struct.pack("<IQQ", 3, len(tensors), len(kv))]
    for key, v in kv.items():
        out.append(_pack_string(key))
        out.append(struct.pack("<I", v.vtype))
        out.append(_pack_value(v.vtype, v.value, v.elem_type))
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype="<f4")
        ne = list(reversed(a.shape)) or [1]
        out.append(_pack_string(name))
        out.append(struct.pack("<I", len(ne)))
        out.append(b"".join(struct.pack("<Q", n) for n in ne))
        out.append(struct.pack("<IQ", GGML_F32, offset))
        raw = a.tobytes()
        pad = (-len(raw)) % alignment
        blobs.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    head = b"".join(out)
    head += b"\0" * ((-len(head)) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)


# convenience constructors
def u32(x): return Value(UINT32, int(x))
def i32(x): return Value(INT32, int(x))
def f32(x): return Value(FLOAT32, float(x))
def boolean(x): return Value(BOOL, bool(x))
def string(x): return Value(STRING, str(x))
def array(elem_type, values): return Value(ARRAY, list(values), elem_type)
