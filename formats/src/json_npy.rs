//! Tensor file formats for client tools: JSON and NumPy `.npy`.
//!
//! **JSON**: `{"dtype": "f32", "shape": [1, 4], "data": [0.5, -1, "NaN", "-Infinity"]}`. `data` is
//! flat (row-major) or nested exactly as `shape`. Floats are JSON numbers, or the strings `"NaN"`,
//! `"Infinity"`, `"-Infinity"` (JSON has no literals for them); numbers are read as f64 and then
//! rounded to the dtype, as JavaScript's `Float32Array` and NumPy do. Integers must be whole and in
//! range; booleans are `true`/`false` (or 0/1). The writer prints each float in the shortest form
//! that reads back to the same bits, so a JSON round trip is bit-exact (NaN payloads aside).
//!
//! **`.npy`**: format versions 1.0–3.0, C order, any of the supported dtypes in either byte order
//! (big-endian is converted). Fortran-ordered arrays are refused with the reason.

use serde_json::Value;

use verinfer_primitives::tensor::{element_count, DType, Tensor, TensorError};

/// Why a file is not a valid tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
	/// Not JSON, or not the JSON tensor layout.
	Json(String),
	/// Not a `.npy` file we can read.
	Npy(String),
	/// The file parsed but does not make a valid tensor.
	Tensor(TensorError),
}

impl core::fmt::Display for FormatError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			FormatError::Json(reason) => write!(f, "not a JSON tensor: {reason}"),
			FormatError::Npy(reason) => write!(f, "not a readable .npy file: {reason}"),
			FormatError::Tensor(error) => write!(f, "invalid tensor: {error:?}"),
		}
	}
}

impl std::error::Error for FormatError {}

impl From<TensorError> for FormatError {
	fn from(error: TensorError) -> Self {
		FormatError::Tensor(error)
	}
}

fn json_err(reason: impl Into<String>) -> FormatError {
	FormatError::Json(reason.into())
}

/// Reads a tensor from its JSON form.
pub fn from_json(text: &str) -> Result<Tensor, FormatError> {
	let value: Value = serde_json::from_str(text).map_err(|e| json_err(e.to_string()))?;
	let object = value.as_object().ok_or_else(|| json_err("expected an object"))?;
	if let Some(key) = object.keys().find(|key| !["dtype", "shape", "data"].contains(&key.as_str()))
	{
		return Err(json_err(format!("unknown field `{key}` (expected dtype, shape, data)")));
	}
	let dtype_name = object
		.get("dtype")
		.and_then(Value::as_str)
		.ok_or_else(|| json_err("`dtype` must be a string such as \"f32\""))?;
	let dtype = DType::from_name(dtype_name)
		.ok_or_else(|| json_err(format!("unknown dtype `{dtype_name}`")))?;
	let shape = object
		.get("shape")
		.and_then(Value::as_array)
		.ok_or_else(|| json_err("`shape` must be an array of dimensions"))?
		.iter()
		.map(|dim| dim.as_u64().and_then(|dim| u32::try_from(dim).ok()))
		.collect::<Option<Vec<u32>>>()
		.ok_or_else(|| json_err("every dimension must be a whole number below 2^32"))?;
	let data = object.get("data").ok_or_else(|| json_err("missing `data`"))?;

	let count = element_count(&shape)?;
	let mut elements = Vec::new();
	flatten(data, &shape, &mut elements)?;
	if elements.len() as u64 != count {
		return Err(json_err(format!(
			"`data` has {} elements, shape {shape:?} needs {count}",
			elements.len()
		)));
	}
	let mut bytes = Vec::with_capacity(elements.len() * dtype.size());
	for (index, element) in elements.iter().enumerate() {
		encode_element(dtype, element, &mut bytes)
			.map_err(|reason| json_err(format!("data[{index}]: {reason}")))?;
	}
	Ok(Tensor::new(dtype, shape, bytes)?)
}

