//! The tensor type of the chain's inference interface.
//!
//! A [`Tensor`] is a dtype, a shape and the raw element bytes, little-endian and row-major (C
//! order), exactly what the engine reads and writes. Keeping the bytes raw means the runtime never
//! interprets floats: consensus covers bytes, not numbers.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Element type of a tensor: the ONNX tensor element types the engine supports.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DType {
	F32,
	F64,
	F16,
	I8,
	I16,
	I32,
	I64,
	U8,
	U16,
	U32,
	U64,
	/// One byte per element, 0 or 1.
	Bool,
}

impl DType {
	/// Every dtype, in encoding order.
	pub const ALL: [DType; 12] = [
		DType::F32,
		DType::F64,
		DType::F16,
		DType::I8,
		DType::I16,
		DType::I32,
		DType::I64,
		DType::U8,
		DType::U16,
		DType::U32,
		DType::U64,
		DType::Bool,
	];

	/// Bytes per element.
	pub const fn size(self) -> usize {
		match self {
			DType::I8 | DType::U8 | DType::Bool => 1,
			DType::F16 | DType::I16 | DType::U16 => 2,
			DType::F32 | DType::I32 | DType::U32 => 4,
			DType::F64 | DType::I64 | DType::U64 => 8,
		}
	}

	/// The name used in JSON and on the command line: `f32`, `i64`, `bool` …
	pub const fn name(self) -> &'static str {
		match self {
			DType::F32 => "f32",
			DType::F64 => "f64",
			DType::F16 => "f16",
			DType::I8 => "i8",
			DType::I16 => "i16",
			DType::I32 => "i32",
			DType::I64 => "i64",
			DType::U8 => "u8",
			DType::U16 => "u16",
			DType::U32 => "u32",
			DType::U64 => "u64",
			DType::Bool => "bool",
		}
	}

	/// The dtype called `name` (see [`DType::name`]).
	pub fn from_name(name: &str) -> Option<DType> {
		DType::ALL.into_iter().find(|dtype| dtype.name() == name)
	}
}

/// Why bytes do not make a valid tensor.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum TensorError {
	/// The product of the dimensions (times the element size) does not fit in 64 bits.
	ShapeOverflow,
	/// `data` does not hold exactly `shape`'s element count times the dtype's size.
	DataLengthMismatch { expected: u64, got: u64 },
	/// A `Bool` element other than 0 or 1.
	InvalidBool { index: u64, value: u8 },
}

/// A tensor: dtype, shape, and little-endian row-major element bytes.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Tensor {
	pub dtype: DType,
	pub shape: Vec<u32>,
	pub data: Vec<u8>,
}

impl Tensor {
	/// A tensor, if `data` is exactly what `dtype` and `shape` call for.
	pub fn new(dtype: DType, shape: Vec<u32>, data: Vec<u8>) -> Result<Tensor, TensorError> {
		let tensor = Tensor { dtype, shape, data };
		tensor.validate()?;
		Ok(tensor)
	}

	/// Number of elements: the product of the dimensions (1 for a scalar).
	pub fn element_count(&self) -> Result<u64, TensorError> {
		element_count(&self.shape)
	}

	/// Checks that the byte length matches dtype and shape, and that booleans are 0 or 1. A decoded
	/// tensor (from SCALE, or built field by field) is only trusted after this.
	pub fn validate(&self) -> Result<(), TensorError> {
		let expected = self
			.element_count()?
			.checked_mul(self.dtype.size() as u64)
			.ok_or(TensorError::ShapeOverflow)?;
		let got = self.data.len() as u64;
		if expected != got {
			return Err(TensorError::DataLengthMismatch { expected, got });
		}
		if self.dtype == DType::Bool {
			if let Some((index, &value)) = self.data.iter().enumerate().find(|(_, &b)| b > 1) {
				return Err(TensorError::InvalidBool { index: index as u64, value });
			}
		}
		Ok(())
	}
}

/// The number of elements of a tensor of `shape`.
pub fn element_count(shape: &[u32]) -> Result<u64, TensorError> {
	shape
		.iter()
		.try_fold(1u64, |count, &dim| count.checked_mul(dim as u64))
		.ok_or(TensorError::ShapeOverflow)
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	#[test]
	fn a_tensor_needs_exactly_the_bytes_its_dtype_and_shape_call_for() {
		assert!(Tensor::new(DType::F32, vec![2, 3], vec![0; 24]).is_ok());
		assert_eq!(
			Tensor::new(DType::F32, vec![2, 3], vec![0; 23]),
			Err(TensorError::DataLengthMismatch { expected: 24, got: 23 })
		);
		// A scalar has one element; a zero dimension none.
		assert!(Tensor::new(DType::I64, vec![], vec![0; 8]).is_ok());
		assert!(Tensor::new(DType::I64, vec![4, 0], vec![]).is_ok());
	}

	#[test]
	fn shapes_whose_size_overflows_are_refused_not_wrapped() {
		let huge = vec![u32::MAX, u32::MAX, u32::MAX];
		assert_eq!(Tensor::new(DType::U8, huge, vec![]), Err(TensorError::ShapeOverflow));
		// Fits as an element count, overflows as a byte count.
		let shape = vec![u32::MAX, u32::MAX];
		assert_eq!(Tensor::new(DType::F64, shape, vec![]), Err(TensorError::ShapeOverflow));
	}

	#[test]
	fn booleans_other_than_zero_or_one_are_refused() {
		assert_eq!(
			Tensor::new(DType::Bool, vec![3], vec![1, 0, 2]),
			Err(TensorError::InvalidBool { index: 2, value: 2 })
		);
	}

	#[test]
	fn dtype_names_round_trip() {
		for dtype in DType::ALL {
			assert_eq!(DType::from_name(dtype.name()), Some(dtype));
		}
		assert_eq!(DType::from_name("float32"), None);
	}

	#[test]
	fn the_scale_encoding_is_dtype_then_shape_then_bytes() {
		let tensor = Tensor::new(DType::U8, vec![2], vec![7, 9]).unwrap();
		// DType::U8 is variant 7; compact length 1 (0x04) then u32 2; compact length 2 then bytes.
		assert_eq!(tensor.encode(), vec![7, 4, 2, 0, 0, 0, 8, 7, 9]);
		assert_eq!(Tensor::decode(&mut &tensor.encode()[..]).unwrap(), tensor);
	}
}
