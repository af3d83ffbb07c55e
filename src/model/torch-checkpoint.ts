/**
 * Read a PyTorch checkpoint (`torch.save`) in TypeScript, no Python. The zip format of PyTorch >= 1.6
 * holds `<name>/data.pkl` (the pickled object, protocol 2) and `<name>/data/<key>` (the raw little-endian
 * storages); the legacy format (older releases, e.g. Models Genesis's) is a sequence of pickles followed
 * by the raw storages. The unpickler implements the subset torch writes for tensors and state dicts:
 * PROTO, dicts/lists/tuples, strings, ints, floats, booleans, None, memo (BINPUT/BINGET), GLOBAL for a
 * fixed allow-list of callables (collections.OrderedDict, torch._utils._rebuild_tensor_v2, the typed
 * storages, ...), BINPERSID for storages, REDUCE, BUILD, STOP. Anything else is refused with a clear
 * error; nothing in the file is ever executed.
 */
import { unzipSync } from "fflate";

export type DType = "float32" | "float64" | "float16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

export interface TorchTensor {
  dtype: DType;
  shape: number[];
  /** Values in row-major order (PyTorch's layout), as float64 numbers for every dtype. */
  values: Float64Array;
}

/** A pickled dict (plain or OrderedDict): insertion-ordered. */
export type PickleValue = null | boolean | number | bigint | string | PickleValue[] | PickleTuple | PickleDict | TorchTensor | PickleGlobal | StorageRef;

export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}
export class PickleDict {
  readonly map = new Map<string | number, PickleValue>();
}
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
interface StorageRef {
  kind: "storage";
  dtype: DType;
  key: string;
  numel: number;
}

export class TorchCheckpointError extends Error {}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};
const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };
/** torch.float32 etc., as pickled by newer torch for UntypedStorage-based records. */
const TORCH_DTYPE_NAMES: Record<string, DType> = {
  float32: "float32",
  float: "float32",
  float64: "float64",
  double: "float64",
  float16: "float16",
  half: "float16",
  int64: "int64",
  long: "int64",
  int32: "int32",
  int: "int32",
  int16: "int16",
  short: "int16",
  int8: "int8",
  uint8: "uint8",
  bool: "bool",
};

const ALLOWED_GLOBALS = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch.Size",
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
  ...Object.keys(TORCH_DTYPE_NAMES).map((s) => `torch.${s}`),
]);

const MARK = Symbol("mark");

/**
 * Unpickle `data` (protocol <= 2, plus the few protocol-3/4 opcodes torch may use). `persistentLoad`
 * turns a BINPERSID id into a value (torch: a storage reference).
 */
export function unpickle(data: Uint8Array, persistentLoad: (pid: PickleValue) => PickleValue, what = "pickle"): PickleValue {
  return unpickleAt(data, 0, persistentLoad, what).value;
}