/// Collects the leaves of `data`, which is either flat or nested exactly as `shape`.
fn flatten<'a>(
	data: &'a Value,
	shape: &[u32],
	out: &mut Vec<&'a Value>,
) -> Result<(), FormatError> {
	let Some(items) = data.as_array() else {
		// A scalar tensor may be given as a bare value.
		out.push(data);
		return Ok(());
	};
	let nested = items.iter().any(Value::is_array);
	if !nested {
		out.extend(items);
		return Ok(());
	}
	fn walk<'a>(
		value: &'a Value,
		shape: &[u32],
		depth: usize,
		out: &mut Vec<&'a Value>,
	) -> Result<(), FormatError> {
		match (value.as_array(), shape.get(depth)) {
			(Some(items), Some(&dim)) if items.len() as u64 == dim as u64 => {
				items.iter().try_for_each(|item| walk(item, shape, depth + 1, out))
			},
			(None, None) => {
				out.push(value);
				Ok(())
			},
			_ => Err(json_err(format!(
				"nested `data` does not match shape {shape:?} at depth {depth}"
			))),
		}
	}
	walk(data, shape, 0, out)
}

fn encode_element(dtype: DType, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
	match dtype {
		DType::F32 => out.extend((json_float(value)? as f32).to_le_bytes()),
		DType::F64 => out.extend(json_float(value)?.to_le_bytes()),
		DType::F16 => out.extend(half::f16::from_f64(json_float(value)?).to_le_bytes()),
		DType::I8 => out.extend(json_int::<i8>(value)?.to_le_bytes()),
		DType::I16 => out.extend(json_int::<i16>(value)?.to_le_bytes()),
		DType::I32 => out.extend(json_int::<i32>(value)?.to_le_bytes()),
		DType::I64 => out.extend(json_int::<i64>(value)?.to_le_bytes()),
		DType::U8 => out.extend(json_int::<u8>(value)?.to_le_bytes()),
		DType::U16 => out.extend(json_int::<u16>(value)?.to_le_bytes()),
		DType::U32 => out.extend(json_int::<u32>(value)?.to_le_bytes()),
		DType::U64 => out.extend(json_int::<u64>(value)?.to_le_bytes()),
		DType::Bool => out.push(match value {
			Value::Bool(b) => *b as u8,
			Value::Number(n) if n.as_u64() == Some(0) => 0,
			Value::Number(n) if n.as_u64() == Some(1) => 1,
			_ => return Err(format!("expected true or false, got {value}")),
		}),
	}
	Ok(())
}

