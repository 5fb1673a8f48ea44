//! A minimal safetensors writer and reader for `f32` tensors, written by hand (the format is
//! an 8-byte little-endian header length, a JSON header, then raw little-endian data), so that
//! PyTorch and the `safetensors` library can open our weights without another dependency here.
//!
//! The header maps each tensor name to `{"dtype": "F32", "shape": [...], "data_offsets":
//! [begin, end]}` (offsets into the data section), plus string `__metadata__`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::ModelError;

/// Named tensors read back: name -> (shape, data).
pub type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Writes `tensors` (name, shape, data) with string `metadata` to `path`.
pub fn write(
    path: &Path,
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    let mut header = Map::new();
    header.insert("__metadata__".into(), json!(metadata));
    let mut offset = 0usize;
    for (name, shape, data) in tensors {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "tensor {name}: shape and data disagree");
        let end = offset + 4 * data.len();
        header.insert(name.clone(), json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}));
        offset = end;
    }
    let mut head = serde_json::to_vec(&Value::Object(header)).expect("JSON of strings and numbers");
    // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
    while head.len() % 8 != 0 {
        head.push(b' ');
    }
    let mut bytes = Vec::with_capacity(8 + head.len() + offset);
    bytes.extend_from_slice(&(head.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&head);
    for (_, _, data) in tensors {
        for x in data.iter() {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    let mut f = std::fs::File::create(path).map_err(|e| ModelError::io(path, e))?;
    f.write_all(&bytes).and_then(|_| f.sync_all()).map_err(|e| ModelError::io(path, e))
}

/// Reads an `f32` safetensors file; every malformation is an error naming the file.
pub fn read(path: &Path) -> Result<(Tensors, BTreeMap<String, String>), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    let bad = |m: String| ModelError::bad_file(path, m);
    if bytes.len() < 8 {
        return Err(bad(format!("{} bytes: too short for a safetensors header", bytes.len())));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    if n > bytes.len() - 8 {
        return Err(bad(format!("header of {n} bytes runs past the end of the file (truncated?)")));
    }
    let header: Map<String, Value> =
        serde_json::from_slice(&bytes[8..8 + n]).map_err(|e| bad(format!("bad header JSON: {e}")))?;
    let data = &bytes[8 + n..];
    let mut tensors = Tensors::new();
    let mut metadata = BTreeMap::new();
    for (name, entry) in header {
        if name == "__metadata__" {
            metadata = serde_json::from_value(entry).map_err(|e| bad(format!("bad __metadata__: {e}")))?;
            continue;
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            dtype: String,
            shape: Vec<usize>,
            data_offsets: [usize; 2],
        }
        let e: Entry = serde_json::from_value(entry).map_err(|e| bad(format!("tensor {name:?}: {e}")))?;
        if e.dtype != "F32" {
            return Err(bad(format!("tensor {name:?} has dtype {}, only F32 is supported", e.dtype)));
        }
        let [begin, end] = e.data_offsets;
        let count: usize = e.shape.iter().product();
        if end < begin || end - begin != 4 * count {
            return Err(bad(format!(
                "tensor {name:?}: offsets {begin}..{end} do not fit shape {:?}",
                e.shape
            )));
        }
        if end > data.len() {
            return Err(bad(format!("tensor {name:?} runs past the end of the file (truncated?)")));
        }
        let values = data[begin..end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        tensors.insert(name, (e.shape, values));
    }
    Ok((tensors, metadata))
}