/** Unpickle one pickle starting at byte `start`; `end` is the byte after its STOP. */
export function unpickleAt(
  data: Uint8Array,
  start: number,
  persistentLoad: (pid: PickleValue) => PickleValue,
  what = "pickle",
): { value: PickleValue; end: number } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: (PickleValue | typeof MARK)[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = start;
  const fail = (m: string): never => {
    throw new TorchCheckpointError(`${what}: ${m} (byte ${pos})`);
  };
  const need = (n: number) => {
    if (pos + n > data.length) fail("truncated");
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail("truncated");
    const s = new TextDecoder().decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8 = (n: number) => new TextDecoder("utf-8", { fatal: true }).decode(bytes(n));
  const pop = (): PickleValue => {
    if (stack.length === 0) fail("stack underflow");
    const v = stack.pop()!;
    if (v === MARK) fail("unexpected MARK");
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) fail("no MARK on the stack");
    const items = stack.splice(k) as PickleValue[];
    items.shift();
    return items;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail("stack underflow");
    return v as PickleValue;
  };
  const setItems = (target: PickleValue, kv: PickleValue[]) => {
    if (!(target instanceof PickleDict)) fail("SETITEM(S) on a non-dict");
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const k = kv[i];
      if (typeof k !== "string" && typeof k !== "number") fail(`unsupported dict key ${typeof k}`);
      (target as PickleDict).map.set(k as string | number, kv[i + 1]);
    }
  };
  for (;;) {
    if (pos >= data.length) fail("truncated: no STOP");
    const op = data[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("unsupported pickle protocol");
        break;
      case 0x95: // FRAME (protocol 4)
        bytes(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop(),
          a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail("APPEND to a non-list");
        (l as PickleValue[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const vs = popMark();
        const l = top();
        if (!Array.isArray(l)) fail("APPENDS to a non-list");
        (l as PickleValue[]).push(...vs);
        break;
      }
      case 0x64: {
        // DICT
        const d = new PickleDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: {
        // LONG1
        const n = u8();
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder("latin1").decode(bytes(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder("latin1").decode(bytes(i32())));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo ${k} not set`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x63: {
        // GLOBAL
        const g = new PickleGlobal(line(), line());
        if (!ALLOWED_GLOBALS.has(g.qualified)) fail(`refusing global ${g.qualified} (not a tensor or state dict)`);
        stack.push(g);
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(),
          module = pop();
        const g = new PickleGlobal(String(module), String(name));
        if (!ALLOWED_GLOBALS.has(g.qualified)) fail(`refusing global ${g.qualified} (not a tensor or state dict)`);
        stack.push(g);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal) || !(args instanceof PickleTuple)) fail("REDUCE needs a global and a tuple");
        stack.push(callGlobal(fn as PickleGlobal, (args as PickleTuple).items, fail));
        break;
      }
      case 0x62: {
        // BUILD: attribute state (OrderedDict._metadata, Parameter hooks): not needed, dropped
        pop();
        top();
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

function callGlobal(g: PickleGlobal, args: PickleValue[], fail: (m: string) => never): PickleValue {
  switch (g.qualified) {
    case "collections.OrderedDict":
      if (args.length) fail("OrderedDict with arguments");
      return new PickleDict();
    case "torch.Size":
      return args[0] instanceof PickleTuple ? args[0] : fail("torch.Size needs a tuple");
    case "torch._utils._rebuild_parameter":
      return args[0];
    case "torch._utils._rebuild_tensor_v2":
      return { rebuild: args } as unknown as PickleValue; // resolved by the loader, which holds the storages
    default:
      return fail(`cannot call ${g.qualified}`);
  }
}

const intsOf = (v: PickleValue, what: string): number[] => {
  if (!(v instanceof PickleTuple) || v.items.some((x) => typeof x !== "number")) throw new TorchCheckpointError(`${what}: expected a tuple of ints`);
  return v.items as number[];
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function readStorage(raw: Uint8Array, dtype: DType, numel: number, where: string): Float64Array {
  const size = DTYPE_BYTES[dtype];
  if (raw.length < numel * size)
    throw new TorchCheckpointError(`${where}: storage holds ${raw.length} bytes, ${numel} x ${dtype} need ${numel * size} (truncated?)`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(numel);
  for (let i = 0; i < numel; i++) {
    const o = i * size;
    switch (dtype) {
      case "float32":
        out[i] = dv.getFloat32(o, true);
        break;
      case "float64":
        out[i] = dv.getFloat64(o, true);
        break;
      case "float16":
        out[i] = halfToFloat(dv.getUint16(o, true));
        break;
      case "int64":
        out[i] = Number(dv.getBigInt64(o, true));
        break;
      case "int32":
        out[i] = dv.getInt32(o, true);
        break;
      case "int16":
        out[i] = dv.getInt16(o, true);
        break;
      case "int8":
        out[i] = dv.getInt8(o);
        break;
      case "uint8":
      case "bool":
        out[i] = raw[o];
        break;
    }
  }
  return out;
}

export interface TorchCheckpoint {
  /** The unpickled object, tensors as TorchTensor, dicts as PickleDict. */
  root: PickleValue;
  /** The zip archive's top folder (torch.save names it after the file); "" for the legacy format. */
  archive: string;
}

const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

function storageRecord(source: string) {
  return (pid: PickleValue): PickleValue => {
    if (!(pid instanceof PickleTuple) || pid.items[0] !== "storage") throw new TorchCheckpointError(`${source}: unexpected persistent id`);
    const [, type, key, , numel, view] = pid.items;
    let dtype: DType | undefined;
    if (type instanceof PickleGlobal) dtype = STORAGE_DTYPES[type.name] ?? TORCH_DTYPE_NAMES[type.name];
    if (!dtype || typeof key !== "string" || typeof numel !== "number") throw new TorchCheckpointError(`${source}: unsupported storage record`);
    if (view !== undefined && view !== null) throw new TorchCheckpointError(`${source}: storage views (very old PyTorch) are not supported`);
    return { kind: "storage", dtype, key, numel } satisfies StorageRef;
  };
}

/**
 * Parse a torch.save file: the zip format (PyTorch >= 1.6: `<name>/data.pkl` + `<name>/data/<key>`) or
 * the legacy format (older releases such as Models Genesis's: magic number, protocol version and system
 * info pickles, the object pickle, the sorted storage keys, then each storage as an int64 element count
 * and its raw bytes). Clear errors for other files, truncated files and unsupported pickles.
 */
export function readTorchCheckpoint(bytes: Uint8Array, source = "checkpoint"): TorchCheckpoint {
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const isLegacy = bytes.length >= LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => bytes[i] === b);
  if (!isZip && !isLegacy)
    throw new TorchCheckpointError(`${source}: not a PyTorch checkpoint (expected a torch.save file: a zip archive or the legacy format)`);
  const storages = new Map<string, Uint8Array>();
  let raw: PickleValue;
  let archive = "";
  if (isZip) {
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes);
    } catch (e) {
      throw new TorchCheckpointError(`${source}: a damaged or truncated zip archive (${(e as Error).message})`);
    }
    const pkl = Object.keys(files).find((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (!pkl) throw new TorchCheckpointError(`${source}: a zip archive without <name>/data.pkl: not a PyTorch checkpoint`);
    archive = pkl.slice(0, pkl.indexOf("/"));
    for (const [name, data] of Object.entries(files)) if (name.startsWith(`${archive}/data/`)) storages.set(name.slice(archive.length + 6), data);
    raw = unpickle(files[pkl], storageRecord(source), `${source}: ${pkl}`);
  } else {
    const none = () => {
      throw new TorchCheckpointError(`${source}: unexpected persistent id in the header`);
    };
    let at = unpickleAt(bytes, 0, none, source).end; // magic number
    const version = unpickleAt(bytes, at, none, source);
    if (version.value !== 1001) throw new TorchCheckpointError(`${source}: legacy format version ${String(version.value)}, expected 1001`);
    at = unpickleAt(bytes, version.end, none, source).end; // sys_info
    const refs: StorageRef[] = [];
    const load = storageRecord(source);
    const main = unpickleAt(
      bytes,
      at,
      (pid) => {
        const r = load(pid) as StorageRef;
        refs.push(r);
        return r;
      },
      source,
    );
    raw = main.value;
    const keys = unpickleAt(bytes, main.end, none, source);
    if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== "string")) throw new TorchCheckpointError(`${source}: malformed storage key list`);
    const dtypeOf = new Map(refs.map((r) => [r.key, r.dtype]));
    let pos = keys.end;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const key of keys.value as string[]) {
      const dtype = dtypeOf.get(key);
      if (!dtype) throw new TorchCheckpointError(`${source}: storage ${key} listed but never used`);
      if (pos + 8 > bytes.length) throw new TorchCheckpointError(`${source}: truncated (storage ${key} missing)`);
      const n = Number(dv.getBigInt64(pos, true));
      const len = n * DTYPE_BYTES[dtype];
      if (n < 0 || pos + 8 + len > bytes.length) throw new TorchCheckpointError(`${source}: truncated (storage ${key} of ${n} x ${dtype})`);
      storages.set(key, bytes.subarray(pos + 8, pos + 8 + len));
      pos += 8 + len;
    }
  }
  const cache = new Map<string, Float64Array>();
  const resolve = (v: PickleValue): PickleValue => {
    if (v && typeof v === "object" && "rebuild" in (v as object)) {
      const [storage, offset, size, stride] = (v as unknown as { rebuild: PickleValue[] }).rebuild;
      const st = storage as StorageRef;
      if (!st || st.kind !== "storage" || typeof offset !== "number") throw new TorchCheckpointError(`${source}: malformed tensor record`);
      const shape = intsOf(size, `${source}: tensor size`);
      const strides = intsOf(stride, `${source}: tensor stride`);
      const bytesOf = storages.get(st.key);
      const entry = isZip ? `${archive}/data/${st.key}` : `storage ${st.key}`;
      if (!bytesOf) throw new TorchCheckpointError(`${source}: ${entry} missing (truncated?)`);
      let all = cache.get(st.key);
      if (!all) cache.set(st.key, (all = readStorage(bytesOf, st.dtype, st.numel, `${source}: ${entry}`)));
      const n = shape.reduce((a, b) => a * b, 1);
      const values = new Float64Array(n);
      // Gather by strides (row-major output), checking every index stays in the storage.
      const idx = new Array(shape.length).fill(0);
      for (let i = 0; i < n; i++) {
        let o = offset;
        for (let d = 0; d < shape.length; d++) o += idx[d] * strides[d];
        if (o < 0 || o >= all.length) throw new TorchCheckpointError(`${source}: tensor reads outside its storage ${entry}`);
        values[i] = all[o];
        for (let d = shape.length - 1; d >= 0; d--) {
          if (++idx[d] < shape[d]) break;
          idx[d] = 0;
        }
      }
      return { dtype: st.dtype, shape, values } satisfies TorchTensor;
    }
    if (v instanceof PickleDict) {
      for (const [k, x] of v.map) v.map.set(k, resolve(x));
      return v;
    }
    if (Array.isArray(v)) return v.map(resolve);
    if (v instanceof PickleTuple) return new PickleTuple(v.items.map(resolve));
    return v;
  };
  return { root: resolve(raw), archive };
}

export function isTorchTensor(v: PickleValue | undefined): v is TorchTensor {
  return !!v && typeof v === "object" && "values" in v && "shape" in v && "dtype" in v;
}

/**
 * The tensors of a checkpoint's state dict, by name: the root itself when it is a dict of tensors, else
 * its 'state_dict' (or 'model' / 'net') entry, as Models Genesis and most training scripts save.
 */
export function stateDictOf(ck: TorchCheckpoint, source = "checkpoint"): Map<string, TorchTensor> {
  const tensorsOf = (d: PickleDict) => {
    const m = new Map<string, TorchTensor>();
    for (const [k, v] of d.map) if (typeof k === "string" && isTorchTensor(v)) m.set(k, v);
    return m;
  };
  if (!(ck.root instanceof PickleDict)) throw new TorchCheckpointError(`${source}: the checkpoint is not a dict`);
  for (const key of ["state_dict", "model", "net"]) {
    const v = ck.root.map.get(key);
    if (v instanceof PickleDict) return tensorsOf(v);
  }
  const own = tensorsOf(ck.root);
  if (own.size) return own;
  throw new TorchCheckpointError(`${source}: no state dict found (keys: ${[...ck.root.map.keys()].join(", ")})`);
}