fn json_float(value: &Value) -> Result<f64, String> {
	match value {
		Value::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a number")),
		Value::String(s) => match s.as_str() {
			"NaN" | "nan" => Ok(f64::NAN),
			"Infinity" | "inf" | "+Infinity" => Ok(f64::INFINITY),
			"-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
			_ => {
				Err(format!("expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", got {s:?}"))
			},
		},
		_ => Err(format!("expected a number, got {value}")),
	}
}

fn json_int<T: TryFrom<i128>>(value: &Value) -> Result<T, String> {
	let whole = match value {
		Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
		_ => None,
	}
	.ok_or_else(|| format!("expected a whole number, got {value}"))?;
	T::try_from(whole).map_err(|_| format!("{whole} is out of range for the dtype"))
}

/// Writes a tensor in its JSON form, data flat and row-major.
pub fn to_json(tensor: &Tensor) -> Result<String, FormatError> {
	tensor.validate()?;
	let size = tensor.dtype.size();
	let elements: Vec<String> =
		tensor.data.chunks_exact(size).map(|bytes| element_to_json(tensor.dtype, bytes)).collect();
	let shape: Vec<String> = tensor.shape.iter().map(|dim| dim.to_string()).collect();
	Ok(format!(
		"{{\"dtype\":\"{}\",\"shape\":[{}],\"data\":[{}]}}",
		tensor.dtype.name(),
		shape.join(","),
		elements.join(",")
	))
}

/// The JSON text of a finite or non-finite float: the shortest decimal that reads back to the same
/// value (Rust's float formatting guarantees it), in exponent form when very large or small.
fn float_to_json(wide: f64, plain: String, exponent: String) -> String {
	if wide.is_nan() {
		"\"NaN\"".into()
	} else if wide.is_infinite() {
		if wide > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" }.into()
	} else if wide == 0.0 {
		// "-0" would read back as the integer 0: keep the sign with a fraction.
		if wide.is_sign_negative() { "-0.0" } else { "0.0" }.into()
	} else if (1e-5..1e16).contains(&wide.abs()) {
		plain
	} else {
		exponent
	}
}

fn element_to_json(dtype: DType, bytes: &[u8]) -> String {
	fn f32_to_json(value: f32) -> String {
		float_to_json(value as f64, format!("{value}"), format!("{value:e}"))
	}
	match dtype {
		DType::F32 => f32_to_json(f32::from_le_bytes(bytes.try_into().expect("4 bytes"))),
		DType::F64 => {
			let value = f64::from_le_bytes(bytes.try_into().expect("8 bytes"));
			float_to_json(value, format!("{value}"), format!("{value:e}"))
		},
		// Every f16 is exactly an f32; print the shortest form that reads back to the same f16.
		DType::F16 => {
			f32_to_json(half::f16::from_le_bytes(bytes.try_into().expect("2 bytes")).to_f32())
		},
		DType::I8 => (bytes[0] as i8).to_string(),
		DType::I16 => i16::from_le_bytes(bytes.try_into().expect("2 bytes")).to_string(),
		DType::I32 => i32::from_le_bytes(bytes.try_into().expect("4 bytes")).to_string(),
		DType::I64 => i64::from_le_bytes(bytes.try_into().expect("8 bytes")).to_string(),
		DType::U8 => bytes[0].to_string(),
		DType::U16 => u16::from_le_bytes(bytes.try_into().expect("2 bytes")).to_string(),
		DType::U32 => u32::from_le_bytes(bytes.try_into().expect("4 bytes")).to_string(),
		DType::U64 => u64::from_le_bytes(bytes.try_into().expect("8 bytes")).to_string(),
		DType::Bool => (bytes[0] == 1).to_string(),
	}
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

fn npy_err(reason: impl Into<String>) -> FormatError {
	FormatError::Npy(reason.into())
}

/// The `.npy` type string of a dtype, little-endian (`|` where byte order does not apply).
fn npy_descr(dtype: DType) -> &'static str {
	match dtype {
		DType::F32 => "<f4",
		DType::F64 => "<f8",
		DType::F16 => "<f2",
		DType::I8 => "|i1",
		DType::I16 => "<i2",
		DType::I32 => "<i4",
		DType::I64 => "<i8",
		DType::U8 => "|u1",
		DType::U16 => "<u2",
		DType::U32 => "<u4",
		DType::U64 => "<u8",
		DType::Bool => "|b1",
	}
}

/// Reads a tensor from a NumPy `.npy` file's bytes.
pub fn from_npy(bytes: &[u8]) -> Result<Tensor, FormatError> {
	let rest =
		bytes.strip_prefix(NPY_MAGIC).ok_or_else(|| npy_err("missing the \\x93NUMPY magic"))?;
	let (&[major, _minor], rest) =
		rest.split_first_chunk::<2>().ok_or_else(|| npy_err("truncated before the version"))?;
	let (header_len, rest) = match major {
		1 => {
			let (len, rest) =
				rest.split_first_chunk::<2>().ok_or_else(|| npy_err("truncated header length"))?;
			(u16::from_le_bytes(*len) as usize, rest)
		},
		2 | 3 => {
			let (len, rest) =
				rest.split_first_chunk::<4>().ok_or_else(|| npy_err("truncated header length"))?;
			(u32::from_le_bytes(*len) as usize, rest)
		},
		other => return Err(npy_err(format!("unsupported format version {other}"))),
	};
	if rest.len() < header_len {
		return Err(npy_err("truncated header"));
	}
	let (header, data) = rest.split_at(header_len);
	let header = core::str::from_utf8(header).map_err(|_| npy_err("header is not text"))?;

	let descr = header_field(header, "descr")?.trim_matches(|c| c == '\'' || c == '"').to_string();
	if header_field(header, "fortran_order")?.trim() != "False" {
		return Err(npy_err("Fortran-ordered arrays are not supported: save in C order"));
	}
	let shape_text = header_field(header, "shape")?;
	let shape = shape_text
		.trim()
		.trim_start_matches('(')
		.trim_end_matches(')')
		.split(',')
		.map(str::trim)
		.filter(|dim| !dim.is_empty())
		.map(|dim| dim.parse::<u32>().map_err(|_| npy_err(format!("bad dimension `{dim}`"))))
		.collect::<Result<Vec<u32>, _>>()?;

	let (order, code) = descr.split_at(1.min(descr.len()));
	let dtype = DType::ALL
		.into_iter()
		.find(|dtype| &npy_descr(*dtype)[1..] == code)
		.ok_or_else(|| npy_err(format!("unsupported dtype `{descr}`")))?;
	let mut data = data.to_vec();
	match order {
		"<" | "|" | "=" => {},
		">" => data.chunks_exact_mut(dtype.size()).for_each(|element| element.reverse()),
		_ => return Err(npy_err(format!("unsupported byte order in `{descr}`"))),
	}
	Ok(Tensor::new(dtype, shape, data)?)
}

/// The text of `key`'s value in a `.npy` header dict such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }`.
fn header_field<'a>(header: &'a str, key: &str) -> Result<&'a str, FormatError> {
	let start = header
		.find(&format!("'{key}'"))
		.ok_or_else(|| npy_err(format!("header has no `{key}`")))?;
	let after_key = &header[start + key.len() + 2..];
	let value =
		after_key.trim_start().strip_prefix(':').ok_or_else(|| npy_err("malformed header"))?;
	let value = value.trim_start();
	// A tuple runs to its closing parenthesis; anything else to the next comma or brace.
	let end = if value.starts_with('(') {
		value.find(')').map(|i| i + 1)
	} else {
		value.find([',', '}'])
	}
	.ok_or_else(|| npy_err("malformed header"))?;
	Ok(&value[..end])
}

/// Writes a tensor as a `.npy` file (format 1.0, little-endian, C order).
pub fn to_npy(tensor: &Tensor) -> Result<Vec<u8>, FormatError> {
	tensor.validate()?;
	let shape = match tensor.shape.as_slice() {
		[] => "()".to_string(),
		[dim] => format!("({dim},)"),
		dims => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
	};
	let mut header = format!(
		"{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
		npy_descr(tensor.dtype)
	);
	// The data starts 64-byte aligned, and the header ends with a newline (the format's rule).
	let unpadded = NPY_MAGIC.len() + 2 + 2 + header.len() + 1;
	header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
	header.push('\n');
	let header_len =
		u16::try_from(header.len()).map_err(|_| npy_err("shape too long for a 1.0 header"))?;
	let mut out = Vec::with_capacity(NPY_MAGIC.len() + 4 + header.len() + tensor.data.len());
	out.extend_from_slice(NPY_MAGIC);
	out.extend_from_slice(&[1, 0]);
	out.extend_from_slice(&header_len.to_le_bytes());
	out.extend_from_slice(header.as_bytes());
	out.extend_from_slice(&tensor.data);
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn unhex(text: &str) -> Vec<u8> {
		(0..text.len())
			.step_by(2)
			.map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
			.collect()
	}

	/// A deterministic stream of bit patterns covering every exponent and sign.
	fn bit_patterns(count: usize) -> impl Iterator<Item = u64> {
		let mut state = 0x9E37_79B9_7F4A_7C15u64;
		(0..count).map(move |_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state
		})
	}

	#[test]
	fn f32_json_round_trips_bit_exactly_including_specials_and_subnormals() {
		let mut values: Vec<f32> = vec![
			0.0,
			-0.0,
			0.1,
			-1.5,
			f32::MIN_POSITIVE,
			f32::from_bits(1),           // smallest subnormal
			f32::from_bits(0x007f_ffff), // largest subnormal
			f32::MAX,
			f32::MIN,
			f32::INFINITY,
			f32::NEG_INFINITY,
			1e16,
			1e-5,
			9.999999e-6,
		];
		values.extend(
			bit_patterns(20_000).map(|bits| f32::from_bits(bits as u32)).filter(|v| !v.is_nan()),
		);
		let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		let tensor = Tensor::new(DType::F32, vec![values.len() as u32], data).unwrap();
		let text = to_json(&tensor).unwrap();
		assert_eq!(from_json(&text).unwrap(), tensor);
	}

	#[test]
	fn f64_and_f16_json_round_trip_bit_exactly() {
		let mut values: Vec<f64> = vec![-0.0, f64::from_bits(1), f64::MAX, f64::NEG_INFINITY, 0.1];
		values.extend(bit_patterns(20_000).map(f64::from_bits).filter(|v| !v.is_nan()));
		let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		let tensor = Tensor::new(DType::F64, vec![values.len() as u32], data).unwrap();
		assert_eq!(from_json(&to_json(&tensor).unwrap()).unwrap(), tensor);

		// Every finite f16 and both infinities.
		let data: Vec<u8> = (0..=u16::MAX)
			.map(half::f16::from_bits)
			.filter(|v| !v.is_nan())
			.flat_map(|v| v.to_le_bytes())
			.collect();
		let tensor = Tensor::new(DType::F16, vec![data.len() as u32 / 2], data).unwrap();
		assert_eq!(from_json(&to_json(&tensor).unwrap()).unwrap(), tensor);
	}

	#[test]
	fn nan_is_written_and_read_as_the_string_nan() {
		let tensor = Tensor::new(
			DType::F32,
			vec![2],
			[f32::NAN, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
		)
		.unwrap();
		let text = to_json(&tensor).unwrap();
		assert_eq!(text, r#"{"dtype":"f32","shape":[2],"data":["NaN",1]}"#);
		let read = from_json(&text).unwrap();
		assert!(f32::from_le_bytes(read.data[..4].try_into().unwrap()).is_nan());
	}

	#[test]
	fn integer_and_bool_tensors_round_trip_at_their_limits() {
		let cases = [
			(DType::I8, r#"[-128,127]"#),
			(DType::U8, r#"[0,255]"#),
			(DType::I16, r#"[-32768,32767]"#),
			(DType::U16, r#"[0,65535]"#),
			(DType::I32, r#"[-2147483648,2147483647]"#),
			(DType::U32, r#"[0,4294967295]"#),
			(DType::I64, r#"[-9223372036854775808,9223372036854775807]"#),
			(DType::U64, r#"[0,18446744073709551615]"#),
			(DType::Bool, r#"[true,false]"#),
		];
		for (dtype, data) in cases {
			let text = format!(r#"{{"dtype":"{}","shape":[2],"data":{data}}}"#, dtype.name());
			let tensor = from_json(&text).unwrap_or_else(|e| panic!("{dtype:?}: {e}"));
			assert_eq!(to_json(&tensor).unwrap(), text);
		}
	}

	#[test]
	fn nested_data_is_accepted_only_in_the_shape_it_claims() {
		let flat = from_json(r#"{"dtype":"i32","shape":[2,2],"data":[1,2,3,4]}"#).unwrap();
		let nested = from_json(r#"{"dtype":"i32","shape":[2,2],"data":[[1,2],[3,4]]}"#).unwrap();
		assert_eq!(flat, nested);
		let ragged = from_json(r#"{"dtype":"i32","shape":[2,2],"data":[[1,2,3],[4]]}"#);
		assert!(
			matches!(ragged, Err(FormatError::Json(reason)) if reason.contains("does not match shape"))
		);
	}

	#[test]
	fn malformed_json_tensors_are_refused_with_the_reason() {
		let refuse = |text: &str, needle: &str| match from_json(text) {
			Err(FormatError::Json(reason)) => {
				assert!(reason.contains(needle), "{text}: `{reason}` lacks `{needle}`")
			},
			other => panic!("{text}: expected a JSON error, got {other:?}"),
		};
		refuse("[1,2]", "expected an object");
		refuse(r#"{"dtype":"float","shape":[1],"data":[1]}"#, "unknown dtype `float`");
		refuse(r#"{"dtype":"f32","shape":[3],"data":[1,2]}"#, "has 2 elements, shape [3] needs 3");
		refuse(r#"{"dtype":"u8","shape":[1],"data":[256]}"#, "data[0]: 256 is out of range");
		refuse(r#"{"dtype":"i32","shape":[1],"data":[1.5]}"#, "data[0]: expected a whole number");
		refuse(r#"{"dtype":"f32","shape":[1],"data":["one"]}"#, "data[0]: expected a number");
		refuse(r#"{"dtype":"f32","shape":[-1],"data":[]}"#, "whole number below 2^32");
		refuse(r#"{"dtype":"f32","shape":[1],"data":[1],"name":"x"}"#, "unknown field `name`");
		refuse("{", "EOF");
		assert_eq!(
			from_json(r#"{"dtype":"u8","shape":[4294967295,4294967295,4294967295],"data":[]}"#),
			Err(FormatError::Tensor(TensorError::ShapeOverflow))
		);
	}

	/// Files written by NumPy 2.1.3 (`np.save`), as hex.
	const NUMPY_I32_2X2: &str = "934e554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a01000000020000000300000004000000";
	const NUMPY_BIG_ENDIAN_F32: &str = "934e554d5059010076007b276465736372273a20273e6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a3fc00000800000007f800000";
	const NUMPY_BOOL_SCALAR: &str = "934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a01";

	#[test]
	fn numpy_files_are_read_and_written_byte_for_byte_as_numpy_does() {
		let tensor = from_npy(&unhex(NUMPY_I32_2X2)).unwrap();
		let expected: Vec<u8> = [1i32, 2, 3, 4].iter().flat_map(|v| v.to_le_bytes()).collect();
		assert_eq!(tensor, Tensor::new(DType::I32, vec![2, 2], expected).unwrap());
		assert_eq!(to_npy(&tensor).unwrap(), unhex(NUMPY_I32_2X2));

		let scalar = from_npy(&unhex(NUMPY_BOOL_SCALAR)).unwrap();
		assert_eq!(scalar, Tensor::new(DType::Bool, vec![], vec![1]).unwrap());
		assert_eq!(to_npy(&scalar).unwrap(), unhex(NUMPY_BOOL_SCALAR));
	}

	#[test]
	fn big_endian_numpy_files_are_converted_to_little_endian() {
		let tensor = from_npy(&unhex(NUMPY_BIG_ENDIAN_F32)).unwrap();
		let values: Vec<u32> = tensor
			.data
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes(b.try_into().unwrap()).to_bits())
			.collect();
		assert_eq!(values, [1.5f32.to_bits(), (-0.0f32).to_bits(), f32::INFINITY.to_bits()]);
	}

	#[test]
	fn every_dtype_round_trips_through_npy() {
		for dtype in DType::ALL {
			let data: Vec<u8> = (0..6 * dtype.size())
				.map(|i| if dtype == DType::Bool { (i % 2) as u8 } else { i as u8 })
				.collect();
			let tensor = Tensor::new(dtype, vec![2, 3], data).unwrap();
			let file = to_npy(&tensor).unwrap();
			assert_eq!(
				(file.len() - tensor.data.len()) % 64,
				0,
				"{dtype:?}: data is 64-byte aligned"
			);
			assert_eq!(from_npy(&file).unwrap(), tensor, "{dtype:?}");
		}
	}

	#[test]
	fn unreadable_npy_files_are_refused_with_the_reason() {
		let good = unhex(NUMPY_I32_2X2);
		let refuse = |bytes: &[u8], needle: &str| match from_npy(bytes) {
			Err(FormatError::Npy(reason)) => {
				assert!(reason.contains(needle), "`{reason}` lacks `{needle}`")
			},
			Err(FormatError::Tensor(error)) => assert!(format!("{error:?}").contains(needle)),
			other => panic!("expected a refusal containing `{needle}`, got {other:?}"),
		};
		refuse(b"PK\x03\x04", "magic");
		refuse(&good[..7], "truncated");
		refuse(&good[..40], "truncated header");
		refuse(&good[..good.len() - 1], "DataLengthMismatch");
		// Same-length edits of the header, so that its length field stays right.
		let edit = |from: &str, to: &str| {
			let at = good.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
			let mut bytes = good.clone();
			bytes[at..at + from.len()].copy_from_slice(to.as_bytes());
			bytes
		};
		refuse(&edit("'fortran_order': False", "'fortran_order': True "), "Fortran");
		refuse(&edit("<i4", "<c8"), "unsupported dtype `<c8`");
		refuse(&edit("(2, 2)", "(2, x)"), "bad dimension `x`");
	}
}
